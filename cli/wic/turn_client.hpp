// A TURN Allocate over UDP with the long-term credential mechanism, sans-I/O (for
// `webims wic turn-cred --allocate`):
//   RFC 8656 §7.1 (Allocate with REQUESTED-TRANSPORT=UDP), §7.2 (Refresh, LIFETIME 0 releases);
//   RFC 8489 §9.2 (long-term credentials: 401 with REALM and NONCE, then USERNAME, REALM, NONCE and
//   MESSAGE-INTEGRITY keyed with MD5(username ":" realm ":" password); 438 Stale Nonce retried with
//   the new nonce), §6.2.1 (retransmissions: RTO 500 ms doubling, Rc = 7, last wait Rm * RTO).
// The USERNAME and password are a Solution 1 credential (protocols.md): "Tid:Texp" and Tpwd; or,
// with an RFC 7635 access token (Solution 2), USERNAME = kid, ACCESS-TOKEN in every authenticated
// request and MESSAGE-INTEGRITY keyed with the token's mac_key (RFC 7635 §4, §6.2).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "base/clock.hpp"
#include "base/ip.hpp"
#include "base/random.hpp"
#include "stun/constants.hpp"

namespace wic {

struct TurnClientConfig {
  std::string username;
  std::string password;
  std::vector<uint8_t> access_token;  // RFC 7635: set with mac_key; username is then the kid
  std::vector<uint8_t> mac_key;
  // coturn (4.6, Debian 12) keys MESSAGE-INTEGRITY with only the first 16 bytes of a 20-byte
  // mac_key (its long-term key size); set to talk to it.
  bool coturn_mac_key = false;
  base::Millis rto{500};
  int max_transmissions = 7;   // Rc
  int last_wait_factor = 16;   // Rm
  std::string software = "webims-wic";
};

class TurnAllocateClient {
 public:
  enum class State { Idle, Allocating, Allocated, Releasing, Released, Failed };

  TurnAllocateClient(TurnClientConfig config, base::Random& random);

  // The first Allocate (without credentials, RFC 8489 §9.2.3.1).
  std::vector<uint8_t> start(base::SteadyTime now);
  // Refresh with LIFETIME 0 (RFC 8656 §7.2) once Allocated; empty when not allocated.
  std::vector<uint8_t> release(base::SteadyTime now);
  // A datagram from the server: returns what to send next (often nothing). Datagrams that are not
  // the response to the outstanding request are ignored.
  std::vector<uint8_t> on_datagram(base::Bytes data, base::SteadyTime now);
  // Retransmits, or fails with error_code() 0 after Rc transmissions.
  std::vector<uint8_t> on_timer(base::SteadyTime now);
  std::optional<base::SteadyTime> next_deadline() const;

  State state() const { return state_; }
  bool done() const { return state_ == State::Allocated || state_ == State::Released || state_ == State::Failed; }
  int error_code() const { return error_code_; }           // STUN error code; 0 on timeout or local error
  const std::string& error_reason() const { return error_reason_; }
  const base::Endpoint& relayed() const { return relayed_; }
  const base::Endpoint& mapped() const { return mapped_; }
  uint32_t lifetime() const { return lifetime_; }
  const std::string& realm() const { return realm_; }

 private:
  std::vector<uint8_t> build(stun::Method method, bool authenticated, uint32_t lifetime);
  std::vector<uint8_t> transmit(std::vector<uint8_t> msg, base::SteadyTime now);
  void fail(int code, std::string reason);

  TurnClientConfig config_;
  base::Random& random_;
  State state_ = State::Idle;
  stun::TransactionId tid_{};
  std::vector<uint8_t> outstanding_;
  int transmissions_ = 0;
  base::Millis rto_{};
  std::optional<base::SteadyTime> deadline_;
  std::string realm_, nonce_;
  std::vector<uint8_t> key_;
  bool authenticated_ = false;
  int stale_retries_ = 0;
  int error_code_ = 0;
  std::string error_reason_;
  base::Endpoint relayed_, mapped_;
  uint32_t lifetime_ = 0;
};

}  // namespace wic
