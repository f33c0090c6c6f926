#include "wic/turn_cred.hpp"

#include <gtest/gtest.h>

#include "base/random.hpp"
#include "token/turn_credential.hpp"

namespace wic {
namespace {

TEST(TurnCredential, ParsesWebimsOrderWithUris) {
  auto c = parse_turn_credential(
      "q3X7pd0YF8c1b2gH0aZ_4w:1700000000:kq0Jc6CN2Hc0yYt+vFrR/AbCd1E=;uri=\"turn:turn.example.org:3478?transport=udp\""
      ";uri=\"turns:turn.example.org:443?transport=tcp\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "q3X7pd0YF8c1b2gH0aZ_4w:1700000000");
  EXPECT_EQ(c->password, "kq0Jc6CN2Hc0yYt+vFrR/AbCd1E=");
  EXPECT_EQ(c->expires, 1700000000);
  ASSERT_EQ(c->uris.size(), 2u);
  EXPECT_EQ(c->uris[0], "turn:turn.example.org:3478?transport=udp");
  EXPECT_EQ(c->uris[1], "turns:turn.example.org:443?transport=tcp");
}

TEST(TurnCredential, ParsesCoturnOrderWithoutUris) {
  auto c = parse_turn_credential("  1700000000:q3X7pd0YF8c1b2gH0aZ_4w:c2VjcmV0  ");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "1700000000:q3X7pd0YF8c1b2gH0aZ_4w");
  EXPECT_EQ(c->password, "c2VjcmV0");
  EXPECT_EQ(c->expires, 1700000000);
  EXPECT_TRUE(c->uris.empty());
}

TEST(TurnCredential, IgnoresOtherParamsAndAcceptsUnquotedUri) {
  auto c = parse_turn_credential("abc:1700000000:pw;foo=bar;URI=turn:1.2.3.4;lr");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->uris.size(), 1u);
  EXPECT_EQ(c->uris[0], "turn:1.2.3.4");
}

TEST(TurnCredential, MatchesWhatTheEpCscfMints) {
  token::TurnKey key{"k1", "km-secret"};
  base::SeededRandom rnd(7);
  auto minted = token::mint_ephemeral(key, 1800000000, rnd);
  auto c = parse_turn_credential(minted.username + ":" + minted.password + ";uri=\"turn:127.0.0.1:3478?transport=udp\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, minted.username);
  EXPECT_EQ(c->password, minted.password);
  EXPECT_EQ(c->password, token::ephemeral_password(key, c->username));
  EXPECT_EQ(c->expires, 1800000000);
}

TEST(TurnCredential, RejectsMalformed) {
  for (const char* bad : {"", "request", "a:b", "a::c", ":1700000000:c", "abc:notanumber:pw", "abc:xyz:pw",
                          "abc:1700000000:", "abc:1700000000:pw;uri=\"unterminated", "abc:1700000000:pw;;"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_turn_credential(bad));
  }
}

TEST(TurnUri, Parses) {
  auto u = parse_turn_uri("turn:turn.example.org:3479?transport=udp");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->secure);
  EXPECT_EQ(u->host, "turn.example.org");
  EXPECT_EQ(u->port, 3479);
  EXPECT_EQ(u->transport, "udp");
  u = parse_turn_uri("turn:127.0.0.1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 3478);
  EXPECT_EQ(u->transport, "udp");
  u = parse_turn_uri("turns:[2001:db8::1]:443?transport=tcp");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->secure);
  EXPECT_EQ(u->host, "2001:db8::1");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->transport, "tcp");
  u = parse_turn_uri("TURN:[::1]");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 3478);
  for (const char* bad : {"stun:1.2.3.4", "turn:", "turn:host:0", "turn:host:70000", "turn:host:", "turn:[::1",
                          "turn:host?transport=sctp", "turn:host?foo=bar"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_turn_uri(bad));
  }
}

}  // namespace
}  // namespace wic
