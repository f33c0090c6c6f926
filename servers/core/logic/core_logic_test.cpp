// The core driven as the eP-CSCF and WICs would drive it: REGISTER with Digest computed here (MD5,
// SHA-256) and with AKAv2 from a software ISIM, the negative cases of issue 3, bindings, expiry,
// routing through Path, and restart persistence. Time and randomness are inputs; the store is
// SQLite (in memory, or a file for the restart test).
#include "core/logic/core_logic.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/encoding.hpp"
#include "core/logic/identity.hpp"
#include "crypto/aka.hpp"
#include "crypto/digest.hpp"
#include "crypto/hash.hpp"
#include "sip/auth.hpp"
#include "sip/test_support.hpp"

namespace core {
namespace {

using sip::test::crlf;

base::Endpoint ep(const char* s) { return *base::Endpoint::parse(s); }

const sip::Hop kPcscfA{"TCP", ep("10.0.0.50:40001"), 7};  // eP-CSCF connection of alice's WIC
const sip::Hop kPcscfB{"TCP", ep("10.0.0.50:40002"), 8};
const sip::Hop kStranger{"UDP", ep("192.0.2.66:5060"), 0};
constexpr const char* kPathA = "<sip:tokA@10.0.0.50:5070;transport=tcp;lr>";
constexpr const char* kPathB = "<sip:tokB@10.0.0.50:5070;transport=tcp;lr>";

// TS 35.208 test set 1.
const std::array<uint8_t, 16> kK{0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
                                 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
const std::array<uint8_t, 16> kOpc{0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
                                   0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};

struct FakeIo : Io {
  bool send(const sip::Hop& to, const sip::Message& m) override {
    auto p = sip::parse_message(m.to_string());
    EXPECT_TRUE(p) << m.to_string();
    if (p) sent.push_back({to, std::move(*p)});
    return true;
  }
  std::vector<std::pair<sip::Hop, sip::Message>> sent;
  const sip::Message& last() const { return sent.back().second; }
  std::vector<std::pair<sip::Hop, sip::Message>> take() { return std::exchange(sent, {}); }
};

struct Ue {
  std::string user;  // "alice"
  std::string password;
  sip::Hop via;
  std::string path;
  std::string contact;
  std::string call_id;
  std::string impi() const { return user + "@ims.example.org"; }
  std::string impu() const { return "sip:" + user + "@ims.example.org"; }
  uint32_t cseq = 0;
  int branch = 0;

  std::string register_text(const std::string& authorization, const std::string& expires = "600",
                            const std::string& to = "") {
    ++cseq;
    ++branch;
    std::string t = "REGISTER sip:ims.example.org SIP/2.0\n"
                    "Via: SIP/2.0/TCP 10.0.0.50:5070;branch=z9hG4bK" + user + std::to_string(branch) + "\n"
                    "Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKwic" + std::to_string(branch) + ";received=198.51.100.1\n"
                    "Max-Forwards: 69\n"
                    "From: <" + impu() + ">;tag=f" + user + "\n"
                    "To: <" + (to.empty() ? impu() : to) + ">\n"
                    "Call-ID: " + call_id + "\n"
                    "CSeq: " + std::to_string(cseq) + " REGISTER\n"
                    "Contact: <" + contact + ">;expires=" + expires + ";+sip.instance=\"<urn:uuid:" + user +
                    ">\";reg-id=1\n"
                    "Path: " + path + "\n"
                    "Supported: path\n";
    if (!authorization.empty()) t += "Authorization: " + authorization + "\n";
    t += "Content-Length: 0\n\n";
    return crlf(t);
  }

  std::string digest(const sip::DigestChallenge& ch, const std::string& nc = "00000001",
                     const std::string& pw = "") const {
    sip::DigestCredentials c;
    c.username = impi();
    c.realm = ch.realm;
    c.uri = "sip:ims.example.org";
    c.nonce = ch.nonce;
    c.algorithm = ch.algorithm;
    c.qop = "auth";
    c.nc = nc;
    c.cnonce = "0a4f113b";
    crypto::DigestInput in;
    in.algorithm = *crypto::parse_digest_algorithm(ch.algorithm);
    in.username = c.username;
    in.realm = c.realm;
    in.nonce = c.nonce;
    in.uri = c.uri;
    in.method = "REGISTER";
    in.qop = c.qop;
    in.nc = c.nc;
    in.cnonce = c.cnonce;
    std::string p = pw.empty() ? password : pw;
    c.response = *crypto::digest_response_for_password(in, crypto::view(p));
    return sip::format(c);
  }
};

std::vector<sip::DigestChallenge> challenges(const sip::Message& m) {
  std::vector<sip::DigestChallenge> out;
  for (auto v : m.values(sip::HeaderId::WWWAuthenticate)) out.push_back(*sip::parse_digest_challenge(v));
  return out;
}

class Core : public ::testing::Test {
 protected:
  Core() { make_store("sqlite::memory:"); }

  void make_store(const std::string& url) {
    logic.reset();
    store = store::Store::open(url);
    if (store->find_subscriber("alice@ims.example.org")) return;
    store->put_subscriber(store::make_subscriber("alice@ims.example.org", "ims.example.org", "alice-pw",
                                                 {"sip:alice@ims.example.org", "tel:+15550001"}, 1));
    store->put_subscriber(store::make_subscriber("bob@ims.example.org", "ims.example.org", "bob-pw",
                                                 {"sip:bob@ims.example.org"}, 1));
    store->put_subscriber(store::make_subscriber("carol@ims.example.org", "ims.example.org", "carol-pw",
                                                 {"sip:carol@ims.example.org"}, 1));
    store::Subscriber dave;  // AKA only
    dave.impi = "dave@ims.example.org";
    dave.realm = "ims.example.org";
    dave.aka_k = kK;
    dave.aka_opc = kOpc;
    dave.impus = {"sip:dave@ims.example.org"};
    store->put_subscriber(dave);
  }

  CoreLogic& core() {
    if (!logic) {
      std::vector<uint8_t> secret(32, 0x5a);
      logic = std::make_unique<CoreLogic>(cfg, std::vector<LocalAddress>{{"UDP", "10.0.0.100:5060"}, {"TCP", "10.0.0.100:5060"}},
                                          *store, io, rnd, base::Bytes(secret), now);
    }
    return *logic;
  }

  const sip::Message& deliver(const sip::Hop& from, const std::string& text) {
    auto m = sip::parse_message(std::string_view(text));
    EXPECT_TRUE(m) << text;
    core().on_message(from, std::move(*m), now);
    static const sip::Message none;
    return io.sent.empty() ? none : io.last();
  }

  void advance(base::Seconds s) {
    auto end = now.steady + s;
    while (now.steady < end) {
      now.steady += std::chrono::milliseconds(250);
      now.unix_s = 1'900'000'000 + std::chrono::duration_cast<std::chrono::seconds>(now.steady - t0).count();
      core().on_timer(now);
    }
  }

  // A full Digest registration; returns the 200.
  sip::Message register_ue(Ue& ue, const std::string& algorithm = "MD5") {
    const sip::Message& r401 = deliver(ue.via, ue.register_text(""));
    EXPECT_EQ(r401.status(), 401);
    sip::DigestChallenge chosen;
    for (auto& c : challenges(r401))
      if (c.algorithm == algorithm) chosen = c;
    EXPECT_FALSE(chosen.nonce.empty());
    return deliver(ue.via, ue.register_text(ue.digest(chosen)));
  }

  CoreConfig cfg = [] {
    CoreConfig c;
    c.trusted_nodes = {"10.0.0.50"};
    return c;
  }();
  Ue alice{"alice", "alice-pw", kPcscfA, kPathA, "sip:a1@abc.invalid;transport=ws", "reg-alice"};
  Ue bob{"bob", "bob-pw", kPcscfB, kPathB, "sip:b1@def.invalid;transport=ws", "reg-bob"};
  base::SteadyTime t0 = base::SteadyTime{} + std::chrono::hours(10);
  base::Now now{t0, 1'900'000'000};
  base::SeededRandom rnd{42};
  FakeIo io;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<CoreLogic> logic;
};

TEST_F(Core, DigestMd5Registration) {
  const sip::Message& r401 = deliver(alice.via, alice.register_text(""));
  ASSERT_EQ(r401.status(), 401);
  auto ch = challenges(r401);
  ASSERT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch[0].algorithm, "MD5");      // RFC 7616/8760 clients take the first they support
  EXPECT_EQ(ch[1].algorithm, "SHA-256");
  EXPECT_EQ(ch[2].algorithm, "MD5");      // JsSIP keeps only the last
  EXPECT_EQ(ch[2].nonce, ch[0].nonce);
  EXPECT_EQ(ch[0].realm, "ims.example.org");
  EXPECT_EQ(ch[0].qop, std::vector<std::string>{"auth"});
  EXPECT_EQ(ch[0].nonce, ch[1].nonce);
  EXPECT_EQ(io.sent.back().first, alice.via);  // back on the connection it came from

  const sip::Message& ok = deliver(alice.via, alice.register_text(alice.digest(ch[0])));
  ASSERT_EQ(ok.status(), 200) << ok.to_string();
  auto contacts = ok.contacts();
  ASSERT_TRUE(contacts);
  ASSERT_EQ(contacts->size(), 1u);
  EXPECT_EQ(contacts->at(0).uri.text, "sip:a1@abc.invalid;transport=ws");
  EXPECT_EQ(contacts->at(0).param("expires"), "600");
  EXPECT_EQ(contacts->at(0).param("+sip.instance"), "<urn:uuid:alice>");
  EXPECT_EQ(ok.get(sip::HeaderId::Path), kPathA);
  EXPECT_EQ(ok.get(sip::HeaderId::ServiceRoute), "<sip:orig@10.0.0.100:5060;transport=tcp;lr>");
  EXPECT_EQ(ok.get(sip::HeaderId::PAssociatedUri), "<sip:alice@ims.example.org>, <tel:+15550001>");
  EXPECT_EQ(ok.count(sip::HeaderId::Via), 2u);
  EXPECT_FALSE(ok.to()->tag().empty());

  // Written behind: answered at once, in the store within registration_write_delay (100 ms).
  EXPECT_TRUE(store->registrations_for("sip:alice@ims.example.org").empty());
  EXPECT_EQ(core().unwritten_changes(), 1u);
  ASSERT_LE(*core().next_timer(), now.steady + std::chrono::milliseconds(100));
  core().on_timer(base::Now{now.steady + std::chrono::milliseconds(99), now.unix_s});
  EXPECT_EQ(core().unwritten_changes(), 1u);
  core().on_timer(base::Now{now.steady + std::chrono::milliseconds(100), now.unix_s});
  EXPECT_EQ(core().unwritten_changes(), 0u);
  auto regs = store->registrations_for("sip:alice@ims.example.org");
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].impi, "alice@ims.example.org");
  EXPECT_EQ(regs[0].path, std::vector<std::string>{kPathA});
  EXPECT_EQ(regs[0].expires_unix, now.unix_s + 600);
  EXPECT_EQ(regs[0].received, "TCP 10.0.0.50:40001 flow 7");
  EXPECT_EQ(core().registration_count(), 1u);
  EXPECT_EQ(core().stats().register_results[size_t(RegisterResult::Registered)], 1u);
  EXPECT_EQ(core().stats().register_results[size_t(RegisterResult::Challenged)], 1u);
}

TEST_F(Core, DigestSha256Registration) {
  EXPECT_EQ(register_ue(alice, "SHA-256").status(), 200);
}

TEST_F(Core, ChallengeOrderFollowsConfiguration) {
  cfg.digest_algorithms = {"SHA-256", "MD5"};
  auto ch = challenges(deliver(alice.via, alice.register_text("")));
  ASSERT_EQ(ch.size(), 2u);  // MD5 is already last
  EXPECT_EQ(ch[0].algorithm, "SHA-256");
  EXPECT_EQ(ch[1].algorithm, "MD5");
  logic.reset();
  cfg.digest_algorithms = {"SHA-256"};
  ch = challenges(deliver(alice.via, alice.register_text("")));
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].algorithm, "SHA-256");
  // An answer with an algorithm that was not offered is challenged again.
  ch[0].algorithm = "MD5";
  EXPECT_EQ(deliver(alice.via, alice.register_text(alice.digest(ch[0]))).status(), 401);
}

