#include "pcscf/logic/token_auth.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sip/auth.hpp"

using namespace pcscf;
using nlohmann::json;
using token::TokenCheck;

namespace {

constexpr int64_t kNow = 1'900'000'000;

token::TokenPolicy policy() { return token::TokenPolicy{{"https://waf.example"}, "ims.example.org", 60}; }

json good_introspection() {
  return {{"active", true},
          {"iss", "https://waf.example"},
          {"aud", "ims.example.org"},
          {"sub", "alice@ims.example.org"},
          {"impu", {"sip:alice@ims.example.org"}},
          {"wwsf", "wwsf.example"},
          {"scope", "openid webrtc-ims-client-access-to-ims"},
          {"exp", kNow + 600},
          {"iat", kNow - 10},
          {"jti", "j1"}};
}

TokenCheck introspection_failure(const json& j) {
  auto r = check_introspection(j.dump(), policy(), kNow);
  EXPECT_FALSE(r.ok()) << j.dump();
  return r.ok() ? TokenCheck::Malformed : r.error().check;
}

}  // namespace

TEST(TokenAuth, JwtShape) {
  EXPECT_TRUE(looks_like_jwt("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_"));
  EXPECT_FALSE(looks_like_jwt("opaque-handle-123"));
  EXPECT_FALSE(looks_like_jwt("a.b"));
  EXPECT_FALSE(looks_like_jwt("a.b.c.d"));  // JWE has five parts; not ours
  EXPECT_FALSE(looks_like_jwt("a..c"));
  EXPECT_FALSE(looks_like_jwt("a.b+/.c"));
  EXPECT_FALSE(looks_like_jwt(""));
}

TEST(TokenAuth, IntrospectionAccepted) {
  auto j = good_introspection();
  auto r = check_introspection(j.dump(), policy(), kNow);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->sub, "alice@ims.example.org");
  EXPECT_EQ(r->wwsf, "wwsf.example");
  EXPECT_EQ(r->impu, std::vector<std::string>{"sip:alice@ims.example.org"});
  EXPECT_FALSE(r->pool);
  j["aud"] = {"other.example", "ims.example.org"};  // RFC 7662 allows an array
  j["pool"] = true;
  r = check_introspection(j.dump(), policy(), kNow);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_TRUE(r->pool);
  j["exp"] = kNow - 30;  // within the skew
  EXPECT_TRUE(check_introspection(j.dump(), policy(), kNow).ok());
}

