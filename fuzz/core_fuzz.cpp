// Fuzz target for the IMS core logic (servers/core/logic) and the proxy core under it: parsed SIP
// messages from several hops, timers and closed flows, sans-I/O, with a fake transport and an
// in-memory store. The harness answers the core's Digest challenges itself (it knows alice's
// password), so inputs get past authentication into the binding logic, and it can answer requests
// the core forwarded, so the proxy's response paths are reached too.
//
// Input: records [op u8][len u16 big-endian][len bytes].
//   op 0: a SIP message (any bytes; dropped unless parse_message accepts it) from hop bytes[0] % 4:
//         0 = eP-CSCF A (TCP flow 7), 1 = eP-CSCF B (TCP flow 8), 2 = stranger (UDP), 3 = trusted (UDP)
//   op 1: a REGISTER of alice from hop bytes[0] % 4 answering the last challenge that hop got
//         (bytes[1]: low 2 bits = expires 0/60/600/none, bit 2 = SHA-256, bit 3 = wrong password,
//         bits 4-7 = nc), the rest appended as header lines
//   op 2: time goes on by bytes[0] seconds (ms granularity from bytes[1]), then on_timer()
//   op 3: flow bytes[0] % 16 closes
//   op 4: the last request the core sent gets a response with status 100 + bytes[0..1] % 600
// Invariants: no crash, no leak; everything the core sends serializes to a message that parses;
// the binding count equals the bindings listed; after a long quiet time nothing is left registered
// and no transaction is left.
//
// Seeds (fuzz/corpus/core/) were written by hand-built record sequences: register (challenge,
// answer, refresh, deregister), routing a MESSAGE and an INVITE/CANCEL between two registered users,
// TNA from trusted and untrusted hops, and AKA challenges.
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "core/logic/core_logic.hpp"
#include "crypto/digest.hpp"
#include "crypto/hash.hpp"
#include "sip/auth.hpp"

