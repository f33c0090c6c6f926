// Login and guest sessions of the WWSF, and the fixed-window counters that bound login attempts and
// guest creation. Sans-I/O: times are passed in (steady clock), ids come from the caller's Random.
//
// A session id is 256 random bits (base64url, 43 characters), held only here and in the browser's
// `__Host-webims_session` cookie; it never reaches the store or the log. Each session carries its own
// CSRF token (another 256 random bits) that state-changing requests must echo in X-CSRF-Token.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.hpp"
#include "base/random.hpp"

namespace wwsf {

struct Session {
  enum class Kind { User, Guest } kind = Kind::User;
  std::string username;      // Kind::User: the web account
  std::string guest_handle;  // Kind::Guest: the opaque id the store's pool assignment is held by
  std::string guest_impi;    // Kind::Guest: the pool IMPI lent to it
  std::string csrf_token;
  base::SteadyTime created{};
  base::SteadyTime last_seen{};
  base::SteadyTime expires{};  // absolute end
};

// 256 random bits as base64url without padding.
std::string random_token(base::Random& random);

class SessionTable {
 public:
  SessionTable(std::chrono::seconds idle, size_t max_sessions) : idle_(idle), max_(max_sessions) {}

  // The new session's id; nullopt when max_sessions are live (after dropping expired ones).
  std::optional<std::string> create(Session s, base::Random& random, base::SteadyTime now);
  // The live session for a cookie value, its idle timer restarted; nullptr when unknown or expired
  // (an expired one is removed and returned through `expired` if given, so a guest's pool
  // subscription can be released).
  Session* find(const std::string& id, base::SteadyTime now, std::optional<Session>* expired = nullptr);
  // Removes the session (live or not) and hands it back.
  std::optional<Session> take(const std::string& id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return std::nullopt;
    Session s = std::move(it->second);
    sessions_.erase(it);
    return s;
  }
  // Removes expired sessions, calling `on_expired` for each.
  template <class F>
  void prune(base::SteadyTime now, F&& on_expired) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (is_expired(it->second, now)) {
        on_expired(it->second);
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  size_t size() const { return sessions_.size(); }

 private:
  bool is_expired(const Session& s, base::SteadyTime now) const {
    return now >= s.expires || now - s.last_seen >= idle_;
  }

  std::chrono::seconds idle_;
  size_t max_;
  std::unordered_map<std::string, Session> sessions_;
};

// Counts events per key in fixed windows: `limit` events per `window`. Bounded: at most `max_keys`
// keys are tracked; when full, expired windows are dropped first, then the oldest.
class WindowCounter {
 public:
  WindowCounter(int limit, std::chrono::seconds window, size_t max_keys = 100000)
      : limit_(limit), window_(window), max_(max_keys) {}

  bool exceeded(const std::string& key, base::SteadyTime now) const;
  void hit(const std::string& key, base::SteadyTime now);
  void reset(const std::string& key) { counts_.erase(key); }
  // Seconds until the key's window ends (for Retry-After); 0 when not limited.
  int64_t retry_after(const std::string& key, base::SteadyTime now) const;
  void prune(base::SteadyTime now);
  size_t size() const { return counts_.size(); }

 private:
  struct Entry {
    int count = 0;
    base::SteadyTime start{};
  };
  int limit_;
  std::chrono::seconds window_;
  size_t max_;
  std::unordered_map<std::string, Entry> counts_;
};

}  // namespace wwsf
