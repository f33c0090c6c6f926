#include "pcscf/config.hpp"

#include "base/clock.hpp"

namespace pcscf {

using base::config::Binder;
using base::config::Error;

void PcscfConfig::describe(Binder& b) {
  b.section("pcscf", "eP-CSCF: SIP over secure WebSocket for WICs (RFC 7118, TR 33.871 6.1), in front of an IMS core.");
  b.field("listen", listen,
          "WebSocket listeners: wss://ADDR:PORT (TLS from [tls]); ws:// only behind a TLS front end.");
  b.field("allowed_origins", allowed_origins,
          "Origins (scheme://host[:port]) whose pages may open a WebSocket; others get HTTP 403 (TR 33.871\n"
          "6.1.1.2 NOTE 4). Never empty: list the WWSF's origin(s). In `webims all`, left at the default: [wwsf]\n"
          "origin and cors_origins (the WWSF's listener as localhost, 127.0.0.1, [::1] and the primary address).");
  b.field("sip_listen", sip_listen, "SIP listeners toward the IMS core: udp:// tcp:// tls://ADDR:PORT.");
  b.field("sip_host", sip_host, "Host in Via, Path and Record-Route toward the core. Empty: the first sip_listen address.");
  b.field("next_hop", next_hop, "The IMS core (I-/S-CSCF) requests are sent to: a SIP URI with transport.\n"
                                "In `webims all`, left at the default: the [core] listener (TCP first).");
  b.field("core_in_process", core_in_process,
          "When next_hop is the core of this same process (webims all), hand SIP messages to it in memory\n"
          "instead of over a loopback TCP/TLS connection. false: over the socket (to watch with tcpdump/sngrep).");
  b.field("turn_uris", turn_uris, "TURN servers announced with Solution 1 credentials (uri parameters of 3gpp-ext-turn-cred).\n"
                                  "In `webims all`, left at the default: the [turn] listeners at its relay address.");
  b.field("turn_credential_lifetime", turn_credential_lifetime,
          "Lifetime of a Solution 1 TURN credential (TS 33.203 X.5.2), Km from [[turn.secrets]].");
  b.field("turn_credential_grace", turn_credential_grace,
          "A credential never outlives the registration's expiry by more than this.");
  b.field("turn_credential_retention", turn_credential_retention,
          "How long the Tid -> IMPU accountability record of a TURN credential is kept after the credential\n"
          "expired; older records are deleted (checked at start and hourly). \"0s\": deleted once expired.");
  b.field("turn_credential_coturn_order", turn_credential_coturn_order,
          "Mint USERNAME as coturn's \"Texp:Tid\" instead of \"Tid:Texp\".");
  b.field("max_message_bytes", max_message_bytes, "Largest WebSocket message (SIP message); beyond: close 1009.");
  b.field("ws_ping_interval", ws_ping_interval, "WebSocket ping interval on idle connections (keep-alive).");
  b.field("max_connections", max_connections, "WebSocket connections at most.");
  b.field("control_listen", control_listen, "HTTP listener for /metrics and /health. Empty: none.");

  b.field("home_domain", home_domain,
          "IMS home domain: the audience a Bearer token must name, and the realm of the TNA REGISTER.\n"
          "Empty: [core] home_domain.");
  b.field("token_issuers", token_issuers, "Accepted `iss` of IMS access tokens (the WAF). Empty: any issuer. In `webims all`,\n"
                                          "left at the default: [waf] issuer.");
  b.field("token_jwks_url", token_jwks_url,
          "The WAF's JWKS (ES256 keys), fetched and cached; fetched again for an unknown kid. Empty, with\n"
          "token_jwks_file and token_introspection_url empty too: Bearer REGISTERs are refused (403). In `webims all`,\n"
          "left at the default (and token_jwks_file empty): the keys of the WAF in the same process, nothing fetched.");
  b.field("token_jwks_file", token_jwks_file, "A static JWKS file instead (takes precedence over token_jwks_url).");
  b.field("token_max_skew", token_max_skew, "Clock skew allowed on a token's exp and iat.");
  b.field("token_jwks_refetch_interval", token_jwks_refetch_interval,
          "A token with an unknown kid fetches the JWKS again at most this often.");
  b.field("token_jwks_max_age", token_jwks_max_age,
          "Keys are fetched again after this long, so a key the WAF withdrew stops being accepted.");
  b.field("token_introspection_url", token_introspection_url,
          "RFC 7662 introspection endpoint for opaque (non-JWT) tokens. Empty: opaque tokens are refused.");
  b.field("token_introspection_client_id", token_introspection_client_id,
          "Client id for introspection: with it, HTTP Basic client_id:secret; without, Bearer <secret>.");
  b.secret("token_introspection_secret", token_introspection_secret, "Secret that authenticates us to the introspection endpoint.");
  b.field("token_http_timeout", token_http_timeout, "Timeout of a JWKS fetch or introspection call, whole exchange.");

  b.field("turn_push_urls", turn_push_urls,
          "Approach 2: base URLs of TURN control APIs (e.g. http://127.0.0.1:3479). Each Solution 1 credential\n"
          "is also pushed there (POST /v1/credentials). http:// on loopback only; https:// between hosts\n"
          "(verified against [tls] ca_file). Empty: no push, no revocation.");
  b.secret("turn_push_token", turn_push_token, "Bearer token of the TURN control API ([turn] control_token).");
  b.field("turn_revoke_on_deregister", turn_revoke_on_deregister,
          "With turn_push_urls: revoke a WIC's TURN credentials (POST /v1/revocations until their Texp)\n"
          "when it deregisters or its WebSocket closes.");
  b.field("turn_push_attempts", turn_push_attempts, "Attempts per push or revocation and server before giving up (logged).");
}

void PcscfConfig::validate() const {
  std::vector<std::string> errs;
  if (listen.empty()) errs.push_back("[pcscf] listen is empty");
  for (auto& l : listen)
    if (l.rfind("wss://", 0) != 0 && l.rfind("ws://", 0) != 0)
      errs.push_back("[pcscf] listen: \"" + l + "\" is not wss:// or ws://ADDR:PORT");
  if (allowed_origins.empty())
    errs.push_back("[pcscf] allowed_origins is empty: list the WWSF origin(s); \"any origin\" is never allowed");
  for (auto& o : allowed_origins)
    if (o.rfind("https://", 0) != 0 && o.rfind("http://", 0) != 0)
      errs.push_back("[pcscf] allowed_origins: \"" + o + "\" is not an origin like https://host:port");
  if (sip_listen.empty()) errs.push_back("[pcscf] sip_listen is empty: the core could not reach WICs");
  if (next_hop.rfind("sip:", 0) != 0 && next_hop.rfind("sips:", 0) != 0)
    errs.push_back("[pcscf] next_hop \"" + next_hop + "\" is not a SIP URI");
  for (auto& u : turn_uris)
    if (u.rfind("turn:", 0) != 0 && u.rfind("turns:", 0) != 0)
      errs.push_back("[pcscf] turn_uris: \"" + u + "\" is not a turn: or turns: URI");
  if (turn_credential_lifetime < std::chrono::minutes(1)) errs.push_back("[pcscf] turn_credential_lifetime below 1m");
  if (turn_credential_retention.count() < 0) errs.push_back("[pcscf] turn_credential_retention is negative");
  if (max_message_bytes < 1024 || max_message_bytes > (1 << 24)) errs.push_back("[pcscf] max_message_bytes out of range");
  if (max_connections < 1) errs.push_back("[pcscf] max_connections must be >= 1");
  auto http_url = [](const std::string& u) { return u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0; };
  if (!token_jwks_url.empty() && !http_url(token_jwks_url))
    errs.push_back("[pcscf] token_jwks_url \"" + token_jwks_url + "\" is not an http(s):// URL");
  if (!token_introspection_url.empty() && !http_url(token_introspection_url))
    errs.push_back("[pcscf] token_introspection_url \"" + token_introspection_url + "\" is not an http(s):// URL");
  if (!token_introspection_url.empty() && token_introspection_secret.empty())
    errs.push_back("[pcscf] token_introspection_url needs token_introspection_secret (or _file)");
  if (token_max_skew.count() < 0) errs.push_back("[pcscf] token_max_skew is negative");
  for (auto& u : turn_push_urls) {
    std::string host;
    if (u.rfind("http://", 0) == 0) {
      host = u.substr(7);
      host = host.substr(0, host.find('/'));
      if (host.rfind("[::1]", 0) == 0) host = "::1";
      else host = host.substr(0, host.find(':'));
    }
    bool loopback = host == "localhost" || host == "::1" || (host.rfind("127.", 0) == 0 &&
                    host.find_first_not_of("0123456789.") == std::string::npos);
    if (u.rfind("https://", 0) != 0 && !loopback)
      errs.push_back("[pcscf] turn_push_urls: \"" + u + "\" must be https://, or http:// on a loopback address");
  }
  if (!turn_push_urls.empty() && turn_push_token.empty())
    errs.push_back("[pcscf] turn_push_urls needs turn_push_token (or turn_push_token_file): the control API is authenticated");
  if (turn_push_attempts < 1 || turn_push_attempts > 10) errs.push_back("[pcscf] turn_push_attempts must be 1..10");
  if (!errs.empty()) {
    std::string msg = "invalid configuration:";
    for (auto& e : errs) msg += "\n  " + e;
    throw Error(msg);
  }
}

}  // namespace pcscf
