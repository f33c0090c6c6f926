#include "wwsf/logic/w4.hpp"

#include <gtest/gtest.h>

namespace wwsf {
namespace {

TEST(W4, RequestBodyIsFormEncoded) {
  EXPECT_EQ(w4_token_request_body("alice@ims.example.org", false),
            "grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims&sub=alice%40ims.example.org&pool=false");
  EXPECT_EQ(w4_token_request_body("g1@socialnet.example", true),
            "grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims&sub=g1%40socialnet.example&pool=true");
  EXPECT_EQ(w4_token_request_body("a@b", false, "wwsf 1"),
            "grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims&sub=a%40b&pool=false&client_id=wwsf+1");
  EXPECT_EQ(form_encode("a b&c=d+é"), "a+b%26c%3Dd%2B%C3%A9");
}

TEST(W4, ParsesTheTokenResponse) {
  auto t = parse_w4_token_response(
      200, R"({"access_token":"eyJ.x.y","token_type":"Bearer","expires_in":300,"impu":["sip:alice@ims.example.org"]})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->access_token, "eyJ.x.y");
  EXPECT_EQ(t->token_type, "Bearer");
  EXPECT_EQ(t->expires_in, 300);
  EXPECT_EQ(t->impu, std::vector<std::string>{"sip:alice@ims.example.org"});
  auto no_impu = parse_w4_token_response(200, R"({"access_token":"t","expires_in":60})");
  ASSERT_TRUE(no_impu);
  EXPECT_TRUE(no_impu->impu.empty());
}

TEST(W4, RefusesBrokenResponsesAndKeepsOAuthErrors) {
  for (const char* bad : {"", "null", "[]", R"({"expires_in":60})", R"({"access_token":"","expires_in":60})",
                          R"({"access_token":"t"})", R"({"access_token":"t","expires_in":0})",
                          R"({"access_token":"t","expires_in":"60"})", R"({"access_token":"t","expires_in":60,"impu":"x"})",
                          R"({"access_token":"t","expires_in":60,"impu":[1]})", "{\"access_token\":"}) {
    auto r = parse_w4_token_response(200, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 0);
    EXPECT_EQ(r.error().description.find("\"t\""), std::string::npos);
  }
  auto e = parse_w4_token_response(400, R"({"error":"access_denied","error_description":"WWSF blocked"})");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().status, 400);
  EXPECT_EQ(e.error().error, "access_denied");
  EXPECT_EQ(e.error().description, "WWSF blocked");
  auto html = parse_w4_token_response(502, "<html>");
  ASSERT_FALSE(html);
  EXPECT_EQ(html.error().status, 502);
  EXPECT_TRUE(html.error().error.empty());
}

}  // namespace
}  // namespace wwsf
