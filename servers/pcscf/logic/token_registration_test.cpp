// Scenarios 2 and 3 at the eP-CSCF: Bearer REGISTERs with WAF-signed tokens (each refusal a 403 and
// the WebSocket closed), the TNA REGISTER toward the core, waiting for keys and introspection, and
// Approach 2 pushes and revocations of TURN credentials.
#include <gtest/gtest.h>

#include "base/encoding.hpp"
#include "pcscf/logic/pcscf_logic.hpp"
#include "pcscf/logic/test_support.hpp"
#include "sip/auth.hpp"
#include "sip/message.hpp"
#include "token/jwt.hpp"

using namespace pcscf;
using namespace pcscf::test;
using namespace std::chrono_literals;

namespace {

std::string register_request(const std::string& user, int cseq, const std::string& extra = "", int expires = 600) {
  return "REGISTER sip:ims.example.org SIP/2.0\r\n"
         "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKtok" + user + std::to_string(cseq) + "\r\n"
         "Max-Forwards: 70\r\n"
         "To: <sip:" + user + "@ims.example.org>\r\n"
         "From: <sip:" + user + "@ims.example.org>;tag=abc\r\n"
         "Call-ID: tokreg-" + user + "\r\n"
         "CSeq: " + std::to_string(cseq) + " REGISTER\r\n"
         "Contact: <sip:x1@df7jal23ls0d.invalid;transport=ws;ob>;expires=" + std::to_string(expires) + "\r\n" + extra +
         "Content-Length: 0\r\n\r\n";
}

std::string b64u(std::string_view s) { return base::base64url_encode(base::as_bytes(s)); }

token::ImsAccessToken claims(const std::string& user = "alice") {
  token::ImsAccessToken t;
  t.iss = "https://waf.example";
  t.aud = "ims.example.org";
  t.sub = user + "@ims.example.org";
  t.impu = {"sip:" + user + "@ims.example.org"};
  t.wwsf = "wwsf.example";
  t.scope = std::string(token::kImsScope);
  t.iat = kNow - 10;
  t.exp = kNow + 3600;
  t.jti = "j-" + user;
  return t;
}

class TokenRegistrationTest : public PcscfFixture {
 protected:
  TokenRegistrationTest() : PcscfFixture(5), key(token::SigningKey::generate("k1")) {
    settings.token.enabled = true;
    settings.token.home_domain = "ims.example.org";
    settings.token.policy = token::TokenPolicy{{"https://waf.example"}, "ims.example.org", 60};
  }
  // Static keys (token_jwks_file) unless `fetch` (token_jwks_url).
  void start(bool fetch = false) {
    settings.token.jwks_fetch = fetch;
    logic = std::make_unique<PcscfLogic>(settings, io, rnd);
    if (!fetch) logic->set_verify_keys(jwks_of({key}));
    logic->set_wwsfs({{"wwsf.example", "*@pool.example", false}, {"blocked.example", "", true}});
    for (uint64_t c = 1; c <= 4; ++c)
      logic->on_ws_open({c, *base::Endpoint::parse("192.0.2.7:5000" + std::to_string(c)), true, "https://wwsf.example", "s"});
  }
  static token::VerifyKeys jwks_of(const std::vector<token::SigningKey>& ks) {
    return token::VerifyKeys::from_jwks(token::jwks_json(ks)).value();
  }
  // Each a new transaction (a new branch): a repeated one would be answered from the proxy's memory.
  void register_with(uint64_t c, const std::string& user, const std::string& tok, const std::string& extra = "") {
    from_wic(c, register_request(user, ++cseq, "Authorization: Bearer " + tok + "\r\n" + extra));
  }
  std::string sign(const token::ImsAccessToken& t) { return key.sign(token::to_claims(t)); }

  // A refusal: 403 with `reason` as the reason phrase, nothing toward the core, the WebSocket closed.
  void expect_refused(uint64_t c, const std::string& reason) {
    sip::Message r = last_to_wic(c);
    EXPECT_EQ(r.status(), 403);
    EXPECT_EQ(r.reason(), reason);
    EXPECT_TRUE(io.core.empty());
    ASSERT_FALSE(io.closed.empty());
    EXPECT_EQ(io.closed.back(), (std::pair<uint64_t, uint16_t>{c, 1008}));
  }
  const std::string ok_contact = "Contact: <sip:x1@df7jal23ls0d.invalid;transport=ws;ob>;expires=600\r\n";

  token::SigningKey key;
  int cseq = 100;
};

}  // namespace

