#include "wic/user_agent.hpp"

#include <gtest/gtest.h>

#include "base/encoding.hpp"
#include "crypto/digest.hpp"
#include "crypto/hash.hpp"
#include "sip/auth.hpp"
#include "wic/sdp.hpp"

namespace wic {
namespace {

using namespace std::chrono_literals;

constexpr const char* kImpu = "sip:alice@ims.example.org";
constexpr const char* kRealm = "ims.example.org";
constexpr const char* kPassword = "alice-secret";

// TS 35.208 test set 1.
constexpr const char* kK = "465b5ce8b199b49faa5f0a2ee238a6bc";
constexpr const char* kOpc = "cd63cb71954a9f4e48a5994e37a02baf";

crypto::Milenage milenage() {
  auto k = crypto::K::from(*base::hex_decode(kK));
  auto opc = crypto::Opc::from(*base::hex_decode(kOpc));
  return std::move(crypto::Milenage::create(*k, *opc)).value();
}

base::Now at(int64_t s) { return {base::SteadyTime(std::chrono::seconds(1000 + s)), 1700000000 + s}; }

sip::Message parse(const std::string& text) {
  auto m = sip::parse_message(text);
  EXPECT_TRUE(m.ok()) << text;
  return std::move(m).value();
}

// The one message the UA has queued.
sip::Message sent(UserAgent& ua) {
  auto out = ua.take_outgoing();
  EXPECT_EQ(out.size(), 1u);
  if (out.empty()) return sip::Message();
  return parse(out.back());
}

std::vector<Event> events_of(UserAgent& ua, EventKind kind) {
  std::vector<Event> out;
  for (auto& e : ua.take_events())
    if (e.kind == kind) out.push_back(std::move(e));
  return out;
}

std::string reply(const sip::Message& req, int status, std::vector<std::pair<std::string, std::string>> headers = {},
                  std::string to_tag = "srvtag") {
  sip::Message r = sip::make_response(req, status, {}, status > 100 ? to_tag : "");
  for (auto& [n, v] : headers) r.append(n, v);
  return r.to_string();
}

struct Fixture : ::testing::Test {
  base::SeededRandom random{1234};
  UaConfig config() {
    UaConfig c;
    c.impu = kImpu;
    c.expires = 600;
    return c;
  }
  std::unique_ptr<UserAgent> digest_ua(UaConfig c) {
    Credentials cr;
    cr.password = crypto::SecretString(kPassword);
    return std::make_unique<UserAgent>(std::move(c), std::move(cr), random);
  }
  // The registrar's check of an Authorization (what the S-CSCF does with the stored HA1).
  static void expect_valid_digest(const sip::Message& req, crypto::DigestAlgorithm a, std::string_view password,
                                  std::string_view username = "alice@ims.example.org") {
    auto auth = req.get(sip::HeaderId::Authorization);
    ASSERT_TRUE(auth);
    auto cr = sip::parse_digest_credentials(*auth);
    ASSERT_TRUE(cr.ok()) << *auth;
    EXPECT_EQ(cr->username, username);
    EXPECT_EQ(cr->realm, kRealm);
    EXPECT_EQ(cr->uri, "sip:ims.example.org");
    EXPECT_EQ(cr->qop, "auth");
    EXPECT_EQ(cr->nc.size(), 8u);
    EXPECT_FALSE(cr->cnonce.empty());
    auto ha1 = crypto::digest_ha1(a, cr->username, cr->realm, crypto::view(password));
    crypto::DigestInput in{a, cr->username, cr->realm, cr->nonce, cr->uri, req.method(), cr->qop, cr->nc, cr->cnonce};
    EXPECT_TRUE(crypto::digest_verify(in, ha1.view(), cr->response).ok()) << *auth;
  }
};

TEST_F(Fixture, RegisterLooksLikeABrowserWic) {
  auto ua = digest_ua(config());
  ua->start_register(at(0));
  sip::Message reg = sent(*ua);
  EXPECT_EQ(reg.method(), "REGISTER");
  EXPECT_EQ(reg.request_uri(), "sip:ims.example.org");
  auto via = reg.top_via();
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(via->transport, "WSS");
  EXPECT_TRUE(via->host.ends_with(".invalid"));
  EXPECT_TRUE(via->rfc3261_branch());
  auto contacts = reg.contacts();
  ASSERT_TRUE(contacts.ok());
  ASSERT_EQ(contacts->size(), 1u);
  const auto& c = contacts->front();
  EXPECT_TRUE(c.uri.host.ends_with(".invalid"));
  EXPECT_EQ(c.uri.transport(), "ws");
  EXPECT_TRUE(c.uri.params.has("ob"));
  EXPECT_EQ(c.param("reg-id").value_or(""), "1");
  auto inst = c.param("+sip.instance");
  ASSERT_TRUE(inst);
  EXPECT_TRUE(inst->starts_with("<urn:uuid:"));
  EXPECT_EQ(reg.get(sip::HeaderId::Supported).value_or(""), "path, outbound, gruu");
  EXPECT_EQ(reg.get(sip::HeaderId::Expires).value_or(""), "600");
  EXPECT_EQ(reg.from()->uri.text, kImpu);
  EXPECT_FALSE(reg.from()->tag().empty());
  EXPECT_EQ(reg.to()->uri.text, kImpu);
  EXPECT_FALSE(reg.get(sip::HeaderId::Authorization));  // Digest without --impi: like JsSIP
  EXPECT_FALSE(reg.get(kTurnCredHeader));
}

TEST_F(Fixture, DigestMd5RegistrationWithTurnCredential) {
  auto c = config();
  c.request_turn_credential = true;
  auto ua = digest_ua(c);
  ua->start_register(at(0));
  sip::Message reg1 = sent(*ua);
  EXPECT_EQ(reg1.get(kTurnCredHeader).value_or(""), "request");
  ua->on_message(reply(reg1, 401, {{"WWW-Authenticate",
                                    "Digest realm=\"ims.example.org\", nonce=\"abc123\", algorithm=MD5, qop=\"auth\""}}),
                 at(1));
  sip::Message reg2 = sent(*ua);
  EXPECT_EQ(reg2.call_id().value(), reg1.call_id().value());
  EXPECT_EQ(reg2.cseq()->number, reg1.cseq()->number + 1);
  EXPECT_NE(reg2.top_via()->branch, reg1.top_via()->branch);
  EXPECT_EQ(reg2.get(kTurnCredHeader).value_or(""), "request");
  expect_valid_digest(reg2, crypto::DigestAlgorithm::Md5, kPassword);
  auto cr = sip::parse_digest_credentials(*reg2.get(sip::HeaderId::Authorization));
  EXPECT_EQ(cr->algorithm, "MD5");
  EXPECT_EQ(cr->nonce, "abc123");
  EXPECT_EQ(cr->nc, "00000001");

  std::string contact(reg2.get(sip::HeaderId::Contact).value());
  contact = contact.substr(0, contact.find(";expires="));  // the registrar states what it granted
  ua->on_message(reply(reg2, 200,
                       {{"Contact", contact + ";expires=300;pub-gruu=\"sip:alice@ims.example.org;gr=urn:uuid:1\""},
                        {"P-Associated-URI", "<sip:alice@ims.example.org>, <tel:+15551234>"},
                        {"Service-Route", "<sip:orig@scscf.ims.example.org;lr>"},
                        {"3gpp-ext-turn-cred", "tid0:1700086400:cHdk;uri=\"turn:127.0.0.1:3478?transport=udp\""}}),
                 at(2));
  auto evs = events_of(*ua, EventKind::Registered);
  ASSERT_EQ(evs.size(), 1u);
  const Event& e = evs[0];
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.registration.expires, 300u);
  EXPECT_EQ(e.registration.associated_uris, (std::vector<std::string>{"sip:alice@ims.example.org", "tel:+15551234"}));
  EXPECT_EQ(e.registration.service_routes, (std::vector<std::string>{"<sip:orig@scscf.ims.example.org;lr>"}));
  EXPECT_EQ(e.registration.pub_gruu, "sip:alice@ims.example.org;gr=urn:uuid:1");
  ASSERT_TRUE(e.turn);
  EXPECT_EQ(e.turn->username, "tid0:1700086400");
  EXPECT_EQ(e.turn->password, "cHdk");
  EXPECT_EQ(e.turn->expires, 1700086400);
  EXPECT_EQ(e.turn->uris, (std::vector<std::string>{"turn:127.0.0.1:3478?transport=udp"}));
  EXPECT_TRUE(ua->registered());
  // Refresh a minute before expiry, same Call-ID, next CSeq, no second TURN request.
  ASSERT_TRUE(ua->next_deadline());
  EXPECT_EQ(*ua->next_deadline(), at(2).steady + 240s);
  ua->on_timer(at(241));
  EXPECT_TRUE(ua->take_outgoing().empty());
  ua->on_timer(at(242));
  sip::Message reg3 = sent(*ua);
  EXPECT_EQ(reg3.call_id().value(), reg1.call_id().value());
  EXPECT_EQ(reg3.cseq()->number, reg2.cseq()->number + 1);
  EXPECT_FALSE(reg3.get(kTurnCredHeader));
  ua->on_message(reply(reg3, 200, {{"Expires", "600"}}), at(243));
  auto refreshed = events_of(*ua, EventKind::Refreshed);
  ASSERT_EQ(refreshed.size(), 1u);
  EXPECT_EQ(refreshed[0].registration.expires, 600u);

