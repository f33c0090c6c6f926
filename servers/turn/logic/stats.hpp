// Counters of one worker; the metrics endpoint sums all workers. Relaxed atomics: each worker
// writes only its own, so there is no cache-line sharing on the relay path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "turn/logic/peer_policy.hpp"

namespace turn {

enum class AuthFailure : uint8_t {
  StaleNonce, UnknownUser, ExpiredCredential, RevokedCredential, BadIntegrity, WrongCredentials, BadRequest, BadToken,
  Count
};
enum class Drop : uint8_t {
  Malformed, NoAllocation, NoPermission, NoChannel, RateLimited, PeerDenied, Count
};
enum class Teardown : uint8_t { Refresh, Expired, CredentialExpired, CredentialRevoked, ConnectionClosed, Shutdown, Count };

std::string_view name(AuthFailure r);
std::string_view name(Drop r);
std::string_view name(Teardown r);

struct Stats {
  using C = std::atomic<uint64_t>;
  C allocations{0};  // current
  C allocations_created{0};
  std::array<C, size_t(Teardown::Count)> allocations_deleted{};
  std::array<C, size_t(AuthFailure::Count)> auth_failures{};
  std::array<C, size_t(Drop::Count)> drops{};
  // Peers refused, by the policy's reason (only the Denied* verdicts move); each also counts as
  // drops[PeerDenied].
  std::array<C, size_t(PeerPolicy::Verdict::Count)> peers_refused{};
  std::array<C, 10> requests{};  // by STUN method number (1..9)
  C challenges{0};               // 401 to requests without credentials (normal first round trip)
  C to_peer_packets{0}, to_peer_bytes{0}, to_client_packets{0}, to_client_bytes{0};

  static void inc(C& c, uint64_t n = 1) { c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
};

}  // namespace turn
