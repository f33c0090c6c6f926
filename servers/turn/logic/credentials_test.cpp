#include "turn/logic/credentials.hpp"

#include <gtest/gtest.h>

#include "crypto/hash.hpp"
#include "stun/constants.hpp"

using namespace turn;



TEST(Credentials, ResolvesEphemeralWithEveryKeyAndRefusesExpired) {
  Credentials c("example.org", {{"old", "s-old", "sha1"}, {"new", "s-new", "sha1"}});
  Credential cred;
  const char* user = "AAECAwQFBgcICQoLDA0ODw:2000000000";
  ASSERT_EQ(c.resolve(user, stun::password_algorithm::Md5, 1900000000, cred), CredentialStatus::Ok);
  EXPECT_EQ(cred.count, 2u);
  EXPECT_EQ(cred.expires_unix, 2000000000);
  EXPECT_TRUE(cred.ephemeral);
  auto want = long_term_key(stun::password_algorithm::Md5, user, "example.org",
                            ephemeral_password({"new", "s-new", "sha1"}, user));
  EXPECT_EQ(std::memcmp(cred.keys[1].bytes.data(), want.bytes.data(), 16), 0);
  EXPECT_EQ(c.resolve(user, stun::password_algorithm::Md5, 2000000001, cred), CredentialStatus::Expired);
  EXPECT_EQ(c.resolve("nobody", stun::password_algorithm::Md5, 0, cred), CredentialStatus::UnknownUser);
}

TEST(Credentials, StaticUsersAndUserhash) {
  Credentials c("example.org", {});
  StaticUser u{"alice", {}, {}};
  auto k5 = long_term_key(stun::password_algorithm::Md5, "alice", "example.org", "pw");
  auto k256 = long_term_key(stun::password_algorithm::Sha256, "alice", "example.org", "pw");
  std::memcpy(u.key_md5.data(), k5.bytes.data(), 16);
  std::memcpy(u.key_sha256.data(), k256.bytes.data(), 32);
  c.set_static_users({u});
  Credential cred;
  ASSERT_EQ(c.resolve("alice", stun::password_algorithm::Sha256, 0, cred), CredentialStatus::Ok);
  EXPECT_EQ(cred.keys[0].len, 32);
  EXPECT_EQ(cred.expires_unix, 0);
  auto h = crypto::sha256(crypto::view("alice:example.org"));
  EXPECT_EQ(c.username_for_userhash(crypto::view(h)), "alice");
  // Without Solution 1 keys an ephemeral-looking name is just unknown.
  EXPECT_EQ(c.resolve("2000000000:bob", stun::password_algorithm::Md5, 0, cred), CredentialStatus::UnknownUser);
}

TEST(LongTermKey, Rfc5769Section24) {
  // RFC 5769 §2.4: key = MD5("<U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9>:example.org:TheMatrIX")
  auto k = long_term_key(stun::password_algorithm::Md5, "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9",
                         "example.org", "TheMatrIX");
  auto want = crypto::md5(crypto::view(
      "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9:example.org:TheMatrIX"));
  EXPECT_EQ(std::memcmp(k.bytes.data(), want.data(), 16), 0);
  EXPECT_EQ(k.len, 16);
}

