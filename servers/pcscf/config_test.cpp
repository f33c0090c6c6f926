// [pcscf] validation of the token and Approach 2 keys.
#include "pcscf/config.hpp"

#include <gtest/gtest.h>

using pcscf::PcscfConfig;

namespace {
std::string error_of(const PcscfConfig& c) {
  try {
    c.validate();
  } catch (const base::config::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(PcscfConfig, DefaultsAreValid) { EXPECT_EQ(error_of(PcscfConfig{}), ""); }

TEST(PcscfConfig, TurnPushUrlsArePlainHttpOnLoopbackOnlyAndAuthenticated) {
  PcscfConfig c;
  c.turn_push_urls = {"http://127.0.0.1:3479"};
  EXPECT_NE(error_of(c).find("needs turn_push_token"), std::string::npos);
  c.turn_push_token = "t";
  for (const char* ok : {"http://127.0.0.1:3479", "http://localhost:3479/", "http://[::1]:3479", "https://turn.example:3479"}) {
    c.turn_push_urls = {ok};
    EXPECT_EQ(error_of(c), "") << ok;
  }
  for (const char* bad : {"http://10.0.0.1:3479", "http://localhost.evil.example:3479", "http://127.0.0.1.evil.example",
                          "ftp://127.0.0.1"}) {
    c.turn_push_urls = {bad};
    EXPECT_NE(error_of(c).find("turn_push_urls"), std::string::npos) << bad;
  }
  c.turn_push_urls = {"http://127.0.0.1:3479"};
  c.turn_push_attempts = 0;
  EXPECT_NE(error_of(c).find("turn_push_attempts"), std::string::npos);
}

TEST(PcscfConfig, TokenEndpoints) {
  PcscfConfig c;
  c.token_jwks_url = "file:///etc/jwks.json";
  EXPECT_NE(error_of(c).find("token_jwks_url"), std::string::npos);
  c = PcscfConfig{};
  c.token_introspection_url = "https://waf.example/introspect";
  EXPECT_NE(error_of(c).find("token_introspection_secret"), std::string::npos);
  c.token_introspection_secret = "s";
  EXPECT_EQ(error_of(c), "");
}
