// [wwsf] configuration: the WebRTC Web Server Function (TR 33.871 4.2.2, 6.1.2, 6.1.3, Annex C):
// serves the WIC app over HTTPS (W1), web accounts and login, identity linking, the scenario 3 pool,
// and tokens from the WAF over W4.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/config.hpp"

namespace wwsf {

using base::config::Duration;

struct WwsfConfig {
  std::string listen = "https://0.0.0.0:8443";
  std::string id = "localhost";
  std::string origin = "https://localhost:8443";
  std::string web_root = "./web/dist";
  std::vector<std::string> cors_origins;
  std::vector<std::string> csp_connect_src{"wss://localhost:7443"};
  std::string pcscf_url = "wss://{host}:7443";
  bool open_registration = false;
  Duration session_idle = std::chrono::minutes(30);
  Duration session_lifetime = std::chrono::hours(12);
  Duration guest_lifetime = std::chrono::hours(1);
  int login_attempts = 5;
  Duration login_window = std::chrono::minutes(15);
  int guest_rate = 10;
  Duration guest_window = std::chrono::hours(1);
  int max_sessions = 100000;
  std::string waf_token_url = "https://localhost:8443/token";
  std::string w4_cert_file;
  std::string w4_key_file;
  std::string w4_client_id;
  Duration w4_timeout = std::chrono::seconds(5);
  std::string control_listen = "http://127.0.0.1:8480";

  void describe(base::config::Binder& b);
  void validate() const;  // throws base::config::Error
};

}  // namespace wwsf
