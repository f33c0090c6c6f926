// RFC 7616 §3.3 (nonce), §5.4–5.5 (replay, stale); RFC 2617 §3.2.1.
#include "crypto/digest_nonce.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace crypto {
namespace {

// Nonce layout before base64url (36 octets, 48 characters):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    salt (96 random bits)                      |
//  |                                                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     issue time, Unix seconds, 64 bits, XOR HMAC(Kenc, salt)   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |   tag = HMAC-SHA-256(Kmac, salt ‖ masked time ‖ context),     |
//  |         first 128 bits                                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The time is masked so the nonce says nothing to a client; the salt makes every nonce unique.
constexpr size_t kSalt = 12, kTime = 8, kTag = 16, kRaw = kSalt + kTime + kTag, kEncoded = 48;
static_assert(kRaw * 4 / 3 == kEncoded);

constexpr std::string_view kEncLabel = "webims digest nonce v1 time mask";
constexpr std::string_view kMacLabel = "webims digest nonce v1 mac";

template <class Key>
Key derive(base::Bytes secret, std::string_view label) {
  Sha256Digest d = hmac_sha256(secret, base::as_bytes(label));
  Key k(std::span<const uint8_t, 32>(d.data(), 32));
  OPENSSL_cleanse(d.data(), d.size());
  return k;
}

}  // namespace

Result<void> DigestNonceConfig::validate() const {
  if (lifetime.count() <= 0 || max_clock_skew.count() < 0) return base::fail(Error::InvalidArgument);
  return {};
}

Result<void> NonceCountConfig::validate() const {
  if (max_nonces == 0 || lifetime.count() <= 0) return base::fail(Error::InvalidArgument);
  return {};
}

Result<DigestNonceManager> DigestNonceManager::create(base::Bytes secret, DigestNonceConfig config,
                                                      const std::vector<base::Bytes>& previous) {
  if (auto v = config.validate(); !v) return base::fail(v.error());
  std::vector<Keys> keys;
  keys.reserve(1 + previous.size());
  for (size_t i = 0; i <= previous.size(); ++i) {
    base::Bytes s = i == 0 ? secret : previous[i - 1];
    if (s.size() < 16) return base::fail(Error::InvalidArgument);
    keys.push_back({derive<decltype(Keys::enc)>(s, kEncLabel), derive<decltype(Keys::mac)>(s, kMacLabel)});
  }
  return DigestNonceManager(std::move(keys), config);
}

std::string DigestNonceManager::issue(const base::Now& now, base::Random& random, base::Bytes context) const {
  const Keys& k = keys_[0];
  uint8_t raw[kRaw];
  random.fill(std::span<uint8_t>(raw, kSalt));
  base::Bytes salt(raw, kSalt);
  Sha256Digest mask = hmac_sha256(k.enc.bytes(), salt);
  base::store_be64(raw + kSalt, uint64_t(now.unix_s));
  for (size_t i = 0; i < kTime; ++i) raw[kSalt + i] ^= mask[i];
  Sha256Digest tag = hmac_sha256(k.mac.bytes(), {base::Bytes(raw, kSalt + kTime), context});
  std::memcpy(raw + kSalt + kTime, tag.data(), kTag);
  return base::base64url_encode(base::Bytes(raw, kRaw));
}

NonceCheck DigestNonceManager::verify(std::string_view nonce, const base::Now& now, base::Bytes context) const {
  NonceCheck out;
  if (nonce.size() != kEncoded) return out;
  auto raw = base::base64url_decode(nonce);
  if (!raw || raw->size() != kRaw) return out;
  base::Bytes salt(raw->data(), kSalt), signed_part(raw->data(), kSalt + kTime), tag(raw->data() + kSalt + kTime, kTag);
  for (const Keys& k : keys_) {
    Sha256Digest expect = hmac_sha256(k.mac.bytes(), {signed_part, context});
    if (!constant_time_equal(base::Bytes(expect.data(), kTag), tag)) continue;
    Sha256Digest mask = hmac_sha256(k.enc.bytes(), salt);
    uint8_t t[kTime];
    for (size_t i = 0; i < kTime; ++i) t[i] = (*raw)[kSalt + i] ^ mask[i];
    int64_t issued = int64_t(base::load_be64(t));
    // Authentic: only our own clock (or a peer's within the skew) could have produced the time.
    if (issued > now.unix_s + config_.max_clock_skew.count()) return out;
    out.issued_unix_s = issued;
    out.status = now.unix_s - issued > config_.lifetime.count() ? NonceStatus::Stale : NonceStatus::Ok;
    return out;
  }
  return out;
}

void NonceCountTracker::purge_expired(int64_t now_unix_s) {
  while (!by_issue_.empty() && by_issue_.begin()->first + config_.lifetime.count() < now_unix_s) {
    auto [issued, key] = *by_issue_.begin();
    // Also raises the horizon: should the tracker's lifetime be shorter than the nonces', a purged
    // nonce still cannot be replayed.
    horizon_ = std::max(horizon_.value_or(issued), issued);
    by_issue_.erase(by_issue_.begin());
    entries_.erase(entries_.find(*key));  // by iterator: *key lives inside the erased node
  }
}

void NonceCountTracker::evict_oldest() {
  auto [issued, key] = *by_issue_.begin();
  horizon_ = std::max(horizon_.value_or(issued), issued);
  by_issue_.erase(by_issue_.begin());
  entries_.erase(entries_.find(*key));
}

NcStatus NonceCountTracker::use(std::string_view nonce, int64_t issued_unix_s, uint32_t nc, const base::Now& now) {
  if (nc == 0) return NcStatus::Replay;  // nc starts at 1; 0 is never "higher than before"
  purge_expired(now.unix_s);
  std::string key(nonce);
  if (auto it = entries_.find(key); it != entries_.end()) {
    // RFC 7616 §3.4: the same nc twice is a replay; we also require it to grow (RFC 7616 §5.5).
    if (nc <= it->second.max_nc) return NcStatus::Replay;
    it->second.max_nc = nc;
    return NcStatus::Ok;
  }
  if (horizon_ && issued_unix_s <= *horizon_) return NcStatus::Forgotten;
  if (entries_.size() >= config_.max_nonces) evict_oldest();
  auto [it, inserted] = entries_.emplace(std::move(key), Entry{nc, issued_unix_s});
  by_issue_.emplace(issued_unix_s, &it->first);
  return NcStatus::Ok;
}

std::optional<uint32_t> parse_nonce_count(std::string_view nc) {
  if (nc.size() != 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : nc) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    v = v << 4 | uint32_t(d);
  }
  if (v == 0) return std::nullopt;
  return v;
}

}  // namespace crypto
