#include "base/clock.hpp"

#include <charconv>
#include <cstring>
#include <string>

namespace base {

bool parse_duration(const char* text, std::chrono::milliseconds& out) {
  const char* end = text + std::strlen(text);
  int64_t total = 0;
  const char* p = text;
  if (p == end) return false;
  while (p < end) {
    int64_t v = 0;
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || q == p || v < 0) return false;
    p = q;
    std::string_view unit(p, size_t(end - p));
    int64_t mul;
    size_t len;
    if (unit.starts_with("ms")) { mul = 1; len = 2; }
    else if (unit.starts_with("s")) { mul = 1000; len = 1; }
    else if (unit.starts_with("m")) { mul = 60'000; len = 1; }
    else if (unit.starts_with("h")) { mul = 3'600'000; len = 1; }
    else if (unit.starts_with("d")) { mul = 86'400'000; len = 1; }
    else if (unit.empty() && p == end && total == 0) { mul = 1000; len = 0; }  // bare number = seconds
    else return false;
    if (v > INT64_MAX / mul / 2) return false;
    total += v * mul;
    p += len;
  }
  out = std::chrono::milliseconds(total);
  return true;
}

std::string format_duration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace base
