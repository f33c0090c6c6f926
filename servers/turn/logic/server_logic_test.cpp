// Drives ServerLogic as a TURN client and peers would, with a fake Io and a fake clock:
// RFC 8656 methods, RFC 8489 authentication, Solution 1 credentials and their lifetime.
#include "turn/logic/server_logic.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "base/encoding.hpp"
#include "base/log.hpp"
#include "crypto/hash.hpp"
#include "stun/channel_data.hpp"
#include "token/oauth_token.hpp"

using namespace turn;
using namespace std::chrono_literals;
namespace attr = stun::attr;
using stun::Class;
using stun::Method;

namespace {

constexpr int64_t kT0 = 1'900'000'000;  // unix time at the start of every test

struct Sent {
  ClientFlow flow;
  std::vector<uint8_t> bytes;
};
struct ToPeer {
  uint64_t relay;
  base::Endpoint peer;
  std::vector<uint8_t> payload;
};

class FakeIo : public Io {
 public:
  base::Result<RelayOpened, int> open_relay(const RelayRequest& r) override {
    requests.push_back(r);
    if (fail_next) {
      fail_next = false;
      return base::fail(stun::code::InsufficientCapacity);
    }
    uint16_t port = next_port;
    next_port += 2;
    RelayOpened o;
    o.handle = ++next_handle;
    base::Family fam = r.reservation_token ? reserved_family : r.family;
    o.bound = {fam == base::Family::V4 ? *base::IpAddress::parse("10.9.9.9") : *base::IpAddress::parse("fd00::9"), port};
    if (r.reserve_next) reserved_family = r.family;
    if (r.reserve_next) o.reservation_token = 0x1122334455667788ull;
    tags[o.handle] = r.tag;
    open.insert(o.handle);
    bound[o.handle] = o.bound;
    // What the shell does: the bound port counts as one of our relayed transport addresses.
    if (ports) ports->bound(o.bound.addr.family(), o.bound.port);
    return o;
  }
  void close_relay(uint64_t h) override {
    if (ports && open.count(h)) ports->released(bound[h].addr.family(), bound[h].port);
    open.erase(h);
    closed.push_back(h);
  }
  void send_to_client(const ClientFlow& f, base::Bytes m) override { to_client.push_back({f, {m.begin(), m.end()}}); }
  void send_to_peer(uint64_t relay, const base::Endpoint& peer, base::Bytes p) override {
    to_peer.push_back({relay, peer, {p.begin(), p.end()}});
  }
  void close_client(const ClientFlow& f) override { closed_clients.push_back(f); }

  std::deque<Sent> to_client;
  std::vector<ToPeer> to_peer;
  std::vector<RelayRequest> requests;
  std::map<uint64_t, uint64_t> tags;
  std::map<uint64_t, base::Endpoint> bound;
  RelayPortMap* ports = nullptr;
  std::set<uint64_t> open;
  std::vector<uint64_t> closed;
  std::vector<ClientFlow> closed_clients;
  uint16_t next_port = 50000;
  uint64_t next_handle = 100;
  bool fail_next = false;
  base::Family reserved_family = base::Family::V4;
};

// A minimal TURN client: enough to speak every request the server handles.
struct Client {
  ClientFlow flow;
  std::string username, password, realm, nonce;
  uint16_t algorithm = stun::password_algorithm::Md5;
  bool send_algorithms = false;
  bool sha256_integrity = false;
  bool fingerprint = true;
  base::SeededRandom rnd{7};
  std::vector<uint8_t> buf = std::vector<uint8_t>(4096);
  stun::TransactionId last_tid{};
  std::vector<uint8_t> access_token;  // RFC 7635: sent as ACCESS-TOKEN when set
  std::vector<uint8_t> mac_key;       // and then MESSAGE-INTEGRITY is keyed with it

  Credential::Key key() const {
    if (mac_key.empty()) return long_term_key(algorithm, username, realm, password);
    Credential::Key k{};
    std::memcpy(k.bytes.data(), mac_key.data(), mac_key.size());
    k.len = uint8_t(mac_key.size());
    return k;
  }

  template <class F>
  base::Bytes build(Method m, Class c, bool auth, F&& attrs, const stun::TransactionId* tid = nullptr) {
    if (tid) last_tid = *tid;
    else rnd.fill(last_tid);
    stun::Builder b(buf, m, c, last_tid);
    attrs(b);
    if (auth) {
      b.add(attr::Username, username);
      b.add(attr::Realm, realm);
      b.add(attr::Nonce, nonce);
      if (send_algorithms) {
        uint16_t algs[] = {stun::password_algorithm::Md5, stun::password_algorithm::Sha256};
        b.add_password_algorithms(algs);
        b.add_password_algorithm(algorithm);
      }
      if (!access_token.empty()) b.add(attr::AccessToken, base::Bytes(access_token.data(), access_token.size()));
      auto k = key();
      if (sha256_integrity) b.add_message_integrity_sha256(base::Bytes(k.bytes.data(), k.len));
      else b.add_message_integrity(base::Bytes(k.bytes.data(), k.len));
    }
    if (fingerprint) b.add_fingerprint();
    return *b.finish();
  }
};

ClientFlow udp_flow(const char* client, const char* server = "10.0.0.1:3478") {
  return {{Transport::Udp, *base::Endpoint::parse(client), *base::Endpoint::parse(server)}, 1};
}

class TurnLogicTest : public ::testing::Test {
 protected:
  TurnLogicTest() {
    base::log::set_level(base::log::Level::Warn);  // one line per allocation is noise here
    cfg.realm = "example.org"; cfg.relay_address = "203.0.113.10"; cfg.secrets = {{"k1", "north-secret", "sha1"}};
  }

  void start() {
    std::array<uint8_t, 32> key{};
    key[5] = 42;
    shared = std::make_unique<Shared>(cfg, key, own);
    io.ports = &shared->relay_ports;
    logic = std::make_unique<ServerLogic>(*shared, io, rnd);
  }
  base::Now now() const { return {base::SteadyTime{} + elapsed + 1000s, kT0 + elapsed.count()}; }
  void advance(std::chrono::seconds s) { elapsed += s; }

  // Solution 1 credential as the eP-CSCF mints it (protocols.md).
  Client solution1_client(const char* addr, int64_t lifetime = 3600, const char* tid = "AAECAwQFBgcICQoLDA0ODw") {
    Client c;
    c.flow = udp_flow(addr);
    c.username = std::string(tid) + ":" + std::to_string(kT0 + lifetime);
    c.password = ephemeral_password(cfg.secrets[0], c.username);
    return c;
  }

  void deliver(const Client& c, base::Bytes msg) { logic->on_client_packet(c.flow, msg, now()); }

  // Sends a request and returns the server's answer, parsed (owned by `last_`).
  stun::Message roundtrip(Client& c, base::Bytes msg) {
    size_t before = io.to_client.size();
    deliver(c, msg);
    EXPECT_EQ(io.to_client.size(), before + 1) << "no answer";
    last_ = io.to_client.back().bytes;
    auto m = stun::parse(last_);
    EXPECT_TRUE(m.ok());
    return *m;
  }

  static int error_of(const stun::Message& m) {
    auto e = m.error_code();
    return m.cls() == Class::ErrorResponse && e ? e->code : 0;
  }

  // Full Allocate: 401 round trip, then the authenticated request.
  stun::Message allocate(Client& c, std::function<void(stun::Builder&)> extra = {}) {
    auto r1 = roundtrip(c, c.build(Method::Allocate, Class::Request, false, [](stun::Builder& b) { b.add_requested_transport(17); }));
    EXPECT_EQ(error_of(r1), 401);
    c.realm = std::string(*r1.string(attr::Realm));
    c.nonce = std::string(*r1.string(attr::Nonce));
    return roundtrip(c, c.build(Method::Allocate, Class::Request, true, [&](stun::Builder& b) {
      b.add_requested_transport(17);
      if (extra) extra(b);
    }));
  }