TEST_F(TokenRegistrationTest, ValidTokenRegistersWithTrustedNodeAuthentication) {
  start();
  // The WIC's own auth-done claims and asserted identities go; so does its 3gpp-ext-turn-cred.
  register_with(1, "alice", sign(claims()), "P-Asserted-Identity: <sip:ceo@ims.example.org>\r\n");
  ASSERT_EQ(io.core.size(), 1u);
  EXPECT_TRUE(io.closed.empty());
  sip::Message fwd = parse(io.core[0].second);
  EXPECT_EQ(fwd.count(sip::HeaderId::Authorization), 1u);
  EXPECT_EQ(*fwd.get(sip::HeaderId::Authorization),
            "Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", uri=\"sip:ims.example.org\", "
            "nonce=\"\", response=\"\", integrity-protected=\"auth-done\", authorization-entity=\"wwsf.example\"");
  EXPECT_FALSE(fwd.get(sip::HeaderId::PAssertedIdentity));
  EXPECT_TRUE(fwd.get(sip::HeaderId::Path));
  EXPECT_EQ(logic->stats().token_registrations, 1u);

  // The core associates another IMPU the token does not name: only the token's IMPUs are bound.
  core_answers(200, ok_contact + "P-Associated-URI: <sip:alice@ims.example.org>, <sip:alice-work@ims.example.org>\r\n");
  EXPECT_EQ(last_to_wic(1).status(), 200);
  const Binding* b = logic->bindings().find(1, "sip:alice@ims.example.org");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->impi, "alice@ims.example.org");
  EXPECT_EQ(logic->bindings().find(1, "sip:alice-work@ims.example.org"), nullptr);
}

TEST_F(TokenRegistrationTest, AccessTokenParameterFormIsAccepted) {
  start();
  from_wic(1, register_request("alice", 1, "Authorization: Bearer access_token=\"" + sign(claims()) + "\"\r\n"));
  ASSERT_EQ(io.core.size(), 1u);
  EXPECT_NE(parse(io.core[0].second).get(sip::HeaderId::Authorization)->find("auth-done"), std::string::npos);
}

TEST_F(TokenRegistrationTest, PoolTokenWithinTheWwsfsPattern) {
  start();
  auto t = claims("guest1");
  t.sub = "guest1@pool.example";
  t.pool = true;
  register_with(1, "guest1", sign(t));
  ASSERT_EQ(io.core.size(), 1u);
  EXPECT_NE(parse(io.core[0].second).get(sip::HeaderId::Authorization)->find("username=\"guest1@pool.example\""),
            std::string::npos);
  core_answers(200, ok_contact);
  const Binding* b = logic->bindings().find(1, "sip:guest1@ims.example.org");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->impi, "guest1@pool.example");
}

TEST_F(TokenRegistrationTest, EveryRefusalIs403AndClosesTheWebSocket) {
  start();
  auto other = token::SigningKey::generate("k1");  // same kid, another key: a forgery
  struct Case {
    std::string name, token, reason, user = "alice";
  };
  std::vector<Case> cases;
  cases.push_back({"forged", other.sign(token::to_claims(claims())), "Token signature invalid"});
  cases.push_back({"unknown kid", token::SigningKey::generate("k9").sign(token::to_claims(claims())),
                   "Token signed with an unknown key"});
  std::string payload = b64u(token::to_claims(claims()).dump());
  cases.push_back({"alg none", b64u(R"({"alg":"none","kid":"k1"})") + "." + payload + ".c2ln",
                   "Token algorithm not accepted"});
  cases.push_back({"alg HS256", b64u(R"({"alg":"HS256","typ":"at+jwt","kid":"k1"})") + "." + payload + ".c2lnbmF0dXJl",
                   "Token algorithm not accepted"});
  cases.push_back({"opaque, no introspection", "opaque-handle-1", "Malformed token"});
  auto t = claims();
  t.exp = kNow - 61;
  cases.push_back({"expired", sign(t), "Token expired"});
  t = claims();
  t.iat = kNow + 120;
  cases.push_back({"issued in the future", sign(t), "Token not yet valid"});
  t = claims();
  t.iss = "https://evil.example";
  cases.push_back({"issuer", sign(t), "Token issuer not accepted"});
  t = claims();
  t.aud = "other.example";
  cases.push_back({"audience", sign(t), "Token audience is not this IMS domain"});
  t = claims();
  t.scope = "openid";
  cases.push_back({"scope", sign(t), "Token scope lacks webrtc-ims-client-access-to-ims"});
  t = claims();
  t.wwsf = "stranger.example";
  cases.push_back({"unknown WWSF", sign(t), "WWSF not known to this operator"});
  t = claims();
  t.wwsf = "blocked.example";
  cases.push_back({"blocked WWSF (REQ 2.2)", sign(t), "WWSF blocked"});
  cases.push_back({"To not in impu (REQ 2.4)", sign(claims()), "To-URI not among the token's IMPUs", "bob"});
  t = claims();
  t.pool = true;  // sub alice@ims.example.org is not *@pool.example
  cases.push_back({"pool IMPI of another WWSF (NOTE 6)", sign(t), "Pool IMPI does not belong to the WWSF"});

  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    io = FakeIo();
    logic->on_ws_open({9, *base::Endpoint::parse("192.0.2.9:5009"), true, "https://wwsf.example", "s"});
    register_with(9, c.user, c.token);
    expect_refused(9, c.reason);
    EXPECT_FALSE(logic->bindings().has_any(9));
    logic->on_ws_closed(9, now());
  }
  EXPECT_EQ(logic->stats().refused_token, cases.size());
  EXPECT_EQ(logic->stats().token_registrations, 0u);
}

