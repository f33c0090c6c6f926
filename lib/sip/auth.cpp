#include "sip/auth.hpp"

#include "sip/charset.hpp"

namespace sip {

using base::fail;
using namespace detail;

namespace {

// An unquoted auth-param value: RFC 7235 says token, but deployed clients also send
// `uri=sip:host` and `nc=00000001`; anything up to the next comma or LWS is taken.
bool is_bare_value_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7F && c != ',' && c != '"';
}

bool needs_quotes(std::string_view v) { return v.empty() || !all_of(v, kToken); }

void append_param(std::string& out, std::string_view name, std::string_view value, bool quoted) {
  if (out.back() != ' ') out += ", ";
  out += name;
  out += '=';
  if (quoted || needs_quotes(value)) out += quote(value);
  else out += value;
}

template <class Fn>
base::Result<void, Error> with_digest(const AuthValue& v, Fn&& fn) {
  if (!v.is("Digest") || !v.token68.empty()) return fail(Error::BadAuth);
  for (size_t i = 0; i < v.params.size(); ++i) {
    // A directive given twice is ambiguous (RFC 7616 §3.4: each directive at most once).
    for (size_t j = 0; j < i; ++j)
      if (iequals(v.params[i].name, v.params[j].name)) return fail(Error::BadAuth);
    if (!fn(v.params[i])) return fail(Error::BadAuth);
  }
  return {};
}

}  // namespace

bool AuthValue::is(std::string_view s) const { return iequals(scheme, s); }

const AuthParam* AuthValue::find(std::string_view name) const {
  for (const auto& p : params)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

base::Result<AuthValue, Error> parse_auth(std::string_view value) {
  std::string_view s = trim(value);
  AuthValue v;
  size_t i = 0;
  while (i < s.size() && is_token_char(s[i])) ++i;
  if (i == 0) return fail(Error::BadAuth);
  v.scheme.assign(s.substr(0, i));
  if (i == s.size()) return v;
  if (!is_wsp(s[i])) return fail(Error::BadAuth);
  skip_wsp(s, i);
  std::string_view rest = s.substr(i);
  // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 7235 §2.1)
  size_t t = 0;
  while (t < rest.size() && is(rest[t], kToken68)) ++t;
  size_t eq = t;
  while (t < rest.size() && rest[t] == '=') ++t;
  if (eq > 0 && t == rest.size()) {
    v.token68.assign(rest);
    return v;
  }
  size_t j = 0;
  v.params.reserve(12);  // a Digest Authorization has up to ten: one allocation, not five
  while (true) {
    skip_wsp(rest, j);
    size_t n = j;
    while (j < rest.size() && is_token_char(rest[j])) ++j;
    if (j == n) return fail(Error::BadAuth);
    AuthParam p;
    p.name.assign(rest.substr(n, j - n));
    skip_wsp(rest, j);
    if (j >= rest.size() || rest[j] != '=') return fail(Error::BadAuth);
    ++j;
    skip_wsp(rest, j);
    if (j < rest.size() && rest[j] == '"') {
      std::string_view inner;
      if (!scan_quoted(rest, j, inner)) return fail(Error::BadQuotedString);
      for (char c : inner) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) return fail(Error::BadQuotedString);
      }
      p.value = unquote(inner);
      p.quoted = true;
    } else {
      size_t b = j;
      while (j < rest.size() && is_bare_value_char(rest[j])) ++j;
      if (j == b) return fail(Error::BadAuth);
      p.value.assign(rest.substr(b, j - b));
    }
    v.params.push_back(std::move(p));
    skip_wsp(rest, j);
    if (j == rest.size()) return v;
    if (rest[j] != ',') return fail(Error::BadAuth);
    ++j;
  }
}

std::string format_auth(const AuthValue& v) {
  std::string out = v.scheme;
  if (v.token68.empty() && v.params.empty()) return out;
  out += ' ';
  if (!v.token68.empty()) return out + v.token68;
  for (const auto& p : v.params) append_param(out, p.name, p.value, p.quoted);
  return out;
}

base::Result<DigestChallenge, Error> to_digest_challenge(const AuthValue& v) {
  DigestChallenge c;
  bool has_realm = false, has_nonce = false;
  auto r = with_digest(v, [&](const AuthParam& p) {
    if (iequals(p.name, "realm")) {
      c.realm = p.value;
      has_realm = true;
    } else if (iequals(p.name, "nonce")) {
      c.nonce = p.value;
      has_nonce = true;
    } else if (iequals(p.name, "opaque")) {
      c.opaque = p.value;
    } else if (iequals(p.name, "algorithm")) {
      c.algorithm = p.value;
    } else if (iequals(p.name, "domain")) {
      c.domain = p.value;
    } else if (iequals(p.name, "stale")) {
      if (iequals(p.value, "true")) c.stale = true;
      else if (!iequals(p.value, "false")) return false;
    } else if (iequals(p.name, "qop")) {
      // qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT
      std::string_view s = p.value;
      size_t b = 0;
      while (b <= s.size()) {
        size_t e = s.find(',', b);
        if (e == std::string_view::npos) e = s.size();
        std::string_view one = trim(s.substr(b, e - b));
        if (!is_token(one)) return false;
        c.qop.emplace_back(one);
        b = e + 1;
      }
    } else {
      c.other.push_back(p);
    }
    return true;
  });
  // realm and nonce are mandatory in a challenge (RFC 3261 §25.1 digest-cln, RFC 7616 §3.3).
  if (!r || !has_realm || !has_nonce) return fail(Error::BadAuth);
  return c;
}

