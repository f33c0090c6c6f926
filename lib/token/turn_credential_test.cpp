#include "token/turn_credential.hpp"

#include <gtest/gtest.h>

using namespace token;
using SecretConfig = TurnKey;

TEST(EphemeralUsername, BothOrders) {
  EXPECT_EQ(ephemeral_expiry("AAECAwQFBgcICQoLDA0ODw:2000000000"), 2000000000);  // webims Tid:Texp
  EXPECT_EQ(ephemeral_expiry("2000000000:alice"), 2000000000);                  // coturn Texp:Tid
  EXPECT_EQ(ephemeral_expiry("2000000000:alice:x"), 2000000000);               // coturn: first part
  EXPECT_EQ(ephemeral_expiry("abc:def:2000000000"), 2000000000);
  EXPECT_FALSE(ephemeral_expiry("alice"));
  EXPECT_FALSE(ephemeral_expiry("alice:bob"));
  EXPECT_FALSE(ephemeral_expiry(":2000000000"));
  EXPECT_FALSE(ephemeral_expiry("2000000000:"));
  EXPECT_FALSE(ephemeral_expiry("99999999999999999999:x"));  // does not fit: not a timestamp
}

TEST(EphemeralPassword, MatchesCoturnAndProtocolsMd) {
  // Values computed independently: base64(HMAC-SHA1(Km, USERNAME)), coturn's use-auth-secret.
  SecretConfig k{"k1", "north-secret", "sha1"};
  EXPECT_EQ(ephemeral_password(k, "2000000000:alice"), "hinEKZWpjuNAmakw5HWvaY8FOOI=");
  EXPECT_EQ(ephemeral_password(k, "AAECAwQFBgcICQoLDA0ODw:2000000000"), "b8z/7gFtqYB+TwZxaOY1IazGN3A=");
  k.hmac = "sha256";
  EXPECT_EQ(ephemeral_password(k, "AAECAwQFBgcICQoLDA0ODw:2000000000"), "wBHVeHpDH7sFagltxnlcCmUJV0jQygnW6zuOZz0ZvGQ=");
}

TEST(MintEphemeral, FormatAndRoundTrip) {
  base::SeededRandom rnd(3);
  SecretConfig k{"k1", "north-secret", "sha1"};
  auto c = mint_ephemeral(k, 2000000000, rnd);
  EXPECT_EQ(c.tid.size(), 22u);
  EXPECT_EQ(c.username, c.tid + ":2000000000");
  EXPECT_EQ(c.password, ephemeral_password(k, c.username));
  EXPECT_EQ(ephemeral_expiry(c.username), 2000000000);
  auto d = mint_ephemeral(k, 2000000000, rnd, true);
  EXPECT_EQ(d.username, "2000000000:" + d.tid);
  EXPECT_EQ(ephemeral_expiry(d.username), 2000000000);
  EXPECT_NE(c.tid, d.tid);
}