  stun::Message request(Client& c, Method m, std::function<void(stun::Builder&)> attrs) {
    return roundtrip(c, c.build(m, Class::Request, true, attrs));
  }

  bool integrity_ok(const stun::Message& m, const Client& c) {
    auto k = c.key();
    return m.message_integrity_sha256() ? stun::verify_message_integrity_sha256(m, base::Bytes(k.bytes.data(), k.len))
                                        : stun::verify_message_integrity(m, base::Bytes(k.bytes.data(), k.len));
  }

  // Instead of start() for the tests about reaching another allocation's relayed address: a server
  // relaying on 10.0.0.1, its listener's own address too (udp_flow), and two clients A and B each
  // with an allocation there; B's relayed transport address in `b_relay`.
  void start_with_two_allocations_on_own_address(Client& a, Client& b, base::Endpoint& b_relay) {
    cfg.relay_address = "10.0.0.1";
    own = {*base::IpAddress::parse("10.0.0.1")};
    start();
    a = solution1_client("198.51.100.1:40001");
    b = solution1_client("198.51.100.2:40001");
    ASSERT_EQ(allocate(a).cls(), Class::SuccessResponse);
    auto rb = allocate(b);
    ASSERT_EQ(rb.cls(), Class::SuccessResponse);
    b_relay = *rb.xor_address(attr::XorRelayedAddress);
  }

  TurnConfig cfg;
  std::vector<base::IpAddress> own{*base::IpAddress::parse("203.0.113.10")};  // relay and listener addresses
  FakeIo io;
  base::SeededRandom rnd{1};
  std::unique_ptr<Shared> shared;
  std::unique_ptr<ServerLogic> logic;
  std::chrono::seconds elapsed{0};
  std::vector<uint8_t> last_;
};

const base::Endpoint kPeer = *base::Endpoint::parse("8.8.8.8:40000");

}  // namespace

TEST_F(TurnLogicTest, ChallengeCarriesRealmNonceAndAlgorithmsButNoIntegrity) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  auto r = roundtrip(c, c.build(Method::Allocate, Class::Request, false, [](stun::Builder& b) { b.add_requested_transport(17); }));
  EXPECT_EQ(error_of(r), 401);
  EXPECT_EQ(r.string(attr::Realm), "example.org");
  ASSERT_TRUE(r.string(attr::Nonce));
  EXPECT_TRUE(r.string(attr::Nonce)->starts_with("obMatJos2"));
  EXPECT_TRUE(r.has(attr::PasswordAlgorithms));
  EXPECT_FALSE(r.message_integrity());
  EXPECT_TRUE(r.has_fingerprint());  // the request had one
  EXPECT_EQ(r.transaction_id(), c.last_tid);
  EXPECT_EQ(logic->stats().challenges.load(), 1u);
}

TEST_F(TurnLogicTest, Solution1AllocateSucceedsWithRelayedMappedAndLifetime) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  auto r = allocate(c);
  ASSERT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
  EXPECT_EQ(r.xor_address(attr::XorRelayedAddress)->to_string(), "203.0.113.10:50000");  // advertised address, bound port
  EXPECT_EQ(r.xor_address(attr::XorMappedAddress)->to_string(), "198.51.100.1:40001");
  EXPECT_EQ(r.u32(attr::Lifetime), 600u);
  EXPECT_TRUE(integrity_ok(r, c));
  EXPECT_EQ(logic->allocation_count(), 1u);
  EXPECT_EQ(io.requests.at(0).family, base::Family::V4);
}

TEST_F(TurnLogicTest, CoturnOrderTexpTidAccepted) {
  start();
  Client c;
  c.flow = udp_flow("198.51.100.1:40001");
  c.username = std::to_string(kT0 + 100) + ":bench";
  c.password = ephemeral_password(cfg.secrets[0], c.username);
  EXPECT_EQ(allocate(c).cls(), Class::SuccessResponse);
}

TEST_F(TurnLogicTest, ExpiredForgedAndUnknownCredentialsGet401) {
  start();
  Client expired = solution1_client("198.51.100.1:40001", -1);
  EXPECT_EQ(error_of(allocate(expired)), 401);
  Client forged = solution1_client("198.51.100.1:40002");
  forged.password = "bm90IHRoZSBwYXNzd29yZA==";
  EXPECT_EQ(error_of(allocate(forged)), 401);
  Client later = solution1_client("198.51.100.1:40003", 100);
  later.username = "AAECAwQFBgcICQoLDA0ODw:" + std::to_string(kT0 + 99999);  // Texp changed, password kept
  EXPECT_EQ(error_of(allocate(later)), 401);
  Client unknown = solution1_client("198.51.100.1:40004");
  unknown.username = "nobody";
  EXPECT_EQ(error_of(allocate(unknown)), 401);
  auto& s = logic->stats();
  EXPECT_EQ(s.auth_failures[size_t(AuthFailure::ExpiredCredential)].load(), 1u);
  EXPECT_EQ(s.auth_failures[size_t(AuthFailure::BadIntegrity)].load(), 2u);
  EXPECT_EQ(s.auth_failures[size_t(AuthFailure::UnknownUser)].load(), 1u);
  EXPECT_EQ(logic->allocation_count(), 0u);
}

TEST_F(TurnLogicTest, KeyRotationAcceptsEveryConfiguredKey) {
  cfg.secrets = {{"old", "old-secret", "sha1"}, {"new", "new-secret", "sha1"}};
  start();
  Client a = solution1_client("198.51.100.1:40001");
  a.password = ephemeral_password(cfg.secrets[0], a.username);
  Client b = solution1_client("198.51.100.1:40002", 3600, "BBECAwQFBgcICQoLDA0ODw");
  b.password = ephemeral_password(cfg.secrets[1], b.username);
  EXPECT_EQ(allocate(a).cls(), Class::SuccessResponse);
  EXPECT_EQ(allocate(b).cls(), Class::SuccessResponse);
  // After the old key is retired, its credentials stop working.
  shared->credentials.set_secrets({cfg.secrets[1]});
  Client c = solution1_client("198.51.100.1:40003");
  c.password = ephemeral_password(cfg.secrets[0], c.username);
  EXPECT_EQ(error_of(allocate(c)), 401);
}

TEST_F(TurnLogicTest, Sha256PasswordAlgorithmAndIntegrity) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  c.algorithm = stun::password_algorithm::Sha256;
  c.send_algorithms = true;
  c.sha256_integrity = true;
  auto r = allocate(c);
  ASSERT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
  EXPECT_TRUE(r.message_integrity_sha256());
  EXPECT_FALSE(r.message_integrity());
  EXPECT_TRUE(integrity_ok(r, c));
}

TEST_F(TurnLogicTest, PasswordAlgorithmBidDownIsRefused) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  allocate(c);  // learn the nonce (this succeeds with MD5)
  Client d = solution1_client("198.51.100.1:40002");
  d.realm = c.realm;
  d.nonce = c.nonce;
  // PASSWORD-ALGORITHM alone (PASSWORD-ALGORITHMS stripped by an attacker) → 400.
  auto r = roundtrip(d, d.build(Method::Allocate, Class::Request, true, [](stun::Builder& b) {
    b.add_requested_transport(17);
    b.add_password_algorithm(stun::password_algorithm::Md5);
  }));
  EXPECT_EQ(error_of(r), 400);
  // PASSWORD-ALGORITHMS not as offered → 400.
  r = roundtrip(d, d.build(Method::Allocate, Class::Request, true, [](stun::Builder& b) {
    b.add_requested_transport(17);
    uint16_t only_md5[] = {stun::password_algorithm::Md5};
    b.add_password_algorithms(only_md5);
    b.add_password_algorithm(stun::password_algorithm::Md5);
  }));
  EXPECT_EQ(error_of(r), 400);
}

