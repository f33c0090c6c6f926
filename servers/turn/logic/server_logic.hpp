// The TURN server of one worker thread, sans-I/O (RFC 8656, RFC 8489 long-term credentials,
// TS 33.203 X.5.2 Solution 1). Packets and time come in; replies, relayed packets and relay socket
// operations go out through `Io`. The Asio shell (servers/turn/io) owns the sockets; tests drive
// this class directly with a fake Io and a fake clock.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "base/ip.hpp"
#include "base/random.hpp"
#include "base/result.hpp"
#include "stun/message.hpp"
#include "turn/config.hpp"
#include "turn/logic/credentials.hpp"
#include "turn/logic/nonce.hpp"
#include "turn/logic/peer_policy.hpp"
#include "turn/logic/quota.hpp"
#include "turn/logic/rate_limiter.hpp"
#include "turn/logic/stats.hpp"

namespace turn {

enum class Transport : uint8_t { Udp, Tcp, Tls };
std::string_view name(Transport t);

struct FiveTuple {
  Transport transport = Transport::Udp;
  base::Endpoint client;
  base::Endpoint server;
  friend bool operator==(const FiveTuple& a, const FiveTuple& b) {
    return a.transport == b.transport && a.client == b.client && a.server == b.server;
  }
};
struct FiveTupleHash {
  size_t operator()(const FiveTuple& t) const { return t.client.hash() * 1000003u ^ t.server.hash() ^ size_t(t.transport); }
};

// Where a client's packets come from and where replies go.
struct ClientFlow {
  FiveTuple tuple;
  uint64_t conn = 0;  // the shell's handle: UDP listener socket or TCP/TLS connection
  bool stream() const { return tuple.transport != Transport::Udp; }
};

class Io {
 public:
  virtual ~Io() = default;
  struct RelayRequest {
    base::Family family = base::Family::V4;
    bool even_port = false;
    bool reserve_next = false;                 // EVEN-PORT R bit: hold port+1 for a later Allocate
    std::optional<uint64_t> reservation_token;  // take a held port instead
    bool dont_fragment = false;
    uint64_t tag = 0;  // passed back with every packet the relay receives
  };
  struct RelayOpened {
    uint64_t handle = 0;
    base::Endpoint bound;  // local address and port
    std::optional<uint64_t> reservation_token;
  };
  // Error: the STUN error code to answer (508 when no port is free, ...).
  virtual base::Result<RelayOpened, int> open_relay(const RelayRequest& req) = 0;
  virtual void close_relay(uint64_t handle) = 0;
  // The bytes are only valid during the call.
  virtual void send_to_client(const ClientFlow& flow, base::Bytes msg) = 0;
  virtual void send_to_peer(uint64_t relay, const base::Endpoint& peer, base::Bytes payload) = 0;
  virtual void close_client(const ClientFlow& flow) = 0;
};

// State shared by every worker: configuration, credentials, quotas, peer policy, nonce key, and
// which relay ports are bound (the shell marks them; the peer policy reads them).
struct Shared {
  Shared(const TurnConfig& cfg, std::array<uint8_t, 32> nonce_key, std::vector<base::IpAddress> own_addresses);
  TurnConfig config;
  std::optional<base::IpAddress> relay_v4, relay_v6;  // advertised
  Credentials credentials;
  Quota quota;
  RelayPortMap relay_ports;  // before `policy`, which points at it
  PeerPolicy policy;
  std::array<uint8_t, 32> nonce_key;
};

struct Permission {
  base::IpAddress peer;
  base::SteadyTime expires;
  // The peer is one of our own relay addresses, allowed only as a live relayed transport address
  // of ours (PeerPolicy::Verdict::AllowedOwnRelay): the permission covers the whole IP (RFC 8656
  // §9), so Send indications check the port again.
  bool own_relay = false;
};

struct Channel {
  uint16_t number;
  base::Endpoint peer;
  base::SteadyTime expires;         // bound until
  base::SteadyTime reserved_until;  // RFC 8656 §12: number and peer not reusable for 5 more minutes
};

struct RelaySocket {
  uint64_t handle = 0;
  base::Endpoint advertised;
  bool open = false;
};

struct Allocation {
  ClientFlow flow;
  std::string username;
  std::string quota_key;                // username, or kid + token nonce for RFC 7635 tokens
  int64_t credential_expires_unix = 0;  // Solution 1 Texp, pushed credential or token expiry; 0 = none
  bool oauth = false;                   // made with an RFC 7635 token: later requests need its mac_key
  Credential::Key oauth_key{};
  base::SteadyTime expires;
  std::array<RelaySocket, 2> relays;  // index = the tag's relay index; [1] only in dual allocations
  std::optional<uint64_t> reservation_token;
  std::optional<std::pair<uint8_t, int>> address_error;  // dual allocation: family that failed, code
  stun::TransactionId allocate_tid;
  std::vector<Permission> permissions;
  std::vector<Channel> channels;
  uint32_t slot = 0;
  uint32_t generation = 0;

