// The `3gpp-ext-turn-cred` header as a WIC receives it (TS 33.203 X.5.2 Solution 1, protocols.md
// "TURN credentials, Solution 1"):
//
//   3gpp-ext-turn-cred: <Tid>:<Texp>:<Tpwd>;uri="turn:host:3478?transport=udp";uri="turns:..."
//
// USERNAME for TURN is "<Tid>:<Texp>" (or coturn's "<Texp>:<Tid>", which the eP-CSCF may be
// configured to send), the password Tpwd (base64, so it holds no ':' or ';').
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wic {

constexpr std::string_view kTurnCredHeader = "3gpp-ext-turn-cred";

struct TurnCredential {
  std::string username;  // "Tid:Texp" as received: the TURN USERNAME
  std::string password;  // Tpwd
  int64_t expires = 0;   // Texp, Unix seconds
  std::vector<std::string> uris;  // the `uri` parameters in order (may be empty)
};

// nullopt when the value is not three ':'-separated non-empty parts with a decimal Texp in the
// USERNAME, or when its parameters are malformed. Parameters other than `uri` are ignored.
std::optional<TurnCredential> parse_turn_credential(std::string_view header_value);

// A TURN server URI (RFC 7065): turn:host[:port][?transport=udp|tcp], turns:host[:port]...
struct TurnUri {
  bool secure = false;         // turns:
  std::string host;            // without IPv6 brackets
  uint16_t port = 3478;        // 3478 for turn:, 5349 for turns: when absent
  std::string transport = "udp";
};
std::optional<TurnUri> parse_turn_uri(std::string_view uri);

}  // namespace wic
