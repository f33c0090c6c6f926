// The WAF: an OAuth 2.0 authorization server (RFC 6749) for the IMS access token (protocols.md
// "Scenarios 2 and 3", TR 33.871 6.1.2/6.1.3) and the RFC 7635 TURN token (TR 33.872 6.3.2).
// Sans-I/O: an HTTP request and the time in, a response out; the store holds clients, WWSFs,
// subscriptions and revoked jtis; codes and tickets live in memory (one WAF process).
//
// Endpoints (under `path_prefix`, "" by default, so one HttpServer can serve the WWSF and the WAF:
// handle() answers nullopt for any other path):
//   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
//   GET  /.well-known/jwks.json                    the ES256 signing keys (RFC 7517)
//   POST /authorize/ticket   W4, WWSF over mTLS: "this user of mine is IMPI x" -> single-use ticket
//   GET  /authorize          public clients: code + PKCE S256 (RFC 7636) or implicit (token)
//   POST /token              authorization_code + code_verifier; client_credentials (WWSF, mTLS)
//   POST /introspect         RFC 7662, WWSF clients (mTLS) only
//   POST /revoke             RFC 7009, by the client the token was issued to
//
// Who vouches for the user (the consent question). The WAF has no users of its own: the WWSF logs
// its web users in and knows which IMPI each may use (a confirmed identity link, scenario 2, or a
// pool subscription it lent, scenario 3). So the WAF trusts a WWSF's word, and only within what the
// operator allowed that WWSF (REQ 2.1/2.2/3.2), and only when the WWSF says it over W4 with its
// client certificate:
//   1. back channel:  WWSF -> POST /authorize/ticket (mTLS) for_client_id=<public client>&sub=<IMPI>
//                     &pool=true|false&scope=... -> {"ticket": ..., "expires_in": 120}
//   2. front channel: the WWSF sends the browser to GET /authorize?...&ticket=<ticket>; the ticket
//                     names the public client it is for, is used once, and lives 2 minutes.
// An /authorize request without a valid ticket is refused (access_denied): there is no login page
// here. The identity checks run when the ticket is made and again when a token is issued (so a block
// takes effect at once).
//
// The W4 profile (our choice; RFC 6749 §4.4 + RFC 8705): the WWSF asks
//   POST /token  grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims&sub=<IMPI>
//                &pool=true|false[&client_id=<its client id>]
// authenticated by its TLS client certificate, whose SHA-256 must equal the registered
// OAuthClient::cert_sha256_hex (self_signed_tls_client_auth: the chain is not checked, the hash is
// the credential). client_id may be left out: the certificate then names the client. The answer is
// {access_token, token_type:"Bearer", expires_in, scope, impu}.
//
// TURN tokens: the scope "turn" (alone) at /token (client_credentials, or a code whose ticket asked
// for it) or /authorize (response_type=token, the TR 33.872 implicit flow) yields the RFC 7635 grant
// {access_token, token_type:"pop", kid, key, expires_in}, under the first AS-RS key.
//
// The IMS access token also carries `client_id` (RFC 9068 §2.2): revocation checks it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/random.hpp"
#include "net/http_server.hpp"
#include "store/store.hpp"
#include "token/jwt.hpp"
#include "token/oauth_token.hpp"

namespace waf {

inline constexpr std::string_view kTurnScope = "turn";

struct WafSettings {
  std::string issuer = "https://localhost:8443";  // `iss`, and the base of the metadata's URLs
  std::string home_domain = "ims.example.org";    // `aud`
  std::string path_prefix;                        // "" or e.g. "/waf" (no trailing slash)
  int64_t token_lifetime_s = 3600;
  int64_t turn_token_lifetime_s = 3600;
  int64_t code_lifetime_s = 60;
  int64_t ticket_lifetime_s = 120;
  size_t max_pending = 10000;                      // codes + tickets held at once; beyond: temporarily_unavailable
  std::vector<token::OAuthKey> turn_keys;          // RFC 7635 AS-RS keys; the first mints
  std::string turn_server_name;                    // the tokens' AAD (the TURN server's name)
};

struct WafStats {
  uint64_t tokens_issued = 0, turn_tokens_issued = 0, refused = 0, revoked = 0;
};

class WafLogic {
 public:
  // `keys`: the signing keys, the first signs; all are published and accepted by /introspect.
  WafLogic(WafSettings settings, std::vector<token::SigningKey> keys, store::Store& store, base::Random& random);

  // nullopt when the path is not one of the WAF's.
  std::optional<net::HttpResponse> handle(const net::HttpRequest& req, int64_t now_unix);

  const WafStats& stats() const { return stats_; }
  const WafSettings& settings() const { return settings_; }
  // The public signing keys as published at /.well-known/jwks.json (RFC 7517).
  std::string jwks() const { return token::jwks_json(keys_); }

 private:
  // A ticket (WWSF-vouched authorization) or a code.
  struct Pending {
    std::string client_id, redirect_uri, challenge, wwsf_id, sub, scope;
    bool pool = false;
    int64_t expires = 0;
    bool used = false;
    std::string issued_jti;  // the token a code was exchanged for: revoked if the code comes back
    int64_t issued_exp = 0;
  };

  net::HttpResponse metadata() const;
  net::HttpResponse ticket(const net::HttpRequest& req, int64_t now);
  net::HttpResponse authorize(const net::HttpRequest& req, int64_t now);
  net::HttpResponse token_endpoint(const net::HttpRequest& req, int64_t now);
  net::HttpResponse introspect(const net::HttpRequest& req, int64_t now);
  net::HttpResponse revoke(const net::HttpRequest& req, int64_t now);

  std::string url(std::string_view path) const;
  std::string random_handle();
  void expire(int64_t now);

  WafSettings settings_;
  std::vector<token::SigningKey> keys_;
  token::VerifyKeys verify_keys_;
  store::Store& store_;
  base::Random& random_;
  std::map<std::string, Pending, std::less<>> tickets_, codes_;
  WafStats stats_;
};

// RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))).
std::string pkce_s256(std::string_view verifier);

}  // namespace waf
