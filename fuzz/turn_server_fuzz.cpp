// Fuzz target for the TURN server logic (servers/turn/logic): the whole state machine, sans-I/O,
// driven by a script of events decoded from the input. Because the harness signs requests with
// the credential the server expects, the fuzzer gets past authentication and reaches Allocate,
// Refresh, CreatePermission, ChannelBind, the data path, timers and teardown.
//
// Input: a sequence of records [op u8][len u16][bytes].
//   op 0: raw datagram from client c (c = low bits of the first byte) — anything at all
//   op 1: signed request: bytes = [client u8][flags|method index u8][attribute TLVs...]: method index
//         (low 4 bits mod 6) picks Binding/Allocate/Refresh/CreatePermission/ChannelBind/Send, flags
//         0x80 MI-SHA256, 0x40 SHA-256 password, 0x20 PASSWORD-ALGORITHM(S), 0x10 FINGERPRINT; the harness adds USERNAME,
//         REALM, the last NONCE the client saw, optionally PASSWORD-ALGORITHM(S), and
//         MESSAGE-INTEGRITY or -SHA256 with the right key
//   op 2: ChannelData from client c with channel and payload from the bytes
//   op 3: datagram from a peer to relay tag index
//   op 4: advance time by bytes[0] seconds and run the timer
//   op 5: stream client closes
// Invariants: no crash, no leak, allocation count never exceeds the number of opened relays, and
// every relay the logic opened is closed after shutdown.
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "base/log.hpp"
#include "stun/channel_data.hpp"
#include "turn/logic/server_logic.hpp"

namespace {

#define FUZZ_CHECK(cond)             \
  do {                               \
    if (!(cond)) __builtin_trap();   \
  } while (0)

using namespace turn;
namespace attr = stun::attr;

struct FakeIo : Io {
  base::Result<RelayOpened, int> open_relay(const RelayRequest& r) override {
    if (open.size() >= 64) return base::fail(stun::code::InsufficientCapacity);
    RelayOpened o;
    o.handle = ++next;
    o.bound = {r.family == base::Family::V4 ? base::IpAddress::v4(0x0A000001) : *base::IpAddress::parse("fd00::1"),
               uint16_t(50000 + next)};
    if (r.reserve_next) o.reservation_token = next;
    open[o.handle] = r.tag;
    tags.push_back(r.tag);
    bound[o.handle] = o.bound;
    ports->bound(o.bound.addr.family(), o.bound.port);  // as the shell does: peers may name it
    return o;
  }
  void close_relay(uint64_t h) override {
    FUZZ_CHECK(open.erase(h) == 1);  // never closed twice, never an unknown handle
    ports->released(bound[h].addr.family(), bound[h].port);
  }
  void send_to_client(const ClientFlow& f, base::Bytes m) override {
    FUZZ_CHECK(!m.empty());
    last_to_client[f.conn].assign(m.begin(), m.end());
  }
  void send_to_peer(uint64_t relay, const base::Endpoint&, base::Bytes) override { FUZZ_CHECK(open.count(relay)); }
  void close_client(const ClientFlow&) override {}
  std::map<uint64_t, uint64_t> open;
  std::map<uint64_t, base::Endpoint> bound;
  RelayPortMap* ports = nullptr;
  std::vector<uint64_t> tags;
  std::map<uint64_t, std::vector<uint8_t>> last_to_client;
  uint64_t next = 0;
};

constexpr int64_t kT0 = 1'900'000'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TurnConfig cfg;
  cfg.realm = "example.org";
  cfg.relay_address = "203.0.113.10";
  cfg.relay_address_v6 = "2001:db8::10";
  cfg.allowed_peer_ranges = {"127.0.0.0/8"};
  cfg.unauth_rate = 50;
  cfg.unauth_burst = 20;
  cfg.user_quota = 3;
  cfg.max_permissions = 4;
  cfg.secrets = {{"k", "fuzz-secret", "sha1"}};
  std::array<uint8_t, 32> nonce_key{};
  Shared shared(cfg, nonce_key, {*base::IpAddress::parse("203.0.113.10")});
  FakeIo io;
  io.ports = &shared.relay_ports;
  base::SeededRandom rnd(1);
  base::log::set_level(base::log::Level::Off);
  ServerLogic logic(shared, io, rnd);

  const std::string username = "AAECAwQFBgcICQoLDA0ODw:" + std::to_string(kT0 + 300);
  const std::string password = ephemeral_password(cfg.secrets[0], username);
  auto key_md5 = long_term_key(stun::password_algorithm::Md5, username, cfg.realm, password);
  auto key_256 = long_term_key(stun::password_algorithm::Sha256, username, cfg.realm, password);

