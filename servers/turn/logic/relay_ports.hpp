// Which relayed transport addresses (RFC 8656 §2, §7.2) this server holds at this moment: the relay
// sockets of live allocations and the ports held for EVEN-PORT reservations. The peer policy asks it
// so that another client's relayed address on this very server can be a peer (two browsers relayed
// by the same `webims all`), while every other socket on the server's own addresses stays refused
// (RFC 8656 §21).
//
// Written by the worker thread that binds or releases a relay socket, read by every worker on
// CreatePermission, ChannelBind and Send: one bit per port and family, relaxed atomic operations,
// no lock, nothing on the relay path.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "base/ip.hpp"

namespace turn {

// What the peer policy asks; an interface so the logic is tested without sockets.
class OwnRelays {
 public:
  virtual ~OwnRelays() = default;
  // True when `peer` names one of this server's relay sockets that is bound right now.
  virtual bool live(const base::Endpoint& peer) const = 0;
};

class RelayPortMap final : public OwnRelays {
 public:
  // `names`: the addresses peers reach the relay sockets by: the advertised relay addresses and, when
  // they differ (1:1 NAT), the addresses the sockets are bound to. Wildcards are not names: a socket
  // bound to 0.0.0.0 is not "ours" on every local address as far as peers are concerned.
  explicit RelayPortMap(std::vector<base::IpAddress> names) {
    for (auto& a : names) {
      a = a.unmapped();
      if (!is_unspecified(a) && std::find(names_.begin(), names_.end(), a) == names_.end()) names_.push_back(a);
    }
  }

  // Call after the socket is bound, and before it is closed: a port released by one worker and
  // bound again by another is then never left cleared (the kernel orders the close before the bind).
  void bound(base::Family f, uint16_t port) { word(f, port).fetch_or(bit(port), std::memory_order_relaxed); }
  void released(base::Family f, uint16_t port) { word(f, port).fetch_and(~bit(port), std::memory_order_relaxed); }

  bool live(const base::Endpoint& peer) const override {
    base::IpAddress a = peer.addr.unmapped();
    if (peer.port == 0 || std::find(names_.begin(), names_.end(), a) == names_.end()) return false;
    return word(a.family(), peer.port).load(std::memory_order_relaxed) & bit(peer.port);
  }

  const std::vector<base::IpAddress>& names() const { return names_; }

 private:
  static bool is_unspecified(const base::IpAddress& a) {
    return std::all_of(a.data(), a.data() + a.size(), [](uint8_t b) { return b == 0; });
  }
  static uint64_t bit(uint16_t port) { return uint64_t(1) << (port % 64); }
  std::atomic<uint64_t>& word(base::Family f, uint16_t port) { return bits_[f == base::Family::V4 ? 0 : 1][port / 64]; }
  const std::atomic<uint64_t>& word(base::Family f, uint16_t port) const {
    return bits_[f == base::Family::V4 ? 0 : 1][port / 64];
  }

  std::array<std::array<std::atomic<uint64_t>, 65536 / 64>, 2> bits_{};  // [IPv4, IPv6][port / 64], 16 KiB
  std::vector<base::IpAddress> names_;
};

}  // namespace turn
