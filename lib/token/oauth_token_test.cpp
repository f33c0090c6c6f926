#include "token/oauth_token.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "base/encoding.hpp"

using namespace token;

namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::vector<uint8_t> b64(std::string_view s) { return base::base64_decode(s).value(); }

// The inputs of RFC 7635 Appendix B (server name, AS-RS key, kid, mac_key, timestamp, lifetime,
// nonce), with the AES-GCM AS-RS algorithms coturn implements. The expected tokens were produced by
// coturn 4.6.1's `turnutils_oauth -e` (Debian 12), so these pin byte compatibility with coturn.
constexpr std::string_view kServer = "blackdow.carleon.gov";
constexpr std::string_view kLongTermKey = "HGkj32KJGiuy098sdfaqbNjOiaz71923";
constexpr std::string_view kMacKey = "ZksjpweoixXmvn67534m";
constexpr uint64_t kTimestamp = 92470300704768ull;  // 1410984813 << 16 | fraction
constexpr uint32_t kLifetime = 3600;
constexpr std::string_view kNonce = "h4j3k2l2n4b5";
constexpr std::string_view kCoturnA256 =
    "AAxoNGozazJsMm40YjVhfvE0o9XkTpoZzH3BBLDAPQOypVHY/fXNO23KbxDPt35bLd7ITSk6XFBJk1nwwuJvdg==";
constexpr std::string_view kCoturnA128 =
    "AAxoNGozazJsMm40YjV/uemfCCe+PfHhvWUUk9MDHTbfVweXhK7l6stl+tTyf6saP5eXS2n4UbJL9a8J7aNX4A==";

OAuthKey key256() { return {"2783466234", bytes(kLongTermKey), OAuthAlg::A256GCM}; }
OAuthKey key128() { return {"2783466234", bytes(kLongTermKey.substr(0, 16)), OAuthAlg::A128GCM}; }

OAuthToken sample() {
  OAuthToken t;
  t.mac_key = bytes(kMacKey);
  t.timestamp = kTimestamp;
  t.lifetime = kLifetime;
  return t;
}

}  // namespace

TEST(OAuthToken, EncodesLikeCoturnA256GCM) {
  auto enc = encode_oauth_token(key256(), kServer, sample(), base::as_bytes(kNonce));
  ASSERT_TRUE(enc);
  EXPECT_EQ(base::base64_encode(*enc), kCoturnA256);
}

TEST(OAuthToken, EncodesLikeCoturnA128GCM) {
  auto enc = encode_oauth_token(key128(), kServer, sample(), base::as_bytes(kNonce));
  ASSERT_TRUE(enc);
  EXPECT_EQ(base::base64_encode(*enc), kCoturnA128);
}

TEST(OAuthToken, DecodesCoturnTokens) {
  for (auto [key, text] : {std::pair{key256(), kCoturnA256}, std::pair{key128(), kCoturnA128}}) {
    auto t = decode_oauth_token(key, kServer, b64(text));
    ASSERT_TRUE(t) << to_string(t.error());
    EXPECT_EQ(t->mac_key, bytes(kMacKey));
    EXPECT_EQ(t->timestamp, kTimestamp);
    EXPECT_EQ(t->seconds(), 1410984813);
    EXPECT_EQ(t->lifetime, kLifetime);
    EXPECT_EQ(t->expires_unix(), 1410984813 + 3600);
  }
}

TEST(OAuthToken, TamperedTokenFailsIntegrity) {
  auto good = b64(kCoturnA256);
  // Every byte after the nonce length: a flipped bit in nonce, ciphertext or tag is refused.
  for (size_t i = 2; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x01;
    auto t = decode_oauth_token(key256(), kServer, bad);
    ASSERT_FALSE(t) << "byte " << i;
    EXPECT_EQ(t.error(), OAuthError::Integrity) << "byte " << i;
  }
}

