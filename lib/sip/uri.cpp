#include "sip/uri.hpp"

#include "base/ip.hpp"
#include "sip/charset.hpp"

namespace sip {

using base::fail;
using namespace detail;

namespace {

// paramchar = param-unreserved / unreserved / escaped (RFC 3261 §25.1)
constexpr uint16_t kParamChar = kUnreserved | kParamExtra;
// gen-value = token / host / quoted-string; ':' also admits the unbracketed IPv6 that
// RFC 5118 §4.5 puts in Via received=.
bool is_gen_value_char(char c) { return is_token_char(c) || c == ':' || c == '[' || c == ']'; }

size_t scan_uri_chars(std::string_view s, size_t i, uint16_t f) {
  while (i < s.size()) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is(s[i + 1], kHex) || !is(s[i + 2], kHex)) return i;
      i += 3;
    } else if (is(s[i], f)) {
      ++i;
    } else {
      break;
    }
  }
  return i;
}

bool valid_hostname(std::string_view h) {
  // hostname = *( domainlabel "." ) toplabel [ "." ]; labels do not begin or end with '-'.
  if (h.empty()) return false;
  if (h.back() == '.') h.remove_suffix(1);
  if (h.empty()) return false;
  size_t start = 0;
  while (start <= h.size()) {
    size_t dot = h.find('.', start);
    if (dot == std::string_view::npos) dot = h.size();
    std::string_view label = h.substr(start, dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    if (!all_of(label, kHostname)) return false;
    if (dot == h.size()) {
      // toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum
      return is_alpha(label.front());
    }
    start = dot + 1;
  }
  return true;
}

bool parse_port(std::string_view s, uint16_t& port) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + uint32_t(c - '0');
  }
  if (v > 65535) return false;
  port = uint16_t(v);
  return true;
}

}  // namespace

namespace detail {
bool parse_hostport(std::string_view s, size_t& i, std::string_view& host, uint8_t& host_type,
                    bool& has_port, uint16_t& port, bool lws_around_colon) {
  size_t start = i;
  if (i < s.size() && s[i] == '[') {
    size_t close = s.find(']', i);
    if (close == std::string_view::npos) return false;
    auto ip = base::IpAddress::parse(s.substr(i + 1, close - i - 1));
    if (!ip || ip->is_v4()) return false;
    host = s.substr(start, close + 1 - start);
    host_type = uint8_t(HostType::IPv6);
    i = close + 1;
  } else {
    while (i < s.size() && is(s[i], kHostname)) ++i;
    host = s.substr(start, i - start);
    if (host.empty()) return false;
    if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
      auto ip = base::IpAddress::parse(host);
      if (!ip || !ip->is_v4()) return false;
      host_type = uint8_t(HostType::IPv4);
    } else {
      if (!valid_hostname(host)) return false;
      host_type = uint8_t(HostType::Hostname);
    }
  }
  size_t j = i;
  if (lws_around_colon) skip_wsp(s, j);
  if (j < s.size() && s[j] == ':') {
    ++j;
    if (lws_around_colon) skip_wsp(s, j);
    size_t p = j;
    while (j < s.size() && is_digit(s[j])) ++j;
    if (!parse_port(s.substr(p, j - p), port)) return false;
    has_port = true;
    i = j;
  }
  return true;
}
}  // namespace detail

namespace {

bool parse_hostport(std::string_view s, size_t& i, Uri& u) {
  uint8_t type = 0;
  bool has_port = false;
  uint16_t port = 0;
  if (!detail::parse_hostport(s, i, u.host, type, has_port, port, false)) return false;
  u.host_type = HostType(type);
  if (has_port) u.port = port;
  return true;
}

// headers = "?" header *( "&" header ); header = hname "=" hvalue (RFC 3261 §25.1)
bool valid_uri_headers(std::string_view h) {
  if (h.empty()) return false;
  size_t i = 0;
  while (true) {
    size_t n = scan_uri_chars(h, i, kUnreserved | kHnvExtra);
    if (n == i || n >= h.size() || h[n] != '=') return false;
    i = scan_uri_chars(h, n + 1, kUnreserved | kHnvExtra);
    if (i == h.size()) return true;
    if (h[i] != '&') return false;
    ++i;
  }
}

base::Result<Uri, Error> parse_sip(std::string_view s, Uri u) {
  size_t at = s.find('@');
  size_t i = 0;
  if (at != std::string_view::npos) {
    std::string_view userinfo = s.substr(0, at);
    size_t colon = userinfo.find(':');
    u.user = userinfo.substr(0, colon);
    if (u.user.empty() || !escaped_all_of(u.user, kUnreserved | kUserExtra)) return fail(Error::BadUri);
    if (colon != std::string_view::npos) {
      u.password = userinfo.substr(colon + 1);
      u.has_password = true;
      if (!escaped_all_of(u.password, kUnreserved | kPasswordExtra)) return fail(Error::BadUri);
    }
    u.has_user = true;
    i = at + 1;
  }
  if (!parse_hostport(s, i, u)) return fail(Error::BadUri);
  if (i < s.size() && s[i] == ';') {
    size_t q = s.find('?', i);
    if (q == std::string_view::npos) q = s.size();
    auto params = ParamList::parse(s.substr(i, q - i), ParamList::Kind::Uri);
    if (!params) return fail(Error::BadUri);
    u.params = *params;
    i = q;
  }
  if (i < s.size() && s[i] == '?') {
    u.headers = s.substr(i + 1);
    if (!valid_uri_headers(u.headers)) return fail(Error::BadUri);
    i = s.size();
  }
  if (i != s.size()) return fail(Error::BadUri);
  return u;
}

// RFC 3966: telephone-subscriber = global-number / local-number, then ;par parameters.
base::Result<Uri, Error> parse_tel(std::string_view s, Uri u) {
  size_t semi = s.find(';');
  u.user = s.substr(0, semi);
  if (u.user.empty() || !all_of(u.user, kTelChar | kHex)) return fail(Error::BadUri);
  u.has_user = true;
  if (semi != std::string_view::npos) {
    auto params = ParamList::parse(s.substr(semi), ParamList::Kind::Uri);
    if (!params) return fail(Error::BadUri);
    u.params = *params;
  }
  return u;
}

}  // namespace

