#include "waf/logic/waf_logic.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"
#include "waf/logic/form.hpp"

namespace waf {

using nlohmann::json;

namespace {

// One refusal, as RFC 6749 §5.2 / §4.1.2.1 say it.
struct Refusal {
  int status = 400;
  std::string error, description;
};

net::HttpResponse json_response(int status, const json& body) {
  net::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  // RFC 6749 §5.1: responses with tokens (and their errors) are not cached.
  r.headers = {{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}};
  return r;
}

net::HttpResponse error_response(const Refusal& e) {
  return json_response(e.status, {{"error", e.error}, {"error_description", e.description}});
}

bool iequal_hex(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "*@socialnet.example": '*' matches any run of characters (NOTE 6); empty pattern: no constraint.
bool glob_match(std::string_view pattern, std::string_view s) {
  if (pattern.empty()) return true;
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pattern.size() && pattern[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const std::string* param(const std::map<std::string, std::string>& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

// RFC 7636 §4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~] (the challenge of S256 has the same shape).
bool pkce_syntax(std::string_view v) {
  if (v.size() < 43 || v.size() > 128) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
  });
}

// The one scope a request asks for: the IMS scope (the default) or "turn"; never both at once, since
// they are different kinds of token.
std::optional<std::string> pick_scope(const std::string* requested) {
  if (!requested || requested->empty()) return std::string(token::kImsScope);
  std::vector<std::string> items;
  std::string_view s = *requested;
  while (!s.empty()) {
    size_t sp = s.find(' ');
    if (sp != 0) items.emplace_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  if (items.size() != 1) return std::nullopt;
  if (items[0] != token::kImsScope && items[0] != kTurnScope) return std::nullopt;
  return items[0];
}

}  // namespace

std::string pkce_s256(std::string_view verifier) {
  auto d = crypto::sha256(crypto::view(verifier));
  return base::base64url_encode(crypto::view(d));
}

WafLogic::WafLogic(WafSettings settings, std::vector<token::SigningKey> keys, store::Store& store, base::Random& random)
    : settings_(std::move(settings)), keys_(std::move(keys)), store_(store), random_(random) {
  if (keys_.empty()) throw std::invalid_argument("the WAF needs a signing key");
  verify_keys_ = token::VerifyKeys::from_jwks(token::jwks_json(keys_)).value();
}

std::string WafLogic::url(std::string_view path) const {
  std::string base = settings_.issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + settings_.path_prefix + std::string(path);
}

std::string WafLogic::random_handle() {
  std::array<uint8_t, 32> b;
  random_.fill(b);
  return base::base64url_encode(crypto::view(b));
}

void WafLogic::expire(int64_t now) {
  for (auto* m : {&tickets_, &codes_})
    std::erase_if(*m, [now](const auto& kv) { return kv.second.expires <= now; });
}

namespace {

// REQ 2.1/2.2/3.2, the WAF's own check before any token: the WWSF exists and is not blocked; the
// subscription allows that WWSF (scenario 2) or belongs to its pool (scenario 3).
std::optional<Refusal> check_identity(store::Store& st, const std::string& wwsf_id, const std::string& impi, bool pool,
                                      store::Subscriber* out) {
  auto w = st.find_wwsf(wwsf_id);
  if (!w) return Refusal{403, "access_denied", "the WWSF is not known to this operator"};
  if (w->blocked) return Refusal{403, "access_denied", "the WWSF is blocked by the operator (REQ 2.2)"};
  if (impi.empty()) return Refusal{400, "invalid_request", "the request names no subscription (sub)"};
  auto s = st.find_subscriber(impi);
  if (!s) return Refusal{400, "invalid_grant", "the subscription is not known"};
  if (pool) {
    if (s->pool_owner != wwsf_id || !glob_match(w->pool_pattern, impi))
      return Refusal{400, "invalid_grant", "the subscription is not in this WWSF's pool (REQ 3.2)"};
  } else if (std::find(s->allowed_wwsf.begin(), s->allowed_wwsf.end(), wwsf_id) == s->allowed_wwsf.end()) {
    return Refusal{400, "invalid_grant", "the subscription does not allow this WWSF (REQ 2.1)"};
  }
  if (out) *out = std::move(*s);
  return std::nullopt;
}

// RFC 8705 §2: the client named by client_id (or, without it, the one registered with this
// certificate) must be a WWSF client whose pinned SHA-256 is the certificate's.
std::optional<store::OAuthClient> authenticate_wwsf(store::Store& st, const net::HttpRequest& req,
                                                    const std::map<std::string, std::string>& p, Refusal& r) {
  r = Refusal{401, "invalid_client", "the client is not authenticated: a WWSF presents its TLS client certificate (RFC 8705)"};
  if (!req.tls || req.peer_cert_sha256_hex.empty()) return std::nullopt;
  std::optional<store::OAuthClient> c;
  if (const std::string* id = param(p, "client_id")) {
    c = st.find_oauth_client(*id);
  } else {
    for (auto& x : st.list_oauth_clients())
      if (x.kind == "wwsf" && iequal_hex(x.cert_sha256_hex, req.peer_cert_sha256_hex)) {
        if (c) return std::nullopt;  // two clients share a certificate: ambiguous, make them say client_id
        c = std::move(x);
      }
  }
  if (!c || c->kind != "wwsf" || c->cert_sha256_hex.empty() || !iequal_hex(c->cert_sha256_hex, req.peer_cert_sha256_hex))
    return std::nullopt;
  return c;
}

std::optional<std::map<std::string, std::string>> body_params(const net::HttpRequest& req) {
  const std::string* ct = req.header("content-type");
  if (!ct || ct->rfind("application/x-www-form-urlencoded", 0) != 0) return std::nullopt;
  return parse_form(req.body);
}

}  // namespace

std::optional<net::HttpResponse> WafLogic::handle(const net::HttpRequest& req, int64_t now) {
  const std::string& prefix = settings_.path_prefix;
  if (req.path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string_view path = std::string_view(req.path).substr(prefix.size());
  auto only = [&](const char* method) -> std::optional<net::HttpResponse> {
    if (req.method == method) return std::nullopt;
    net::HttpResponse r{405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", method}}};
    return r;
  };
  net::HttpResponse r;
  if (path == "/.well-known/oauth-authorization-server") {
    if (auto bad = only("GET")) return bad;
    return metadata();
  } else if (path == "/.well-known/jwks.json") {
    if (auto bad = only("GET")) return bad;
    r.content_type = "application/json";
    r.body = token::jwks_json(keys_);
    return r;
  } else if (path == "/authorize/ticket") {
    if (auto bad = only("POST")) return bad;
    expire(now);
    r = ticket(req, now);
  } else if (path == "/authorize") {
    if (auto bad = only("GET")) return bad;
    expire(now);
    r = authorize(req, now);
  } else if (path == "/token") {
    if (auto bad = only("POST")) return bad;
    expire(now);
    r = token_endpoint(req, now);
  } else if (path == "/introspect") {
    if (auto bad = only("POST")) return bad;
    r = introspect(req, now);
  } else if (path == "/revoke") {
    if (auto bad = only("POST")) return bad;
    r = revoke(req, now);
  } else {
    return std::nullopt;
  }
  if (r.status >= 400) ++stats_.refused;
  return r;
}

net::HttpResponse WafLogic::metadata() const {
  json m = {
      {"issuer", settings_.issuer},
      {"authorization_endpoint", url("/authorize")},
      {"token_endpoint", url("/token")},
      {"jwks_uri", url("/.well-known/jwks.json")},
      {"introspection_endpoint", url("/introspect")},
      {"revocation_endpoint", url("/revoke")},
      {"scopes_supported", {token::kImsScope, kTurnScope}},
      {"response_types_supported", {"code", "token"}},
      {"grant_types_supported", {"authorization_code", "implicit", "client_credentials"}},
      {"code_challenge_methods_supported", {"S256"}},
      {"token_endpoint_auth_methods_supported", {"none", "self_signed_tls_client_auth"}},
      {"introspection_endpoint_auth_methods_supported", {"self_signed_tls_client_auth"}},
      {"revocation_endpoint_auth_methods_supported", {"none", "self_signed_tls_client_auth"}},
      {"authorization_response_iss_parameter_supported", true},
  };
  return json_response(200, m);
}

net::HttpResponse WafLogic::ticket(const net::HttpRequest& req, int64_t now) {
  auto p = body_params(req);
  if (!p) return error_response({400, "invalid_request", "the body is not a valid form"});
  Refusal r;
  auto wwsf_client = authenticate_wwsf(store_, req, *p, r);
  if (!wwsf_client) return error_response(r);
  const std::string* cid = param(*p, "for_client_id");
  if (!cid) return error_response({400, "invalid_request", "the ticket names no public client (for_client_id)"});
  auto pub = store_.find_oauth_client(*cid);
  if (!pub || pub->kind != "public") return error_response({400, "invalid_request", "for_client_id is not a public client"});
  auto scope = pick_scope(param(*p, "scope"));
  if (!scope) return error_response({400, "invalid_scope", "the scope is not one of ours, or asks for two kinds of token"});
  const std::string* sub = param(*p, "sub");
  const std::string* pool = param(*p, "pool");
  if (pool && *pool != "true" && *pool != "false") return error_response({400, "invalid_request", "pool is true or false"});
  bool is_pool = pool && *pool == "true";
  if (auto refusal = check_identity(store_, wwsf_client->wwsf_id, sub ? *sub : std::string(), is_pool, nullptr))
    return error_response(*refusal);
  if (tickets_.size() + codes_.size() >= settings_.max_pending)
    return error_response({503, "temporarily_unavailable", "too many authorizations in progress"});
  Pending t;
  t.client_id = *cid;
  t.wwsf_id = wwsf_client->wwsf_id;
  t.sub = *sub;
  t.pool = is_pool;
  t.scope = *scope;
  t.expires = now + settings_.ticket_lifetime_s;
  std::string handle = random_handle();
  tickets_.emplace(handle, std::move(t));
  return json_response(200, {{"ticket", handle}, {"expires_in", settings_.ticket_lifetime_s}});
}

net::HttpResponse WafLogic::authorize(const net::HttpRequest& req, int64_t now) {
  auto q = parse_form(req.query);
  // RFC 6749 §4.1.2.1: until the client and its redirect URI are known good, errors are shown here,
  // never sent to an unchecked redirect URI.
  auto page = [](const std::string& text) {
    return net::HttpResponse{400, "text/plain; charset=utf-8", text + "\n", {{"Cache-Control", "no-store"}}};
  };
  if (!q) return page("invalid_request: the query is not a valid form");
  const std::string* cid = param(*q, "client_id");
  auto client = cid ? store_.find_oauth_client(*cid) : std::nullopt;
  if (!client || client->kind != "public") return page("invalid_request: unknown client_id");
  const std::string* redirect = param(*q, "redirect_uri");
  // Exact string match against a registered URI (RFC 6749 §3.1.2.3, OAuth 2.0 Security BCP §4.1.3).
  if (!redirect || std::find(client->redirect_uris.begin(), client->redirect_uris.end(), *redirect) == client->redirect_uris.end())
    return page("invalid_request: redirect_uri is not registered for this client");

  const std::string* rt = param(*q, "response_type");
  bool implicit = rt && *rt == "token";
  const std::string* state = param(*q, "state");
  auto redirect_with = [&](std::vector<std::pair<std::string, std::string>> params) {
    if (state) params.emplace_back("state", *state);
    params.emplace_back("iss", settings_.issuer);  // RFC 9207 (mix-up defence)
    std::string loc = *redirect;
    char sep = implicit ? '#' : (loc.find('?') == std::string::npos ? '?' : '&');
    for (auto& [k, v] : params) {
      loc += sep;
      loc += form_escape(k) + "=" + form_escape(v);
      sep = '&';
    }
    net::HttpResponse r{302, "", "", {{"Location", loc}, {"Cache-Control", "no-store"}}};
    return r;
  };
  auto refuse = [&](const std::string& error, const std::string& desc) {
    ++stats_.refused;
    return redirect_with({{"error", error}, {"error_description", desc}});
  };
  if (!rt || (*rt != "code" && *rt != "token")) return refuse("unsupported_response_type", "response_type is code or token");
  const std::string* challenge = param(*q, "code_challenge");
  const std::string* method = param(*q, "code_challenge_method");
  if (!implicit) {
    // RFC 7636 §4.4.1 + Security BCP: public clients must use PKCE, and only S256 (no "plain", which
    // is also what a missing method means).
    if (!challenge) return refuse("invalid_request", "PKCE is required: code_challenge is missing");
    if (!method || *method != "S256") return refuse("invalid_request", "code_challenge_method must be S256");
    if (!pkce_syntax(*challenge)) return refuse("invalid_request", "code_challenge is not a valid S256 challenge");
  }
  const std::string* ticket = param(*q, "ticket");
  auto it = ticket ? tickets_.find(*ticket) : tickets_.end();
  if (it == tickets_.end()) return refuse("access_denied", "no valid WWSF ticket: ask through the WWSF");
  Pending t = std::move(it->second);
  tickets_.erase(it);  // single use, whatever happens next
  if (t.client_id != *cid) return refuse("access_denied", "the ticket was made for another client");
  auto scope = pick_scope(param(*q, "scope"));
  if (param(*q, "scope") && (!scope || *scope != t.scope)) return refuse("invalid_scope", "the scope differs from the ticket's");
  store::Subscriber sub;
  if (auto refusal = check_identity(store_, t.wwsf_id, t.sub, t.pool, &sub)) return refuse(refusal->error, refusal->description);

  if (implicit) {
    if (t.scope == kTurnScope) {
      if (settings_.turn_keys.empty()) return refuse("invalid_scope", "TURN tokens are not configured");
      auto g = token::mint_oauth_grant(settings_.turn_keys.front(), settings_.turn_server_name, now,
                                       uint32_t(settings_.turn_token_lifetime_s), random_);
      ++stats_.turn_tokens_issued;
      return redirect_with({{"access_token", g.access_token}, {"token_type", "pop"}, {"kid", g.kid},
                            {"key", g.key_base64()}, {"expires_in", std::to_string(g.expires_in)},
                            {"scope", t.scope}});
    }
    token::ImsAccessToken at;
    at.iss = settings_.issuer;
    at.aud = settings_.home_domain;
    at.sub = t.sub;
    at.impu = sub.impus;
    at.wwsf = t.wwsf_id;
    at.scope = t.scope;
    at.pool = t.pool;
    at.iat = now;
    at.exp = now + settings_.token_lifetime_s;
    at.jti = random_handle();
    json claims = token::to_claims(at);
    claims["client_id"] = *cid;
    ++stats_.tokens_issued;
    return redirect_with({{"access_token", keys_.front().sign(claims)}, {"token_type", "Bearer"},
                          {"expires_in", std::to_string(settings_.token_lifetime_s)}, {"scope", t.scope}});
  }
  if (tickets_.size() + codes_.size() >= settings_.max_pending)
    return refuse("temporarily_unavailable", "too many authorizations in progress");
  t.redirect_uri = *redirect;
  t.challenge = *challenge;
  t.expires = now + settings_.code_lifetime_s;
  std::string code = random_handle();
  codes_.emplace(code, std::move(t));
  return redirect_with({{"code", code}});
}

net::HttpResponse WafLogic::token_endpoint(const net::HttpRequest& req, int64_t now) {
  auto p = body_params(req);
  if (!p) return error_response({400, "invalid_request", "the body is not an application/x-www-form-urlencoded form"});
  const std::string* grant = param(*p, "grant_type");
  if (!grant) return error_response({400, "invalid_request", "grant_type is missing"});

  std::string client_id, wwsf_id, sub_impi, scope;
  bool pool = false;
  Pending* code_entry = nullptr;
  if (*grant == "client_credentials") {
    Refusal r;
    auto c = authenticate_wwsf(store_, req, *p, r);
    if (!c) return error_response(r);
    auto sc = pick_scope(param(*p, "scope"));
    if (!sc) return error_response({400, "invalid_scope", "the scope is not one of ours, or asks for two kinds of token"});
    const std::string* pool_p = param(*p, "pool");
    if (pool_p && *pool_p != "true" && *pool_p != "false") return error_response({400, "invalid_request", "pool is true or false"});
    client_id = c->client_id;
    wwsf_id = c->wwsf_id;
    scope = *sc;
    pool = pool_p && *pool_p == "true";
    if (const std::string* s = param(*p, "sub")) sub_impi = *s;
    if (scope == token::kImsScope && sub_impi.empty())
      return error_response({400, "invalid_request", "the request names no subscription (sub)"});
  } else if (*grant == "authorization_code") {
    const std::string* code = param(*p, "code");
    const std::string* cid = param(*p, "client_id");
    const std::string* redirect = param(*p, "redirect_uri");
    const std::string* verifier = param(*p, "code_verifier");
    if (!code || !cid) return error_response({400, "invalid_request", "code and client_id are required"});
    auto it = codes_.find(*code);
    if (it == codes_.end()) return error_response({400, "invalid_grant", "the code is not valid or has expired"});
    Pending& e = it->second;
    if (e.used) {
      // RFC 6749 §4.1.2: a code used twice was stolen or replayed; the token it gave goes too.
      if (!e.issued_jti.empty()) {
        store_.revoke_token(e.issued_jti, e.issued_exp);
        ++stats_.revoked;
      }
      codes_.erase(it);
      return error_response({400, "invalid_grant", "the code was already used"});
    }
    e.used = true;  // any attempt spends it: no guessing verifiers on one code
    if (e.client_id != *cid) return error_response({400, "invalid_grant", "the code was issued to another client"});
    if (!redirect || *redirect != e.redirect_uri)
      return error_response({400, "invalid_grant", "redirect_uri differs from the authorization request's"});
    if (!verifier || !pkce_syntax(*verifier))
      return error_response({400, "invalid_grant", "code_verifier is missing or malformed (RFC 7636)"});
    if (!crypto::constant_time_equal(crypto::view(pkce_s256(*verifier)), crypto::view(e.challenge)))
      return error_response({400, "invalid_grant", "code_verifier does not match the code_challenge"});
    client_id = e.client_id;
    wwsf_id = e.wwsf_id;
    sub_impi = e.sub;
    pool = e.pool;
    scope = e.scope;
    code_entry = &e;
  } else {
    return error_response({400, "unsupported_grant_type", "grant_type is authorization_code or client_credentials"});
  }

  if (scope == kTurnScope) {
    if (settings_.turn_keys.empty()) return error_response({400, "invalid_scope", "TURN tokens are not configured"});
    // The WWSF must still be allowed; a subscription, when named, too.
    store::Subscriber unused;
    auto w = store_.find_wwsf(wwsf_id);
    if (!w || w->blocked) return error_response({403, "access_denied", "the WWSF is unknown or blocked (REQ 2.2)"});
    if (!sub_impi.empty())
      if (auto refusal = check_identity(store_, wwsf_id, sub_impi, pool, &unused)) return error_response(*refusal);
    auto g = token::mint_oauth_grant(settings_.turn_keys.front(), settings_.turn_server_name, now,
                                     uint32_t(settings_.turn_token_lifetime_s), random_);
    ++stats_.turn_tokens_issued;
    return json_response(200, json::parse(g.to_json()));
  }

  store::Subscriber sub;
  if (auto refusal = check_identity(store_, wwsf_id, sub_impi, pool, &sub)) return error_response(*refusal);
  token::ImsAccessToken at;
  at.iss = settings_.issuer;
  at.aud = settings_.home_domain;
  at.sub = sub_impi;
  at.impu = sub.impus;
  at.wwsf = wwsf_id;
  at.scope = scope;
  at.pool = pool;
  at.iat = now;
  at.exp = now + settings_.token_lifetime_s;
  at.jti = random_handle();
  json claims = token::to_claims(at);
  claims["client_id"] = client_id;
  if (code_entry) {
    code_entry->issued_jti = at.jti;
    code_entry->issued_exp = at.exp;
  }
  ++stats_.tokens_issued;
  return json_response(200, {{"access_token", keys_.front().sign(claims)},
                             {"token_type", "Bearer"},
                             {"expires_in", settings_.token_lifetime_s},
                             {"scope", scope},
                             {"impu", sub.impus}});
}

net::HttpResponse WafLogic::introspect(const net::HttpRequest& req, int64_t now) {
  auto p = body_params(req);
  if (!p) return error_response({400, "invalid_request", "the body is not a valid form"});
  Refusal r;
  // RFC 7662 §2.1: the endpoint needs client authentication (else it is a token-scanning oracle).
  if (!authenticate_wwsf(store_, req, *p, r)) return error_response(r);
  const std::string* tok = param(*p, "token");
  if (!tok) return error_response({400, "invalid_request", "token is missing"});
  token::TokenPolicy policy{{settings_.issuer}, settings_.home_domain, 0};
  auto v = token::verify_ims_token(*tok, verify_keys_, policy, now);
  if (!v || store_.token_revoked(v->jti)) return json_response(200, {{"active", false}});
  auto w = store_.find_wwsf(v->wwsf);
  if (!w || w->blocked) return json_response(200, {{"active", false}});  // REQ 2.2 at once
  auto claims = token::verify_es256_jws(*tok, verify_keys_)->payload;
  return json_response(200, {{"active", true},
                             {"token_type", "Bearer"},
                             {"scope", v->scope},
                             {"client_id", claims.value("client_id", "")},
                             {"iss", v->iss},
                             {"aud", v->aud},
                             {"sub", v->sub},
                             {"impu", v->impu},
                             {"wwsf", v->wwsf},
                             {"pool", v->pool},
                             {"exp", v->exp},
                             {"iat", v->iat},
                             {"jti", v->jti}});
}

net::HttpResponse WafLogic::revoke(const net::HttpRequest& req, int64_t now) {
  auto p = body_params(req);
  if (!p) return error_response({400, "invalid_request", "the body is not a valid form"});
  // RFC 7009 §2.1: confidential clients authenticate; public clients identify with client_id.
  std::string client_id;
  if (req.tls && !req.peer_cert_sha256_hex.empty()) {
    Refusal r;
    auto c = authenticate_wwsf(store_, req, *p, r);
    if (!c) return error_response(r);
    client_id = c->client_id;
  } else if (const std::string* cid = param(*p, "client_id")) {
    auto c = store_.find_oauth_client(*cid);
    if (!c || c->kind != "public")
      return error_response({401, "invalid_client", "a WWSF client authenticates with its TLS client certificate"});
    client_id = c->client_id;
  } else {
    return error_response({401, "invalid_client", "the client is not identified"});
  }
  const std::string* tok = param(*p, "token");
  if (!tok) return error_response({400, "invalid_request", "token is missing"});
  // §2.2: an invalid or unknown token is answered 200 too; only our own signed tokens carry a jti.
  auto v = token::verify_es256_jws(*tok, verify_keys_);
  if (v) {
    const json& c = v->payload;
    const std::string* jti = c.contains("jti") && c["jti"].is_string() ? c["jti"].get_ptr<const std::string*>() : nullptr;
    int64_t exp = c.contains("exp") && c["exp"].is_number_integer() ? c["exp"].get<int64_t>() : now + settings_.token_lifetime_s;
    // Only the client the token was issued to may revoke it (§2.1).
    if (jti && c.value("client_id", "") == client_id && exp > now) {
      store_.revoke_token(*jti, exp);
      ++stats_.revoked;
    }
  }
  return net::HttpResponse{200, "", "", {{"Cache-Control", "no-store"}}};
}

}  // namespace waf
