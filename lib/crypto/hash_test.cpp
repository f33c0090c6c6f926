#include "crypto/hash.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/encoding.hpp"

using namespace crypto;
using base::hex_encode;

TEST(Hash, KnownAnswers) {
  EXPECT_EQ(hex_encode(md5(view("abc"))), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex_encode(sha1(view("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex_encode(sha256(view("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(md5({view("a"), view("bc")})), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Hmac, Rfc2202AndRfc4231) {
  // RFC 2202 test case 2 (HMAC-SHA-1), RFC 4231 test case 2 (HMAC-SHA-256), RFC 2104 (HMAC-MD5)
  EXPECT_EQ(hex_encode(hmac_sha1(view("Jefe"), view("what do ya want for nothing?"))),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hex_encode(hmac_sha256(view("Jefe"), view("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex_encode(hmac_md5(view("Jefe"), view("what do ya want for nothing?"))),
            "750c783e6ab0b503eaa86e310a5db738");
  EXPECT_EQ(hmac_sha1(view("Jefe"), {view("what do ya "), view("want for nothing?")}),
            hmac_sha1(view("Jefe"), view("what do ya want for nothing?")));
  EXPECT_EQ(hex_encode(hmac_sha1(base::Bytes{}, view(""))), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

// Keyed contexts are kept for the last few keys: the answers must not depend on which keys were
// used before, how many, in what order, or on a key that is a prefix of another.
TEST(Hmac, SameAnswersWhateverKeysCameBefore) {
  const std::string jefe256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  // RFC 4231 test case 1: key = 20 x 0x0b, "Hi There".
  const std::string key1(20, '\x0b');
  const std::string tc1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  // RFC 4231 test case 6: a 131-octet key (longer than a block: hashed first, kept by its hash).
  const std::string key6(131, '\xaa');
  const std::string tc6 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  const std::string msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(hex_encode(hmac_sha256(view("Jefe"), view("what do ya want for nothing?"))), jefe256);
    EXPECT_EQ(hex_encode(hmac_sha256(view(key1), view("Hi There"))), tc1);
    EXPECT_EQ(hex_encode(hmac_sha256(view(key6), view(msg6))), tc6);
    EXPECT_EQ(hex_encode(hmac_sha256(view("Jefe"), {view("what do ya "), view("want for nothing?")})), jefe256);
    // More distinct keys than kept contexts, including prefixes of "Jefe" and the empty key.
    for (const char* k : {"J", "Je", "Jef", "Jefe!", "k5", "k6", ""})
      EXPECT_NE(hex_encode(hmac_sha256(view(k), view("what do ya want for nothing?"))), jefe256) << k;
    EXPECT_EQ(hex_encode(hmac_sha256(view("Jefe"), view("what do ya want for nothing?"))), jefe256);
    EXPECT_EQ(hex_encode(hmac_sha1(view("Jefe"), view("what do ya want for nothing?"))),
              "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    EXPECT_EQ(hex_encode(hmac_md5(view("Jefe"), view("what do ya want for nothing?"))),
              "750c783e6ab0b503eaa86e310a5db738");
    EXPECT_EQ(hex_encode(hmac_sha1(base::Bytes{}, view(""))), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
  }
}

TEST(Crc32, CheckValue) { EXPECT_EQ(crc32(view("123456789")), 0xCBF43926u); }

TEST(ConstantTime, Equal) {
  EXPECT_TRUE(constant_time_equal(view("abc"), view("abc")));
  EXPECT_FALSE(constant_time_equal(view("abc"), view("abd")));
  EXPECT_FALSE(constant_time_equal(view("abc"), view("ab")));
}