TEST_F(TokenRegistrationTest, MalformedBearerAndMixedAuthorization) {
  start();
  from_wic(1, register_request("alice", 1, "Authorization: Bearer access_token=\"\"\r\n"));
  expect_refused(1, "Malformed Bearer credentials");
  // A Bearer beside a Digest: which one would count? Neither.
  io = FakeIo();
  from_wic(2, register_request("alice", 2,
                               "Authorization: Bearer " + sign(claims()) +
                                   "\r\nAuthorization: Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", "
                                   "uri=\"sip:ims.example.org\", nonce=\"\", response=\"\"\r\n"));
  EXPECT_EQ(last_to_wic(2).status(), 400);
  EXPECT_TRUE(io.core.empty());
}

TEST_F(TokenRegistrationTest, AuthDoneInASecondDigestAuthorizationIsRemovedToo) {
  start();
  from_wic(1, register_request("alice", 1,
                               "Authorization: Digest username=\"alice@ims.example.org\", realm=\"other.example\", "
                               "uri=\"sip:ims.example.org\", nonce=\"\", response=\"\"\r\n"
                               "Authorization: Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", "
                               "uri=\"sip:ims.example.org\", nonce=\"\", response=\"\", integrity-protected=\"auth-done\", "
                               "authorization-entity=\"evil.example\"\r\n"));
  ASSERT_EQ(io.core.size(), 1u);
  sip::Message fwd = parse(io.core[0].second);
  auto auths = fwd.values(sip::HeaderId::Authorization);
  ASSERT_EQ(auths.size(), 2u);
  for (auto a : auths) {
    EXPECT_EQ(a.find("integrity-protected"), std::string_view::npos) << a;
    EXPECT_EQ(a.find("authorization-entity"), std::string_view::npos) << a;
  }
}

TEST_F(TokenRegistrationTest, RegisterWaitsForTheJwksAndUnknownKidsFetchAgainRateLimited) {
  start(/*fetch=*/true);
  register_with(1, "alice", sign(claims()));
  register_with(2, "bob", sign(claims("bob")));
  EXPECT_EQ(io.fetches, 1);  // one fetch for both
  EXPECT_TRUE(io.core.empty());
  EXPECT_TRUE(io.ws.empty());
  EXPECT_EQ(logic->waiting_registers(), 2u);
  logic->on_jwks(jwks_of({key}), now());
  EXPECT_EQ(io.core.size(), 2u);
  EXPECT_EQ(logic->waiting_registers(), 0u);

  // The WAF rotated to k2: the unknown kid triggers a fetch once the refetch interval has passed.
  auto k2 = token::SigningKey::generate("k2");
  io.core.clear();
  register_with(3, "alice", k2.sign(token::to_claims(claims())));
  EXPECT_EQ(io.fetches, 1);  // too soon after the last fetch: refused at once
  expect_refused(3, "Token signed with an unknown key");
  clock = 31s;
  register_with(4, "alice", k2.sign(token::to_claims(claims())));
  EXPECT_EQ(io.fetches, 2);
  logic->on_jwks(jwks_of({key, k2}), now());
  ASSERT_EQ(io.core.size(), 1u);

  // Keys older than the maximum age are fetched again on the timer.
  clock = 31s + 3600s;
  logic->on_timer(now());
  EXPECT_EQ(io.fetches, 3);
}