TEST_F(Core, ReplayedAuthorizationIsRefusedAndNcMustGrow) {
  deliver(alice.via, alice.register_text(""));
  auto ch = challenges(io.last())[0];
  std::string auth = alice.digest(ch);
  ASSERT_EQ(deliver(alice.via, alice.register_text(auth)).status(), 200);
  // The same nonce and nc again, in a new transaction.
  EXPECT_EQ(deliver(alice.via, alice.register_text(auth)).status(), 403);
  EXPECT_EQ(core().stats().auth_failures[size_t(AuthFailure::Replay)], 1u);
  // The next nc with the same nonce is fine (re-registration without a new challenge).
  EXPECT_EQ(deliver(alice.via, alice.register_text(alice.digest(ch, "00000002"))).status(), 200);
  EXPECT_EQ(deliver(alice.via, alice.register_text(alice.digest(ch, "00000002"))).status(), 403);
}

TEST_F(Core, StaleNonceGetsStaleTrue) {
  deliver(alice.via, alice.register_text(""));
  auto ch = challenges(io.last())[0];
  advance(std::chrono::minutes(6));
  const sip::Message& r = deliver(alice.via, alice.register_text(alice.digest(ch)));
  ASSERT_EQ(r.status(), 401);
  auto fresh = challenges(r);
  EXPECT_TRUE(fresh[0].stale);
  EXPECT_NE(fresh[0].nonce, ch.nonce);
  EXPECT_EQ(deliver(alice.via, alice.register_text(alice.digest(fresh[0]))).status(), 200);
}