  ua->start_unregister(at(300));
  sip::Message dereg = sent(*ua);
  EXPECT_EQ(dereg.get(sip::HeaderId::Expires).value_or(""), "0");
  EXPECT_EQ(dereg.contacts()->front().param("expires").value_or(""), "0");
  ua->on_message(reply(dereg, 200), at(301));
  auto un = events_of(*ua, EventKind::Unregistered);
  ASSERT_EQ(un.size(), 1u);
  EXPECT_EQ(un[0].status, 200);
  EXPECT_FALSE(ua->registered());
  EXPECT_FALSE(ua->next_deadline());
}

TEST_F(Fixture, DigestSha256IsPreferredWhenListedFirst) {
  auto ua = digest_ua(config());
  ua->start_register(at(0));
  sip::Message reg1 = sent(*ua);
  ua->on_message(reply(reg1, 401,
                       {{"WWW-Authenticate", "Digest realm=\"ims.example.org\", nonce=\"n256\", algorithm=SHA-256, qop=\"auth\""},
                        {"WWW-Authenticate", "Digest realm=\"ims.example.org\", nonce=\"n5\", algorithm=MD5, qop=\"auth\""}}),
                 at(1));
  sip::Message reg2 = sent(*ua);
  expect_valid_digest(reg2, crypto::DigestAlgorithm::Sha256, kPassword);
  auto cr = sip::parse_digest_credentials(*reg2.get(sip::HeaderId::Authorization));
  EXPECT_EQ(cr->algorithm, "SHA-256");
  EXPECT_EQ(cr->nonce, "n256");
  EXPECT_EQ(cr->response.size(), 64u);
}

TEST_F(Fixture, ExplicitImpiIsTheUsernameAndGoesInTheFirstRegister) {
  auto c = config();
  c.impi = "alice.private@ims.example.org";
  c.initial_authorization = true;
  auto ua = digest_ua(c);
  ua->start_register(at(0));
  sip::Message reg1 = sent(*ua);
  auto first = sip::parse_digest_credentials(reg1.get(sip::HeaderId::Authorization).value_or(""));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->username, "alice.private@ims.example.org");
  EXPECT_EQ(first->nonce, "");
  EXPECT_EQ(first->response, "");
  ua->on_message(reply(reg1, 401, {{"WWW-Authenticate", "Digest realm=\"ims.example.org\", nonce=\"x\", qop=\"auth\""}}), at(1));
  sip::Message reg2 = sent(*ua);
  EXPECT_EQ(reg2.count(sip::HeaderId::Authorization), 1u);
  expect_valid_digest(reg2, crypto::DigestAlgorithm::Md5, kPassword, "alice.private@ims.example.org");
}