TEST_F(TurnLogicTest, StaleAndForeignNoncesGet438WithAFreshNonce) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  advance(11min);  // nonce_lifetime is 10m
  auto r = request(c, Method::Refresh, [](stun::Builder&) {});
  EXPECT_EQ(error_of(r), 438);
  ASSERT_TRUE(r.string(attr::Nonce));
  EXPECT_NE(*r.string(attr::Nonce), c.nonce);
  c.nonce = std::string(*r.string(attr::Nonce));
  EXPECT_EQ(request(c, Method::Refresh, [](stun::Builder&) {}).cls(), Class::SuccessResponse);
  // A nonce issued to another address is not accepted.
  Client other = solution1_client("198.51.100.2:40001");
  other.realm = c.realm;
  other.nonce = c.nonce;
  EXPECT_EQ(error_of(roundtrip(other, other.build(Method::Allocate, Class::Request, true,
                                                   [](stun::Builder& b) { b.add_requested_transport(17); }))),
            438);
}

TEST_F(TurnLogicTest, StaticUserAndUserhash) {
  start();
  StaticUser u{"alice", {}, {}};
  auto k5 = long_term_key(stun::password_algorithm::Md5, "alice", "example.org", "wonderland");
  auto k256 = long_term_key(stun::password_algorithm::Sha256, "alice", "example.org", "wonderland");
  std::memcpy(u.key_md5.data(), k5.bytes.data(), 16);
  std::memcpy(u.key_sha256.data(), k256.bytes.data(), 32);
  shared->credentials.set_static_users({u});
  Client c;
  c.flow = udp_flow("198.51.100.1:40001");
  c.username = "alice";
  c.password = "wonderland";
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  // USERHASH instead of USERNAME (RFC 8489 §14.4).
  Client h = c;
  h.flow = udp_flow("198.51.100.1:40002");
  auto r1 = roundtrip(h, h.build(Method::Allocate, Class::Request, false, [](stun::Builder& b) { b.add_requested_transport(17); }));
  h.nonce = std::string(*r1.string(attr::Nonce));
  h.last_tid = {};
  stun::Builder b(h.buf, Method::Allocate, Class::Request, h.last_tid);
  b.add_requested_transport(17);
  auto hash = crypto::sha256(crypto::view("alice:example.org"));
  b.add(attr::Userhash, crypto::view(hash));
  b.add(attr::Realm, h.realm);
  b.add(attr::Nonce, h.nonce);
  b.add_message_integrity(base::Bytes(k5.bytes.data(), 16));
  auto r = roundtrip(h, *b.finish());
  EXPECT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
}

TEST_F(TurnLogicTest, FiveTupleRulesRetransmissionMismatchAndWrongCredentials) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  stun::TransactionId tid = c.last_tid;
  // Retransmission of the same Allocate: same success, no second relay.
  auto again = roundtrip(c, c.build(Method::Allocate, Class::Request, true, [](stun::Builder& b) { b.add_requested_transport(17); }, &tid));
  EXPECT_EQ(again.cls(), Class::SuccessResponse);
  EXPECT_EQ(again.xor_address(attr::XorRelayedAddress)->port, 50000);
  EXPECT_EQ(io.requests.size(), 1u);
  // A new Allocate on the same 5-tuple: 437.
  EXPECT_EQ(error_of(roundtrip(c, c.build(Method::Allocate, Class::Request, true,
                                           [](stun::Builder& b) { b.add_requested_transport(17); }))),
            437);
  // Another valid credential on the same 5-tuple: 441.
  Client other = solution1_client("198.51.100.1:40001", 3600, "ZZECAwQFBgcICQoLDA0ODw");
  other.realm = c.realm;
  other.nonce = c.nonce;
  EXPECT_EQ(error_of(request(other, Method::Refresh, [](stun::Builder&) {})), 441);
  // Refresh without an allocation: 437.
  Client none = solution1_client("198.51.100.1:40002");
  none.realm = c.realm;
  none.nonce = logic->stats().challenges.load() ? c.nonce : c.nonce;
  Client n2 = solution1_client("198.51.100.1:40002");
  auto r1 = roundtrip(n2, n2.build(Method::Refresh, Class::Request, false, [](stun::Builder&) {}));
  n2.realm = "example.org";
  n2.nonce = std::string(*r1.string(attr::Nonce));
  EXPECT_EQ(error_of(request(n2, Method::Refresh, [](stun::Builder&) {})), 437);
}

TEST_F(TurnLogicTest, AllocateValidation) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  allocate(c, [](stun::Builder&) {});  // learns the nonce; succeeds
  Client d = solution1_client("198.51.100.1:40002");
  d.realm = c.realm;
  d.nonce = c.nonce;
  EXPECT_EQ(error_of(request(d, Method::Allocate, [](stun::Builder&) {})), 400);  // no REQUESTED-TRANSPORT
  EXPECT_EQ(error_of(request(d, Method::Allocate, [](stun::Builder& b) { b.add_requested_transport(6); })), 442);
  EXPECT_EQ(error_of(request(d, Method::Allocate, [](stun::Builder& b) {
              b.add_requested_transport(17);
              b.add_address_family(attr::RequestedAddressFamily, stun::kFamilyV6);  // no IPv6 relay configured
            })),
            440);
  EXPECT_EQ(error_of(request(d, Method::Allocate, [](stun::Builder& b) {
              b.add_requested_transport(17);
              b.add_even_port(false);
              uint8_t t[8] = {};
              b.add(attr::ReservationToken, base::Bytes(t, 8));
            })),
            400);
  // Malformed attribute values: 400.
  uint8_t two[2] = {0x80, 0};
  EXPECT_EQ(error_of(request(d, Method::Allocate, [&](stun::Builder& b) {
              b.add_requested_transport(17);
              b.add(attr::EvenPort, base::Bytes(two, 2));
            })),
            400);
  EXPECT_EQ(error_of(request(d, Method::Allocate, [&](stun::Builder& b) { b.add(attr::RequestedTransport, base::Bytes(two, 2)); })),
            400);
  // Unknown comprehension-required attribute: 420 listing it, before authentication.
  auto r = roundtrip(d, d.build(Method::Allocate, Class::Request, false, [](stun::Builder& b) {
    b.add_requested_transport(17);
    b.add_u32(0x7F01, 1);
  }));
  EXPECT_EQ(error_of(r), 420);
  auto* ua = r.find(attr::UnknownAttributes);
  ASSERT_TRUE(ua);
  ASSERT_EQ(ua->value.size(), 2u);
  EXPECT_EQ(base::load_be16(ua->value.data()), 0x7F01);
  // No relay port: 508.
  io.fail_next = true;
  EXPECT_EQ(error_of(request(d, Method::Allocate, [](stun::Builder& b) { b.add_requested_transport(17); })), 508);
  EXPECT_EQ(logic->allocation_count(), 1u);
}

TEST_F(TurnLogicTest, QuotasPerUserAndTotal) {
  cfg.user_quota = 2;
  cfg.total_quota = 3;
  start();
  Client a1 = solution1_client("198.51.100.1:40001"), a2 = solution1_client("198.51.100.1:40002"),
         a3 = solution1_client("198.51.100.1:40003");
  EXPECT_EQ(allocate(a1).cls(), Class::SuccessResponse);
  EXPECT_EQ(allocate(a2).cls(), Class::SuccessResponse);
  EXPECT_EQ(error_of(allocate(a3)), 486);
  Client b1 = solution1_client("198.51.100.2:40001", 3600, "BBECAwQFBgcICQoLDA0ODw");
  Client b2 = solution1_client("198.51.100.2:40002", 3600, "BBECAwQFBgcICQoLDA0ODw");
  EXPECT_EQ(allocate(b1).cls(), Class::SuccessResponse);
  EXPECT_EQ(error_of(allocate(b2)), 486);  // total quota
  // Releasing one (Refresh LIFETIME=0) frees quota.
  auto r = request(a1, Method::Refresh, [](stun::Builder& b) { b.add_u32(attr::Lifetime, 0); });
  EXPECT_EQ(r.cls(), Class::SuccessResponse);
  EXPECT_EQ(r.u32(attr::Lifetime), 0u);
  EXPECT_EQ(io.closed.size(), 1u);
  EXPECT_EQ(allocate(a3).cls(), Class::SuccessResponse);
}

