// Leveled logging to stderr, one line per event: `2026-11-22T19:31:35.123Z INFO  turn: text`.
// Arguments are not evaluated when the level is off. Never pass a password, key, token or HMAC:
// log the USERNAME or a key id instead (security rule, brief "Engineering standards").
#pragma once

#include <atomic>
#include <sstream>
#include <string>
#include <string_view>

namespace base::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

void set_level(Level l);
Level level();
bool parse_level(std::string_view s, Level& out);
inline bool enabled(Level l) { extern std::atomic<int> g_level; return int(l) >= g_level.load(std::memory_order_relaxed); }

class Line {
 public:
  Line(Level l, std::string_view component) : level_(l), component_(component) {}
  ~Line();
  template <class T>
  Line& operator<<(const T& v) {
    os_ << v;
    return *this;
  }

 private:
  Level level_;
  std::string_view component_;
  std::ostringstream os_;
};

}  // namespace base::log

// A `for` rather than an `if`, so `if (x) LOG_INFO(...) << ...; else ...` binds as written.
#define WEBIMS_LOG(lvl, comp) \
  for (bool webims_log_on_ = ::base::log::enabled(lvl); webims_log_on_; webims_log_on_ = false) ::base::log::Line(lvl, comp)
#define LOG_DEBUG(comp) WEBIMS_LOG(::base::log::Level::Debug, comp)
#define LOG_INFO(comp) WEBIMS_LOG(::base::log::Level::Info, comp)
#define LOG_WARN(comp) WEBIMS_LOG(::base::log::Level::Warn, comp)
#define LOG_ERROR(comp) WEBIMS_LOG(::base::log::Level::Error, comp)
