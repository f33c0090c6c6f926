#include "base/encoding.hpp"

#include <gtest/gtest.h>

using namespace base;

namespace {
std::string s(const std::optional<std::vector<uint8_t>>& v) { return v ? std::string(v->begin(), v->end()) : "<err>"; }
}  // namespace

TEST(Base64, Rfc4648Vectors) {  // RFC 4648 §10
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(base64_encode(as_bytes(plain[i])), enc[i]);
    EXPECT_EQ(s(base64_decode(enc[i])), plain[i]);
  }
}

TEST(Base64, RejectsBadInput) {
  EXPECT_FALSE(base64_decode("Zg"));      // missing padding
  EXPECT_FALSE(base64_decode("Zm9v!"));   // bad alphabet
  EXPECT_FALSE(base64_decode("Zh=="));    // non-canonical trailing bits
  EXPECT_FALSE(base64_decode("Z==="));
}

TEST(Base64Url, NoPadding) {
  uint8_t b[] = {0xfb, 0xff, 0xfe};
  EXPECT_EQ(base64url_encode(b), "-__-");
  EXPECT_EQ(base64url_encode(as_bytes("f")), "Zg");
  EXPECT_EQ(s(base64url_decode("Zg")), "f");
  EXPECT_EQ(s(base64url_decode("Zg==")), "f");
  EXPECT_FALSE(base64url_decode("Zm9v+"));
}

TEST(Hex, RoundTrip) {
  uint8_t b[] = {0x00, 0xab, 0xff};
  EXPECT_EQ(hex_encode(b), "00abff");
  auto d = hex_decode("00ABff");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, std::vector<uint8_t>(b, b + 3));
  EXPECT_FALSE(hex_decode("0"));
  EXPECT_FALSE(hex_decode("zz"));
}
