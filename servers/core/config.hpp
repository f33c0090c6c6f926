// [core] configuration: the embedded IMS core, a combined I-CSCF/S-CSCF registrar with the HSS in
// the store (TS 23.228 §4.6, TR 33.871 6.1.1). Every key, its default and its meaning are printed by
// `webims core --print-config`.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/config.hpp"
#include "base/ip.hpp"

namespace core {

using base::config::Duration;

struct CoreConfig {
  std::vector<std::string> listen{"udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"};
  std::string home_domain = "ims.example.org";
  std::vector<std::string> trusted_nodes{"127.0.0.1"};
  std::string sip_host;  // host in Via, Record-Route and Service-Route; empty = the listener's address
  std::vector<std::string> digest_algorithms{"MD5", "SHA-256"};
  Duration nonce_lifetime = std::chrono::minutes(5);
  Duration min_expires = std::chrono::seconds(60);
  Duration max_expires = std::chrono::hours(2);
  Duration default_expires = std::chrono::hours(1);
  int max_contacts = 10;
  int max_aka_challenges = 100000;
  Duration registration_write_delay = std::chrono::milliseconds(100);
  std::string control_listen = "http://127.0.0.1:5080";

  void describe(base::config::Binder& b);
  // Throws base::config::Error naming every wrong key.
  void validate() const;

  // Derived, valid after validate().
  std::vector<base::Cidr> trusted_ranges() const;
};

// "udp://127.0.0.1:5060" -> {"UDP", 127.0.0.1:5060}; false on anything else (udp, tcp, tls).
bool parse_sip_listener(const std::string& url, std::string& transport, base::Endpoint& endpoint);

}  // namespace core