TEST(OAuthToken, WrongKeyOrServerNameFails) {
  auto other = key256();
  other.key[0] ^= 0x80;
  auto t = decode_oauth_token(other, kServer, b64(kCoturnA256));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), OAuthError::Integrity);
  // The server name is the AAD: a token for one TURN server does not open at another.
  t = decode_oauth_token(key256(), "other.example.org", b64(kCoturnA256));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), OAuthError::Integrity);
  // Same key bytes, other algorithm.
  t = decode_oauth_token(key128(), kServer, b64(kCoturnA256));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), OAuthError::Integrity);
}

TEST(OAuthToken, TruncatedAndMalformed) {
  auto good = b64(kCoturnA256);
  for (size_t n = 0; n < good.size(); ++n) {
    auto t = decode_oauth_token(key256(), kServer, base::Bytes(good.data(), n));
    EXPECT_FALSE(t) << "length " << n;
  }
  EXPECT_EQ(decode_oauth_token(key256(), kServer, {}).error(), OAuthError::Truncated);
  EXPECT_EQ(decode_oauth_token(key256(), kServer, base::Bytes(good.data(), 20)).error(), OAuthError::Truncated);
  auto odd = good;
  odd[1] = 16;  // nonce length 16
  EXPECT_EQ(decode_oauth_token(key256(), kServer, odd).error(), OAuthError::BadNonceLength);
}

TEST(OAuthToken, InconsistentBlockIsRefusedAfterTheTag) {
  // Correctly sealed blocks whose key_length disagrees with their size, sealed here by hand.
  auto seal = [](std::vector<uint8_t> block) {
    std::vector<uint8_t> out(2 + 12 + block.size() + 16);
    out[1] = 12;
    std::memcpy(out.data() + 2, kNonce.data(), 12);
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    int n = 0;
    auto k = key256();
    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, k.key.data(), out.data() + 2);
    EVP_EncryptUpdate(c, nullptr, &n, reinterpret_cast<const uint8_t*>(kServer.data()), int(kServer.size()));
    EVP_EncryptUpdate(c, out.data() + 14, &n, block.data(), int(block.size()));
    EVP_EncryptFinal_ex(c, out.data() + 14 + n, &n);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out.data() + 14 + block.size());
    EVP_CIPHER_CTX_free(c);
    return out;
  };
  std::vector<uint8_t> block(2 + 20 + 8 + 4, 0x41);
  block[0] = 0;
  block[1] = 20;
  ASSERT_TRUE(decode_oauth_token(key256(), kServer, seal(block)));  // the helper seals as the codec does
  block[1] = 21;  // says 21, has 20
  EXPECT_EQ(decode_oauth_token(key256(), kServer, seal(block)).error(), OAuthError::BadBlock);
  block[1] = 19;
  EXPECT_EQ(decode_oauth_token(key256(), kServer, seal(block)).error(), OAuthError::BadBlock);
  std::vector<uint8_t> empty_key(2 + 8 + 4, 0);  // key_length 0: too short to hold a mac_key at all
  EXPECT_EQ(decode_oauth_token(key256(), kServer, seal(empty_key)).error(), OAuthError::Truncated);
  std::vector<uint8_t> long_key(2 + 65 + 8 + 4, 0);
  long_key[1] = 65;
  EXPECT_EQ(decode_oauth_token(key256(), kServer, seal(long_key)).error(), OAuthError::BadMacKey);
}

TEST(OAuthToken, KeySizeMustMatchAlgorithm) {
  OAuthKey k{"k", bytes("short"), OAuthAlg::A256GCM};
  EXPECT_EQ(encode_oauth_token(k, kServer, sample(), base::as_bytes(kNonce)).error(), OAuthError::BadKey);
  EXPECT_EQ(decode_oauth_token(k, kServer, b64(kCoturnA256)).error(), OAuthError::BadKey);
  OAuthToken empty = sample();
  empty.mac_key.clear();
  EXPECT_EQ(encode_oauth_token(key256(), kServer, empty, base::as_bytes(kNonce)).error(), OAuthError::BadMacKey);
  EXPECT_EQ(encode_oauth_token(key256(), kServer, sample(), base::as_bytes("short")).error(), OAuthError::BadNonceLength);
}