TEST_F(Core, WrongPasswordNeverRegisters) {
  deliver(alice.via, alice.register_text(""));
  auto ch = challenges(io.last())[0];
  const sip::Message& r = deliver(alice.via, alice.register_text(alice.digest(ch, "00000001", "guess")));
  EXPECT_EQ(r.status(), 401);
  EXPECT_FALSE(challenges(r)[0].stale);
  EXPECT_TRUE(store->registrations_for("sip:alice@ims.example.org").empty());
  EXPECT_EQ(core().stats().auth_failures[size_t(AuthFailure::WrongPassword)], 1u);
  // A nonce we never issued: a fresh challenge too.
  ch.nonce = "forged";
  EXPECT_EQ(deliver(alice.via, alice.register_text(alice.digest(ch))).status(), 401);
}

TEST_F(Core, UnknownUserAndForeignImpuAre403) {
  Ue mallory{"mallory", "x", kPcscfA, kPathA, "sip:m@x.invalid", "reg-m"};
  EXPECT_EQ(deliver(mallory.via, mallory.register_text("")).status(), 403);  // IMPI from the IMPU (NOTE 5)
  EXPECT_EQ(core().stats().auth_failures[size_t(AuthFailure::UnknownUser)], 1u);
  // alice's credentials for bob's IMPU.
  std::string auth = "Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", nonce=\"\", "
                     "uri=\"sip:ims.example.org\", response=\"\"";
  EXPECT_EQ(deliver(alice.via, alice.register_text(auth, "600", "sip:bob@ims.example.org")).status(), 403);
  EXPECT_EQ(core().stats().auth_failures[size_t(AuthFailure::ImpuNotOwned)], 1u);
  // Another domain's REGISTER is not relayed.
  std::string other = alice.register_text("");
  other.replace(other.find("sip:ims.example.org SIP"), 19, "sip:other.example");
  EXPECT_EQ(deliver(alice.via, other).status(), 403);
}

TEST_F(Core, TelImpuAndEmptyUsernameAuthorization) {
  // An IMS UE's first REGISTER: username, empty nonce and response.
  std::string auth = "Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", nonce=\"\", "
                     "uri=\"sip:ims.example.org\", response=\"\"";
  const sip::Message& r = deliver(alice.via, alice.register_text(auth, "600", "tel:+1-555-0001"));
  ASSERT_EQ(r.status(), 401);
  auto ok = deliver(alice.via, alice.register_text(alice.digest(challenges(r)[0]), "600", "tel:+1-555-0001"));
  ASSERT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.get(sip::HeaderId::PAssociatedUri), "<tel:+15550001>, <sip:alice@ims.example.org>");
  EXPECT_EQ(core().bindings("tel:+15550001").size(), 1u);
}

