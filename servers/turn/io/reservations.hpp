// Relay ports held for a later Allocate (EVEN-PORT with the R bit, RESERVATION-TOKEN; RFC 8656
// §7.2, §18.9): the bound socket of port+1 waits here for 30 s. Shared by all workers because the
// second Allocate may come in on another 5-tuple and land on another thread. A held port counts as
// one of our relayed transport addresses (RelayPortMap) from put() until it is closed here or taken.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "base/ip.hpp"
#include "turn/logic/relay_ports.hpp"

namespace turn::io {

class Reservations {
 public:
  static constexpr auto kHold = std::chrono::seconds(30);

  explicit Reservations(RelayPortMap& ports) : ports_(ports) {}
  ~Reservations() {
    for (auto& [t, r] : held_) close(r);
  }
  // `bound`: the socket's local address; its port is marked live here.
  void put(uint64_t token, int fd, const base::Endpoint& bound, std::chrono::steady_clock::time_point now) {
    ports_.bound(bound.addr.family(), bound.port);
    std::lock_guard lk(mu_);
    held_[token] = {fd, bound, now + kHold};
  }
  // The held socket, once; its port stays marked (it becomes an allocation's relay socket).
  std::optional<int> take(uint64_t token, std::chrono::steady_clock::time_point now) {
    std::lock_guard lk(mu_);
    auto it = held_.find(token);
    if (it == held_.end()) return std::nullopt;
    Held h = it->second;
    held_.erase(it);
    if (now >= h.until) {
      close(h);
      return std::nullopt;
    }
    return h.fd;
  }
  void expire(std::chrono::steady_clock::time_point now) {
    std::lock_guard lk(mu_);
    for (auto it = held_.begin(); it != held_.end();) {
      if (now >= it->second.until) {
        close(it->second);
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  struct Held {
    int fd;
    base::Endpoint bound;
    std::chrono::steady_clock::time_point until;
  };
  // Unmarked before the close, so a worker that binds the port again right after marks it for good.
  void close(const Held& h) {
    ports_.released(h.bound.addr.family(), h.bound.port);
    ::close(h.fd);
  }
  RelayPortMap& ports_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Held> held_;
};

}  // namespace turn::io
