#include "turn/logic/credentials.hpp"

#include <gtest/gtest.h>

#include "base/config.hpp"
#include "base/encoding.hpp"
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


// ---- [turn] configuration of Solution 2 keys and the control API ----

namespace {
std::string validate_error(const turn::TurnConfig& c) {
  try {
    c.validate();
  } catch (const base::config::Error& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST(TurnConfigOAuth, KeysAreCheckedAndDecoded) {
  turn::TurnConfig c;
  std::string k32 = base::base64_encode(std::vector<uint8_t>(32, 7));
  std::string k16 = base::base64_encode(std::vector<uint8_t>(16, 7));
  c.oauth_keys = {{"a", k32, "A256GCM"}, {"b", k16, "A128GCM"}};
  EXPECT_EQ(validate_error(c), "");
  auto set = c.oauth_key_set();
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(set[1].kid, "b");
  EXPECT_EQ(set[1].key.size(), 16u);
  EXPECT_EQ(c.server_name(), c.realm);
  c.oauth_server_name = "turn.example.org";
  EXPECT_EQ(c.server_name(), "turn.example.org");

  c.oauth_keys = {{"a", k16, "A256GCM"}};
  EXPECT_NE(validate_error(c).find("key is 16 bytes; A256GCM needs 32"), std::string::npos);
  c.oauth_keys = {{"a", "not base64!", "A256GCM"}};
  EXPECT_NE(validate_error(c).find("key is not base64"), std::string::npos);
  c.oauth_keys = {{"a", k32, "A256CBC"}};
  EXPECT_NE(validate_error(c).find("alg must be"), std::string::npos);
  c.oauth_keys = {{"a", k32, "A256GCM"}, {"a", k32, "A256GCM"}};
  EXPECT_NE(validate_error(c).find("duplicate kid"), std::string::npos);
  c.oauth_keys = {{"", k32, "A256GCM"}};
  EXPECT_NE(validate_error(c).find("kid is empty"), std::string::npos);
}

TEST(TurnConfigControl, PlainHttpOnlyOnLoopbackWhenTheApiIsOn) {
  EXPECT_TRUE(turn::loopback_http("http://127.0.0.1:3479"));
  EXPECT_TRUE(turn::loopback_http("http://127.8.0.1:3479"));
  EXPECT_TRUE(turn::loopback_http("http://[::1]:3479"));
  EXPECT_TRUE(turn::loopback_http("http://localhost:3479"));
  EXPECT_FALSE(turn::loopback_http("http://0.0.0.0:3479"));
  EXPECT_FALSE(turn::loopback_http("http://192.0.2.1:3479"));
  EXPECT_FALSE(turn::loopback_http("http://[::]:3479"));
  EXPECT_FALSE(turn::loopback_http("https://127.0.0.1:3479"));

  turn::TurnConfig c;
  c.control_listen = "http://0.0.0.0:3479";
  EXPECT_EQ(validate_error(c), "");  // metrics only: the API is off
  c.control_token = "0123456789abcdef-token";
  EXPECT_NE(validate_error(c).find("plain http:// is allowed on loopback addresses only"), std::string::npos);
  c.control_listen = "https://0.0.0.0:3479";
  EXPECT_EQ(validate_error(c), "");
  c.control_listen = "http://127.0.0.1:3479";
  EXPECT_EQ(validate_error(c), "");
  c.control_token = "short";
  EXPECT_NE(validate_error(c).find("shorter than 16"), std::string::npos);
}

TEST(CredentialsApproach2, PushedUsersExpireAndRevocationsRefuseAnyKind) {
  turn::Credentials cr("example.org", {{"k1", "north-secret", "sha1"}});
  turn::StaticUser u{"pushed", {}, {}, 2000};
  cr.put_static_user(u);
  turn::Credential out;
  EXPECT_EQ(cr.resolve("pushed", stun::password_algorithm::Md5, 1999, out), turn::CredentialStatus::Ok);
  EXPECT_EQ(out.expires_unix, 2000);
  EXPECT_EQ(cr.resolve("pushed", stun::password_algorithm::Md5, 2000, out), turn::CredentialStatus::Expired);
  EXPECT_EQ(cr.static_user_count(), 1u);
  cr.add_revocation("pushed", 1500);
  cr.add_revocation("tid:3000", 1500);
  cr.add_revocation("tid:3000", 1400);  // an earlier `until` does not shorten it
  EXPECT_EQ(cr.resolve("pushed", stun::password_algorithm::Md5, 1000, out), turn::CredentialStatus::Revoked);
  EXPECT_EQ(cr.resolve("tid:3000", stun::password_algorithm::Md5, 1499, out), turn::CredentialStatus::Revoked);
  EXPECT_EQ(cr.resolve("tid:3000", stun::password_algorithm::Md5, 1500, out), turn::CredentialStatus::Ok);
  cr.set_revocations({});
  EXPECT_EQ(cr.resolve("pushed", stun::password_algorithm::Md5, 1000, out), turn::CredentialStatus::Ok);
}