TEST_F(Core, ReRegistrationDeregistrationAndWildcard) {
  ASSERT_EQ(register_ue(alice).status(), 200);
  auto ch = challenges(io.sent[0].second)[0];
  // Refresh with a longer expiry than allowed: clamped to max_expires (2 h).
  auto ok = deliver(alice.via, alice.register_text(alice.digest(ch, "00000002"), "999999"));
  ASSERT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.contacts()->at(0).param("expires"), "7200");
  // Too short: raised to min_expires.
  ok = deliver(alice.via, alice.register_text(alice.digest(ch, "00000003"), "5"));
  EXPECT_EQ(ok.contacts()->at(0).param("expires"), "60");
  EXPECT_EQ(core().registration_count(), 1u);
  // A second device of the same instance and reg-id replaces the first (RFC 5626).
  alice.contact = "sip:a2@ghi.invalid;transport=ws";
  ok = deliver(alice.via, alice.register_text(alice.digest(ch, "00000004")));
  ASSERT_EQ(ok.contacts()->size(), 1u);
  EXPECT_EQ(ok.contacts()->at(0).uri.text, "sip:a2@ghi.invalid;transport=ws");
  // Out-of-order CSeq for the same Call-ID: 500.
  alice.cseq -= 3;
  EXPECT_EQ(deliver(alice.via, alice.register_text(alice.digest(ch, "00000005"))).status(), 500);
  alice.cseq += 3;
  // Expires 0: deregistered; 200 without Contact.
  ok = deliver(alice.via, alice.register_text(alice.digest(ch, "00000006"), "0"));
  ASSERT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.count(sip::HeaderId::Contact), 0u);
  EXPECT_EQ(core().registration_count(), 0u);
  EXPECT_TRUE(store->list_registrations().empty());
  // `*` with Expires: 0 removes everything; `*` otherwise is a 400.
  ASSERT_EQ(deliver(alice.via, alice.register_text(alice.digest(ch, "00000007"))).status(), 200);
  std::string star = alice.register_text(alice.digest(ch, "00000008"));
  star.replace(star.find("Contact: <"), star.find("\r\n", star.find("Contact: <")) - star.find("Contact: <"),
               "Contact: *\r\nExpires: 0");
  EXPECT_EQ(deliver(alice.via, star).status(), 200);
  EXPECT_EQ(core().registration_count(), 0u);
  std::string bad_star = alice.register_text(alice.digest(ch, "00000009"));
  bad_star.replace(bad_star.find("Contact: <"),
                   bad_star.find("\r\n", bad_star.find("Contact: <")) - bad_star.find("Contact: <"), "Contact: *");
  EXPECT_EQ(deliver(alice.via, bad_star).status(), 400);
  EXPECT_EQ(core().stats().register_results[size_t(RegisterResult::Deregistered)], 2u);
}

TEST_F(Core, BindingsExpire) {
  ASSERT_EQ(register_ue(alice).status(), 200);
  auto ch = challenges(io.sent[0].second)[0];
  deliver(alice.via, alice.register_text(alice.digest(ch, "00000002"), "60"));
  advance(std::chrono::seconds(59));
  EXPECT_EQ(core().registration_count(), 1u);
  advance(std::chrono::seconds(2));
  EXPECT_EQ(core().registration_count(), 0u);
  EXPECT_TRUE(store->list_registrations().empty());
}

TEST_F(Core, AkaV2RegistrationAndResynchronisation) {
  Ue dave{"dave", "", kPcscfA, kPathA, "sip:d1@d.invalid;transport=ws", "reg-dave"};
  auto isim_milenage = crypto::Milenage::create(*crypto::K::from(kK), *crypto::Opc::from(kOpc));
  // The ISIM has seen a higher SQN than the HSS (e.g. the HSS database was restored): SQN_MS = SEQ 1000.
  crypto::IsimSqnState state;
  state.seq_ms[0] = 1000;
  crypto::Isim isim(std::move(*isim_milenage), state);

  std::string empty_aka = "Digest username=\"dave@ims.example.org\", realm=\"ims.example.org\", nonce=\"\", "
                          "uri=\"sip:ims.example.org\", response=\"\", algorithm=AKAv2-MD5";
  const sip::Message& r1 = deliver(dave.via, dave.register_text(empty_aka));
  ASSERT_EQ(r1.status(), 401);
  auto ch = challenges(r1);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].algorithm, "AKAv2-MD5");
  auto nonce = crypto::decode_aka_nonce(ch[0].nonce);
  ASSERT_TRUE(nonce);
  auto answer = isim.authenticate(nonce->rand, nonce->autn);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->kind, crypto::IsimAnswer::Kind::SyncFailure);

  // RFC 3310 §3.4: auts, with the response computed from an empty password.
  auto aka_auth = [&](const sip::DigestChallenge& c, const crypto::SecretString& pw, const std::string& auts) {
    sip::DigestCredentials d;
    d.username = dave.impi();
    d.realm = c.realm;
    d.uri = "sip:ims.example.org";
    d.nonce = c.nonce;
    d.algorithm = "AKAv2-MD5";
    d.qop = "auth";
    d.nc = "00000001";
    d.cnonce = "c0ffee";
    d.auts = auts;
    crypto::DigestInput in{crypto::DigestAlgorithm::Md5, d.username, d.realm, d.nonce, d.uri, "REGISTER",
                           d.qop, d.nc, d.cnonce};
    d.response = *crypto::digest_response_for_password(in, pw.bytes());
    return sip::format(d);
  };
  const sip::Message& r2 = deliver(dave.via, dave.register_text(aka_auth(ch[0], crypto::SecretString(""),
                                                                          crypto::encode_auts(answer->auts))));
  ASSERT_EQ(r2.status(), 401) << r2.to_string();
  EXPECT_EQ(core().stats().auth_failures[size_t(AuthFailure::SyncFailure)], 1u);
  EXPECT_GT(crypto::Sqn{store->find_subscriber("dave@ims.example.org")->sqn}.seq(), 1000u);
  auto ch2 = challenges(r2)[0];
  auto nonce2 = crypto::decode_aka_nonce(ch2.nonce);
  auto answer2 = isim.authenticate(nonce2->rand, nonce2->autn);
  ASSERT_TRUE(answer2);
  ASSERT_EQ(answer2->kind, crypto::IsimAnswer::Kind::Authenticated);
  auto pw = crypto::aka_digest_password(crypto::AkaVersion::V2, answer2->res, answer2->ik, answer2->ck);
  const sip::Message& ok = deliver(dave.via, dave.register_text(aka_auth(ch2, pw, "")));
  ASSERT_EQ(ok.status(), 200) << ok.to_string();
  EXPECT_EQ(core().bindings("sip:dave@ims.example.org").size(), 1u);

  // A wrong RES: a fresh AKA challenge, never a 200.
  const sip::Message& r3 = deliver(dave.via, dave.register_text(empty_aka));
  auto ch3 = challenges(r3)[0];
  EXPECT_EQ(deliver(dave.via, dave.register_text(aka_auth(ch3, crypto::SecretString("nope"), ""))).status(), 401);
  // A forged AUTS: 403.
  const sip::Message& r4 = deliver(dave.via, dave.register_text(empty_aka));
  crypto::Auts forged{};
  EXPECT_EQ(deliver(dave.via, dave.register_text(aka_auth(challenges(r4)[0], crypto::SecretString(""),
                                                          crypto::encode_auts(forged))))
                .status(),
            403);
}

