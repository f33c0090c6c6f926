#include "sip/headers.hpp"

#include <iterator>

#include "base/ip.hpp"
#include "sip/charset.hpp"

namespace sip {

using base::fail;
using namespace detail;

namespace {

constexpr std::string_view kMethods[] = {"",        "INVITE",    "ACK",    "BYE",     "CANCEL",
                                         "OPTIONS", "REGISTER",  "PRACK",  "SUBSCRIBE", "NOTIFY",
                                         "PUBLISH", "INFO",      "REFER",  "MESSAGE", "UPDATE"};

// Unescaped control characters are not qdtext (RFC 3261 §25.1); HTAB is LWS.
bool valid_qdtext(std::string_view inner) {
  for (size_t i = 0; i < inner.size(); ++i) {
    auto c = static_cast<unsigned char>(inner[i]);
    if (c == '\\') {
      ++i;
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

Method method_id(std::string_view name) {
  for (size_t i = 1; i < std::size(kMethods); ++i)
    if (kMethods[i] == name) return Method(i);
  return Method::Unknown;
}

std::string_view method_name(Method m) {
  auto i = static_cast<size_t>(m);
  return i < std::size(kMethods) ? kMethods[i] : std::string_view{};
}

namespace detail {

std::string_view trim_lws(std::string_view s) { return trim(s); }

size_t element_end(std::string_view v, size_t i) {
  bool quote = false, angle = false;
  for (; i < v.size(); ++i) {
    char c = v[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == '"') quote = false;
    } else if (angle) {
      if (c == '>') angle = false;
    } else if (c == '"') {
      quote = true;
    } else if (c == '<') {
      angle = true;
    } else if (c == ',') {
      return i;
    }
  }
  return (quote || angle) ? std::string_view::npos : v.size();
}

}  // namespace detail

bool split_list(std::string_view value, std::vector<std::string_view>& out) {
  return for_each_element(value, [&out](std::string_view e) { out.push_back(e); });
}

std::string NameAddr::display_name_text() const {
  return display_quoted ? unquote(display_name) : std::string(display_name);
}

std::optional<Parsed<uint32_t>> NameAddr::expires() const {
  auto v = params.value("expires");
  if (!v) return std::nullopt;
  return parse_delta_seconds(*v);
}

std::optional<Parsed<uint16_t>> NameAddr::q() const {
  auto v = params.value("q");
  if (!v) return std::nullopt;
  // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  std::string_view s = *v;
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return Parsed<uint16_t>(fail(Error::BadValue));
  uint16_t q = uint16_t((s[0] - '0') * 1000);
  if (s.size() > 1) {
    if (s[1] != '.' || s.size() > 5) return Parsed<uint16_t>(fail(Error::BadValue));
    uint16_t scale = 100;
    for (size_t i = 2; i < s.size(); ++i, scale /= 10) {
      if (!is_digit(s[i]) || (s[0] == '1' && s[i] != '0')) return Parsed<uint16_t>(fail(Error::BadValue));
      q = uint16_t(q + (s[i] - '0') * scale);
    }
  }
  return Parsed<uint16_t>(q);
}

Parsed<NameAddr> parse_name_addr(std::string_view element, bool allow_star) {
  std::string_view e = trim(element);
  NameAddr na;
  if (e.empty()) return fail(Error::BadNameAddr);
  if (e == "*") {
    if (!allow_star) return fail(Error::BadNameAddr);
    na.star = true;
    return na;
  }
  size_t i = 0;
  std::string_view rest;
  if (e[0] == '"') {
    if (!scan_quoted(e, i, na.display_name) || !valid_qdtext(na.display_name)) return fail(Error::BadQuotedString);
    na.display_quoted = true;
    skip_wsp(e, i);
    if (i >= e.size() || e[i] != '<') return fail(Error::BadNameAddr);
  } else {
    size_t lt = e.find('<');
    if (lt != std::string_view::npos) {
      // display-name = *(token LWS); RFC 4475 §3.1.1.6 admits no LWS before '<'.
      na.display_name = trim(e.substr(0, lt));
      for (char c : na.display_name)
        if (!is_token_char(c) && !is_wsp(c)) return fail(Error::BadNameAddr);
      i = lt;
    }
  }
  if (i < e.size() && e[i] == '<') {
    size_t gt = e.find('>', i + 1);
    if (gt == std::string_view::npos) return fail(Error::BadNameAddr);
    // LAQUOT addr-spec RAQUOT: no LWS inside the brackets (RFC 4475 §3.1.2.14).
    auto uri = parse_uri(e.substr(i + 1, gt - i - 1));
    if (!uri) return fail(Error::BadUri);
    na.uri = *uri;
    na.angle = true;
    rest = e.substr(gt + 1);
  } else {
    // addr-spec: its parameters are header parameters, and a URI containing ',', '?' or ';'
    // needs angle brackets (RFC 3261 §20.10, RFC 4475 §3.1.2.13).
    size_t semi = e.find(';');
    std::string_view text = trim(e.substr(0, semi));
    if (text.find_first_of("?,") != std::string_view::npos) return fail(Error::BadNameAddr);
    auto uri = parse_uri(text);
    if (!uri) return fail(Error::BadUri);
    na.uri = *uri;
    rest = semi == std::string_view::npos ? std::string_view{} : e.substr(semi);
  }
  auto params = ParamList::parse(rest, ParamList::Kind::Header);
  if (!params) return fail(Error::BadParam);
  na.params = *params;
  return na;
}

Parsed<Via> parse_via(std::string_view element) {
  std::string_view e = trim(element);
  Via v;
  size_t i = 0;
  auto token = [&](std::string_view& out) {
    size_t s = i;
    while (i < e.size() && is_token_char(e[i])) ++i;
    out = e.substr(s, i - s);
    return !out.empty();
  };
  auto slash = [&] {
    skip_wsp(e, i);
    if (i >= e.size() || e[i] != '/') return false;
    ++i;
    skip_wsp(e, i);
    return true;
  };
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport
  if (!token(v.protocol_name) || !slash() || !token(v.protocol_version) || !slash() || !token(v.transport))
    return fail(Error::BadVia);
  size_t before = i;
  skip_wsp(e, i);
  if (i == before) return fail(Error::BadVia);
  uint8_t type = 0;
  bool has_port = false;
  uint16_t port = 0;
  if (!detail::parse_hostport(e, i, v.host, type, has_port, port, true)) return fail(Error::BadVia);
  v.host_type = HostType(type);
  if (has_port) v.port = port;
  auto params = ParamList::parse(e.substr(i), ParamList::Kind::Header);
  if (!params) return fail(Error::BadVia);
  v.params = *params;
  bool ok = true;
  v.params.for_each([&](const Param& p) {
    if (iequals(p.name, "branch")) {
      if (!p.has_value || p.quoted) ok = false;
      v.branch = p.value;
    } else if (iequals(p.name, "received")) {
      std::string_view a = p.value;
      if (!a.empty() && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
      if (!p.has_value || !base::IpAddress::parse(a)) ok = false;
      v.received = p.value;
    } else if (iequals(p.name, "rport")) {
      v.rport = true;
      if (p.has_value) {
        auto n = parse_number(p.value, 65535);
        if (!n) ok = false;
        else v.rport_value = uint16_t(*n);
      }
    } else if (iequals(p.name, "ttl")) {
      if (!p.has_value || !parse_number(p.value, 255)) ok = false;
    }
    return ok;
  });
  if (!ok) return fail(Error::BadVia);
  return v;
}

Parsed<CSeq> parse_cseq(std::string_view value) {
  std::string_view s = trim(value);
  CSeq c;
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  auto n = parse_number(s.substr(0, i), 0x7FFFFFFF);
  if (!n) return fail(Error::BadCSeq);
  c.number = *n;
  size_t sp = i;
  skip_wsp(s, i);
  if (i == sp) return fail(Error::BadCSeq);
  c.method = s.substr(i);
  if (!is_token(c.method)) return fail(Error::BadCSeq);
  c.method_id = method_id(c.method);
  return c;
}

bool MediaType::is(std::string_view t, std::string_view s) const {
  return iequals(type, t) && iequals(subtype, s);
}

Parsed<MediaType> parse_media_type(std::string_view value) {
  std::string_view s = trim(value);
  MediaType m;
  size_t i = 0;
  while (i < s.size() && is_token_char(s[i])) ++i;
  m.type = s.substr(0, i);
  skip_wsp(s, i);
  if (m.type.empty() || i >= s.size() || s[i] != '/') return fail(Error::BadValue);
  ++i;
  skip_wsp(s, i);
  size_t b = i;
  while (i < s.size() && is_token_char(s[i])) ++i;
  m.subtype = s.substr(b, i - b);
  if (m.subtype.empty()) return fail(Error::BadValue);
  auto params = ParamList::parse(s.substr(i), ParamList::Kind::Header);
  if (!params) return fail(Error::BadParam);
  m.params = *params;
  return m;
}

Parsed<uint32_t> parse_number(std::string_view value, uint32_t max) {
  std::string_view s = trim(value);
  if (s.empty()) return fail(Error::BadValue);
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return fail(Error::BadValue);
    v = v * 10 + uint64_t(c - '0');
    if (v > max) return fail(Error::BadValue);  // also stops overflow on 10**100 (RFC 4475 §3.1.2.4)
  }
  return uint32_t(v);
}

bool valid_call_id(std::string_view value) {
  size_t at = value.find('@');
  std::string_view a = value.substr(0, at);
  if (a.empty() || !all_of(a, kWord)) return false;
  if (at == std::string_view::npos) return true;
  std::string_view b = value.substr(at + 1);
  return !b.empty() && all_of(b, kWord);
}

bool valid_sip_date(std::string_view s) {
  // wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"
  //  "Sat, 13 Nov 2010 23:29:00 GMT" (29 octets)
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = trim(s);
  if (s.size() != 29) return false;
  auto one_of = [](std::string_view v, const auto& list) {
    for (auto x : list)
      if (x == v) return true;
    return false;
  };
  auto digits = [&](size_t at, size_t n) {
    for (size_t k = at; k < at + n; ++k)
      if (!is_digit(s[k])) return false;
    return true;
  };
  return one_of(s.substr(0, 3), kDays) && s.substr(3, 2) == ", " && digits(5, 2) && s[7] == ' ' &&
         one_of(s.substr(8, 3), kMonths) && s[11] == ' ' && digits(12, 4) && s[16] == ' ' &&
         digits(17, 2) && s[19] == ':' && digits(20, 2) && s[22] == ':' && digits(23, 2) &&
         s.substr(25) == " GMT";
}

}  // namespace sip