  std::array<ClientFlow, 4> flows;
  for (int i = 0; i < 4; ++i) {
    flows[i].tuple.transport = i == 3 ? Transport::Tcp : Transport::Udp;
    flows[i].tuple.client = {base::IpAddress::v4(0xC6336401 + uint32_t(i / 2)), uint16_t(40000 + i)};
    flows[i].tuple.server = {base::IpAddress::v4(0x0A000001), 3478};
    flows[i].conn = uint64_t(i);
  }
  std::array<std::string, 4> nonce;
  std::chrono::seconds elapsed{0};
  auto now = [&] { return base::Now{base::SteadyTime{} + std::chrono::hours(1) + elapsed, kT0 + elapsed.count()}; };
  std::vector<uint8_t> buf(stun::kMaxMessageSize + 64);

  size_t pos = 0;
  while (pos + 3 <= size) {
    uint8_t op = data[pos];
    size_t len = base::load_be16(data + pos + 1);
    pos += 3;
    len = std::min(len, size - pos);
    base::Bytes b(data + pos, len);
    pos += len;
    int c = b.empty() ? 0 : b[0] & 3;
    switch (op % 6) {
      case 0:
        logic.on_client_packet(flows[c], b, now());
        break;
      case 1: {
        if (b.size() < 2) break;
        uint8_t m = b[1];
        stun::Method method = stun::Method(std::array<uint16_t, 6>{1, 3, 4, 8, 9, 6}[(m & 0x0F) % 6]);
        bool sha256 = m & 0x40, algorithms = m & 0x20;
        stun::TransactionId tid{};
        rnd.fill(tid);
        stun::Builder bl(buf, method, stun::Class::Request, tid);
        // Attribute TLVs from the input (type, length, value), as many as fit.
        size_t p = 2;
        while (p + 4 <= b.size()) {
          uint16_t t = base::load_be16(b.data() + p);
          size_t l = std::min<size_t>(base::load_be16(b.data() + p + 2), b.size() - p - 4);
          if (t == attr::MessageIntegrity || t == attr::MessageIntegritySha256 || t == attr::Fingerprint) t ^= 0x4000;
          bl.add(t, b.subspan(p + 4, l));
          p += 4 + l;
        }
        bl.add(attr::Username, username);
        bl.add(attr::Realm, cfg.realm);
        bl.add(attr::Nonce, nonce[c]);
        if (algorithms) {
          uint16_t algs[] = {stun::password_algorithm::Md5, stun::password_algorithm::Sha256};
          bl.add_password_algorithms(algs);
          bl.add_password_algorithm(sha256 ? stun::password_algorithm::Sha256 : stun::password_algorithm::Md5);
        }
        auto& k = algorithms && sha256 ? key_256 : key_md5;
        if (m & 0x80) bl.add_message_integrity_sha256(base::Bytes(k.bytes.data(), k.len));
        else bl.add_message_integrity(base::Bytes(k.bytes.data(), k.len));
        if (m & 0x10) bl.add_fingerprint();
        auto msg = bl.finish();
        if (msg) logic.on_client_packet(flows[c], *msg, now());
        break;
      }
      case 2: {
        if (b.size() < 3) break;
        uint8_t frame[1100];
        size_t n = std::min<size_t>(b.size() - 3, 1024);
        std::memcpy(frame + 4, b.data() + 3, n);
        auto msg = stun::frame_channel_data(frame, uint16_t(0x4000 | (base::load_be16(b.data() + 1) & 0x0FFF)), n,
                                            flows[c].stream());
        logic.on_client_packet(flows[c], msg, now());
        break;
      }
      case 3: {
        if (io.tags.empty() || b.size() < 3) break;
        uint64_t tag = io.tags[b[1] % io.tags.size()];
        uint8_t pkt[1100];
        size_t n = std::min<size_t>(b.size() - 3, 1024);
        std::memcpy(pkt + ServerLogic::kPeerHeadroom, b.data() + 3, n);
        base::Endpoint peer{b[2] & 1 ? base::IpAddress::v4(0x7F000001) : base::IpAddress::v4(0x08080808), uint16_t(40000 + (b[2] >> 1))};
        logic.on_peer_packet(tag, peer, base::MutableBytes(pkt, sizeof pkt), ServerLogic::kPeerHeadroom, n, now());
        break;
      }
      case 4:
        elapsed += std::chrono::seconds(b.empty() ? 1 : b[0]);
        logic.on_timer(now());
        break;
      case 5:
        logic.on_client_closed(flows[3].tuple, now());
        break;
    }
    // Learn nonces from 401/438 answers, as a client would.
    for (int i = 0; i < 4; ++i) {
      auto it = io.last_to_client.find(uint64_t(i));
      if (it == io.last_to_client.end()) continue;
      if (auto r = stun::parse(it->second))
        if (auto n = r->string(attr::Nonce)) nonce[i] = std::string(*n);
      io.last_to_client.erase(it);
    }
    FUZZ_CHECK(logic.allocation_count() <= io.open.size());
  }
  logic.shutdown();
  FUZZ_CHECK(logic.allocation_count() == 0);
  FUZZ_CHECK(io.open.empty());
  FUZZ_CHECK(shared.quota.total() == 0);
  return 0;
}
