// Stateless NONCEs for the long-term credential mechanism (RFC 8489 §9.2): the nonce carries its
// expiry and a MAC binding it to the client address, so the server keeps no per-client state and a
// nonce stolen by another host is worthless.
//
//   "obMatJos2" + base64(security feature set, 24 bits) + base64url(expiry_unix u32 ‖ MAC[0..12))
//   MAC = HMAC-SHA-256(nonce_key, expiry ‖ client IP)
//
// The "obMatJos2" cookie with the Password-algorithms bit (RFC 8489 §9.2) tells RFC 8489 clients that
// PASSWORD-ALGORITHMS is offered; older clients treat the nonce as opaque.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/ip.hpp"

namespace turn {

class NonceManager {
 public:
  enum class Check { Valid, Stale, Invalid };
  static constexpr std::string_view kCookie = "obMatJos2";

  NonceManager(const std::array<uint8_t, 32>& key, int64_t lifetime_s) : key_(key), lifetime_s_(lifetime_s) {}
  std::string make(const base::IpAddress& client, int64_t now_unix) const;
  Check check(std::string_view nonce, const base::IpAddress& client, int64_t now_unix) const;
  // Whether the nonce advertises the Password-algorithms security feature (bid-down protection).
  static bool has_password_algorithms_feature(std::string_view nonce);

 private:
  std::array<uint8_t, 12> mac(uint32_t expiry, const base::IpAddress& client) const;
  std::array<uint8_t, 32> key_;
  int64_t lifetime_s_;
};

}  // namespace turn
