// Randomness as an input: production uses the OpenSSL CSPRNG (crypto::SystemRandom), tests a seeded one.
#pragma once

#include <cstdint>
#include <span>

namespace base {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<uint8_t> out) = 0;
  uint32_t u32() {
    uint8_t b[4];
    fill(b);
    return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
  }
};

// Deterministic generator for tests (splitmix64). Never for secrets.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : s_(seed) {}
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      s_ += 0x9e3779b97f4a7c15ull;
      uint64_t z = s_;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      b = uint8_t(z ^ (z >> 31));
    }
  }

 private:
  uint64_t s_;
};

}  // namespace base