TEST_F(Fixture, WrongPasswordFailsOnTheSecondChallengeButStaleIsRetried) {
  auto ua = digest_ua(config());
  ua->start_register(at(0));
  std::string chal = "Digest realm=\"ims.example.org\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"";
  ua->on_message(reply(sent(*ua), 401, {{"WWW-Authenticate", chal}}), at(1));
  // stale=true: the same password with the new nonce (RFC 7616 §3.3).
  ua->on_message(reply(sent(*ua), 401,
                       {{"WWW-Authenticate", "Digest realm=\"ims.example.org\", nonce=\"n2\", stale=true, qop=\"auth\""}}),
                 at(2));
  sip::Message reg3 = sent(*ua);
  EXPECT_EQ(sip::parse_digest_credentials(*reg3.get(sip::HeaderId::Authorization))->nonce, "n2");
  ua->on_message(reply(reg3, 401, {{"WWW-Authenticate", chal}}), at(3));
  EXPECT_TRUE(ua->take_outgoing().empty());
  auto f = events_of(*ua, EventKind::RegistrationFailed);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].status, 401);
  EXPECT_NE(f[0].reason.find("credentials rejected"), std::string::npos);
  EXPECT_FALSE(ua->registered());
}

TEST_F(Fixture, ForbiddenAndTimeoutAreFailures) {
  auto ua = digest_ua(config());
  ua->start_register(at(0));
  ua->on_message(reply(sent(*ua), 403), at(1));
  auto f = events_of(*ua, EventKind::RegistrationFailed);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].status, 403);
  EXPECT_EQ(f[0].reason, "Forbidden");

  auto c = config();
  c.transaction_timeout = 5s;
  auto ua2 = digest_ua(c);
  ua2->start_register(at(0));
  ua2->take_outgoing();
  EXPECT_EQ(*ua2->next_deadline(), at(5).steady);
  ua2->on_timer(at(4));
  EXPECT_TRUE(events_of(*ua2, EventKind::RegistrationFailed).empty());
  ua2->on_timer(at(5));
  f = events_of(*ua2, EventKind::RegistrationFailed);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].status, 0);
  EXPECT_EQ(f[0].reason, "no response within 5 s");
}

