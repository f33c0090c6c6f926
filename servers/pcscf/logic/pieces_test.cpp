#include <gtest/gtest.h>

#include <algorithm>

#include "pcscf/logic/bindings.hpp"
#include "pcscf/logic/flow_token.hpp"
#include "pcscf/logic/turn_provisioning.hpp"

using namespace pcscf;

TEST(FlowTokens, RoundTripAndForgery) {
  std::array<uint8_t, 32> key{};
  key[0] = 7;
  FlowTokens t(key);
  std::string tok = t.make(42);
  EXPECT_EQ(tok.size(), 24u);
  EXPECT_EQ(t.check(tok), 42u);
  std::string other = FlowTokens([] { std::array<uint8_t, 32> k{}; return k; }()).make(42);
  EXPECT_FALSE(t.check(other));  // another key: refused
  std::string tampered = tok;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(t.check(tampered));
  EXPECT_FALSE(t.check(""));
  EXPECT_FALSE(t.check("not a token"));
  EXPECT_NE(t.make(1), t.make(2));
}

TEST(TurnProvisioning, RequestHeader) {
  EXPECT_TRUE(wants_turn_credential("request"));
  EXPECT_TRUE(wants_turn_credential(" Request "));
  EXPECT_FALSE(wants_turn_credential("requests"));
  EXPECT_FALSE(wants_turn_credential(""));
}

TEST(TurnProvisioning, HeaderValueAndLifetimeBoundByRegistration) {
  base::SeededRandom rnd(5);
  token::TurnKey key{"k1", "km", "sha1"};
  TurnCredentialPolicy p;
  p.lifetime_s = 86400;
  p.grace_s = 3600;
  p.uris = {"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"};
  auto c = issue_turn_credential(key, p, 1'900'000'000, 1'900'000'600, rnd);
  EXPECT_EQ(c.credential.texp, 1'900'000'600 + 3600);  // registration expiry + grace < 24 h
  // <Tid>:<Texp>:<Tpwd>;uri="..."
  std::string expect = c.credential.tid + ":" + std::to_string(c.credential.texp) + ":" + c.credential.password +
                       ";uri=\"turn:turn.example.org:3478?transport=udp\";uri=\"turns:turn.example.org:443?transport=tcp\"";
  EXPECT_EQ(c.header_value, expect);
  EXPECT_EQ(c.credential.password, token::ephemeral_password(key, c.credential.username));
  // Without a registration bound: the policy lifetime.
  auto d = issue_turn_credential(key, p, 1'900'000'000, 0, rnd);
  EXPECT_EQ(d.credential.texp, 1'900'086'400);
  p.coturn_order = true;
  auto e = issue_turn_credential(key, p, 1'900'000'000, 0, rnd);
  EXPECT_EQ(e.header_value.substr(0, 11), "1900086400:");
}

TEST(Bindings, BindFindUnbindDrop) {
  Bindings b;
  b.bind(1, {"alice@ims.example.org", {"sip:alice@ims.example.org", "tel:+15551234"}, "sip:alice@ims.example.org", 100, ""});
  EXPECT_TRUE(b.find(1, "sip:alice@ims.example.org"));
  EXPECT_TRUE(b.find(1, "tel:+15551234"));
  EXPECT_FALSE(b.find(2, "sip:alice@ims.example.org"));  // another connection
  EXPECT_FALSE(b.find(1, "sip:bob@ims.example.org"));
  b.bind(1, {"alice@ims.example.org", {"sip:alice@ims.example.org"}, "sip:alice@ims.example.org", 200, ""});  // re-register
  EXPECT_FALSE(b.find(1, "tel:+15551234"));
  EXPECT_EQ(b.expires(1), 200);
  b.unbind(1, "alice@ims.example.org");
  EXPECT_FALSE(b.has_any(1));
  b.bind(3, {"x", {"sip:x@d"}, "sip:x@d", 1, ""});
  b.drop_connection(3);
  EXPECT_EQ(b.connection_count(), 0u);
}

TEST(Bindings, ExpireRemovesOnlyRegistrationsThatRanOut) {
  Bindings b;
  b.bind(1, {"a", {"sip:a@d"}, "sip:a@d", 100, ""});
  b.bind(1, {"b", {"sip:b@d"}, "sip:b@d", 200, ""});
  b.bind(2, {"c", {"sip:c@d"}, "sip:c@d", 100, ""});
  EXPECT_TRUE(b.expire(99).empty());
  auto gone = b.expire(100);
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(gone, (std::vector<std::pair<uint64_t, std::string>>{{1, "a"}, {2, "c"}}));
  EXPECT_FALSE(b.find(1, "sip:a@d"));
  EXPECT_TRUE(b.find(1, "sip:b@d"));
  EXPECT_FALSE(b.has_any(2));
  EXPECT_EQ(b.connection_count(), 1u);
}

TEST(Bindings, CanonicalAor) {
  EXPECT_EQ(canonical_aor("<sip:Alice@Example.ORG;transport=ws>"), "sip:Alice@example.org");
  EXPECT_EQ(canonical_aor("sip:alice@example.org:5060"), "sip:alice@example.org:5060");
  EXPECT_EQ(canonical_aor("tel:+15551234"), "tel:+15551234");
  EXPECT_FALSE(canonical_aor("http://example.org"));
  EXPECT_FALSE(canonical_aor("garbage"));
}