namespace {

#define FUZZ_CHECK(cond)           \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

using namespace core;

struct FakeIo : Io {
  bool send(const sip::Hop& to, const sip::Message& m) override {
    auto p = sip::parse_message(m.to_string());
    FUZZ_CHECK(p.ok());
    if (m.is_request()) last_request = std::move(*p);
    else if (m.status() == 401) {
      auto ch = p->values(sip::HeaderId::WWWAuthenticate);
      for (auto v : ch)
        if (auto c = sip::parse_digest_challenge(v)) challenges[to.flow ? to.flow : to.remote.port].push_back(*c);
    }
    ++sent;
    return true;
  }
  std::optional<sip::Message> last_request;
  std::map<uint64_t, std::vector<sip::DigestChallenge>> challenges;
  size_t sent = 0;
};

base::Endpoint ep(const char* s) { return *base::Endpoint::parse(s); }

const sip::Hop kHops[4] = {
    {"TCP", ep("10.0.0.50:40001"), 7},
    {"TCP", ep("10.0.0.50:40002"), 8},
    {"UDP", ep("192.0.2.66:5060"), 0},
    {"UDP", ep("10.0.0.51:5060"), 0},
};

store::Store& the_store() {
  static std::unique_ptr<store::Store> s = [] {
    base::log::set_level(base::log::Level::Off);
    auto st = store::Store::open("sqlite::memory:");
    st->put_subscriber(store::make_subscriber("alice@ims.example.org", "ims.example.org", "alice-pw",
                                              {"sip:alice@ims.example.org", "tel:+15550001"}, 1));
    st->put_subscriber(store::make_subscriber("bob@ims.example.org", "ims.example.org", "bob-pw",
                                              {"sip:bob@ims.example.org"}, 1));
    store::Subscriber dave;
    dave.impi = "dave@ims.example.org";
    dave.realm = "ims.example.org";
    dave.aka_k = std::array<uint8_t, 16>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    dave.aka_opc = std::array<uint8_t, 16>{16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    dave.impus = {"sip:dave@ims.example.org"};
    st->put_subscriber(dave);
    return st;
  }();
  return *s;
}

std::string alice_register(const sip::DigestChallenge* ch, uint8_t flags, std::string_view extra, uint32_t cseq,
                           uint32_t branch) {
  static const char* kExpires[] = {"0", "60", "600", nullptr};
  std::string t = "REGISTER sip:ims.example.org SIP/2.0\r\n"
                  "Via: SIP/2.0/TCP 10.0.0.50:5070;branch=z9hG4bKfz" + std::to_string(branch) + "\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:alice@ims.example.org>;tag=fz\r\nTo: <sip:alice@ims.example.org>\r\n"
                  "Call-ID: fuzz-reg\r\nCSeq: " + std::to_string(cseq) + " REGISTER\r\n"
                  "Contact: <sip:a@x.invalid;transport=ws>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
                  "Path: <sip:tok@10.0.0.50:5070;transport=tcp;lr>\r\n";
  if (const char* e = kExpires[flags & 3]) t += std::string("Expires: ") + e + "\r\n";
  if (ch) {
    sip::DigestCredentials c;
    c.username = "alice@ims.example.org";
    c.realm = ch->realm;
    c.uri = "sip:ims.example.org";
    c.nonce = ch->nonce;
    c.algorithm = ch->algorithm;
    c.qop = "auth";
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", 1u + (flags >> 4));
    c.nc = nc;
    c.cnonce = "fz";
    auto alg = crypto::parse_digest_algorithm(ch->algorithm);
    if (alg) {
      crypto::DigestInput in{*alg, c.username, c.realm, c.nonce, c.uri, "REGISTER", c.qop, c.nc, c.cnonce};
      std::string pw = (flags & 8) ? "wrong" : "alice-pw";
      auto r = crypto::digest_response_for_password(in, crypto::view(pw));
      if (r) c.response = *r;
    }
    t += "Authorization: " + sip::format(c) + "\r\n";
  }
  for (char x : extra)
    if (x != '\0') t += x;
  if (!extra.empty()) t += "\r\n";
  t += "Content-Length: 0\r\n\r\n";
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  store::Store& st = the_store();
  st.expire_registrations(INT64_MAX);  // every input starts with nobody registered
  CoreConfig cfg;
  cfg.trusted_nodes = {"10.0.0.50", "10.0.0.51"};
  cfg.max_contacts = 3;
  FakeIo io;
  base::SeededRandom rnd(size);
  std::vector<uint8_t> secret(32, 7);
  base::Now now{base::SteadyTime{} + std::chrono::hours(1), 1'900'000'000};
  auto logic = std::make_unique<CoreLogic>(
      cfg, std::vector<LocalAddress>{{"UDP", "10.0.0.100:5060"}, {"TCP", "10.0.0.100:5060"}}, st, io, rnd,
      base::Bytes(secret), now);
  uint32_t cseq = 1, branch = 0;

  size_t i = 0;
  while (i + 3 <= size) {
    uint8_t op = data[i];
    size_t len = size_t(data[i + 1]) << 8 | data[i + 2];
    i += 3;
    if (len > size - i) len = size - i;
    const uint8_t* p = data + i;
    i += len;
    const sip::Hop& hop = kHops[len ? p[0] % 4 : 0];
    switch (op % 5) {
      case 0: {
        if (len < 1) break;
        auto m = sip::parse_message(std::string_view(reinterpret_cast<const char*>(p + 1), len - 1));
        if (m) logic->on_message(hop, std::move(*m), now);
        break;
      }
      case 1: {
        uint8_t flags = len > 1 ? p[1] : 0;
        auto& chs = io.challenges[hop.flow ? hop.flow : hop.remote.port];
        const sip::DigestChallenge* ch = nullptr;
        for (auto& c : chs)
          if (((flags & 4) != 0) == (c.algorithm == "SHA-256")) ch = &c;
        std::string_view extra = len > 2 ? std::string_view(reinterpret_cast<const char*>(p + 2), len - 2) : "";
        auto m = sip::parse_message(alice_register(ch, flags, extra, cseq++, ++branch));
        if (m) logic->on_message(hop, std::move(*m), now);
        break;
      }
      case 2: {
        auto ms = std::chrono::seconds(len ? p[0] : 1) + std::chrono::milliseconds(len > 1 ? p[1] * 4 : 0);
        now.steady += ms;
        now.unix_s = 1'900'000'000 +
                     std::chrono::duration_cast<std::chrono::seconds>(now.steady - base::SteadyTime{} - std::chrono::hours(1)).count();
        logic->on_timer(now);
        break;
      }
      case 3:
        logic->on_flow_closed(len ? p[0] % 16 : 7, now);
        break;
      case 4: {
        if (!io.last_request || io.last_request->method_id() == sip::Method::Ack) break;
        int status = 100 + (len > 1 ? (p[0] << 8 | p[1]) % 600 : 100);
        auto r = sip::make_response(*io.last_request, status, {}, "fz");
        auto parsed = sip::parse_message(r.to_string());
        if (parsed) logic->on_message(kHops[0], std::move(*parsed), now);
        break;
      }
    }
    size_t listed = 0;
    for (const char* u : {"sip:alice@ims.example.org", "tel:+15550001", "sip:bob@ims.example.org", "sip:dave@ims.example.org"})
      listed += logic->bindings(u).size();
    FUZZ_CHECK(listed == logic->registration_count());
  }
  // A long quiet time ends every registration (max_expires) and every transaction.
  for (int k = 0; k < 8; ++k) {
    now.steady += std::chrono::minutes(30);
    now.unix_s += 1800;
    logic->on_timer(now);
  }
  FUZZ_CHECK(logic->registration_count() == 0);
  FUZZ_CHECK(logic->transaction_count() == 0);
  return 0;
}