TEST_F(Fixture, IntervalTooBriefRetriesWithMinExpires) {
  auto c = config();
  c.expires = 60;
  auto ua = digest_ua(c);
  ua->start_register(at(0));
  ua->on_message(reply(sent(*ua), 423, {{"Min-Expires", "300"}}), at(1));
  sip::Message reg2 = sent(*ua);
  EXPECT_EQ(reg2.get(sip::HeaderId::Expires).value_or(""), "300");
}

TEST_F(Fixture, ChallengeWeCannotAnswer) {
  auto ua = digest_ua(config());  // password only
  ua->start_register(at(0));
  ua->on_message(reply(sent(*ua), 401, {{"WWW-Authenticate", "Digest realm=\"r\", nonce=\"AAAA\", algorithm=AKAv2-MD5"}}),
                 at(1));
  auto f = events_of(*ua, EventKind::RegistrationFailed);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].status, 401);
  EXPECT_NE(f[0].reason.find("AKAv2-MD5"), std::string::npos);
}

// ---- AKA ----

struct AkaFixture : Fixture {
  crypto::Milenage hss = milenage();
  crypto::Amf amf{0x80, 0x00};
  crypto::Sqn sqn_he{};
  base::SeededRandom hss_random{99};

  std::unique_ptr<UserAgent> aka_ua(crypto::IsimSqnState state = {}) {
    Credentials cr;
    cr.isim.emplace(milenage(), state);
    return std::make_unique<UserAgent>(config(), std::move(cr), random);
  }
  crypto::AuthVector vector() { return std::move(crypto::generate_auth_vector(hss, sqn_he, amf, hss_random)).value(); }
  static std::string challenge(const crypto::AuthVector& v) {
    return "Digest realm=\"ims.example.org\", nonce=\"" + crypto::encode_aka_nonce(v.rand, v.autn) +
           "\", algorithm=AKAv2-MD5, qop=\"auth\"";
  }
  // The S-CSCF's check: HA1 from the AKAv2 password derived from XRES, IK, CK (RFC 4169).
  static void expect_valid_aka(const sip::Message& req, const crypto::AuthVector& v) {
    auto pw = crypto::aka_digest_password(crypto::AkaVersion::V2, v.xres, v.ik, v.ck);
    expect_valid_digest(req, crypto::DigestAlgorithm::Md5, pw.view());
    auto cr = sip::parse_digest_credentials(*req.get(sip::HeaderId::Authorization));
    EXPECT_EQ(cr->algorithm, "AKAv2-MD5");
    EXPECT_TRUE(cr->auts.empty());
  }
};

TEST_F(AkaFixture, AkaV2Registration) {
  auto ua = aka_ua();
  ua->start_register(at(0));
  sip::Message reg1 = sent(*ua);
  // TS 24.229 5.1.1.2.1: the IMPI in the first REGISTER.
  auto first = sip::parse_digest_credentials(reg1.get(sip::HeaderId::Authorization).value_or(""));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->username, "alice@ims.example.org");
  EXPECT_EQ(first->nonce, "");
  EXPECT_EQ(first->algorithm, "AKAv2-MD5");  // so the S-CSCF picks AKA over Digest
  auto v = vector();
  ua->on_message(reply(reg1, 401, {{"WWW-Authenticate", challenge(v)}}), at(1));
  sip::Message reg2 = sent(*ua);
  expect_valid_aka(reg2, v);
  auto state = ua->take_isim_state_if_changed();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->seq_ms[v.sqn.ind()], v.sqn.seq());
  EXPECT_FALSE(ua->take_isim_state_if_changed());
  ua->on_message(reply(reg2, 200), at(2));
  EXPECT_EQ(events_of(*ua, EventKind::Registered).size(), 1u);
}

TEST_F(AkaFixture, StaleSqnIsResynchronisedWithAuts) {
  // The ISIM has seen SEQ 100 (another device, or an HSS restored from a backup); the HSS is at 0.
  crypto::IsimSqnState state;
  state.seq_ms[0] = 100;
  auto ua = aka_ua(state);
  ua->start_register(at(0));
  sip::Message reg1 = sent(*ua);
  auto v1 = vector();
  ASSERT_EQ(v1.sqn.seq(), 1u);
  ua->on_message(reply(reg1, 401, {{"WWW-Authenticate", challenge(v1)}}), at(1));
  sip::Message reg2 = sent(*ua);
  auto cr = sip::parse_digest_credentials(*reg2.get(sip::HeaderId::Authorization));
  ASSERT_TRUE(cr.ok());
  ASSERT_FALSE(cr->auts.empty());
  // RFC 3310 §3.4: the response is computed with an empty password.
  expect_valid_digest(reg2, crypto::DigestAlgorithm::Md5, "");
  // The HSS recovers SQN_MS from AUTS and continues after it (TS 33.102 §6.3.5).
  auto auts = crypto::decode_auts(cr->auts);
  ASSERT_TRUE(auts.ok());
  auto sqn_ms = crypto::recover_sqn_ms(hss, v1.rand, *auts);
  ASSERT_TRUE(sqn_ms.ok());
  EXPECT_EQ(sqn_ms->seq(), 100u);
  sqn_he = crypto::resynchronised_sqn_he(sqn_he, *sqn_ms);
  auto v2 = vector();
  EXPECT_EQ(v2.sqn.seq(), 101u);
  ua->on_message(reply(reg2, 401, {{"WWW-Authenticate", challenge(v2)}}), at(2));
  sip::Message reg3 = sent(*ua);
  expect_valid_aka(reg3, v2);
  ua->on_message(reply(reg3, 200), at(3));
  EXPECT_EQ(events_of(*ua, EventKind::Registered).size(), 1u);
  auto saved = ua->take_isim_state_if_changed();
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->seq_ms[0], 101u);
  // The state file round-trips.
  auto reread = parse_sqn_state(format_sqn_state(*saved));
  ASSERT_TRUE(reread);
  EXPECT_EQ(reread->seq_ms, saved->seq_ms);
}