TEST(OAuthToken, AlgorithmNames) {
  EXPECT_EQ(parse_oauth_alg("A128GCM"), OAuthAlg::A128GCM);
  EXPECT_EQ(parse_oauth_alg("A256GCM"), OAuthAlg::A256GCM);
  EXPECT_FALSE(parse_oauth_alg("a256gcm"));
  EXPECT_FALSE(parse_oauth_alg("A256CBC-HS512"));
  EXPECT_EQ(name(OAuthAlg::A128GCM), "A128GCM");
  EXPECT_EQ(key_size(OAuthAlg::A128GCM), 16u);
  EXPECT_EQ(key_size(OAuthAlg::A256GCM), 32u);
}

TEST(OAuthGrant, MintRoundTripsAndNoncesDiffer) {
  base::SeededRandom rnd(7);
  auto g = mint_oauth_grant(key256(), "turn.example.org", 2000000000, 600, rnd);
  EXPECT_EQ(g.kid, "2783466234");
  EXPECT_EQ(g.mac_key.size(), 20u);
  EXPECT_EQ(g.expires_in, 600);
  auto t = decode_oauth_token(key256(), "turn.example.org", b64(g.access_token));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->mac_key, g.mac_key);
  EXPECT_EQ(t->seconds(), 2000000000);
  EXPECT_EQ(t->lifetime, 600u);
  auto g2 = mint_oauth_grant(key256(), "turn.example.org", 2000000000, 600, rnd);
  EXPECT_NE(g.access_token.substr(0, 20), g2.access_token.substr(0, 20));  // fresh nonce
  EXPECT_NE(g.mac_key, g2.mac_key);
}

TEST(OAuthGrant, JsonRoundTripAndErrors) {
  base::SeededRandom rnd(8);
  auto g = mint_oauth_grant(key128(), "turn.example.org", 2000000000, 600, rnd, 32);
  auto p = parse_oauth_grant_json(g.to_json());
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->access_token, g.access_token);
  EXPECT_EQ(p->kid, g.kid);
  EXPECT_EQ(p->mac_key, g.mac_key);
  EXPECT_EQ(p->expires_in, 600);
  auto j = nlohmann::json::parse(g.to_json());
  EXPECT_EQ(j["token_type"], "pop");
  EXPECT_FALSE(parse_oauth_grant_json("[]"));
  EXPECT_FALSE(parse_oauth_grant_json("{\"access_token\":\"AAAA\",\"kid\":\"k\"}"));
  EXPECT_FALSE(parse_oauth_grant_json("{\"access_token\":\"AAAA\",\"kid\":\"k\",\"key\":\"%%%\"}"));
  EXPECT_FALSE(parse_oauth_grant_json("{\"access_token\":\"!\",\"kid\":\"k\",\"key\":\"AAAA\"}"));
}

// The decryption context is kept per thread and key: alternating keys, a tampered token in between
// and a same-sized wrong key must each give the answer a fresh context would.
TEST(OAuthToken, KeptContextAnswersLikeAFreshOne) {
  base::SeededRandom rnd(9);
  OAuthKey other{"k2", std::vector<uint8_t>(32, 0x42), OAuthAlg::A256GCM};
  auto a = b64(kCoturnA256), b = b64(kCoturnA128);
  auto g = mint_oauth_grant(other, kServer, 2000000000, 600, rnd);
  auto c = b64(g.access_token);
  auto bad = a;
  bad[20] ^= 1;
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(decode_oauth_token(key256(), kServer, a));
    EXPECT_TRUE(decode_oauth_token(key128(), kServer, b));
    EXPECT_FALSE(decode_oauth_token(key256(), kServer, bad));
    EXPECT_TRUE(decode_oauth_token(key256(), kServer, a));
    EXPECT_FALSE(decode_oauth_token(other, kServer, a));  // same size, other key
    auto t = decode_oauth_token(other, kServer, c);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->mac_key, g.mac_key);
    EXPECT_FALSE(decode_oauth_token(key256(), kServer, c));
  }
}
