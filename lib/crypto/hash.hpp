// Hashes, HMACs and checksums over OpenSSL 3 (EVP). Fetched algorithms and MAC contexts are cached
// per thread: a one-shot HMAC() re-fetches the provider each call and costs ~2x (shared/bench hmac).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/bytes.hpp"

namespace crypto {

using base::Bytes;
using Md5Digest = std::array<uint8_t, 16>;
using Sha1Digest = std::array<uint8_t, 20>;
using Sha256Digest = std::array<uint8_t, 32>;

Md5Digest md5(Bytes data);
Md5Digest md5(std::initializer_list<Bytes> parts);
Sha1Digest sha1(Bytes data);
Sha256Digest sha256(Bytes data);
Sha256Digest sha256(std::initializer_list<Bytes> parts);
Sha1Digest hmac_sha1(Bytes key, Bytes data);
Sha1Digest hmac_sha1(Bytes key, std::initializer_list<Bytes> parts);
Sha256Digest hmac_sha256(Bytes key, Bytes data);
Sha256Digest hmac_sha256(Bytes key, std::initializer_list<Bytes> parts);
Md5Digest hmac_md5(Bytes key, Bytes data);

// CRC-32 (ISO-HDLC / zlib polynomial), as STUN FINGERPRINT uses (RFC 8489 §14.7).
uint32_t crc32(Bytes data);

// Compares in time independent of where the inputs differ (MACs, passwords, tokens).
bool constant_time_equal(Bytes a, Bytes b);

// Cryptographically secure random bytes (OpenSSL DRBG); aborts if the DRBG fails.
void random_bytes(std::span<uint8_t> out);

inline Bytes view(std::string_view s) { return base::as_bytes(s); }
template <size_t N>
Bytes view(const std::array<uint8_t, N>& a) {
  return {a.data(), N};
}

}  // namespace crypto