TEST_F(AkaFixture, ForgedAutnIsNotAnswered) {
  auto ua = aka_ua();
  ua->start_register(at(0));
  sip::Message reg1 = sent(*ua);
  auto v = vector();
  v.autn[15] ^= 1;  // MAC-A no longer verifies
  ua->on_message(reply(reg1, 401, {{"WWW-Authenticate", challenge(v)}}), at(1));
  EXPECT_TRUE(ua->take_outgoing().empty());
  auto f = events_of(*ua, EventKind::RegistrationFailed);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].reason.find("MAC-A"), std::string::npos);
}

TEST(SqnState, RejectsBadText) {
  EXPECT_TRUE(parse_sqn_state(""));
  EXPECT_TRUE(parse_sqn_state("# only a comment\n\n 3 7 \n"));
  EXPECT_EQ(parse_sqn_state("3 7\n")->seq_ms[3], 7u);
  EXPECT_FALSE(parse_sqn_state("32 1\n"));
  EXPECT_FALSE(parse_sqn_state("1\n"));
  EXPECT_FALSE(parse_sqn_state("1 x\n"));
  EXPECT_FALSE(parse_sqn_state("1 9999999999999999\n"));  // beyond 43 bits
}

// ---- after registration ----

struct RegisteredFixture : Fixture {
  std::unique_ptr<UserAgent> ua;
  void SetUp() override {
    ua = digest_ua(config());
    ua->start_register(at(0));
    ua->on_message(reply(sent(*ua), 200), at(1));
    ASSERT_TRUE(ua->registered());
    ua->take_events();
  }
};

TEST_F(RegisteredFixture, OptionsAsksForATurnCredential) {
  std::string call_id = ua->send_options(true, at(2));
  sip::Message opt = sent(*ua);
  EXPECT_EQ(opt.method(), "OPTIONS");
  EXPECT_EQ(opt.request_uri(), "sip:ims.example.org");
  EXPECT_EQ(opt.get(kTurnCredHeader).value_or(""), "request");
  EXPECT_EQ(opt.call_id().value(), call_id);
  ua->on_message(reply(opt, 200, {{"3gpp-ext-turn-cred", "t1:1700086400:c2VjcmV0;uri=\"turn:h:3478\""}}), at(3));
  auto done = events_of(*ua, EventKind::RequestDone);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].method, "OPTIONS");
  EXPECT_EQ(done[0].status, 200);
  EXPECT_EQ(done[0].call_id, call_id);
  ASSERT_TRUE(done[0].turn);
  EXPECT_EQ(done[0].turn->password, "c2VjcmV0");
}

TEST_F(RegisteredFixture, MessageOutAndIn) {
  ua->send_message("sip:bob@ims.example.org", "text/plain", "hello", at(2));
  sip::Message msg = sent(*ua);
  EXPECT_EQ(msg.method(), "MESSAGE");
  EXPECT_EQ(msg.request_uri(), "sip:bob@ims.example.org");
  EXPECT_EQ(msg.get(sip::HeaderId::ContentType).value_or(""), "text/plain");
  EXPECT_EQ(msg.body(), "hello");
  EXPECT_EQ(msg.from()->uri.text, kImpu);
  ua->on_message(reply(msg, 202), at(3));
  auto done = events_of(*ua, EventKind::RequestDone);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, 202);

  ua->on_message(
      "MESSAGE sip:x@y.invalid;transport=ws SIP/2.0\r\n"
      "Via: SIP/2.0/WSS pcscf.example.org;branch=z9hG4bKin1\r\n"
      "From: <sip:bob@ims.example.org>;tag=b1\r\nTo: <sip:alice@ims.example.org>\r\n"
      "Call-ID: m1\r\nCSeq: 7 MESSAGE\r\nMax-Forwards: 69\r\nContent-Type: text/plain\r\n\r\nhi alice",
      at(4));
  sip::Message ok = sent(*ua);
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.top_via()->branch, "z9hG4bKin1");
  EXPECT_FALSE(ok.to()->tag().empty());
  auto in = events_of(*ua, EventKind::IncomingMessage);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].peer, "sip:bob@ims.example.org");
  EXPECT_EQ(in[0].body, "hi alice");
}