TEST_F(Core, AkaOnlySubscriberIsChallengedWithAka) {
  Ue dave{"dave", "", kPcscfA, kPathA, "sip:d1@d.invalid;transport=ws", "reg-dave"};
  const sip::Message& r = deliver(dave.via, dave.register_text(""));
  ASSERT_EQ(r.status(), 401);
  EXPECT_EQ(challenges(r)[0].algorithm, "AKAv2-MD5");
  EXPECT_EQ(core().aka_challenges(), 1u);
  advance(std::chrono::minutes(6));
  EXPECT_EQ(core().aka_challenges(), 0u);  // bounded in time
}

TEST_F(Core, TrustedNodeAuthentication) {
  std::string tna = "Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", uri=\"sip:ims.example.org\", "
                    "nonce=\"\", response=\"\", integrity-protected=\"auth-done\"";
  EXPECT_EQ(deliver(kStranger, alice.register_text(tna)).status(), 403);
  EXPECT_EQ(core().stats().auth_failures[size_t(AuthFailure::TnaRefused)], 1u);
  EXPECT_EQ(deliver(alice.via, alice.register_text(tna)).status(), 200);
  std::string with_wwsf = tna + ", authorization-entity=\"wwsf.example\"";
  EXPECT_EQ(deliver(alice.via, alice.register_text(with_wwsf)).status(), 403);  // no such WWSF in the store
  // The hook decides for trusted nodes.
  core().set_tna_policy([](const TnaRequest& r) {
    return TnaDecision{r.credentials.find_other("authorization-entity") != nullptr, "no WWSF"};
  });
  EXPECT_EQ(deliver(alice.via, alice.register_text(tna)).status(), 403);
  EXPECT_EQ(deliver(alice.via, alice.register_text(with_wwsf)).status(), 200);
}

// Scenarios 2 and 3 at the S-CSCF (protocols.md, TR 33.871 REQ 2.1-2.3, 3.2): the WWSF named by
// authorization-entity must be known, not blocked, and allowed for the subscription or own its pool.
class CoreTna : public Core {
 protected:
  CoreTna() {
    store->put_wwsf({"good.example", "", false, "", 1, 1});
    store->put_wwsf({"socialnet.example", "*@ims.example.org", false, "", 1, 1});
    store->put_wwsf({"blocked.example", "", true, "phishing", 1, 1});
    store->set_allowed_wwsf("alice@ims.example.org", {"good.example", "blocked.example"});
    auto guest = store::make_subscriber("pool1@ims.example.org", "ims.example.org", "unused-pw",
                                        {"sip:pool1@ims.example.org"}, 1);
    guest.pool_owner = "socialnet.example";
    store->put_subscriber(guest);
  }
  static std::string tna(const std::string& impi, const std::string& entity) {
    std::string t = "Digest username=\"" + impi + "\", realm=\"ims.example.org\", uri=\"sip:ims.example.org\", "
                    "nonce=\"\", response=\"\", integrity-protected=\"auth-done\"";
    if (!entity.empty()) t += ", authorization-entity=\"" + entity + "\"";
    return t;
  }
  // The status and reason phrase of alice's TNA REGISTER authorized by `entity`.
  std::pair<int, std::string> alice_by(const std::string& entity, const sip::Hop* from = nullptr) {
    const sip::Message& r = deliver(from ? *from : alice.via, alice.register_text(tna(alice.impi(), entity)));
    return {r.status(), std::string(r.reason())};
  }
  Ue pool1{"pool1", "", kPcscfB, kPathB, "sip:p1@p.invalid;transport=ws", "reg-pool1"};
};