TEST_F(TurnLogicTest, PeerPolicyOnPermissionsAndChannels) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  auto perm = [&](const char* peer) {
    return request(c, Method::CreatePermission,
                   [&](stun::Builder& b) { b.add_xor_address(attr::XorPeerAddress, *base::Endpoint::parse(peer)); });
  };
  EXPECT_EQ(error_of(perm("127.0.0.1:5000")), 403);
  EXPECT_EQ(error_of(perm("10.0.0.5:5000")), 403);
  EXPECT_EQ(error_of(perm("203.0.113.10:50002")), 403);  // the server's own relay address
  EXPECT_EQ(error_of(perm("[2001:4860::1]:5000")), 443);  // IPv6 peer, IPv4 relay
  auto ok = perm("8.8.8.8:5000");
  EXPECT_EQ(ok.cls(), Class::SuccessResponse);
  EXPECT_TRUE(integrity_ok(ok, c));
  EXPECT_EQ(error_of(request(c, Method::ChannelBind, [](stun::Builder& b) {
              b.add_channel_number(0x4000);
              b.add_xor_address(attr::XorPeerAddress, *base::Endpoint::parse("127.0.0.1:5000"));
            })),
            403);
  EXPECT_EQ(error_of(request(c, Method::CreatePermission, [](stun::Builder&) {})), 400);
}

// Two clients of one server, relayed on the server's own (private) address and with no
// allowed_peer_ranges, reach each other's relayed transport address; nothing else on that address.
TEST_F(TurnLogicTest, AnotherAllocationsRelayedAddressIsAPeerWithoutConfiguration) {
  Client a, b;
  base::Endpoint b_relay;
  ASSERT_NO_FATAL_FAILURE(start_with_two_allocations_on_own_address(a, b, b_relay));
  ASSERT_EQ(b_relay, *base::Endpoint::parse("10.0.0.1:50002"));
  uint64_t a_handle = *io.open.begin(), b_handle = *io.open.rbegin();
  auto perm = [&](Client& c, const base::Endpoint& peer) {
    return request(c, Method::CreatePermission, [&](stun::Builder& x) { x.add_xor_address(attr::XorPeerAddress, peer); });
  };
  auto bind = [&](Client& c, uint16_t ch, const base::Endpoint& peer) {
    return request(c, Method::ChannelBind, [&](stun::Builder& x) {
      x.add_channel_number(ch);
      x.add_xor_address(attr::XorPeerAddress, peer);
    });
  };
  auto send = [&](Client& c, const base::Endpoint& peer, std::string_view data) {
    deliver(c, c.build(Method::Send, Class::Indication, false, [&](stun::Builder& x) {
      x.add_xor_address(attr::XorPeerAddress, peer);
      x.add(attr::Data, data);
    }));
  };
  auto& s = logic->stats();

  // The listener port, a relay port nobody holds, and the same live port on another special
  // address are refused.
  EXPECT_EQ(error_of(perm(a, *base::Endpoint::parse("10.0.0.1:3478"))), 403);
  EXPECT_EQ(error_of(perm(a, *base::Endpoint::parse("10.0.0.1:50004"))), 403);
  EXPECT_EQ(error_of(perm(a, *base::Endpoint::parse("127.0.0.1:50002"))), 403);
  EXPECT_EQ(error_of(bind(a, 0x4000, *base::Endpoint::parse("10.0.0.1:3478"))), 403);
  EXPECT_EQ(s.peers_refused[size_t(PeerPolicy::Verdict::DeniedOwnAddress)].load(), 3u);
  EXPECT_EQ(s.peers_refused[size_t(PeerPolicy::Verdict::DeniedSpecial)].load(), 1u);
  EXPECT_EQ(s.drops[size_t(Drop::PeerDenied)].load(), 4u);

  // B's relayed address is allowed: CreatePermission, then Send reaches it from A's relay socket.
  auto ok = perm(a, b_relay);
  ASSERT_EQ(ok.cls(), Class::SuccessResponse) << error_of(ok);
  EXPECT_TRUE(integrity_ok(ok, a));
  send(a, b_relay, "to b");
  ASSERT_EQ(io.to_peer.size(), 1u);
  EXPECT_EQ(io.to_peer[0].relay, a_handle);
  EXPECT_EQ(io.to_peer[0].peer, b_relay);
  // The permission is for the whole IP (RFC 8656 §9), yet Send reaches only live relay sockets on it.
  send(a, *base::Endpoint::parse("10.0.0.1:3478"), "to the listener");
  send(a, *base::Endpoint::parse("10.0.0.1:3479"), "to the control port");
  send(a, *base::Endpoint::parse("[::ffff:10.0.0.1]:3478"), "mapped form");
  EXPECT_EQ(io.to_peer.size(), 1u);
  EXPECT_EQ(s.drops[size_t(Drop::PeerDenied)].load(), 7u);
  EXPECT_EQ(s.peers_refused[size_t(PeerPolicy::Verdict::DeniedOwnAddress)].load(), 6u);

  // B, with a permission for A's relayed address, gets what A's relay socket sent as a Data
  // indication (what the shell delivers when the datagram arrives on B's socket).
  base::Endpoint a_relay = *base::Endpoint::parse("10.0.0.1:50000");
  ASSERT_EQ(perm(b, a_relay).cls(), Class::SuccessResponse);
  uint8_t buf[32] = {};
  std::memcpy(buf + ServerLogic::kPeerHeadroom, "to b", 4);
  size_t before = io.to_client.size();
  logic->on_peer_packet(io.tags[b_handle], a_relay, buf, ServerLogic::kPeerHeadroom, 4, now());
  ASSERT_EQ(io.to_client.size(), before + 1);
  EXPECT_EQ(io.to_client.back().flow.tuple, b.flow.tuple);
  auto di = stun::parse(io.to_client.back().bytes);
  ASSERT_TRUE(di.ok());
  EXPECT_EQ(di->method(), Method::Data);
  EXPECT_EQ(*di->xor_address(attr::XorPeerAddress), a_relay);
  EXPECT_EQ(base::as_string_view(di->find(attr::Data)->value), "to b");
  // ChannelBind to a live relayed address works too.
  EXPECT_EQ(bind(b, 0x4001, a_relay).cls(), Class::SuccessResponse);

  // B's allocation ends: its port is no longer ours to reach.
  ASSERT_EQ(request(b, Method::Refresh, [](stun::Builder& x) { x.add_u32(attr::Lifetime, 0); }).cls(), Class::SuccessResponse);
  EXPECT_FALSE(shared->relay_ports.live(b_relay));
  EXPECT_EQ(error_of(perm(a, b_relay)), 403);
  EXPECT_EQ(error_of(bind(a, 0x4002, b_relay)), 403);
  send(a, b_relay, "gone");
  EXPECT_EQ(io.to_peer.size(), 1u);
}

TEST_F(TurnLogicTest, ExplicitDenialBeatsALiveRelayedAddress) {
  cfg.denied_peer_ranges = {"10.0.0.1/32"};
  Client a, b;
  base::Endpoint b_relay;
  ASSERT_NO_FATAL_FAILURE(start_with_two_allocations_on_own_address(a, b, b_relay));
  ASSERT_TRUE(shared->relay_ports.live(b_relay));
  EXPECT_EQ(error_of(request(a, Method::CreatePermission,
                             [&](stun::Builder& x) { x.add_xor_address(attr::XorPeerAddress, b_relay); })),
            403);
  EXPECT_EQ(logic->stats().peers_refused[size_t(PeerPolicy::Verdict::DeniedByConfig)].load(), 1u);
}

