// Drives the eP-CSCF logic as a WIC on a WebSocket and an IMS core on TCP would.
#include "pcscf/logic/pcscf_logic.hpp"

#include <gtest/gtest.h>

#include "pcscf/logic/test_support.hpp"
#include "sip/message.hpp"

using namespace pcscf;
using namespace pcscf::test;
using namespace std::chrono_literals;

namespace {

std::string register_request(const std::string& user, int cseq, const std::string& extra = "") {
  return "REGISTER sip:ims.example.org SIP/2.0\r\n"
         "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKreg" + user + std::to_string(cseq) + "\r\n"
         "Max-Forwards: 70\r\n"
         "To: <sip:" + user + "@ims.example.org>\r\n"
         "From: <sip:" + user + "@ims.example.org>;tag=abc\r\n"
         "Call-ID: reg-" + user + "\r\n"
         "CSeq: " + std::to_string(cseq) + " REGISTER\r\n"
         "Contact: <sip:x1@df7jal23ls0d.invalid;transport=ws;ob>;+sip.instance=\"<urn:uuid:1>\";reg-id=1;expires=600\r\n"
         "Supported: outbound\r\n" + extra +
         "Content-Length: 0\r\n\r\n";
}

std::string request(const std::string& method, const std::string& from, const std::string& to, const std::string& extra = "") {
  static int n = 0;  // a new transaction each time
  ++n;
  return method + " sip:" + to + " SIP/2.0\r\n"
         "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK" + method + std::to_string(n) + "\r\n"
         "Max-Forwards: 70\r\n"
         "To: <sip:" + to + ">\r\n"
         "From: <sip:" + from + ">;tag=f1\r\n"
         "Call-ID: c-" + method + "-" + std::to_string(n) + "\r\n"
         "CSeq: 1 " + method + "\r\n" + extra +
         "Content-Length: 0\r\n\r\n";
}

class PcscfLogicTest : public PcscfFixture {
 protected:
  PcscfLogicTest() : PcscfFixture(3) {
    settings.turn_policy.uris = {"turn:127.0.0.1:3478?transport=udp"};
    logic = std::make_unique<PcscfLogic>(settings, io, rnd);
    logic->on_ws_open({1, *base::Endpoint::parse("192.0.2.7:50001"), true, "https://localhost:8443", "sess1"});
    logic->on_ws_open({2, *base::Endpoint::parse("192.0.2.8:50002"), true, "https://localhost:8443", "sess2"});
  }

  void register_alice(bool turn = false) {
    from_wic(1, register_request("alice", 1, turn ? "3gpp-ext-turn-cred: request\r\n" : ""));
    core_answers(200,
                 "Contact: <sip:x1@df7jal23ls0d.invalid;transport=ws;ob>;expires=600\r\n"
                 "P-Associated-URI: <sip:alice@ims.example.org>, <tel:+15551234>\r\n"
                 "Service-Route: <sip:orig@127.0.0.1:5060;transport=tcp;lr>\r\n");
  }
};

}  // namespace

