#include "pcscf/logic/token_auth.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "pcscf/logic/bindings.hpp"
#include "sip/auth.hpp"

namespace pcscf {

using token::ImsAccessToken;
using token::TokenCheck;
using token::TokenFailure;

namespace {

bool base64url_part(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

base::Unexpected<TokenFailure> refuse(TokenCheck c, std::string reason) { return base::fail(TokenFailure{c, std::move(reason)}); }

bool has_scope(std::string_view scopes, std::string_view want) {
  size_t i = 0;
  while (i < scopes.size()) {
    size_t j = scopes.find(' ', i);
    if (j == std::string_view::npos) j = scopes.size();
    if (scopes.substr(i, j - i) == want) return true;
    i = j + 1;
  }
  return false;
}

const nlohmann::json* member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

bool looks_like_jwt(std::string_view t) {
  auto a = t.find('.');
  if (a == std::string_view::npos) return false;
  auto b = t.find('.', a + 1);
  if (b == std::string_view::npos || t.find('.', b + 1) != std::string_view::npos) return false;
  return base64url_part(t.substr(0, a)) && base64url_part(t.substr(a + 1, b - a - 1)) && base64url_part(t.substr(b + 1));
}

std::string_view refusal_reason(TokenCheck c) {
  switch (c) {
    case TokenCheck::Malformed: return "Malformed token";
    case TokenCheck::Algorithm: return "Token algorithm not accepted";
    case TokenCheck::UnknownKey: return "Token signed with an unknown key";
    case TokenCheck::Signature: return "Token signature invalid";
    case TokenCheck::Issuer: return "Token issuer not accepted";
    case TokenCheck::Expired: return "Token expired";
    case TokenCheck::NotYetValid: return "Token not yet valid";
    case TokenCheck::Audience: return "Token audience is not this IMS domain";
    case TokenCheck::Scope: return "Token scope lacks webrtc-ims-client-access-to-ims";
  }
  return "Token refused";
}

base::Result<ImsAccessToken, TokenFailure> check_introspection(std::string_view body, const token::TokenPolicy& policy,
                                                                int64_t now) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return refuse(TokenCheck::Malformed, "introspection answer is not a JSON object");
  // RFC 7662 §2.2: an inactive (unknown, expired, revoked) token says nothing more.
  auto active = member(j, "active");
  if (!active || !active->is_boolean() || !active->get<bool>()) return refuse(TokenCheck::Expired, "Token not active");

  ImsAccessToken t;
  auto str = [&](const char* name, std::string& out) {
    auto m = member(j, name);
    if (!m || !m->is_string()) return false;
    out = m->get<std::string>();
    return true;
  };
  auto num = [&](const char* name, int64_t& out) {
    auto m = member(j, name);
    if (!m || !m->is_number_integer()) return false;
    out = m->get<int64_t>();
    return true;
  };
  if (!num("exp", t.exp)) return refuse(TokenCheck::Malformed, "introspection answer has no exp");
  if (member(j, "iat") && !num("iat", t.iat)) return refuse(TokenCheck::Malformed, "introspection answer's iat is not a number");
  if (t.exp + policy.max_skew_seconds <= now) return refuse(TokenCheck::Expired, "token expired");
  if (t.iat - policy.max_skew_seconds > now) return refuse(TokenCheck::NotYetValid, "token issued in the future");

  if (!str("iss", t.iss)) return refuse(TokenCheck::Malformed, "introspection answer has no iss");
  if (!policy.issuers.empty() && std::find(policy.issuers.begin(), policy.issuers.end(), t.iss) == policy.issuers.end())
    return refuse(TokenCheck::Issuer, "issuer not accepted");

  bool aud_ok = false;
  if (auto aud = member(j, "aud")) {
    if (aud->is_string()) {
      t.aud = aud->get<std::string>();
      aud_ok = t.aud == policy.audience;
    } else if (aud->is_array()) {
      for (auto& a : *aud)
        if (a.is_string() && a.get<std::string>() == policy.audience) aud_ok = true;
      t.aud = policy.audience;
    }
  }
  if (!aud_ok) return refuse(TokenCheck::Audience, "audience is not the home domain");

  if (!str("scope", t.scope) || !has_scope(t.scope, token::kImsScope)) return refuse(TokenCheck::Scope, "scope lacks the IMS scope");

  if (!str("sub", t.sub) || t.sub.empty()) return refuse(TokenCheck::Malformed, "introspection answer has no sub");
  if (!str("wwsf", t.wwsf) || t.wwsf.empty()) return refuse(TokenCheck::Malformed, "introspection answer has no wwsf");
  auto impu = member(j, "impu");
  if (!impu || !impu->is_array()) return refuse(TokenCheck::Malformed, "introspection answer has no impu list");
  for (auto& u : *impu) {
    if (!u.is_string()) return refuse(TokenCheck::Malformed, "introspection answer's impu holds a non-string");
    t.impu.push_back(u.get<std::string>());
  }
  if (auto pool = member(j, "pool")) {
    if (!pool->is_boolean()) return refuse(TokenCheck::Malformed, "introspection answer's pool is not a boolean");
    t.pool = pool->get<bool>();
  }
  str("jti", t.jti);
  return t;
}

bool pool_pattern_matches(std::string_view p, std::string_view s) {
  // Iterative glob with one backtrack point: linear in practice, never exponential.
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::optional<std::string> check_token_authorization(const ImsAccessToken& t, const WwsfTable& wwsfs,
                                                     std::string_view to_aor) {
  auto w = wwsfs.find(t.wwsf);
  if (w == wwsfs.end()) return "WWSF not known to this operator";  // REQ 2.3
  if (w->second.blocked) return "WWSF blocked";                    // REQ 2.2
  bool listed = false;                                             // REQ 2.4
  for (const auto& u : t.impu)
    if (auto aor = canonical_aor(u); aor && *aor == to_aor) listed = true;
  if (!listed) return "To-URI not among the token's IMPUs";
  // NOTE 6: a WWSF can only hand out identities of its own pool.
  if (t.pool && (w->second.pool_pattern.empty() || !pool_pattern_matches(w->second.pool_pattern, t.sub)))
    return "Pool IMPI does not belong to the WWSF";
  return std::nullopt;
}

std::string tna_authorization(std::string_view impi, std::string_view home, std::string_view wwsf) {
  std::string h(home);
  return "Digest username=" + sip::quote(impi) + ", realm=" + sip::quote(h) + ", uri=" + sip::quote("sip:" + h) +
         ", nonce=\"\", response=\"\", integrity-protected=\"auth-done\", authorization-entity=" + sip::quote(wwsf);
}

std::string introspection_request_body(std::string_view token) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "token=";
  for (unsigned char c : token) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "&token_type_hint=access_token";
}

}  // namespace pcscf