  const RelaySocket* relay_for(base::Family f) const;
};

class ServerLogic {
 public:
  ServerLogic(Shared& shared, Io& io, base::Random& random);
  ~ServerLogic();

  // One UDP datagram or one stream frame from a client (STUN or ChannelData).
  void on_client_packet(const ClientFlow& flow, base::Bytes data, const base::Now& now);
  // A datagram from a peer on a relay socket. The payload is buf[headroom, headroom+len); the
  // buffer has at least 4 bytes of headroom and 3 of tailroom so ChannelData is framed in place.
  void on_peer_packet(uint64_t tag, const base::Endpoint& peer, base::MutableBytes buf, size_t headroom, size_t len,
                      const base::Now& now);
  void on_client_closed(const FiveTuple& t, const base::Now& now);
  // Expires allocations, permissions and channels; tears down allocations whose credential expired.
  void on_timer(const base::Now& now);
  void shutdown();

  size_t allocation_count() const { return by_tuple_.size(); }
  const Allocation* find(const FiveTuple& t) const;
  Stats& stats() { return stats_; }

  static constexpr size_t kPeerHeadroom = 4;
  static constexpr size_t kPeerTailroom = 3;

 private:
  struct Auth {
    std::string_view username;
    std::string username_storage;  // when resolved from USERHASH
    Credential::Key key;
    bool sha256_integrity = false;
    bool fingerprint = false;
    int64_t expires_unix = 0;
    bool oauth = false;
    std::string quota_key;
  };

  void handle_request(const ClientFlow& flow, const stun::Message& m, const base::Now& now);
  void handle_binding(const ClientFlow& flow, const stun::Message& m, const base::Now& now);
  void handle_allocate(const ClientFlow& flow, const stun::Message& m, const base::Now& now);
  void handle_refresh(const ClientFlow& flow, const stun::Message& m, const base::Now& now);
  void handle_create_permission(const ClientFlow& flow, const stun::Message& m, const base::Now& now);
  void handle_channel_bind(const ClientFlow& flow, const stun::Message& m, const base::Now& now);
  void handle_send(const ClientFlow& flow, const stun::Message& m, const base::Now& now);
  void handle_channel_data(const ClientFlow& flow, base::Bytes data, const base::Now& now);
  // The policy's verdict on a peer of a CreatePermission or ChannelBind; a refusal is counted and
  // logged with its reason.
  PeerPolicy::Verdict check_peer(const Allocation& a, const base::Endpoint& peer);

  // Authenticates `m`; on failure sends the answer (401/438/400) itself and returns false.
  bool authenticate(const ClientFlow& flow, const stun::Message& m, const base::Now& now, Auth& out);
  // RFC 7635: USERNAME = kid, ACCESS-TOKEN opened with that AS-RS key, MESSAGE-INTEGRITY keyed with
  // its mac_key. Without ACCESS-TOKEN, only on the allocation the token made (its mac_key is kept).
  std::optional<AuthFailure> authenticate_oauth(const ClientFlow& flow, const stun::Message& m, const base::Now& now,
                                                std::string_view kid, const stun::Attribute* token, Auth& out);
  // The allocation of an authenticated non-Allocate request, or the 437/441 answer.
  Allocation* allocation_for(const ClientFlow& flow, const stun::Message& m, const Auth& auth);

  void send_error(const ClientFlow& flow, const stun::Message& req, int code, std::string_view reason,
                  const Auth* auth = nullptr, const std::vector<uint16_t>* unknown = nullptr);
  void send_challenge(const ClientFlow& flow, const stun::Message& req, int code, const base::Now& now);
  void send_allocate_success(const ClientFlow& flow, const stun::Message& req, const Allocation& a, const Auth& auth,
                             const base::Now& now);
  void finish_and_send(const ClientFlow& flow, stun::Builder& b, const Auth* auth, bool fingerprint);
  bool allow_unauthenticated(const ClientFlow& flow, const base::Now& now);

  void teardown(Allocation& a, Teardown why);
  Allocation* allocation_by_tag(uint64_t tag, uint8_t& relay_index);
  static uint64_t tag_of(const Allocation& a, uint8_t relay_index);

  Shared& shared_;
  Io& io_;
  base::Random& random_;
  NonceManager nonces_;
  RateLimiter limiter_;
  Stats stats_;
  std::vector<std::unique_ptr<Allocation>> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> generations_;
  std::unordered_map<FiveTuple, uint32_t, FiveTupleHash> by_tuple_;
  std::vector<uint8_t> scratch_;
  base::SteadyTime last_rate_log_{};
};

}  // namespace turn