TEST_F(PcscfLogicTest, RegisterIsRelayedWithPathAndTheChallengeComesBack) {
  from_wic(1, register_request("alice", 1, "3gpp-ext-turn-cred: request\r\nP-Asserted-Identity: <sip:ceo@ims.example.org>\r\n"));
  ASSERT_EQ(io.core.size(), 1u);
  EXPECT_EQ(io.core[0].first.remote.to_string(), "127.0.0.1:5060");
  sip::Message fwd = parse(io.core[0].second);
  auto path = fwd.name_addrs(sip::HeaderId::Path);
  ASSERT_TRUE(path && path->size() == 1);
  EXPECT_EQ((*path)[0].uri.host, "127.0.0.1");
  EXPECT_TRUE((*path)[0].uri.lr());
  EXPECT_TRUE((*path)[0].uri.has_user);  // the flow token
  EXPECT_EQ(fwd.vias()->size(), 2u);
  EXPECT_FALSE(fwd.get("3gpp-ext-turn-cred"));  // not for the core
  EXPECT_FALSE(fwd.get(sip::HeaderId::PAssertedIdentity));
  core_answers(401, "WWW-Authenticate: Digest realm=\"ims.example.org\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"\r\n");
  sip::Message r = last_to_wic(1);
  EXPECT_EQ(r.status(), 401);
  EXPECT_EQ(r.vias()->size(), 1u);
  EXPECT_TRUE(r.get(sip::HeaderId::WWWAuthenticate));
  EXPECT_FALSE(r.get("3gpp-ext-turn-cred"));  // never on a 401
  EXPECT_FALSE(logic->bindings().has_any(1));
}

TEST_F(PcscfLogicTest, TwoHundredBindsIdentitiesAndCarriesTheTurnCredential) {
  register_alice(true);
  sip::Message r = last_to_wic(1);
  ASSERT_EQ(r.status(), 200);
  auto h = r.get("3gpp-ext-turn-cred");
  ASSERT_TRUE(h);
  // <Tid>:<Texp>:<Tpwd>;uri="..."
  std::string v(*h);
  auto first = v.find(':'), second = v.find(':', first + 1), semi = v.find(';');
  std::string username = v.substr(0, second), password = v.substr(second + 1, semi - second - 1);
  EXPECT_EQ(password, token::ephemeral_password(*settings.turn_key, username));
  int64_t texp = std::stoll(v.substr(first + 1, second - first - 1));
  EXPECT_EQ(texp, 1'900'000'000 + 600 + 3600);  // registration expiry + grace
  EXPECT_NE(v.find(";uri=\"turn:127.0.0.1:3478?transport=udp\""), std::string::npos);
  ASSERT_EQ(io.records.size(), 1u);
  EXPECT_EQ(io.records[0].impu, "sip:alice@ims.example.org");
  EXPECT_EQ(io.records[0].tid, v.substr(0, first));
  EXPECT_TRUE(logic->bindings().find(1, "sip:alice@ims.example.org"));
  EXPECT_TRUE(logic->bindings().find(1, "tel:+15551234"));
  EXPECT_FALSE(logic->bindings().find(2, "sip:alice@ims.example.org"));
}

TEST_F(PcscfLogicTest, BoundIdentitiesMayOriginateWithAssertedIdentity) {
  register_alice();
  io.core.clear();
  from_wic(1, request("MESSAGE", "alice@ims.example.org", "bob@ims.example.org",
                      "P-Asserted-Identity: <sip:ceo@ims.example.org>\r\n"));
  ASSERT_EQ(io.core.size(), 1u);
  sip::Message fwd = parse(io.core[0].second);
  auto pai = fwd.name_addrs(sip::HeaderId::PAssertedIdentity);
  ASSERT_TRUE(pai && pai->size() == 1);
  EXPECT_EQ((*pai)[0].uri.text, "sip:alice@ims.example.org");  // ours, not the WIC's
  // An INVITE gets our Record-Route.
  from_wic(1, request("INVITE", "alice@ims.example.org", "bob@ims.example.org"));
  sip::Message inv = parse(io.core.back().second);
  EXPECT_EQ(inv.record_routes()->size(), 1u);
}

TEST_F(PcscfLogicTest, UnboundIdentitiesAreRefused) {
  register_alice();
  io.core.clear();
  // From someone else, on alice's connection.
  from_wic(1, request("INVITE", "bob@ims.example.org", "carol@ims.example.org"));
  EXPECT_TRUE(io.core.empty());
  EXPECT_EQ(last_to_wic(1).status(), 403);
  // Alice's identity on another (unregistered) connection.
  from_wic(2, request("MESSAGE", "alice@ims.example.org", "bob@ims.example.org"));
  EXPECT_TRUE(io.core.empty());
  EXPECT_EQ(last_to_wic(2).status(), 403);
  // P-Preferred-Identity naming an unbound identity.
  from_wic(1, request("MESSAGE", "alice@ims.example.org", "bob@ims.example.org",
                      "P-Preferred-Identity: <sip:bob@ims.example.org>\r\n"));
  EXPECT_TRUE(io.core.empty());
  EXPECT_EQ(logic->stats().refused_unbound_identity, 3u);
  // Closing the connection ends the binding.
  logic->on_ws_closed(1, now());
  EXPECT_FALSE(logic->bindings().has_any(1));
}

TEST_F(PcscfLogicTest, OptionsGetsACredentialOnlyWhenBound) {
  from_wic(2, request("OPTIONS", "alice@ims.example.org", "ims.example.org", "3gpp-ext-turn-cred: request\r\n"));
  sip::Message r = last_to_wic(2);
  EXPECT_EQ(r.status(), 403);
  EXPECT_FALSE(r.get("3gpp-ext-turn-cred"));
  register_alice();
  io.core.clear();
  from_wic(1, request("OPTIONS", "alice@ims.example.org", "ims.example.org", "3gpp-ext-turn-cred: request\r\n"));
  EXPECT_TRUE(io.core.empty());  // answered by the eP-CSCF
  sip::Message ok = last_to_wic(1);
  EXPECT_EQ(ok.status(), 200);
  EXPECT_TRUE(ok.get("3gpp-ext-turn-cred"));
  EXPECT_EQ(io.records.size(), 1u);
}

TEST_F(PcscfLogicTest, RequestsFromTheCoreFollowTheFlowToken) {
  register_alice();
  sip::Message reg = parse(io.core.front().second);
  std::string path = std::string((*reg.name_addrs(sip::HeaderId::Path))[0].uri.text);
  int n = 0;
  auto deliver = [&](const std::string& route) {
    ++n;
    std::string inv = "INVITE sip:x1@df7jal23ls0d.invalid;transport=ws SIP/2.0\r\n"
                      "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcore" + std::to_string(n) + "\r\n"
                      "Max-Forwards: 69\r\nRoute: <" + route + ">\r\n"
                      "To: <sip:alice@ims.example.org>\r\nFrom: <sip:bob@ims.example.org>;tag=b1\r\n"
                      "Call-ID: inv" + std::to_string(n) + "\r\nCSeq: 1 INVITE\r\n"
                      "Contact: <sip:bob@192.0.2.9>\r\nContent-Length: 0\r\n\r\n";
    logic->on_sip_message({"TCP", *base::Endpoint::parse("127.0.0.1:5060"), 11}, parse(inv), now());
  };
  size_t before = io.ws.size();
  deliver(path);
  ASSERT_GT(io.ws.size(), before);
  sip::Message got = parse(io.ws.back().second);
  EXPECT_EQ(io.ws.back().first, 1u);
  EXPECT_EQ(got.method(), "INVITE");
  EXPECT_FALSE(got.get(sip::HeaderId::Route));  // our Path entry consumed
  EXPECT_EQ(got.record_routes()->size(), 1u);
  // A forged token: 404; a closed flow: 430.
  std::string forged = path;
  forged[5] = forged[5] == 'A' ? 'B' : 'A';
  deliver(forged);
  EXPECT_EQ(parse(io.core.back().second).status(), 404);
  logic->on_ws_closed(1, now());
  deliver(path);
  EXPECT_EQ(parse(io.core.back().second).status(), 430);
}

TEST_F(PcscfLogicTest, MalformedSipGets400OrTheConnectionClosed) {
  from_wic(1,
           "MESSAGE sip:bob@ims.example.org SIP/2.0\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK9\r\n"
           "From: <sip:alice@ims.example.org>;tag=1\r\nTo: <sip:bob@ims.example.org>\r\nCall-ID: m\r\n"
           "CSeq: 1 MESSAGE\r\nContent-Length: nine\r\n\r\n");
  sip::Message r = last_to_wic(1);
  EXPECT_EQ(r.status(), 400);
  EXPECT_TRUE(r.get("Warning"));
  from_wic(1, "this is not SIP at all");
  ASSERT_EQ(io.closed.size(), 1u);
  EXPECT_EQ(io.closed[0].second, 1002);
  // Missing Max-Forwards and CSeq mismatch parse but fail the request checks: 400.
  from_wic(2, "OPTIONS sip:ims.example.org SIP/2.0\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK8\r\n"
              "From: <sip:a@ims.example.org>;tag=1\r\nTo: <sip:ims.example.org>\r\nCall-ID: o\r\n"
              "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(last_to_wic(2).status(), 400);
  EXPECT_TRUE(io.core.empty());
}

TEST_F(PcscfLogicTest, WicCannotClaimTrustedNodeAuthentication) {
  from_wic(1, register_request("alice", 1,
                               "Authorization: Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", "
                               "uri=\"sip:ims.example.org\", nonce=\"\", response=\"\", integrity-protected=\"auth-done\", "
                               "authorization-entity=\"evil.example\"\r\n"));
  ASSERT_EQ(io.core.size(), 1u);
  std::string auth(*parse(io.core[0].second).get(sip::HeaderId::Authorization));
  EXPECT_EQ(auth.find("integrity-protected"), std::string::npos);
  EXPECT_EQ(auth.find("authorization-entity"), std::string::npos);
  EXPECT_NE(auth.find("username=\"alice@ims.example.org\""), std::string::npos);
  // Bearer tokens are for scenarios 2 and 3 (not enabled here): 403.
  from_wic(2, register_request("bob", 1, "Authorization: Bearer abc.def.ghi\r\n"));
  EXPECT_EQ(last_to_wic(2).status(), 403);
  EXPECT_EQ(io.core.size(), 1u);
}

TEST_F(PcscfLogicTest, DeregistrationUnbinds) {
  register_alice();
  from_wic(1, register_request("alice", 2));
  core_answers(200, "Contact: <sip:x1@df7jal23ls0d.invalid;transport=ws;ob>;expires=0\r\n");
  EXPECT_FALSE(logic->bindings().has_any(1));
  EXPECT_EQ(logic->stats().deregistrations, 1u);
}

// RFC 3261 §16.9: a REGISTER the eP-CSCF cannot hand to the transport toward the core (next hop
// down, queue full) is answered at once, not with a 408 after Timer F.
TEST_F(PcscfLogicTest, RequestThatCannotReachTheCoreIsAnsweredAtOnce) {
  io.core_down = true;
  from_wic(1, register_request("alice", 1));
  EXPECT_TRUE(io.core.empty());
  sip::Message r = last_to_wic(1);
  EXPECT_EQ(r.status(), 500);  // the transport's 503, relayed as 500 (§16.7 step 6)
  EXPECT_FALSE(logic->bindings().has_any(1));
  io.core_down = false;
  from_wic(1, register_request("alice", 2));
  ASSERT_EQ(io.core.size(), 1u);  // the next one goes through
}