using Outcome = std::pair<int, std::string>;

TEST_F(CoreTna, AllowedWwsfAndPoolOwnerAreAccepted) {
  EXPECT_EQ(alice_by("good.example").first, 200);  // scenario 2: in alice's allowed list
  EXPECT_EQ(alice_by("GOOD.Example").first, 200);  // host names compare case-insensitively
  EXPECT_EQ(alice_by("").first, 200);              // no WWSF: the trusted eP-CSCF's word (operator WAF)
  // Scenario 3: the pool owner registers a subscription of its pool.
  EXPECT_EQ(deliver(pool1.via, pool1.register_text(tna(pool1.impi(), "socialnet.example"))).status(), 200);
  EXPECT_EQ(core().bindings("sip:pool1@ims.example.org").size(), 1u);
}

TEST_F(CoreTna, EachRefusalNamesItsCheck) {
  EXPECT_EQ(alice_by("unknown.example"), (Outcome{403, "Authorization entity is not a known WWSF"}));
  EXPECT_EQ(alice_by("blocked.example"), (Outcome{403, "WWSF blocked"}));  // allowed, but blocked (REQ 2.2)
  EXPECT_EQ(alice_by("socialnet.example"), (Outcome{403, "WWSF not allowed for this subscription"}));
  // A pool subscription is not registered by another WWSF, even a known one.
  const sip::Message& r = deliver(pool1.via, pool1.register_text(tna(pool1.impi(), "good.example")));
  EXPECT_EQ(Outcome(r.status(), std::string(r.reason())), (Outcome{403, "WWSF not allowed for this subscription"}));
  // A good WWSF through an untrusted node is refused before any WWSF check.
  EXPECT_EQ(alice_by("good.example", &kStranger), (Outcome{403, "Trusted node authentication not allowed"}));
  EXPECT_EQ(core().stats().auth_failures[size_t(AuthFailure::TnaRefused)], 5u);
  EXPECT_EQ(core().registration_count(), 0u);
}

TEST_F(CoreTna, StoreChangesAreSeenWithoutRestart) {
  EXPECT_EQ(alice_by("good.example").first, 200);
  // `webims admin wwsf block` from another process: the WWSF counter moves and the core reloads.
  store->set_wwsf_blocked("good.example", true, "operator action", 5);
  advance(std::chrono::seconds(1));
  EXPECT_EQ(alice_by("good.example"), (Outcome{403, "WWSF blocked"}));
  store->set_wwsf_blocked("good.example", false, "", 6);
  advance(std::chrono::seconds(1));
  EXPECT_EQ(alice_by("good.example").first, 200);
  // `subscriber allow-wwsf --none`: the subscribers counter moves.
  store->set_allowed_wwsf("alice@ims.example.org", {});
  advance(std::chrono::seconds(1));
  EXPECT_EQ(alice_by("good.example"), (Outcome{403, "WWSF not allowed for this subscription"}));
  store->set_allowed_wwsf("alice@ims.example.org", {"good.example"});
  store->remove_wwsf("good.example");
  advance(std::chrono::seconds(1));
  EXPECT_EQ(alice_by("good.example"), (Outcome{403, "Authorization entity is not a known WWSF"}));
}

std::string request(const std::string& method, const std::string& ruri, const std::string& from_user,
                    const std::string& extra, int n = 1) {
  return crlf(method + " " + ruri + " SIP/2.0\n"
              "Via: SIP/2.0/TCP 10.0.0.50:5070;branch=z9hG4bKreq" + method + std::to_string(n) + "\n"
              "Via: SIP/2.0/WSS y.invalid;branch=z9hG4bKw" + std::to_string(n) + ";received=198.51.100.2\n"
              "Max-Forwards: 69\n"
              "From: <sip:" + from_user + "@ims.example.org>;tag=x" + std::to_string(n) + "\n"
              "To: <" + ruri + ">\n"
              "Call-ID: call-" + method + std::to_string(n) + "\n"
              "CSeq: 1 " + method + "\n" + extra + "Content-Length: 0\n\n");
}

const std::string kOrig = "Route: <sip:orig@10.0.0.100:5060;transport=tcp;lr>\n";

TEST_F(Core, RoutesMessageAndInviteThroughPath) {
  ASSERT_EQ(register_ue(alice).status(), 200);
  ASSERT_EQ(register_ue(bob).status(), 200);
  io.take();
  // bob -> alice, originating at bob's eP-CSCF, which asserts bob's identity.
  deliver(bob.via, request("MESSAGE", "sip:alice@ims.example.org", "bob",
                           kOrig + "P-Asserted-Identity: <sip:bob@ims.example.org>\n"));
  auto out = io.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, alice.via);  // alice's eP-CSCF connection, still up
  const sip::Message& m = out[0].second;
  EXPECT_EQ(m.request_uri(), "sip:a1@abc.invalid;transport=ws");
  EXPECT_EQ(m.values(sip::HeaderId::Route), std::vector<std::string_view>{kPathA});
  EXPECT_EQ(m.top_via()->host, "10.0.0.100");
  EXPECT_EQ(m.count(sip::HeaderId::RecordRoute), 0u);  // not dialog-forming
  EXPECT_EQ(m.max_forwards().value(), 68u);
  // alice's eP-CSCF answers 200: relayed to bob's.
  auto ok = sip::make_response(m, 200, {}, "alice-tag");
  core().on_message(alice.via, std::move(ok), now);
  out = io.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, bob.via);
  EXPECT_EQ(out[0].second.status(), 200);
  EXPECT_EQ(out[0].second.top_via()->host, "10.0.0.50");

  // INVITE: 100 Trying upstream, Record-Route of the core downstream.
  deliver(bob.via, request("INVITE", "sip:alice@ims.example.org", "bob",
                           kOrig + "P-Asserted-Identity: <sip:bob@ims.example.org>\n", 2));
  out = io.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].second.status(), 100);
  EXPECT_EQ(out[0].first, bob.via);
  EXPECT_EQ(out[1].first, alice.via);
  EXPECT_EQ(out[1].second.get(sip::HeaderId::RecordRoute), "<sip:10.0.0.100:5060;transport=tcp;lr>");
  EXPECT_EQ(core().stats().routed[size_t(sip::Method::Invite)], 1u);

  // When alice's eP-CSCF connection is gone, the Path URI's address is used.
  core().on_flow_closed(7, now);
  out = io.take();
  ASSERT_EQ(out.size(), 1u);  // the INVITE branch on flow 7 failed: 500 upstream (503 relayed as 500)
  EXPECT_EQ(out[0].second.status(), 500);
  deliver(bob.via, request("MESSAGE", "tel:+1-555-0001", "bob", kOrig + "P-Asserted-Identity: <sip:bob@ims.example.org>\n", 3));
  out = io.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, (sip::Hop{"TCP", ep("10.0.0.50:5070"), 0}));
  EXPECT_EQ(out[0].second.request_uri(), "sip:a1@abc.invalid;transport=ws");
}

