// Per-source token buckets for requests without valid credentials: bounds how fast one address can
// make the server compute nonces and HMACs. A fixed table (no allocation, bounded memory under
// spoofed-source floods); colliding sources share or replace a bucket, which errs on the side of
// letting traffic through.
#pragma once

#include <array>
#include <chrono>
#include <vector>

#include "base/clock.hpp"
#include "base/ip.hpp"

namespace turn {

class RateLimiter {
 public:
  RateLimiter(int rate_per_s, int burst, size_t buckets = 4096)
      : rate_(rate_per_s), burst_(burst), table_(rate_per_s > 0 ? buckets : 0) {}

  // True if a request from `src` may be answered now.
  bool allow(const base::IpAddress& src, base::SteadyTime now) {
    if (rate_ <= 0) return true;
    Bucket& b = table_[src.hash() % table_.size()];
    if (!(b.who == src) || b.last == base::SteadyTime{}) {
      b.who = src;
      b.tokens = double(burst_);
      b.last = now;
    }
    double dt = std::chrono::duration<double>(now - b.last).count();
    b.last = now;
    b.tokens = std::min(double(burst_), b.tokens + dt * rate_);
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

 private:
  struct Bucket {
    base::IpAddress who;
    double tokens = 0;
    base::SteadyTime last{};
  };
  int rate_, burst_;
  std::vector<Bucket> table_;
};

}  // namespace turn
