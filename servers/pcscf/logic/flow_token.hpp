// Flow tokens (RFC 5626 §5.2 style): the eP-CSCF puts one in the user part of its Path and
// Record-Route URIs so requests toward a WIC come back to the exact WebSocket connection it
// registered on, never by resolving the Contact (browsers put `.invalid` hosts there;
// protocols.md W2). The token is MACed so a peer cannot aim requests at another WIC's flow.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pcscf {

class FlowTokens {
 public:
  explicit FlowTokens(const std::array<uint8_t, 32>& key) : key_(key) {}
  // base64url(connection id (8 bytes) ‖ HMAC-SHA-256(key, id)[0..10)): 24 characters.
  std::string make(uint64_t connection) const;
  std::optional<uint64_t> check(std::string_view token) const;

 private:
  std::array<uint8_t, 32> key_;
};

}  // namespace pcscf