TEST(TokenAuth, IntrospectionRefusals) {
  auto r = check_introspection(R"({"active":false})", policy(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "Token not active");
  EXPECT_EQ(check_introspection("not json", policy(), kNow).error().check, TokenCheck::Malformed);
  EXPECT_EQ(check_introspection("[1]", policy(), kNow).error().check, TokenCheck::Malformed);

  auto j = good_introspection();
  j["exp"] = kNow - 61;
  EXPECT_EQ(introspection_failure(j), TokenCheck::Expired);
  j = good_introspection();
  j["iat"] = kNow + 61;
  EXPECT_EQ(introspection_failure(j), TokenCheck::NotYetValid);
  j = good_introspection();
  j["iss"] = "https://evil.example";
  EXPECT_EQ(introspection_failure(j), TokenCheck::Issuer);
  j = good_introspection();
  j["aud"] = "other.example";
  EXPECT_EQ(introspection_failure(j), TokenCheck::Audience);
  j.erase("aud");
  EXPECT_EQ(introspection_failure(j), TokenCheck::Audience);
  j = good_introspection();
  j["scope"] = "openid webrtc-ims-client-access";  // a prefix is not the scope
  EXPECT_EQ(introspection_failure(j), TokenCheck::Scope);
  for (const char* claim : {"sub", "wwsf", "impu", "exp", "iss"}) {
    j = good_introspection();
    j.erase(claim);
    EXPECT_EQ(introspection_failure(j), TokenCheck::Malformed) << claim;
  }
  j = good_introspection();
  j["impu"] = {"sip:a@b", 5};
  EXPECT_EQ(introspection_failure(j), TokenCheck::Malformed);
  j = good_introspection();
  j["pool"] = "yes";
  EXPECT_EQ(introspection_failure(j), TokenCheck::Malformed);
  j = good_introspection();
  j["exp"] = "soon";
  EXPECT_EQ(introspection_failure(j), TokenCheck::Malformed);
}

TEST(TokenAuth, PoolPattern) {
  EXPECT_TRUE(pool_pattern_matches("*@socialnet.example", "guest7@socialnet.example"));
  EXPECT_TRUE(pool_pattern_matches("*@socialnet.example", "@socialnet.example"));
  EXPECT_FALSE(pool_pattern_matches("*@socialnet.example", "guest7@socialnet.example.evil"));
  EXPECT_FALSE(pool_pattern_matches("*@socialnet.example", "guest7@other.example"));
  EXPECT_FALSE(pool_pattern_matches("*@socialnet.example", "guest7@SOCIALNET.example"));
  EXPECT_TRUE(pool_pattern_matches("guest?@*.example", "guest1@a.example"));
  EXPECT_FALSE(pool_pattern_matches("guest?@*.example", "guest12@a.example"));
  EXPECT_TRUE(pool_pattern_matches("*", "anything"));
  EXPECT_FALSE(pool_pattern_matches("", "x"));
  EXPECT_TRUE(pool_pattern_matches("a*b*c", "axxbyyc"));
  EXPECT_FALSE(pool_pattern_matches("a*b*c", "axxbyy"));
  // Many stars against a long non-matching text: finishes (no exponential backtracking).
  EXPECT_FALSE(pool_pattern_matches("*a*a*a*a*a*a*a*a*b", std::string(2000, 'a')));
}

TEST(TokenAuth, AuthorizationChecks) {
  WwsfTable wwsfs{{"wwsf.example", {"wwsf.example", "*@pool.example", false}},
                  {"blocked.example", {"blocked.example", "", true}},
                  {"nopool.example", {"nopool.example", "", false}}};
  token::ImsAccessToken t;
  t.sub = "alice@ims.example.org";
  t.wwsf = "wwsf.example";
  t.impu = {"sip:Alice@IMS.example.org", "tel:+15551234"};
  EXPECT_EQ(check_token_authorization(t, wwsfs, "sip:Alice@ims.example.org"), std::nullopt);  // host case-insensitive
  EXPECT_EQ(check_token_authorization(t, wwsfs, "tel:+15551234"), std::nullopt);
  EXPECT_EQ(check_token_authorization(t, wwsfs, "sip:bob@ims.example.org"), "To-URI not among the token's IMPUs");
  t.wwsf = "unknown.example";
  EXPECT_EQ(check_token_authorization(t, wwsfs, "sip:Alice@ims.example.org"), "WWSF not known to this operator");
  t.wwsf = "blocked.example";
  EXPECT_EQ(check_token_authorization(t, wwsfs, "sip:Alice@ims.example.org"), "WWSF blocked");
  t.wwsf = "wwsf.example";
  t.pool = true;
  EXPECT_EQ(check_token_authorization(t, wwsfs, "sip:Alice@ims.example.org"), "Pool IMPI does not belong to the WWSF");
  t.sub = "guest1@pool.example";
  EXPECT_EQ(check_token_authorization(t, wwsfs, "sip:Alice@ims.example.org"), std::nullopt);
  t.wwsf = "nopool.example";  // a WWSF without a pool hands out no pool identity
  EXPECT_EQ(check_token_authorization(t, wwsfs, "sip:Alice@ims.example.org"), "Pool IMPI does not belong to the WWSF");
}

TEST(TokenAuth, TnaAuthorization) {
  std::string v = tna_authorization("alice@ims.example.org", "ims.example.org", "wwsf.example");
  EXPECT_EQ(v,
            "Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", uri=\"sip:ims.example.org\", "
            "nonce=\"\", response=\"\", integrity-protected=\"auth-done\", authorization-entity=\"wwsf.example\"");
  auto cred = sip::parse_digest_credentials(v);
  ASSERT_TRUE(cred.ok());
  EXPECT_EQ(cred->username, "alice@ims.example.org");
  ASSERT_NE(cred->find_other("integrity-protected"), nullptr);
  EXPECT_EQ(cred->find_other("integrity-protected")->value, "auth-done");
  EXPECT_EQ(cred->find_other("authorization-entity")->value, "wwsf.example");
  // A quote in a claim cannot break out of its parameter.
  cred = sip::parse_digest_credentials(tna_authorization("a\"b, response=\"x", "ims.example.org", "w"));
  ASSERT_TRUE(cred.ok());
  EXPECT_EQ(cred->username, "a\"b, response=\"x");
  EXPECT_EQ(cred->response, "");
}

TEST(TokenAuth, IntrospectionRequestBody) {
  EXPECT_EQ(introspection_request_body("abc-._~"), "token=abc-._~&token_type_hint=access_token");
  EXPECT_EQ(introspection_request_body("a+b/c=&d e"), "token=a%2Bb%2Fc%3D%26d%20e&token_type_hint=access_token");
}
