#include "pcscf/logic/flow_token.hpp"

#include <cstring>

#include "base/bytes.hpp"
#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace pcscf {

namespace {
constexpr size_t kMac = 10;
}

std::string FlowTokens::make(uint64_t connection) const {
  uint8_t raw[8 + kMac];
  base::store_be64(raw, connection);
  auto mac = crypto::hmac_sha256(base::Bytes(key_.data(), key_.size()), base::Bytes(raw, 8));
  std::memcpy(raw + 8, mac.data(), kMac);
  return base::base64url_encode(base::Bytes(raw, sizeof raw));
}

std::optional<uint64_t> FlowTokens::check(std::string_view token) const {
  auto raw = base::base64url_decode(token);
  if (!raw || raw->size() != 8 + kMac) return std::nullopt;
  auto mac = crypto::hmac_sha256(base::Bytes(key_.data(), key_.size()), base::Bytes(raw->data(), 8));
  if (!crypto::constant_time_equal(base::Bytes(mac.data(), kMac), base::Bytes(raw->data() + 8, kMac))) return std::nullopt;
  return base::load_be64(raw->data());
}

}  // namespace pcscf