base::Result<DigestChallenge, Error> parse_digest_challenge(std::string_view value) {
  auto v = parse_auth(value);
  if (!v) return fail(v.error());
  return to_digest_challenge(*v);
}

std::string format(const DigestChallenge& c) {
  std::string out = "Digest ";
  append_param(out, "realm", c.realm, true);
  if (!c.domain.empty()) append_param(out, "domain", c.domain, true);
  append_param(out, "nonce", c.nonce, true);
  if (!c.opaque.empty()) append_param(out, "opaque", c.opaque, true);
  if (c.stale) append_param(out, "stale", "true", false);
  if (!c.algorithm.empty()) append_param(out, "algorithm", c.algorithm, false);
  if (!c.qop.empty()) {
    std::string q;
    for (const auto& one : c.qop) {
      if (!q.empty()) q += ',';
      q += one;
    }
    append_param(out, "qop", q, true);
  }
  for (const auto& p : c.other) append_param(out, p.name, p.value, p.quoted);
  return out;
}

const AuthParam* DigestCredentials::find_other(std::string_view name) const {
  for (const auto& p : other)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

size_t DigestCredentials::remove_other(std::string_view name) {
  size_t before = other.size();
  std::erase_if(other, [name](const AuthParam& p) { return iequals(p.name, name); });
  return before - other.size();
}

base::Result<DigestCredentials, Error> to_digest_credentials(const AuthValue& v) {
  DigestCredentials c;
  auto r = with_digest(v, [&](const AuthParam& p) {
    std::string* field = nullptr;
    if (iequals(p.name, "username")) field = &c.username;
    else if (iequals(p.name, "realm")) field = &c.realm;
    else if (iequals(p.name, "nonce")) field = &c.nonce;
    else if (iequals(p.name, "uri")) field = &c.uri;
    else if (iequals(p.name, "response")) field = &c.response;
    else if (iequals(p.name, "algorithm")) field = &c.algorithm;
    else if (iequals(p.name, "cnonce")) field = &c.cnonce;
    else if (iequals(p.name, "opaque")) field = &c.opaque;
    else if (iequals(p.name, "qop")) field = &c.qop;
    else if (iequals(p.name, "nc")) field = &c.nc;
    else if (iequals(p.name, "auts")) field = &c.auts;
    if (field) *field = p.value;
    else c.other.push_back(p);
    return true;
  });
  if (!r) return fail(Error::BadAuth);
  // nonce-count = "nc" EQUAL 8LHEX (RFC 3261 §25.1)
  if (!c.nc.empty() && (c.nc.size() != 8 || !all_of(c.nc, kHex))) return fail(Error::BadAuth);
  return c;
}

base::Result<DigestCredentials, Error> parse_digest_credentials(std::string_view value) {
  auto v = parse_auth(value);
  if (!v) return fail(v.error());
  return to_digest_credentials(*v);
}

std::string format(const DigestCredentials& c) {
  std::string out = "Digest ";
  append_param(out, "username", c.username, true);
  append_param(out, "realm", c.realm, true);
  append_param(out, "uri", c.uri, true);
  append_param(out, "nonce", c.nonce, true);
  append_param(out, "response", c.response, true);
  if (!c.algorithm.empty()) append_param(out, "algorithm", c.algorithm, false);
  if (!c.cnonce.empty()) append_param(out, "cnonce", c.cnonce, true);
  if (!c.opaque.empty()) append_param(out, "opaque", c.opaque, true);
  if (!c.qop.empty()) append_param(out, "qop", c.qop, false);
  if (!c.nc.empty()) append_param(out, "nc", c.nc, false);
  if (!c.auts.empty()) append_param(out, "auts", c.auts, true);
  for (const auto& p : c.other) append_param(out, p.name, p.value, p.quoted);
  return out;
}

std::optional<std::string> bearer_token(const AuthValue& v) {
  if (!v.is("Bearer")) return std::nullopt;
  if (!v.token68.empty()) return v.token68;
  if (const AuthParam* p = v.find("access_token"); p && !p->value.empty()) return p->value;
  return std::nullopt;
}

std::optional<std::string> bearer_token(std::string_view authorization_value) {
  auto v = parse_auth(authorization_value);
  if (!v) return std::nullopt;
  return bearer_token(*v);
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) continue;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace sip
