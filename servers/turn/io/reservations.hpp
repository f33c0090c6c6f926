// Relay ports held for a later Allocate (EVEN-PORT with the R bit, RESERVATION-TOKEN; RFC 8656
// §7.2, §18.9): the bound socket of port+1 waits here for 30 s. Shared by all workers because the
// second Allocate may come in on another 5-tuple and land on another thread.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace turn::io {

class Reservations {
 public:
  static constexpr auto kHold = std::chrono::seconds(30);

  ~Reservations() {
    for (auto& [t, r] : held_) ::close(r.fd);
  }
  void put(uint64_t token, int fd, std::chrono::steady_clock::time_point now) {
    std::lock_guard lk(mu_);
    held_[token] = {fd, now + kHold};
  }
  // The held socket, once.
  std::optional<int> take(uint64_t token, std::chrono::steady_clock::time_point now) {
    std::lock_guard lk(mu_);
    auto it = held_.find(token);
    if (it == held_.end()) return std::nullopt;
    int fd = it->second.fd;
    bool live = now < it->second.until;
    held_.erase(it);
    if (!live) {
      ::close(fd);
      return std::nullopt;
    }
    return fd;
  }
  void expire(std::chrono::steady_clock::time_point now) {
    std::lock_guard lk(mu_);
    for (auto it = held_.begin(); it != held_.end();) {
      if (now >= it->second.until) {
        ::close(it->second.fd);
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  struct Held {
    int fd;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex mu_;
  std::unordered_map<uint64_t, Held> held_;
};

}  // namespace turn::io
