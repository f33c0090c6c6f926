#pragma once

#include "base/random.hpp"
#include "crypto/hash.hpp"

namespace crypto {

// The production randomness source: OpenSSL's DRBG.
class SystemRandom final : public base::Random {
 public:
  void fill(std::span<uint8_t> out) override { random_bytes(out); }
};

}  // namespace crypto