TEST_F(RegisteredFixture, ChallengedMessageIsResentWithProxyAuthorization) {
  ua->send_message("sip:bob@ims.example.org", "text/plain", "hello", at(2));
  sip::Message m1 = sent(*ua);
  ua->on_message(reply(m1, 407, {{"Proxy-Authenticate", "Digest realm=\"ims.example.org\", nonce=\"p1\", qop=\"auth\""}}),
                 at(3));
  sip::Message m2 = sent(*ua);
  EXPECT_EQ(m2.cseq()->number, 2u);
  auto pa = m2.get(sip::HeaderId::ProxyAuthorization);
  ASSERT_TRUE(pa);
  auto cr = sip::parse_digest_credentials(*pa);
  ASSERT_TRUE(cr.ok());
  EXPECT_EQ(cr->uri, "sip:bob@ims.example.org");
  auto ha1 = crypto::digest_ha1(crypto::DigestAlgorithm::Md5, cr->username, cr->realm, crypto::view(kPassword));
  crypto::DigestInput in{crypto::DigestAlgorithm::Md5, cr->username, cr->realm, cr->nonce, cr->uri, "MESSAGE",
                         cr->qop, cr->nc, cr->cnonce};
  EXPECT_TRUE(crypto::digest_verify(in, ha1.view(), cr->response).ok());
}

TEST_F(RegisteredFixture, OutgoingCallAnsweredThenHungUp) {
  std::string sdp = make_sdp(random, true);
  EXPECT_NE(sdp.find("a=3ge2ae:requested\r\n"), std::string::npos);
  EXPECT_NE(sdp.find("a=fingerprint:sha-256 "), std::string::npos);
  EXPECT_NE(sdp.find("a=ice-ufrag:"), std::string::npos);
  std::string call_id = ua->invite("sip:bob@ims.example.org", sdp, at(2));
  sip::Message inv = sent(*ua);
  EXPECT_EQ(inv.method(), "INVITE");
  EXPECT_EQ(inv.body(), sdp);
  EXPECT_EQ(inv.get(sip::HeaderId::ContentType).value_or(""), "application/sdp");
  ASSERT_TRUE(inv.contacts().ok());
  ua->on_message(reply(inv, 100, {}, ""), at(2));
  ua->on_message(reply(inv, 180, {{"Record-Route", "<sip:core.example.org;lr>, <sip:pcscf.example.org;lr;ft=abc>"}}),
                 at(3));
  auto progress = events_of(*ua, EventKind::CallProgress);
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[1].status, 180);
  EXPECT_EQ(*ua->next_deadline(), at(541).steady);  // Timer B stopped: only the registration refresh
  ua->on_message(reply(inv, 200,
                       {{"Record-Route", "<sip:core.example.org;lr>, <sip:pcscf.example.org;lr;ft=abc>"},
                        {"Contact", "<sip:bobdev@b.invalid;transport=ws;ob>"},
                        {"Content-Type", "application/sdp"}}),
                 at(4));
  sip::Message ack = sent(*ua);
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.request_uri(), "sip:bobdev@b.invalid;transport=ws;ob");
  EXPECT_EQ(ack.cseq()->number, 1u);
  EXPECT_EQ(ack.to()->tag(), "srvtag");
  EXPECT_NE(ack.top_via()->branch, inv.top_via()->branch);
  EXPECT_EQ(ack.values(sip::HeaderId::Route),
            (std::vector<std::string_view>{"<sip:pcscf.example.org;lr;ft=abc>", "<sip:core.example.org;lr>"}));
  auto answered = events_of(*ua, EventKind::CallAnswered);
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].call_id, call_id);

  // The 2xx again (a proxy's retransmission): the same ACK again.
  ua->on_message(reply(inv, 200, {{"Contact", "<sip:bobdev@b.invalid;transport=ws;ob>"}}), at(5));
  EXPECT_EQ(sent(*ua).to_string(), ack.to_string());

  ASSERT_TRUE(ua->bye(call_id, at(10)));
  sip::Message bye = sent(*ua);
  EXPECT_EQ(bye.method(), "BYE");
  EXPECT_EQ(bye.cseq()->number, 2u);
  EXPECT_EQ(bye.request_uri(), "sip:bobdev@b.invalid;transport=ws;ob");
  EXPECT_EQ(bye.values(sip::HeaderId::Route).size(), 2u);
  ua->on_message(reply(bye, 200), at(11));
  auto ended = events_of(*ua, EventKind::CallEnded);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].status, 200);
  EXPECT_FALSE(ended[0].remote);
  EXPECT_EQ(ua->dialog_count(), 0u);
}