TEST_F(TurnLogicTest, LoopbackPeersAllowedWhenConfigured) {
  cfg.allowed_peer_ranges = {"127.0.0.0/8"};
  start();
  Client c = solution1_client("198.51.100.1:40001");
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  EXPECT_EQ(request(c, Method::CreatePermission, [](stun::Builder& b) {
              b.add_xor_address(attr::XorPeerAddress, *base::Endpoint::parse("127.0.0.1:5000"));
            }).cls(),
            Class::SuccessResponse);
}

TEST_F(TurnLogicTest, ChannelBindRules) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  auto bind = [&](uint16_t ch, const char* peer) {
    return request(c, Method::ChannelBind, [&](stun::Builder& b) {
      b.add_channel_number(ch);
      b.add_xor_address(attr::XorPeerAddress, *base::Endpoint::parse(peer));
    });
  };
  EXPECT_EQ(bind(0x4001, "8.8.8.8:40000").cls(), Class::SuccessResponse);
  EXPECT_EQ(bind(0x4001, "8.8.8.8:40000").cls(), Class::SuccessResponse);  // refresh
  EXPECT_EQ(error_of(bind(0x4001, "8.8.4.4:40000")), 400);               // number taken by another peer
  EXPECT_EQ(error_of(bind(0x4002, "8.8.8.8:40000")), 400);               // peer has another number
  EXPECT_EQ(error_of(bind(0x3FFF, "8.8.4.4:40000")), 400);
  EXPECT_EQ(error_of(bind(0x8000, "8.8.4.4:40000")), 400);
  EXPECT_EQ(bind(0x5000, "8.8.4.4:40000").cls(), Class::SuccessResponse);  // RFC 5766 range, accepted
  EXPECT_EQ(bind(0x7FFF, "8.8.4.4:40001").cls(), Class::SuccessResponse);  // its last number too
  EXPECT_EQ(error_of(request(c, Method::ChannelBind, [](stun::Builder& b) { b.add_channel_number(0x4003); })), 400);
}

TEST_F(TurnLogicTest, RelaysChannelDataSendAndDataIndications) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  uint64_t handle = *io.open.begin();
  uint64_t tag = io.tags[handle];
  uint8_t payload[5] = {'h', 'e', 'l', 'l', 'o'};
  uint8_t peerbuf[64];
  auto from_peer = [&](const base::Endpoint& p) {
    std::memcpy(peerbuf + ServerLogic::kPeerHeadroom, payload, 5);
    logic->on_peer_packet(tag, p, peerbuf, ServerLogic::kPeerHeadroom, 5, now());
  };

  // Without permission nothing crosses either way.
  from_peer(kPeer);
  size_t sent = io.to_client.size();
  EXPECT_EQ(logic->stats().drops[size_t(Drop::NoPermission)].load(), 1u);

  // Send indication → peer (needs a permission).
  ASSERT_EQ(request(c, Method::CreatePermission, [](stun::Builder& b) { b.add_xor_address(attr::XorPeerAddress, kPeer); }).cls(),
            Class::SuccessResponse);
  sent = io.to_client.size();
  deliver(c, c.build(Method::Send, Class::Indication, false, [&](stun::Builder& b) {
    b.add_xor_address(attr::XorPeerAddress, kPeer);
    b.add(attr::Data, base::Bytes(payload, 5));
  }));
  ASSERT_EQ(io.to_peer.size(), 1u);
  EXPECT_EQ(io.to_peer[0].relay, handle);
  EXPECT_EQ(io.to_peer[0].peer, kPeer);
  EXPECT_EQ(io.to_peer[0].payload, std::vector<uint8_t>(payload, payload + 5));

  // Peer → client without a channel: Data indication with XOR-PEER-ADDRESS and DATA.
  from_peer(kPeer);
  ASSERT_EQ(io.to_client.size(), sent + 1);
  auto di = stun::parse(io.to_client.back().bytes);
  ASSERT_TRUE(di.ok());
  EXPECT_EQ(di->method(), Method::Data);
  EXPECT_EQ(di->cls(), Class::Indication);
  EXPECT_EQ(*di->xor_address(attr::XorPeerAddress), kPeer);
  EXPECT_EQ(base::as_string_view(di->find(attr::Data)->value), "hello");

  // With a channel: ChannelData both ways.
  ASSERT_EQ(request(c, Method::ChannelBind, [](stun::Builder& b) {
              b.add_channel_number(0x4ABC);
              b.add_xor_address(attr::XorPeerAddress, kPeer);
            }).cls(),
            Class::SuccessResponse);
  from_peer(kPeer);
  auto cd = stun::parse_channel_data(io.to_client.back().bytes);
  ASSERT_TRUE(cd.ok());
  EXPECT_EQ(cd->channel, 0x4ABC);
  EXPECT_EQ(base::as_string_view(cd->data), "hello");
  EXPECT_EQ(io.to_client.back().bytes.size(), 9u);  // UDP: not padded

  uint8_t frame[16];
  std::memcpy(frame + 4, "world", 5);
  auto msg = stun::frame_channel_data(frame, 0x4ABC, 5, false);
  deliver(c, msg);
  ASSERT_EQ(io.to_peer.size(), 2u);
  EXPECT_EQ(base::as_string_view(io.to_peer[1].payload), "world");
  // Unbound channel: dropped.
  msg = stun::frame_channel_data(frame, 0x4ABD, 5, false);
  deliver(c, msg);
  EXPECT_EQ(io.to_peer.size(), 2u);
  EXPECT_EQ(logic->stats().drops[size_t(Drop::NoChannel)].load(), 1u);
  // A peer at another port of the same IP has the permission (per IP) but not the channel.
  from_peer(*base::Endpoint::parse("8.8.8.8:40001"));
  EXPECT_TRUE(stun::parse(io.to_client.back().bytes).ok());
  EXPECT_EQ(logic->stats().to_peer_packets.load(), 2u);
}

TEST_F(TurnLogicTest, PermissionsChannelsAndAllocationsExpire) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  ASSERT_EQ(allocate(c, [](stun::Builder& b) { b.add_u32(attr::Lifetime, 1200); }).cls(), Class::SuccessResponse);
  uint64_t tag = io.tags[*io.open.begin()];
  ASSERT_EQ(request(c, Method::CreatePermission, [](stun::Builder& b) { b.add_xor_address(attr::XorPeerAddress, kPeer); }).cls(),
            Class::SuccessResponse);
  uint8_t buf[16] = {};
  size_t before = io.to_client.size();
  logic->on_peer_packet(tag, kPeer, buf, 4, 1, now());
  EXPECT_EQ(io.to_client.size(), before + 1);
  advance(301s);  // permissions last 300 s
  logic->on_timer(now());
  logic->on_peer_packet(tag, kPeer, buf, 4, 1, now());
  EXPECT_EQ(io.to_client.size(), before + 1);
  EXPECT_EQ(logic->allocation_count(), 1u);
  advance(900s);  // the allocation lasts 1200 s
  logic->on_timer(now());
  EXPECT_EQ(logic->allocation_count(), 0u);
  EXPECT_TRUE(io.open.empty());
  EXPECT_EQ(logic->stats().allocations_deleted[size_t(Teardown::Expired)].load(), 1u);
  // The tag of a torn-down allocation leads nowhere.
  logic->on_peer_packet(tag, kPeer, buf, 4, 1, now());
  EXPECT_EQ(logic->stats().drops[size_t(Drop::NoAllocation)].load(), 1u);
}

TEST_F(TurnLogicTest, LifetimeIsClampedToMaxAndDefaultFloor) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  EXPECT_EQ(allocate(c, [](stun::Builder& b) { b.add_u32(attr::Lifetime, 100000); }).u32(attr::Lifetime), 3600u);
  Client d = solution1_client("198.51.100.1:40002");
  EXPECT_EQ(allocate(d, [](stun::Builder& b) { b.add_u32(attr::Lifetime, 30); }).u32(attr::Lifetime), 600u);
  EXPECT_EQ(request(d, Method::Refresh, [](stun::Builder& b) { b.add_u32(attr::Lifetime, 99999); }).u32(attr::Lifetime), 3600u);
}