int ParamList::next(size_t& pos, Param& out) const {
  const bool header = kind_ == Kind::Header;
  std::string_view s = raw_;
  if (header) skip_wsp(s, pos);
  if (pos >= s.size()) return 0;
  if (s[pos] != ';') return -1;
  ++pos;
  if (header) skip_wsp(s, pos);
  size_t n = pos;
  if (header) {
    while (pos < s.size() && is_token_char(s[pos])) ++pos;
  } else {
    pos = scan_uri_chars(s, pos, kParamChar);
  }
  if (pos == n) return -1;
  out = Param{s.substr(n, pos - n), {}, false, false};
  size_t after_name = pos;
  if (header) skip_wsp(s, pos);
  if (pos < s.size() && s[pos] == '=') {
    ++pos;
    if (header) skip_wsp(s, pos);
    if (header && pos < s.size() && s[pos] == '"') {
      if (!scan_quoted(s, pos, out.value)) return -1;
      out.quoted = true;
    } else {
      size_t v = pos;
      if (header) {
        while (pos < s.size() && is_gen_value_char(s[pos])) ++pos;
      } else {
        pos = scan_uri_chars(s, pos, kParamChar);
      }
      if (pos == v) return -1;
      out.value = s.substr(v, pos - v);
    }
    out.has_value = true;
  } else {
    pos = after_name;
  }
  if (header) skip_wsp(s, pos);
  if (pos < s.size() && s[pos] != ';') return -1;
  return 1;
}

base::Result<ParamList, Error> ParamList::parse(std::string_view raw, Kind kind) {
  ParamList list(raw, kind);
  size_t pos = 0;
  Param p;
  int r;
  while ((r = list.next(pos, p)) > 0) {
  }
  if (r < 0) return fail(Error::BadParam);
  return list;
}

std::optional<Param> ParamList::find(std::string_view name) const {
  size_t pos = 0;
  Param p;
  while (next(pos, p) > 0)
    if (iequals(p.name, name)) return p;
  return std::nullopt;
}

std::optional<std::string_view> ParamList::value(std::string_view name) const {
  auto p = find(name);
  if (!p) return std::nullopt;
  return p->value;
}

size_t ParamList::size() const {
  size_t n = 0, pos = 0;
  Param p;
  while (next(pos, p) > 0) ++n;
  return n;
}

std::string_view Uri::host_address() const {
  if (host_type == HostType::IPv6 && host.size() >= 2) return host.substr(1, host.size() - 2);
  return host;
}

std::string Uri::user_unescaped() const { return uri_unescape(user); }

std::string Uri::address_of_record() const {
  std::string out;
  switch (scheme) {
    case Scheme::Sip: out = "sip:"; break;
    case Scheme::Sips: out = "sips:"; break;
    case Scheme::Tel: out = "tel:"; break;
    case Scheme::Other: return std::string(text);
  }
  if (scheme == Scheme::Tel) return out + std::string(user);
  if (has_user) {
    out += uri_unescape(user);
    out += '@';
  }
  for (char c : host) out.push_back(lower(c));
  if (port) {
    out += ':';
    out += std::to_string(*port);
  }
  return out;
}

std::string uri_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      out.push_back(char(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

base::Result<Uri, Error> parse_uri(std::string_view text) {
  Uri u;
  u.text = text;
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || !is_alpha(text[0])) return fail(Error::BadUri);
  u.scheme_text = text.substr(0, colon);
  for (char c : u.scheme_text)
    if (!(is(c, kAlnum) || c == '+' || c == '-' || c == '.')) return fail(Error::BadUri);
  std::string_view rest = text.substr(colon + 1);
  if (iequals(u.scheme_text, "sip")) {
    u.scheme = Scheme::Sip;
    return parse_sip(rest, u);
  }
  if (iequals(u.scheme_text, "sips")) {
    u.scheme = Scheme::Sips;
    return parse_sip(rest, u);
  }
  if (iequals(u.scheme_text, "tel")) {
    u.scheme = Scheme::Tel;
    return parse_tel(rest, u);
  }
  // absoluteURI = scheme ":" ( hier-part / opaque-part ), uric = reserved / unreserved / escaped
  u.scheme = Scheme::Other;
  u.opaque = rest;
  if (rest.empty() || scan_uri_chars(rest, 0, kUric) != rest.size()) return fail(Error::BadUri);
  return u;
}

}  // namespace sip
