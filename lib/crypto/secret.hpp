// Containers for key material: wiped (OPENSSL_cleanse) when destroyed or moved from, compared in
// constant time, and deliberately without operator<< so a key cannot reach a log line by accident.
// To print one in a test, go through .bytes() on purpose.
#pragma once

#include <openssl/crypto.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/bytes.hpp"

namespace crypto {

// N secret octets. `Tag` makes K, OPc, CK and IK distinct types, so one cannot be passed for another.
template <size_t N, class Tag>
class SecretBytes {
 public:
  static constexpr size_t kSize = N;

  SecretBytes() { b_.fill(0); }
  explicit SecretBytes(std::span<const uint8_t, N> b) { std::memcpy(b_.data(), b.data(), N); }
  SecretBytes(const SecretBytes&) = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  ~SecretBytes() { OPENSSL_cleanse(b_.data(), N); }

  // nullopt unless `b` has exactly N octets.
  static std::optional<SecretBytes> from(base::Bytes b) {
    if (b.size() != N) return std::nullopt;
    return SecretBytes(std::span<const uint8_t, N>(b.data(), N));
  }

  base::Bytes bytes() const { return {b_.data(), N}; }
  std::span<const uint8_t, N> span() const { return std::span<const uint8_t, N>(b_); }
  const uint8_t* data() const { return b_.data(); }
  uint8_t* data() { return b_.data(); }
  static constexpr size_t size() { return N; }

  friend bool operator==(const SecretBytes& a, const SecretBytes& b) {
    return CRYPTO_memcmp(a.b_.data(), b.b_.data(), N) == 0;
  }

 private:
  std::array<uint8_t, N> b_;
};

// A secret of variable length (a Digest password, an HA1). Reserve exactly what you need before
// appending: a buffer the string outgrows is freed without being wiped.
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string s) : s_(std::move(s)) {}
  explicit SecretString(std::string_view s) : s_(s) {}
  explicit SecretString(const char* s) : s_(s) {}
  SecretString(const SecretString&) = default;
  SecretString& operator=(const SecretString& o) {
    if (this != &o) { wipe(); s_ = o.s_; }
    return *this;
  }
  SecretString(SecretString&& o) noexcept : s_(std::move(o.s_)) { o.wipe(); }
  SecretString& operator=(SecretString&& o) noexcept {
    if (this != &o) { wipe(); s_ = std::move(o.s_); o.wipe(); }
    return *this;
  }
  ~SecretString() { wipe(); }

  std::string_view view() const { return s_; }
  base::Bytes bytes() const { return base::as_bytes(s_); }
  size_t size() const { return s_.size(); }
  bool empty() const { return s_.empty(); }

  friend bool operator==(const SecretString& a, const SecretString& b) {
    return a.s_.size() == b.s_.size() && CRYPTO_memcmp(a.s_.data(), b.s_.data(), a.s_.size()) == 0;
  }

 private:
  // Also clears the small-string buffer a move leaves behind: resize() to capacity overwrites it.
  void wipe() noexcept {
    s_.resize(s_.capacity());
    OPENSSL_cleanse(s_.data(), s_.size());
    s_.clear();
  }
  std::string s_;
};

}  // namespace crypto