TEST_F(TurnLogicTest, Solution1CredentialLifetimeHoldsForTheWholeAllocation) {
  // coturn checks only at Allocate (coturn #888, #774); X.5.2 credentials must end with Texp.
  start();
  Client c = solution1_client("198.51.100.1:40001", 120);  // Texp = now + 120 s
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  ASSERT_EQ(request(c, Method::CreatePermission, [](stun::Builder& b) { b.add_xor_address(attr::XorPeerAddress, kPeer); }).cls(),
            Class::SuccessResponse);
  advance(121s);
  // Every authenticated request after Texp fails...
  EXPECT_EQ(error_of(request(c, Method::Refresh, [](stun::Builder&) {})), 401);
  EXPECT_EQ(error_of(request(c, Method::CreatePermission, [](stun::Builder& b) { b.add_xor_address(attr::XorPeerAddress, kPeer); })), 401);
  EXPECT_EQ(error_of(request(c, Method::ChannelBind, [](stun::Builder& b) {
              b.add_channel_number(0x4000);
              b.add_xor_address(attr::XorPeerAddress, kPeer);
            })),
            401);
  // ...and the next timer tick tears the allocation down.
  EXPECT_EQ(logic->allocation_count(), 1u);
  logic->on_timer(now());
  EXPECT_EQ(logic->allocation_count(), 0u);
  EXPECT_TRUE(io.open.empty());
  EXPECT_EQ(logic->stats().allocations_deleted[size_t(Teardown::CredentialExpired)].load(), 1u);
  EXPECT_TRUE(io.closed_clients.empty());  // UDP: nothing to close
}

TEST_F(TurnLogicTest, StreamClientsGetPaddedChannelDataAndAreClosedWhenTheirCredentialEnds) {
  start();
  Client c = solution1_client("198.51.100.1:40001", 120);
  c.flow.tuple.transport = Transport::Tls;
  c.flow.conn = 77;
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  ASSERT_EQ(request(c, Method::ChannelBind, [](stun::Builder& b) {
              b.add_channel_number(0x4000);
              b.add_xor_address(attr::XorPeerAddress, kPeer);
            }).cls(),
            Class::SuccessResponse);
  uint8_t buf[32] = {};
  logic->on_peer_packet(io.tags[*io.open.begin()], kPeer, buf, 4, 5, now());
  EXPECT_EQ(io.to_client.back().bytes.size(), 12u);  // 4 + 5 padded to 12 (RFC 8656 §12.5)
  EXPECT_EQ(io.to_client.back().flow.conn, 77u);
  advance(121s);
  logic->on_timer(now());
  ASSERT_EQ(io.closed_clients.size(), 1u);
  EXPECT_EQ(io.closed_clients[0].conn, 77u);
  // A closed connection ends its allocation.
  Client d = solution1_client("198.51.100.1:40002");
  d.flow.tuple.transport = Transport::Tcp;
  ASSERT_EQ(allocate(d).cls(), Class::SuccessResponse);
  logic->on_client_closed(d.flow.tuple, now());
  EXPECT_EQ(logic->allocation_count(), 0u);
}

TEST_F(TurnLogicTest, EvenPortReservationAndDontFragmentReachTheShell) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  auto r = allocate(c, [](stun::Builder& b) {
    b.add_even_port(true);
    b.add_empty(attr::DontFragment);
  });
  ASSERT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
  EXPECT_TRUE(io.requests[0].even_port);
  EXPECT_TRUE(io.requests[0].reserve_next);
  EXPECT_TRUE(io.requests[0].dont_fragment);
  auto* t = r.find(attr::ReservationToken);
  ASSERT_TRUE(t);
  EXPECT_EQ(base::load_be64(t->value.data()), 0x1122334455667788ull);
  Client d = solution1_client("198.51.100.1:40002");
  ASSERT_EQ(allocate(d, [](stun::Builder& b) {
              uint8_t tok[8];
              base::store_be64(tok, 0x1122334455667788ull);
              b.add(attr::ReservationToken, base::Bytes(tok, 8));
            }).cls(),
            Class::SuccessResponse);
  EXPECT_EQ(io.requests[1].reservation_token, 0x1122334455667788ull);
}

TEST_F(TurnLogicTest, DualAllocationWhenIpv6IsConfigured) {
  cfg.relay_address_v6 = "2001:db8::10";
  start();
  Client c = solution1_client("198.51.100.1:40001");
  auto r = allocate(c, [](stun::Builder& b) { b.add_address_family(attr::AdditionalAddressFamily, stun::kFamilyV6); });
  ASSERT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
  int relayed = 0;
  for (auto& a : r.attributes())
    if (a.type == attr::XorRelayedAddress) ++relayed;
  EXPECT_EQ(relayed, 2);
  EXPECT_EQ(io.open.size(), 2u);
  // IPv6 peers are now accepted; dropping the IPv6 half keeps the IPv4 one.
  EXPECT_EQ(request(c, Method::CreatePermission, [](stun::Builder& b) {
              b.add_xor_address(attr::XorPeerAddress, *base::Endpoint::parse("[2a00:1450::1]:5000"));
            }).cls(),
            Class::SuccessResponse);
  EXPECT_EQ(request(c, Method::Refresh, [](stun::Builder& b) {
              b.add_u32(attr::Lifetime, 0);
              b.add_address_family(attr::RequestedAddressFamily, stun::kFamilyV6);
            }).cls(),
            Class::SuccessResponse);
  EXPECT_EQ(io.open.size(), 1u);
  EXPECT_EQ(logic->allocation_count(), 1u);
  // An IPv6-only allocation.
  Client d = solution1_client("198.51.100.1:40002");
  auto r6 = allocate(d, [](stun::Builder& b) { b.add_address_family(attr::RequestedAddressFamily, stun::kFamilyV6); });
  ASSERT_EQ(r6.cls(), Class::SuccessResponse);
  EXPECT_EQ(r6.xor_address(attr::XorRelayedAddress)->addr.to_string(), "2001:db8::10");
}

TEST_F(TurnLogicTest, UnauthenticatedRequestsAreRateLimitedPerSource) {
  cfg.unauth_rate = 1;
  cfg.unauth_burst = 3;
  start();
  Client c = solution1_client("198.51.100.1:40001");
  auto req = [&] { deliver(c, c.build(Method::Allocate, Class::Request, false, [](stun::Builder& b) { b.add_requested_transport(17); })); };
  for (int i = 0; i < 5; ++i) req();
  EXPECT_EQ(io.to_client.size(), 3u);
  EXPECT_EQ(logic->stats().drops[size_t(Drop::RateLimited)].load(), 2u);
  advance(2s);
  req();
  EXPECT_EQ(io.to_client.size(), 4u);
  // Other sources are not affected.
  Client d = solution1_client("198.51.100.2:40001");
  deliver(d, d.build(Method::Binding, Class::Request, false, [](stun::Builder&) {}));
  EXPECT_EQ(io.to_client.size(), 5u);
}

TEST_F(TurnLogicTest, BindingAnswersWithoutAuthentication) {
  start();
  Client c = solution1_client("[2001:db8::5]:40001");
  auto r = roundtrip(c, c.build(Method::Binding, Class::Request, false, [](stun::Builder&) {}));
  EXPECT_EQ(r.cls(), Class::SuccessResponse);
  EXPECT_EQ(r.xor_address(attr::XorMappedAddress)->to_string(), "[2001:db8::5]:40001");
}

TEST_F(TurnLogicTest, GarbageIsDroppedSilently) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  std::vector<uint8_t> junk = {0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0};
  deliver(c, junk);
  uint8_t cd[] = {0x40, 0x00, 0x00, 0x10, 1};  // ChannelData claiming more than it has
  deliver(c, base::Bytes(cd, sizeof cd));
  uint8_t resp[64];
  stun::TransactionId tid{};
  stun::Builder b(resp, Method::Binding, Class::SuccessResponse, tid);  // responses are ignored
  deliver(c, *b.finish());
  EXPECT_TRUE(io.to_client.empty());
  EXPECT_EQ(logic->stats().drops[size_t(Drop::Malformed)].load(), 2u);
}

