#include "turn/logic/nonce.hpp"

#include <cstring>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace turn {

namespace {
// Security feature set with bit 0 (Password algorithms) set: 0x800000 in base64.
constexpr std::string_view kFeatures = "gAAA";
}  // namespace

std::array<uint8_t, 12> NonceManager::mac(uint32_t expiry, const base::IpAddress& client) const {
  uint8_t e[4];
  base::store_be32(e, expiry);
  auto full = crypto::hmac_sha256(base::Bytes(key_.data(), key_.size()),
                                  {base::Bytes(e, 4), base::Bytes(client.data(), client.size())});
  std::array<uint8_t, 12> out;
  std::memcpy(out.data(), full.data(), out.size());
  return out;
}

std::string NonceManager::make(const base::IpAddress& client, int64_t now_unix) const {
  uint32_t expiry = uint32_t(now_unix + lifetime_s_);
  uint8_t body[16];
  base::store_be32(body, expiry);
  auto m = mac(expiry, client.unmapped());
  std::memcpy(body + 4, m.data(), m.size());
  std::string out(kCookie);
  out += kFeatures;
  out += base::base64url_encode(base::Bytes(body, sizeof body));
  return out;
}

NonceManager::Check NonceManager::check(std::string_view nonce, const base::IpAddress& client, int64_t now_unix) const {
  if (!nonce.starts_with(kCookie)) return Check::Invalid;
  nonce.remove_prefix(kCookie.size());
  if (!nonce.starts_with(kFeatures)) return Check::Invalid;
  nonce.remove_prefix(kFeatures.size());
  auto body = base::base64url_decode(nonce);
  if (!body || body->size() != 16) return Check::Invalid;
  uint32_t expiry = base::load_be32(body->data());
  auto m = mac(expiry, client.unmapped());
  if (!crypto::constant_time_equal(base::Bytes(m.data(), m.size()), base::Bytes(body->data() + 4, 12)))
    return Check::Invalid;
  return int64_t(expiry) >= now_unix ? Check::Valid : Check::Stale;
}

bool NonceManager::has_password_algorithms_feature(std::string_view nonce) {
  if (!nonce.starts_with(kCookie) || nonce.size() < kCookie.size() + 4) return false;
  auto f = base::base64_decode(nonce.substr(kCookie.size(), 4));
  return f && f->size() == 3 && ((*f)[0] & 0x80);
}

}  // namespace turn
