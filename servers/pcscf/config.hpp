// [pcscf] configuration: the enhanced P-CSCF, W2 front door for WICs (TR 33.871 6.1, RFC 7118).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/config.hpp"

namespace pcscf {

using base::config::Duration;

struct PcscfConfig {
  std::vector<std::string> listen{"wss://0.0.0.0:7443"};
  std::vector<std::string> allowed_origins{"https://localhost:8443"};
  std::vector<std::string> sip_listen{"tcp://127.0.0.1:5070"};
  std::string sip_host;  // host put in Via/Path/Record-Route toward the core; empty = the sip_listen address
  std::string next_hop = "sip:127.0.0.1:5060;transport=tcp";
  bool core_in_process = true;
  std::vector<std::string> turn_uris{"turn:localhost:3478?transport=udp", "turn:localhost:3478?transport=tcp",
                                     "turns:localhost:5349?transport=tcp"};
  Duration turn_credential_lifetime = std::chrono::hours(24);
  Duration turn_credential_grace = std::chrono::hours(1);
  Duration turn_credential_retention = std::chrono::hours(24 * 30);
  bool turn_credential_coturn_order = false;
  int64_t max_message_bytes = 64 * 1024;
  Duration ws_ping_interval = std::chrono::seconds(30);
  int max_connections = 20000;
  std::string control_listen = "http://127.0.0.1:7080";

  // Scenarios 2 and 3: Bearer tokens (protocols.md "Token validation configuration").
  std::string home_domain;  // empty: [core] home_domain
  std::vector<std::string> token_issuers{"https://localhost:8443"};
  std::string token_jwks_url = "https://localhost:8443/.well-known/jwks.json";
  std::string token_jwks_file;
  Duration token_max_skew = std::chrono::seconds(60);
  Duration token_jwks_refetch_interval = std::chrono::seconds(30);
  Duration token_jwks_max_age = std::chrono::hours(1);
  std::string token_introspection_url;
  std::string token_introspection_client_id;
  std::string token_introspection_secret;
  Duration token_http_timeout = std::chrono::seconds(5);

  // Approach 2: credential push and revocation toward TURN control APIs.
  std::vector<std::string> turn_push_urls;
  std::string turn_push_token;
  bool turn_revoke_on_deregister = true;
  int turn_push_attempts = 3;

  void describe(base::config::Binder& b);
  void validate() const;  // throws base::config::Error
};

}  // namespace pcscf
