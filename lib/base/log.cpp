#include "base/log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace base::log {

std::atomic<int> g_level{int(Level::Info)};

void set_level(Level l) { g_level.store(int(l)); }
Level level() { return Level(g_level.load()); }

bool parse_level(std::string_view s, Level& out) {
  if (s == "debug") out = Level::Debug;
  else if (s == "info") out = Level::Info;
  else if (s == "warn" || s == "warning") out = Level::Warn;
  else if (s == "error") out = Level::Error;
  else if (s == "off") out = Level::Off;
  else return false;
  return true;
}

Line::~Line() {
  static constexpr const char* names[] = {"DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm t;
  gmtime_r(&tv.tv_sec, &t);
  char ts[40];
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &t);
  std::string line;
  line.reserve(96);
  char ms[8];
  snprintf(ms, sizeof ms, ".%03dZ ", int(tv.tv_usec / 1000));
  line += ts;
  line += ms;
  line += names[int(level_)];
  line += ' ';
  line += component_;
  line += ": ";
  std::string text = os_.str();
  // Keep one event on one line whatever the peer put in the text.
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  line += text;
  line += '\n';
  // One write per line so concurrent threads do not interleave within a line.
  ssize_t r = ::write(2, line.data(), line.size());
  (void)r;
}

}  // namespace base::log