TEST_F(TurnLogicTest, ShutdownReleasesEverything) {
  start();
  Client a = solution1_client("198.51.100.1:40001"), b = solution1_client("198.51.100.1:40002");
  allocate(a);
  allocate(b);
  EXPECT_EQ(shared->quota.total(), 2);
  logic->shutdown();
  EXPECT_EQ(logic->allocation_count(), 0u);
  EXPECT_TRUE(io.open.empty());
  EXPECT_EQ(shared->quota.total(), 0);
}

TEST_F(TurnLogicTest, ReservedIpv6PortIsAdvertisedAsIpv6) {
  // uclient's RTP/RTCP pair: IPv6 Allocate with EVEN-PORT R, then Allocate with the token (no family).
  cfg.relay_address_v6 = "2001:db8::10";
  start();
  Client c = solution1_client("198.51.100.1:40001");
  auto r = allocate(c, [](stun::Builder& b) {
    b.add_address_family(attr::RequestedAddressFamily, stun::kFamilyV6);
    b.add_even_port(true);
  });
  ASSERT_EQ(r.cls(), Class::SuccessResponse);
  uint64_t token = base::load_be64(r.find(attr::ReservationToken)->value.data());
  Client d = solution1_client("198.51.100.1:40002");
  auto r2 = allocate(d, [&](stun::Builder& b) {
    uint8_t t[8];
    base::store_be64(t, token);
    b.add(attr::ReservationToken, base::Bytes(t, 8));
  });
  ASSERT_EQ(r2.cls(), Class::SuccessResponse) << error_of(r2);
  EXPECT_EQ(r2.xor_address(attr::XorRelayedAddress)->addr.to_string(), "2001:db8::10");
}

// ---------------------------------------------------------------------------------------------
// Solution 2: RFC 7635 third-party authorization

namespace {

token::OAuthKey oauth_key(std::string kid = "north", uint8_t fill = 0x41) {
  return {std::move(kid), std::vector<uint8_t>(32, fill), token::OAuthAlg::A256GCM};
}

void use_token(Client& c, const token::OAuthKey& key, std::string_view server_name, int64_t issued, uint32_t lifetime,
               size_t mac_size = 20) {
  base::SeededRandom r(uint64_t(issued) * 1000003u + c.flow.tuple.client.port);
  token::OAuthToken t;
  t.mac_key.resize(mac_size);
  r.fill(t.mac_key);
  t.timestamp = uint64_t(issued) << 16 | 0x1234;
  t.lifetime = lifetime;
  c.username = key.kid;
  c.mac_key = t.mac_key;
  c.access_token = *token::encode_oauth_token(key, server_name, t, r);
}

void set_oauth(TurnConfig& cfg, const std::vector<token::OAuthKey>& keys) {
  cfg.oauth_keys.clear();
  for (auto& k : keys) cfg.oauth_keys.push_back({k.kid, base::base64_encode(k.key), std::string(token::name(k.alg))});
}

}  // namespace

TEST_F(TurnLogicTest, OAuthChallengeNamesTheServerOnlyWhenKeysAreConfigured) {
  start();
  Client c = solution1_client("198.51.100.1:40001");
  auto r = roundtrip(c, c.build(Method::Allocate, Class::Request, false, [](stun::Builder& b) { b.add_requested_transport(17); }));
  EXPECT_FALSE(r.has(attr::ThirdPartyAuthorization));
  set_oauth(cfg, {oauth_key()});
  start();
  r = roundtrip(c, c.build(Method::Allocate, Class::Request, false, [](stun::Builder& b) { b.add_requested_transport(17); }));
  EXPECT_EQ(r.string(attr::ThirdPartyAuthorization), "example.org");  // default: the realm, as coturn
  cfg.oauth_server_name = "turn.example.org";
  start();
  r = roundtrip(c, c.build(Method::Allocate, Class::Request, false, [](stun::Builder& b) { b.add_requested_transport(17); }));
  EXPECT_EQ(r.string(attr::ThirdPartyAuthorization), "turn.example.org");
}

TEST_F(TurnLogicTest, OAuthTokenAllocatesAndKeysEveryAnswerWithMacKey) {
  set_oauth(cfg, {oauth_key()});
  cfg.oauth_server_name = "turn.example.org";
  start();
  Client c;
  c.flow = udp_flow("198.51.100.1:40001");
  use_token(c, oauth_key(), "turn.example.org", kT0 - 10, 600);
  auto r = allocate(c);
  ASSERT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
  EXPECT_TRUE(integrity_ok(r, c));
  EXPECT_EQ(logic->find(c.flow.tuple)->username, "north");
  EXPECT_EQ(logic->find(c.flow.tuple)->credential_expires_unix, kT0 + 590);
  // Later requests: with the token, or without it on the allocation it made (mac_key kept).
  EXPECT_EQ(request(c, Method::CreatePermission, [](stun::Builder& b) { b.add_xor_address(attr::XorPeerAddress, kPeer); }).cls(),
            Class::SuccessResponse);
  c.access_token.clear();
  r = request(c, Method::Refresh, [](stun::Builder&) {});
  EXPECT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
  EXPECT_TRUE(integrity_ok(r, c));
  // MESSAGE-INTEGRITY-SHA256 with a 32-byte mac_key.
  Client d;
  d.flow = udp_flow("198.51.100.1:40002");
  d.sha256_integrity = true;
  use_token(d, oauth_key(), "turn.example.org", kT0, 600, 32);
  r = allocate(d);
  ASSERT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
  EXPECT_TRUE(r.message_integrity_sha256());
  EXPECT_TRUE(integrity_ok(r, d));
}

TEST_F(TurnLogicTest, OAuthAcceptsCoturnsSixteenByteMacKeyUse) {
  // coturn 4.6 keys MESSAGE-INTEGRITY with the first 16 bytes of the 20-byte mac_key.
  set_oauth(cfg, {oauth_key()});
  start();
  Client c;
  c.flow = udp_flow("198.51.100.1:40001");
  use_token(c, oauth_key(), "example.org", kT0, 600);
  c.mac_key.resize(16);
  auto r = allocate(c);
  ASSERT_EQ(r.cls(), Class::SuccessResponse) << error_of(r);
  EXPECT_TRUE(integrity_ok(r, c));  // answered with the key the client used
  EXPECT_EQ(request(c, Method::Refresh, [](stun::Builder&) {}).cls(), Class::SuccessResponse);
  // Any other 16 bytes are still refused.
  Client d;
  d.flow = udp_flow("198.51.100.1:40002");
  use_token(d, oauth_key(), "example.org", kT0, 600);
  d.mac_key.erase(d.mac_key.begin(), d.mac_key.begin() + 4);
  EXPECT_EQ(error_of(allocate(d)), 401);
}