TEST_F(TokenRegistrationTest, UnreachableJwksIs503AndKeepsTheConnection) {
  start(/*fetch=*/true);
  register_with(1, "alice", sign(claims()));
  ASSERT_EQ(io.fetches, 1);
  logic->on_jwks(base::fail(std::string("HTTP request to localhost failed: cannot connect")), now());
  sip::Message r = last_to_wic(1);
  EXPECT_EQ(r.status(), 503);
  EXPECT_TRUE(io.closed.empty());
  EXPECT_TRUE(io.core.empty());
  EXPECT_EQ(logic->stats().jwks_fetch_failures, 1u);
  // No keys yet: the next REGISTER fetches again at once (the WAF may have started after us).
  // Its connection closing meanwhile: the waiting REGISTER is forgotten, not answered.
  register_with(2, "alice", sign(claims()));
  EXPECT_EQ(io.fetches, 2);
  logic->on_ws_closed(2, now());
  EXPECT_EQ(logic->waiting_registers(), 0u);
  size_t sent = io.ws.size();
  logic->on_jwks(jwks_of({key}), now());
  EXPECT_EQ(io.ws.size(), sent);
  EXPECT_TRUE(io.core.empty());
}

TEST_F(TokenRegistrationTest, OpaqueTokensAreIntrospected) {
  settings.token.introspection = true;
  start();
  register_with(1, "alice", "opaque-handle-1");
  ASSERT_EQ(io.introspections.size(), 1u);
  EXPECT_EQ(io.introspections[0].second, "opaque-handle-1");
  EXPECT_TRUE(io.core.empty());
  nlohmann::json answer = token::to_claims(claims());
  answer["active"] = true;
  logic->on_introspection(io.introspections[0].first, answer.dump(), now());
  ASSERT_EQ(io.core.size(), 1u);
  EXPECT_NE(parse(io.core[0].second).get(sip::HeaderId::Authorization)->find("integrity-protected=\"auth-done\""),
            std::string::npos);
  io.core.clear();

  // Inactive: 403 and closed. The same claim checks apply as for a JWT.
  register_with(2, "alice", "opaque-handle-2");
  logic->on_introspection(io.introspections.back().first, std::string(R"({"active":false})"), now());
  expect_refused(2, "Token not active");
  register_with(3, "bob", "opaque-handle-3");  // the answer names alice only
  logic->on_introspection(io.introspections.back().first, answer.dump(), now());
  expect_refused(3, "To-URI not among the token's IMPUs");

  // The endpoint down: 503, the connection kept. A late or unknown answer does nothing.
  io.closed.clear();
  register_with(4, "alice", "opaque-handle-4");
  logic->on_introspection(io.introspections.back().first, base::fail(std::string("timeout")), now());
  EXPECT_EQ(last_to_wic(4).status(), 503);
  EXPECT_TRUE(io.closed.empty());
  size_t sent = io.ws.size();
  logic->on_introspection(12345, answer.dump(), now());
  EXPECT_EQ(io.ws.size(), sent);
}

TEST_F(TokenRegistrationTest, TokenRegistrationIsRefusedWhenNotEnabled) {
  settings.token.enabled = false;
  start();
  register_with(1, "alice", sign(claims()));
  EXPECT_EQ(last_to_wic(1).status(), 403);
  EXPECT_TRUE(io.core.empty());
}

// ---- Approach 2 ---------------------------------------------------------------------------------

namespace {
// USERNAME and password of the credential in a 200 OK's 3gpp-ext-turn-cred.
std::pair<std::string, std::string> credential_of(const sip::Message& ok) {
  std::string v(*ok.get("3gpp-ext-turn-cred"));
  auto first = v.find(':'), second = v.find(':', first + 1), semi = v.find(';');
  return {v.substr(0, second), v.substr(second + 1, semi == std::string::npos ? std::string::npos : semi - second - 1)};
}
}  // namespace

