// [waf] configuration: the WebRTC Authorisation Function (TR 33.871 4.2.2), an OAuth 2.0
// authorization server issuing IMS access tokens (ES256 JWT) and RFC 7635 TURN tokens.
#pragma once

#include <chrono>
#include <string>

#include "base/config.hpp"

namespace waf {

using base::config::Duration;

struct WafConfig {
  // Shared with the WWSF in `webims all` (one HttpServer serves both; see waf_logic.hpp).
  std::string listen = "https://0.0.0.0:8443";
  std::string issuer = "https://localhost:8443";
  std::string path_prefix;
  Duration token_lifetime = std::chrono::hours(1);
  Duration turn_token_lifetime = std::chrono::hours(1);
  Duration code_lifetime = std::chrono::seconds(60);
  Duration ticket_lifetime = std::chrono::seconds(120);
  std::string signing_key_file;  // private JWK (EC P-256); empty: generated once, kept in the store
  bool request_client_cert = true;
  std::string control_listen;

  void describe(base::config::Binder& b);
  void validate() const;  // throws base::config::Error
};

}  // namespace waf
