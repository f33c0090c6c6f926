#pragma once

#include <array>
#include <cstring>

#include "base/random.hpp"
#include "crypto/hash.hpp"

namespace crypto {

// The production randomness source: OpenSSL's DRBG. Small requests (branches, tags, nonces: a few
// bytes per SIP message) are served from a buffer of DRBG output refilled 1 KiB at a time, because
// one RAND_bytes call per message cost more than parsing the message. The bytes are the same DRBG
// output either way. One instance per thread; servers do not fork after creating one.
class SystemRandom final : public base::Random {
 public:
  void fill(std::span<uint8_t> out) override {
    if (out.size() > kBuffer / 4) return random_bytes(out);
    if (out.size() > left_) {
      random_bytes(buf_);
      left_ = kBuffer;
    }
    std::memcpy(out.data(), buf_.data() + (kBuffer - left_), out.size());
    // Served bytes are not kept around.
    std::memset(buf_.data() + (kBuffer - left_), 0, out.size());
    left_ -= out.size();
  }

 private:
  static constexpr size_t kBuffer = 1024;
  std::array<uint8_t, kBuffer> buf_{};
  size_t left_ = 0;
};

}  // namespace crypto