TEST_F(Core, FailedFlowDropsTheBindingAndIsNotRelayed) {
  // RFC 5626 §5.3: the eP-CSCF answers 430 when the WIC's WebSocket is gone; the registrar drops
  // that binding and the caller never sees 430.
  ASSERT_EQ(register_ue(alice).status(), 200);
  ASSERT_EQ(register_ue(bob).status(), 200);
  io.take();
  deliver(bob.via, request("MESSAGE", "sip:alice@ims.example.org", "bob",
                           kOrig + "P-Asserted-Identity: <sip:bob@ims.example.org>\n"));
  auto out = io.take();
  ASSERT_EQ(out.size(), 1u);
  core().on_message(alice.via, sip::make_response(out[0].second, 430, "Flow Failed"), now);
  out = io.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, bob.via);
  EXPECT_EQ(out[0].second.status(), 480);
  EXPECT_TRUE(core().bindings("sip:alice@ims.example.org").empty());
  EXPECT_TRUE(store->registrations_for("sip:alice@ims.example.org").empty());
  // Next time alice is simply not registered.
  EXPECT_EQ(deliver(bob.via, request("MESSAGE", "sip:alice@ims.example.org", "bob",
                                     kOrig + "P-Asserted-Identity: <sip:bob@ims.example.org>\n", 2))
                .status(),
            480);
}

TEST_F(Core, ImpiOfAnUnauthenticatedRegisterComesFromTheHss) {
  // The IMPI is not the IMPU without "sip:" here; the HSS's IMPU -> IMPI mapping finds it.
  store->put_subscriber(store::make_subscriber("u00001", "ims.example.org", "secret",
                                               {"sip:u00001@ims.example.org"}, 1));
  Ue u{"u00001", "secret", kPcscfA, kPathA, "sip:u1@abc.invalid;transport=ws", "reg-u1"};
  EXPECT_EQ(deliver(u.via, u.register_text("")).status(), 401);
}

TEST_F(Core, RoutingRefusals) {
  ASSERT_EQ(register_ue(bob).status(), 200);
  io.take();
  auto pai = "P-Asserted-Identity: <sip:bob@ims.example.org>\n";
  EXPECT_EQ(deliver(bob.via, request("MESSAGE", "sip:nobody@ims.example.org", "bob", kOrig + pai)).status(), 404);
  EXPECT_EQ(deliver(bob.via, request("MESSAGE", "sip:carol@ims.example.org", "bob", kOrig + pai, 2)).status(), 480);
  EXPECT_EQ(deliver(bob.via, request("MESSAGE", "sip:x@elsewhere.example", "bob", kOrig + pai, 3)).status(), 403);
  // Originating for an unregistered user.
  EXPECT_EQ(deliver(bob.via, request("MESSAGE", "sip:bob@ims.example.org", "carol",
                                     kOrig + "P-Asserted-Identity: <sip:carol@ims.example.org>\n", 4))
                .status(),
            403);
  // A stranger cannot assert bob's identity: its P-Asserted-Identity is removed, From decides.
  EXPECT_EQ(deliver(kStranger, request("MESSAGE", "sip:bob@ims.example.org", "carol", kOrig + pai, 5)).status(), 403);
  // A Route to somewhere untrusted is not followed.
  EXPECT_EQ(deliver(bob.via, request("BYE", "sip:x@192.0.2.9", "bob",
                                     "Route: <sip:10.0.0.100:5060;transport=tcp;lr>, <sip:192.0.2.9;lr>\n", 6))
                .status(),
            403);
  // OPTIONS to the core itself.
  EXPECT_EQ(deliver(kStranger, request("OPTIONS", "sip:10.0.0.100:5060", "carol", "", 7)).status(), 200);
}

TEST_F(Core, InDialogRequestFollowsRouteToTrustedNode) {
  deliver(bob.via, request("BYE", "sip:a1@abc.invalid;transport=ws", "bob",
                           "Route: <sip:10.0.0.100:5060;transport=tcp;lr>, <sip:tokA@10.0.0.50:5070;transport=tcp;lr>\n"));
  ASSERT_EQ(io.sent.size(), 1u);
  EXPECT_EQ(io.sent[0].first, (sip::Hop{"TCP", ep("10.0.0.50:5070"), 0}));
  EXPECT_EQ(io.sent[0].second.get(sip::HeaderId::Route), "<sip:tokA@10.0.0.50:5070;transport=tcp;lr>");
}