TEST_F(TokenRegistrationTest, CredentialsArePushedAndRevokedOnDeregistrationAndClose) {
  settings.turn_push = {true, true};
  start();
  register_with(1, "alice", sign(claims()), "3gpp-ext-turn-cred: request\r\n");
  core_answers(200, ok_contact);
  auto [username, password] = credential_of(last_to_wic(1));
  ASSERT_EQ(io.pushed.size(), 1u);
  EXPECT_EQ(io.pushed[0].username, username);
  EXPECT_EQ(io.pushed[0].password, password);
  EXPECT_EQ(io.pushed[0].expires, *token::ephemeral_expiry(username));
  EXPECT_TRUE(io.revoked.empty());

  // OPTIONS on the bound connection: a second credential, pushed too.
  from_wic(1, "OPTIONS sip:ims.example.org SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bKopt1\r\n"
              "Max-Forwards: 70\r\nTo: <sip:ims.example.org>\r\nFrom: <sip:alice@ims.example.org>;tag=o\r\n"
              "Call-ID: opt1\r\nCSeq: 1 OPTIONS\r\n3gpp-ext-turn-cred: request\r\nContent-Length: 0\r\n\r\n");
  auto second = credential_of(last_to_wic(1)).first;
  ASSERT_EQ(io.pushed.size(), 2u);
  EXPECT_EQ(io.pushed[1].username, second);

  // Deregistration (a Digest one here; any REGISTER with expires 0): both revoked until their Texp.
  io.core.clear();
  from_wic(1, register_request("alice", 2, "", 0));
  core_answers(200, "Contact: <sip:x1@df7jal23ls0d.invalid;transport=ws;ob>;expires=0\r\n");
  ASSERT_EQ(io.revoked.size(), 2u);
  EXPECT_EQ(io.revoked[0].username, username);
  EXPECT_EQ(io.revoked[0].until, *token::ephemeral_expiry(username));
  EXPECT_EQ(io.revoked[1].username, second);
  // Nothing left to revoke when the connection then closes.
  logic->on_ws_closed(1, now());
  EXPECT_EQ(io.revoked.size(), 2u);

  // Another WIC: its connection closing revokes its credential.
  register_with(2, "bob", sign(claims("bob")), "3gpp-ext-turn-cred: request\r\n");
  core_answers(200, ok_contact);
  auto bobs = credential_of(last_to_wic(2)).first;
  logic->on_ws_closed(2, now());
  ASSERT_EQ(io.revoked.size(), 3u);
  EXPECT_EQ(io.revoked[2].username, bobs);
  EXPECT_EQ(logic->stats().turn_pushes, 3u);
  EXPECT_EQ(logic->stats().turn_revocations, 3u);
}

TEST_F(TokenRegistrationTest, RegistrationRunningOutEndsTheBindingAndRevokes) {
  settings.turn_push = {true, true};
  start();
  register_with(1, "alice", sign(claims()), "3gpp-ext-turn-cred: request\r\n");
  core_answers(200, ok_contact);  // expires=600
  auto username = credential_of(last_to_wic(1)).first;
  clock = 599s;
  logic->on_timer(now());
  EXPECT_TRUE(logic->bindings().find(1, "sip:alice@ims.example.org"));
  EXPECT_TRUE(io.revoked.empty());
  clock = 600s;
  logic->on_timer(now());
  EXPECT_FALSE(logic->bindings().has_any(1));
  ASSERT_EQ(io.revoked.size(), 1u);
  EXPECT_EQ(io.revoked[0].username, username);
}

TEST_F(TokenRegistrationTest, ExpiredCredentialsAreNotRevoked) {
  settings.turn_push = {true, true};
  settings.turn_policy.lifetime_s = 60;
  start();
  register_with(1, "alice", sign(claims()), "3gpp-ext-turn-cred: request\r\n");
  core_answers(200, ok_contact);
  ASSERT_EQ(io.pushed.size(), 1u);
  clock = 61s;  // past Texp: the TURN server refuses it anyway
  logic->on_ws_closed(1, now());
  EXPECT_TRUE(io.revoked.empty());
}

TEST_F(TokenRegistrationTest, PushWithoutRevocationAndNeither) {
  settings.turn_push = {true, false};
  start();
  register_with(1, "alice", sign(claims()), "3gpp-ext-turn-cred: request\r\n");
  core_answers(200, ok_contact);
  EXPECT_EQ(io.pushed.size(), 1u);
  logic->on_ws_closed(1, now());
  EXPECT_TRUE(io.revoked.empty());

  settings.turn_push = {false, false};
  io = FakeIo();
  start();
  register_with(1, "alice", sign(claims()), "3gpp-ext-turn-cred: request\r\n");
  core_answers(200, ok_contact);
  EXPECT_TRUE(last_to_wic(1).get("3gpp-ext-turn-cred"));
  EXPECT_TRUE(io.pushed.empty());
  logic->on_ws_closed(1, now());
  EXPECT_TRUE(io.revoked.empty());
}
