#include "waf/config.hpp"

#include <vector>

namespace waf {

using base::config::Binder;
using base::config::Error;

void WafConfig::describe(Binder& b) {
  b.section("waf",
            "WAF (TR 33.871 4.2.2): OAuth 2.0 authorization server for IMS access tokens (ES256 JWT) and RFC 7635\n"
            "TURN tokens (TR 33.872 6.3.2). TURN tokens use the first [[turn.oauth_keys]] key and [turn]'s server name.");
  b.field("listen", listen, "HTTPS listener (https://ADDR:PORT). In `webims all` the WWSF's listener serves the WAF too.");
  b.field("issuer", issuer, "The WAF's identifier: the tokens' `iss`, the eP-CSCF's [pcscf] token_issuers, the metadata's base URL.\n"
                            "In `webims all`, left at the default: https://localhost:PORT with the port of [wwsf] listen.");
  b.field("path_prefix", path_prefix, "Path under which the endpoints are served (\"\" or e.g. \"/waf\").");
  b.field("token_lifetime", token_lifetime, "Lifetime of an IMS access token.");
  b.field("turn_token_lifetime", turn_token_lifetime, "Lifetime of an RFC 7635 TURN token.");
  b.field("code_lifetime", code_lifetime, "Lifetime of an authorization code (RFC 6749 §4.1.2: short).");
  b.field("ticket_lifetime", ticket_lifetime, "Lifetime of a WWSF authorization ticket (POST /authorize/ticket).");
  b.field("signing_key_file", signing_key_file,
          "Private JWK (EC P-256) the tokens are signed with. Empty: one is generated on first start and kept in the store.");
  b.field("request_client_cert", request_client_cert,
          "Ask TLS clients for a certificate (WWSFs authenticate with one, RFC 8705); browsers may send none.\n"
          "In `webims all`: on the listener shared with the WWSF.");
  b.field("control_listen", control_listen, "HTTP listener for /metrics and /health. Empty: none.");
}

void WafConfig::validate() const {
  std::vector<std::string> errs;
  if (listen.rfind("https://", 0) != 0 && listen.rfind("http://", 0) != 0)
    errs.push_back("[waf] listen = \"" + listen + "\" must be https://ADDR:PORT (or http://)");
  if (issuer.rfind("https://", 0) != 0 && issuer.rfind("http://", 0) != 0)
    errs.push_back("[waf] issuer = \"" + issuer + "\" must be an https URL");
  if (!path_prefix.empty() && (path_prefix[0] != '/' || path_prefix.back() == '/'))
    errs.push_back("[waf] path_prefix = \"" + path_prefix + "\" must start with '/' and not end with one");
  auto positive = [&](const char* name, Duration d) {
    if (d.count() < 1000) errs.push_back(std::string("[waf] ") + name + " must be at least 1s");
  };
  positive("token_lifetime", token_lifetime);
  positive("turn_token_lifetime", turn_token_lifetime);
  positive("code_lifetime", code_lifetime);
  positive("ticket_lifetime", ticket_lifetime);
  if (!errs.empty()) {
    std::string all;
    for (auto& e : errs) all += (all.empty() ? "" : "\n") + e;
    throw Error(all);
  }
}

}  // namespace waf