TEST_F(Core, RegistrationsSurviveRestart) {
  auto dir = std::filesystem::temp_directory_path() / ("webims-core-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string url = "sqlite://" + (dir / "core.db").string();
  make_store(url);
  ASSERT_EQ(register_ue(alice).status(), 200);
  ASSERT_EQ(register_ue(bob).status(), 200);
  make_store(url);  // a new process: new store object, new logic
  io.take();
  EXPECT_EQ(core().registration_count(), 2u);
  deliver(bob.via, request("MESSAGE", "sip:alice@ims.example.org", "bob",
                           kOrig + "P-Asserted-Identity: <sip:bob@ims.example.org>\n"));
  ASSERT_EQ(io.sent.size(), 1u);
  // Flow ids of the old process mean nothing now: the Path URI is used.
  EXPECT_EQ(io.sent[0].first, (sip::Hop{"TCP", ep("10.0.0.50:5070"), 0}));
  logic.reset();
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(Core, WriteThroughWhenNoDelayAndWriteBehindOnStop) {
  cfg.registration_write_delay = std::chrono::milliseconds(0);
  ASSERT_EQ(register_ue(alice).status(), 200);
  EXPECT_EQ(store->registrations_for("sip:alice@ims.example.org").size(), 1u);  // before any timer
  logic.reset();
  cfg.registration_write_delay = std::chrono::seconds(5);
  ASSERT_EQ(register_ue(bob).status(), 200);
  EXPECT_TRUE(store->registrations_for("sip:bob@ims.example.org").empty());
  logic.reset();  // a clean stop writes what is queued
  EXPECT_EQ(store->registrations_for("sip:bob@ims.example.org").size(), 1u);
}

TEST_F(Core, AdminChangesToSubscribersAreSeenWithin100ms) {
  ASSERT_EQ(register_ue(alice).status(), 200);  // alice's subscription is cached now
  store->put_subscriber(store::make_subscriber("alice@ims.example.org", "ims.example.org", "new-pw",
                                               {"sip:alice@ims.example.org"}, 1));
  now.steady += std::chrono::milliseconds(100);  // the cache looks at the store every 100 ms
  Ue changed = alice;
  EXPECT_NE(register_ue(changed).status(), 200);  // the old password no longer works
  changed.password = "new-pw";
  EXPECT_EQ(register_ue(changed).status(), 200);
}

TEST_F(Core, AdminRemovalIsPickedUp) {
  ASSERT_EQ(register_ue(alice).status(), 200);
  store->remove_subscriber("alice@ims.example.org");
  core().poll_store(now);
  EXPECT_EQ(core().registration_count(), 0u);
}

TEST(Identity, CanonicalForms) {
  EXPECT_EQ(canonical_impu("sip:Alice@IMS.Example.org:5060;transport=tcp"), "sip:Alice@ims.example.org");
  EXPECT_EQ(canonical_impu("sip:%61lice@ims.example.org"), "sip:alice@ims.example.org");
  EXPECT_EQ(canonical_impu("tel:+1-555-(0001)"), "tel:+15550001");
  EXPECT_FALSE(canonical_impu("sip:ims.example.org"));
  EXPECT_FALSE(canonical_impu("urn:x"));
  EXPECT_EQ(impi_from_impu(*sip::parse_uri("sip:alice@IMS.example.org")), "alice@ims.example.org");
  EXPECT_FALSE(impi_from_impu(*sip::parse_uri("tel:+1555")));
  auto h = parse_hop("TCP 10.0.0.50:40001 flow 7");
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, kPcscfA);
  EXPECT_EQ(parse_hop(kPcscfA.to_string()), kPcscfA);
  EXPECT_EQ(parse_hop("UDP [2001:db8::1]:5060")->remote.port, 5060);
  EXPECT_FALSE(parse_hop("TCP nowhere"));
  EXPECT_FALSE(parse_hop("TCP 1.2.3.4:5 flow x"));
}

// Write-behind coalescing: a binding refreshed again before the write is written once, with the
// last values; a removal in between keeps the changes apart and in order.
TEST_F(Core, RefreshesBeforeTheWriteAreWrittenOnce) {
  ASSERT_EQ(register_ue(alice).status(), 200);
  ASSERT_EQ(register_ue(bob).status(), 200);
  ASSERT_EQ(register_ue(alice).status(), 200);
  EXPECT_EQ(core().unwritten_changes(), 2u);
  core().flush_store();
  EXPECT_EQ(core().unwritten_changes(), 0u);
  auto regs = store->registrations_for(alice.impu());
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].cseq, alice.cseq);
  EXPECT_EQ(store->registrations_for(bob.impu()).size(), 1u);

  ASSERT_EQ(register_ue(alice).status(), 200);
  auto ch = challenges(deliver(alice.via, alice.register_text("")))[0];
  ASSERT_EQ(deliver(alice.via, alice.register_text(alice.digest(ch), "0")).status(), 200);
  EXPECT_TRUE(core().bindings(alice.impu()).empty());
  ASSERT_EQ(register_ue(alice).status(), 200);
  EXPECT_EQ(core().unwritten_changes(), 3u);
  core().flush_store();
  regs = store->registrations_for(alice.impu());
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].cseq, alice.cseq);
  EXPECT_EQ(core().registration_count(), 2u);
}

}  // namespace
}  // namespace core