TEST_F(RegisteredFixture, CancelWaitsForAProvisionalThenAcksThe487) {
  std::string call_id = ua->invite("sip:bob@ims.example.org", make_sdp(random, true), at(2));
  sip::Message inv = sent(*ua);
  ASSERT_TRUE(ua->cancel(call_id, at(3)));
  EXPECT_TRUE(ua->take_outgoing().empty());  // RFC 3261 §9.1: not before a provisional
  ua->on_message(reply(inv, 180), at(4));
  sip::Message cancel = sent(*ua);
  EXPECT_EQ(cancel.method(), "CANCEL");
  EXPECT_EQ(cancel.top_via()->branch, inv.top_via()->branch);
  EXPECT_EQ(cancel.request_uri(), inv.request_uri());
  EXPECT_EQ(cancel.cseq()->number, inv.cseq()->number);
  EXPECT_TRUE(cancel.to()->tag().empty());
  ua->on_message(reply(cancel, 200), at(5));
  EXPECT_TRUE(ua->take_outgoing().empty());
  ua->on_message(reply(inv, 487), at(5));
  sip::Message ack = sent(*ua);
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.top_via()->branch, inv.top_via()->branch);  // ACK for a non-2xx: same branch
  EXPECT_EQ(ack.to()->tag(), "srvtag");
  auto failed = events_of(*ua, EventKind::CallFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, 487);
  EXPECT_EQ(ua->dialog_count(), 0u);
}

TEST_F(RegisteredFixture, IncomingCallAnsweredConfirmedAndEndedByThePeer) {
  std::string invite =
      "INVITE sip:x@y.invalid;transport=ws SIP/2.0\r\n"
      "Via: SIP/2.0/WSS pcscf.example.org;branch=z9hG4bKinv1\r\n"
      "Record-Route: <sip:pcscf.example.org;lr;ft=f1>\r\n"
      "From: <sip:bob@ims.example.org>;tag=b1\r\nTo: <sip:alice@ims.example.org>\r\n"
      "Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 69\r\n"
      "Contact: <sip:bobdev@b.invalid;transport=ws;ob>\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n";
  ua->on_message(invite, at(2));
  sip::Message ringing = sent(*ua);
  EXPECT_EQ(ringing.status(), 180);
  std::string tag(ringing.to()->tag());
  EXPECT_FALSE(tag.empty());
  EXPECT_EQ(ringing.get(sip::HeaderId::RecordRoute).value_or(""), "<sip:pcscf.example.org;lr;ft=f1>");
  auto in = events_of(*ua, EventKind::IncomingCall);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].call_id, "c1");
  EXPECT_EQ(in[0].peer, "sip:bob@ims.example.org");
  EXPECT_EQ(in[0].body, "v=0\r\n");

  std::string answer = make_sdp(random, false);
  EXPECT_EQ(answer.find("3ge2ae"), std::string::npos);
  ASSERT_TRUE(ua->answer("c1", answer, at(3)));
  sip::Message ok = sent(*ua);
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.to()->tag(), tag);
  EXPECT_EQ(ok.body(), answer);
  EXPECT_TRUE(ok.contacts().ok());
  EXPECT_EQ(ok.get(sip::HeaderId::RecordRoute).value_or(""), "<sip:pcscf.example.org;lr;ft=f1>");
  EXPECT_EQ(*ua->next_deadline(), at(3).steady + 32s);  // waiting for the ACK

  ua->on_message("ACK sip:x@y.invalid;transport=ws SIP/2.0\r\n"
                 "Via: SIP/2.0/WSS pcscf.example.org;branch=z9hG4bKack1\r\n"
                 "From: <sip:bob@ims.example.org>;tag=b1\r\nTo: <sip:alice@ims.example.org>;tag=" + tag + "\r\n"
                 "Call-ID: c1\r\nCSeq: 1 ACK\r\nMax-Forwards: 69\r\n\r\n",
                 at(4));
  EXPECT_TRUE(ua->take_outgoing().empty());
  EXPECT_EQ(events_of(*ua, EventKind::CallConfirmed).size(), 1u);
  EXPECT_FALSE(ua->next_deadline() && *ua->next_deadline() < at(100).steady);

  ua->on_message("BYE sip:x@y.invalid;transport=ws SIP/2.0\r\n"
                 "Via: SIP/2.0/WSS pcscf.example.org;branch=z9hG4bKbye1\r\n"
                 "From: <sip:bob@ims.example.org>;tag=b1\r\nTo: <sip:alice@ims.example.org>;tag=" + tag + "\r\n"
                 "Call-ID: c1\r\nCSeq: 2 BYE\r\nMax-Forwards: 69\r\n\r\n",
                 at(5));
  EXPECT_EQ(sent(*ua).status(), 200);
  auto ended = events_of(*ua, EventKind::CallEnded);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].remote);
  EXPECT_EQ(ua->dialog_count(), 0u);
}