TEST_F(TurnLogicTest, OAuthBadTokensGet401) {
  set_oauth(cfg, {oauth_key()});
  start();
  auto attempt = [&](const char* addr, auto&& prepare) {
    Client c;
    c.flow = udp_flow(addr);
    use_token(c, oauth_key(), "example.org", kT0, 600);
    prepare(c);
    return error_of(allocate(c));
  };
  EXPECT_EQ(attempt("198.51.100.1:1", [](Client& c) { c.access_token[20] ^= 1; }), 401);             // tampered
  EXPECT_EQ(attempt("198.51.100.1:2", [](Client& c) { c.access_token.resize(30); }), 401);           // truncated
  EXPECT_EQ(attempt("198.51.100.1:3", [&](Client& c) { use_token(c, oauth_key("north", 0x42), "example.org", kT0, 600); }),
            401);                                                                                      // other key, same kid
  EXPECT_EQ(attempt("198.51.100.1:4", [&](Client& c) { use_token(c, oauth_key(), "other.org", kT0, 600); }), 401);  // AAD
  EXPECT_EQ(attempt("198.51.100.1:5", [](Client& c) { c.username = "south"; }), 401);                // unknown kid
  EXPECT_EQ(attempt("198.51.100.1:6", [](Client& c) { c.mac_key[0] ^= 1; }), 401);                   // not the mac_key
  EXPECT_EQ(attempt("198.51.100.1:7", [&](Client& c) { use_token(c, oauth_key(), "example.org", kT0 - 700, 600); }),
            401);                                                                                      // expired
  EXPECT_EQ(attempt("198.51.100.1:8", [&](Client& c) { use_token(c, oauth_key(), "example.org", kT0, 0); }), 401);  // no lifetime
  EXPECT_EQ(attempt("198.51.100.1:9", [&](Client& c) { use_token(c, oauth_key(), "example.org", kT0 + 3600, 600); }),
            401);                                                                                      // from the future
  EXPECT_EQ(attempt("198.51.100.1:10", [&](Client& c) { use_token(c, oauth_key(), "example.org", kT0, 600, 16); }),
            401);                                                                                      // odd mac_key size
  auto& s = logic->stats();
  EXPECT_EQ(s.auth_failures[size_t(AuthFailure::BadToken)].load(), 7u);
  EXPECT_EQ(s.auth_failures[size_t(AuthFailure::UnknownUser)].load(), 1u);
  EXPECT_EQ(s.auth_failures[size_t(AuthFailure::BadIntegrity)].load(), 1u);
  EXPECT_EQ(s.auth_failures[size_t(AuthFailure::ExpiredCredential)].load(), 1u);
  EXPECT_EQ(logic->allocation_count(), 0u);
}

TEST_F(TurnLogicTest, OAuthTokenIgnoredWhenNoKeysAreConfigured) {
  start();
  Client c;
  c.flow = udp_flow("198.51.100.1:40001");
  use_token(c, oauth_key(), "example.org", kT0, 600);
  EXPECT_EQ(error_of(allocate(c)), 401);
  EXPECT_EQ(logic->stats().auth_failures[size_t(AuthFailure::BadToken)].load(), 1u);
}

TEST_F(TurnLogicTest, OAuthKeyRotationAndTokenLifetimeHoldsForTheWholeAllocation) {
  set_oauth(cfg, {oauth_key("old", 0x01), oauth_key("new", 0x02)});
  start();
  Client a, b;
  a.flow = udp_flow("198.51.100.1:40001");
  b.flow = udp_flow("198.51.100.1:40002");
  use_token(a, oauth_key("old", 0x01), "example.org", kT0, 120);
  use_token(b, oauth_key("new", 0x02), "example.org", kT0, 3600);
  ASSERT_EQ(allocate(a).cls(), Class::SuccessResponse);
  ASSERT_EQ(allocate(b).cls(), Class::SuccessResponse);
  // Another token under the same kid cannot drive `a`'s allocation (441, not a takeover).
  Client intruder = a;
  use_token(intruder, oauth_key("old", 0x01), "example.org", kT0 + 1, 600);
  EXPECT_EQ(error_of(request(intruder, Method::Refresh, [](stun::Builder&) {})), 441);
  // The token's lifetime ends the allocation even though the allocation's own lifetime would not.
  advance(121s);
  EXPECT_EQ(error_of(request(a, Method::Refresh, [](stun::Builder&) {})), 401);
  logic->on_timer(now());
  EXPECT_EQ(logic->allocation_count(), 1u);
  EXPECT_EQ(logic->stats().allocations_deleted[size_t(Teardown::CredentialExpired)].load(), 1u);
  // Retiring a key refuses its tokens.
  shared->credentials.set_oauth_keys({oauth_key("new", 0x02)});
  Client c;
  c.flow = udp_flow("198.51.100.1:40003");
  use_token(c, oauth_key("old", 0x01), "example.org", kT0 + 121, 600);
  EXPECT_EQ(error_of(allocate(c)), 401);
}

TEST_F(TurnLogicTest, OAuthQuotaCountsPerTokenNotPerKid) {
  set_oauth(cfg, {oauth_key()});
  cfg.user_quota = 1;
  start();
  for (int i = 0; i < 3; ++i) {
    Client c;
    c.flow = udp_flow(("198.51.100.1:" + std::to_string(41000 + i)).c_str());
    use_token(c, oauth_key(), "example.org", kT0 + i, 600);
    EXPECT_EQ(allocate(c).cls(), Class::SuccessResponse) << i;
  }
  EXPECT_EQ(logic->allocation_count(), 3u);
  logic->shutdown();
  EXPECT_EQ(shared->quota.total(), 0);
}

// ---------------------------------------------------------------------------------------------
// Approach 2: pushed credentials and revocations

TEST_F(TurnLogicTest, PushedCredentialWorksUntilItsExpiryAndTheAllocationEndsWithIt) {
  start();
  auto user = [&](const std::string& name, const std::string& pw, int64_t expires) {
    StaticUser u{name, {}, {}, expires};
    auto k5 = long_term_key(stun::password_algorithm::Md5, name, "example.org", pw);
    auto k256 = long_term_key(stun::password_algorithm::Sha256, name, "example.org", pw);
    std::memcpy(u.key_md5.data(), k5.bytes.data(), 16);
    std::memcpy(u.key_sha256.data(), k256.bytes.data(), 32);
    return u;
  };
  shared->credentials.put_static_user(user("wic-1", "pushed-pw", kT0 + 60));
  Client c;
  c.flow = udp_flow("198.51.100.1:40001");
  c.username = "wic-1";
  c.password = "pushed-pw";
  ASSERT_EQ(allocate(c).cls(), Class::SuccessResponse);
  advance(61s);
  logic->on_timer(now());
  EXPECT_EQ(logic->allocation_count(), 0u);
  EXPECT_EQ(logic->stats().allocations_deleted[size_t(Teardown::CredentialExpired)].load(), 1u);
  Client again = c;
  again.flow = udp_flow("198.51.100.1:40002");
  EXPECT_EQ(error_of(allocate(again)), 401);
  EXPECT_EQ(logic->stats().auth_failures[size_t(AuthFailure::ExpiredCredential)].load(), 1u);
}

TEST_F(TurnLogicTest, RevocationTearsDownLiveAllocationsOfEveryKindAndRefusesNewOnes) {
  start();
  Client s1 = solution1_client("198.51.100.1:40001");
  ASSERT_EQ(allocate(s1).cls(), Class::SuccessResponse);
  Client other = solution1_client("198.51.100.1:40002", 3600, "BBECAwQFBgcICQoLDA0ODw");
  ASSERT_EQ(allocate(other).cls(), Class::SuccessResponse);
  shared->credentials.add_revocation(s1.username, kT0 + 3600);
  logic->on_timer(now());
  EXPECT_EQ(logic->allocation_count(), 1u);  // only the revoked one
  EXPECT_FALSE(logic->find(s1.flow.tuple));
  EXPECT_TRUE(logic->find(other.flow.tuple));
  EXPECT_EQ(logic->stats().allocations_deleted[size_t(Teardown::CredentialRevoked)].load(), 1u);
  Client again = s1;
  again.flow = udp_flow("198.51.100.1:40003");
  EXPECT_EQ(error_of(allocate(again)), 401);
  EXPECT_EQ(logic->stats().auth_failures[size_t(AuthFailure::RevokedCredential)].load(), 1u);
  // After `until` the name is usable again (a revocation is not forever).
  advance(3601s);
  Client later = solution1_client("198.51.100.1:40004", 7200);
  later.username = s1.username.substr(0, s1.username.find(':')) + ":" + std::to_string(kT0 + 7200);
  later.password = ephemeral_password(cfg.secrets[0], later.username);
  shared->credentials.add_revocation(s1.username, kT0 + 3600);
  EXPECT_EQ(allocate(later).cls(), Class::SuccessResponse);
}
