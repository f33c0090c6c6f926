// [turn] configuration: every key, its default and its meaning (printed by `webims turn --print-config`).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/config.hpp"
#include "base/ip.hpp"
#include "token/oauth_token.hpp"
#include "token/turn_credential.hpp"

namespace turn {

using base::config::Duration;

// A Solution 1 key Km shared with the eP-CSCF (TS 33.203 X.5.2). Several may be valid at once so
// Km can rotate: credentials minted under any configured key are accepted.
using SecretConfig = token::TurnKey;

// A Solution 2 AS-RS key shared with the WAF (RFC 7635, protocols.md): tokens sealed under it are
// accepted with USERNAME = kid. Several may be configured so the key can rotate.
struct OAuthKeyConfig {
  std::string kid;
  std::string key;  // base64 of 16 (A128GCM) or 32 (A256GCM) bytes
  std::string alg = "A256GCM";
};

struct Listener {
  enum class Transport { Udp, Tcp, Tls } transport;
  base::Endpoint endpoint;
  std::string url;
};

struct TurnConfig {
  std::vector<std::string> listen{"udp://0.0.0.0:3478", "tcp://0.0.0.0:3478", "tls://0.0.0.0:5349"};
  std::string realm = "ims.example.org";
  std::string relay_address;     // advertised in XOR-RELAYED-ADDRESS; empty = first non-loopback IPv4, else 127.0.0.1
  std::string relay_address_v6;  // optional IPv6 relay (RFC 8656 REQUESTED-ADDRESS-FAMILY / dual allocation)
  std::string relay_bind;        // local address relay sockets bind to; empty = relay_address (set it behind 1:1 NAT)
  std::string relay_bind_v6;
  std::string relay_ports = "49152-65535";
  std::vector<std::string> allowed_peer_ranges;
  std::vector<std::string> denied_peer_ranges;
  int threads = 0;
  int user_quota = 10;
  int total_quota = 0;
  int max_permissions = 64;
  std::string control_listen = "http://127.0.0.1:3479";
  std::string software = "webims";
  Duration nonce_lifetime = std::chrono::minutes(10);
  Duration default_lifetime = std::chrono::minutes(10);
  Duration max_lifetime = std::chrono::hours(1);
  int unauth_rate = 200;
  int unauth_burst = 1000;
  int max_tcp_connections = 10000;
  Duration tcp_idle_timeout = std::chrono::seconds(120);
  int udp_buffer_bytes = 4 << 20;
  std::vector<SecretConfig> secrets;
  std::vector<OAuthKeyConfig> oauth_keys;
  std::string oauth_server_name;  // THIRD-PARTY-AUTHORIZATION and the tokens' AAD; empty = realm
  std::string control_token;      // bearer token of the control API (Approach 2); empty = API off

  void describe(base::config::Binder& b);
  // Throws base::config::Error naming the key and what is wrong.
  void validate() const;

  // Derived, valid after validate().
  std::vector<Listener> listeners() const;
  uint16_t port_min() const;
  uint16_t port_max() const;
  std::vector<base::Cidr> allowed_ranges() const;
  std::vector<base::Cidr> denied_ranges() const;
  std::vector<token::OAuthKey> oauth_key_set() const;
  const std::string& server_name() const { return oauth_server_name.empty() ? realm : oauth_server_name; }
};

// True when `listen_url` is http:// on a loopback address (or "localhost").
bool loopback_http(const std::string& listen_url);

// Parses "udp://0.0.0.0:3478", "tcp://[::]:3478", "tls://0.0.0.0:5349".
bool parse_listener(const std::string& url, Listener& out);

// The address used when relay_address is empty.
std::string default_relay_address();

}  // namespace turn
