// Time as inputs: logic never reads the clock (style.md "Sans-I/O"); the I/O shell passes `Now`.
#pragma once

#include <chrono>
#include <cstdint>

namespace base {

using SteadyTime = std::chrono::steady_clock::time_point;
using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;

struct Now {
  SteadyTime steady;  // for lifetimes and timers
  int64_t unix_s = 0; // wall clock, for credentials that carry absolute expiry (Texp, token exp)

  static Now system() {
    return {std::chrono::steady_clock::now(),
            std::chrono::duration_cast<Seconds>(std::chrono::system_clock::now().time_since_epoch()).count()};
  }
};

// Parses "90", "90s", "15m", "24h", "7d", "250ms" into milliseconds; nullopt on bad text.
bool parse_duration(const char* text, std::chrono::milliseconds& out);
std::string format_duration(std::chrono::milliseconds d);

}  // namespace base