TEST_F(RegisteredFixture, IncomingCallCancelledByTheCaller) {
  std::string head =
      "sip:x@y.invalid;transport=ws SIP/2.0\r\n"
      "Via: SIP/2.0/WSS pcscf.example.org;branch=z9hG4bKinv2\r\n"
      "From: <sip:bob@ims.example.org>;tag=b2\r\nTo: <sip:alice@ims.example.org>\r\n"
      "Call-ID: c2\r\nMax-Forwards: 69\r\n";
  ua->on_message("INVITE " + head + "CSeq: 1 INVITE\r\nContact: <sip:b@b.invalid;transport=ws>\r\n\r\n", at(2));
  EXPECT_EQ(sent(*ua).status(), 180);
  ua->on_message("CANCEL " + head + "CSeq: 1 CANCEL\r\n\r\n", at(3));
  auto out = ua->take_outgoing();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(parse(out[0]).status(), 200);
  EXPECT_EQ(parse(out[0]).cseq()->method, "CANCEL");
  EXPECT_EQ(parse(out[1]).status(), 487);
  EXPECT_EQ(parse(out[1]).cseq()->method, "INVITE");
  auto ended = events_of(*ua, EventKind::CallEnded);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].status, 487);
  EXPECT_EQ(ua->dialog_count(), 0u);
}

TEST_F(RegisteredFixture, StraysAndGarbage) {
  ua->on_message("BYE sip:x@y.invalid SIP/2.0\r\nVia: SIP/2.0/WSS p;branch=z9hG4bKs\r\nFrom: <sip:b@x>;tag=1\r\n"
                 "To: <sip:a@x>;tag=2\r\nCall-ID: nope\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\n\r\n",
                 at(2));
  EXPECT_EQ(sent(*ua).status(), 481);
  ua->on_message("SUBSCRIBE sip:x@y.invalid SIP/2.0\r\nVia: SIP/2.0/WSS p;branch=z9hG4bKs2\r\nFrom: <sip:b@x>;tag=1\r\n"
                 "To: <sip:a@x>\r\nCall-ID: s\r\nCSeq: 1 SUBSCRIBE\r\nMax-Forwards: 70\r\n\r\n",
                 at(2));
  sip::Message r = sent(*ua);
  EXPECT_EQ(r.status(), 405);
  EXPECT_TRUE(r.get(sip::HeaderId::Allow));
  ua->on_message("this is not SIP", at(3));
  ua->on_message("SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bKunknown\r\nFrom: <sip:a@x>;tag=1\r\n"
                 "To: <sip:a@x>\r\nCall-ID: q\r\nCSeq: 9 REGISTER\r\n\r\n",
                 at(3));
  EXPECT_TRUE(ua->take_outgoing().empty());
  EXPECT_EQ(events_of(*ua, EventKind::Notice).size(), 2u);
}

TEST(Redact, MasksDigestResponsesAndTurnPasswords) {
  std::string msg =
      "REGISTER sip:ims.example.org SIP/2.0\r\n"
      "Authorization: Digest username=\"alice\", realm=\"r\", uri=\"sip:r\", nonce=\"n\", response=\"0123abcd\", "
      "qop=auth\r\n"
      "proxy-authorization: Digest username=\"alice\", response=feedbeef, nc=00000001\r\n"
      "3gpp-ext-turn-cred: tid:1700000000:c2VjcmV0;uri=\"turn:h\"\r\n"
      "Content-Length: 0\r\n\r\n";
  std::string r = redact_for_log(msg);
  EXPECT_EQ(r.find("0123abcd"), std::string::npos);
  EXPECT_EQ(r.find("feedbeef"), std::string::npos);
  EXPECT_EQ(r.find("c2VjcmV0"), std::string::npos);
  EXPECT_NE(r.find("response=\"***\", qop=auth\r\n"), std::string::npos);
  EXPECT_NE(r.find("response=***, nc=00000001\r\n"), std::string::npos);
  EXPECT_NE(r.find("3gpp-ext-turn-cred: tid:1700000000:***;uri=\"turn:h\"\r\n"), std::string::npos);
  EXPECT_EQ(redact_for_log("3gpp-ext-turn-cred: request\r\n"), "3gpp-ext-turn-cred: request\r\n");
}

TEST(InstanceId, IsAVersion4Uuid) {
  base::SeededRandom r(5);
  std::string id = random_instance_id(r);
  ASSERT_EQ(id.size(), 9u + 36u);
  EXPECT_EQ(id.substr(0, 9), "urn:uuid:");
  EXPECT_EQ(id[9 + 14], '4');
  EXPECT_TRUE(std::string("89ab").find(id[9 + 19]) != std::string::npos);
}

}  // namespace
}  // namespace wic
