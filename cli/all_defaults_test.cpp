#include "all_defaults.hpp"

#include <gtest/gtest.h>

namespace cli {
namespace {

using V = std::vector<std::string>;

TEST(AllDefaults, NothingConfiguredFollowsTheDefaultPortsAndEveryHostName) {
  Config c;
  auto d = derive_all_defaults(c, "192.0.2.10");
  EXPECT_EQ(c.wwsf.origin, "https://localhost:8443");
  EXPECT_EQ(c.wwsf.cors_origins, (V{"https://127.0.0.1:8443", "https://[::1]:8443", "https://192.0.2.10:8443"}));
  EXPECT_EQ(c.pcscf.allowed_origins,
            (V{"https://localhost:8443", "https://127.0.0.1:8443", "https://[::1]:8443", "https://192.0.2.10:8443"}));
  // No [::1] source: CSP has no syntax for IPv6 literals.
  EXPECT_EQ(c.wwsf.csp_connect_src, (V{"wss://localhost:7443", "wss://127.0.0.1:7443", "wss://192.0.2.10:7443"}));
  EXPECT_EQ(c.wwsf.pcscf_url, "wss://{host}:7443");
  EXPECT_EQ(c.waf.issuer, "https://localhost:8443");
  EXPECT_EQ(c.pcscf.token_issuers, V{"https://localhost:8443"});
  EXPECT_EQ(c.wwsf.waf_token_url, "https://localhost:8443/token");
  EXPECT_TRUE(d.w4_in_process);
  EXPECT_TRUE(d.jwks_in_process);
  EXPECT_EQ(c.pcscf.token_jwks_url, "");
  EXPECT_EQ(d.open_url, "https://localhost:8443/");
  EXPECT_EQ(d.remote_url, "https://192.0.2.10:8443/");
  EXPECT_NO_THROW(c.wwsf.validate());
  EXPECT_NO_THROW(c.pcscf.validate());
  EXPECT_NO_THROW(c.waf.validate());
}

TEST(AllDefaults, MovedListenersMoveEveryDerivedValue) {
  Config c;
  c.wwsf.listen = "https://127.0.0.1:18443";
  c.pcscf.listen = {"ws://127.0.0.1:17080", "wss://127.0.0.1:17443"};
  c.waf.path_prefix = "/waf";
  auto d = derive_all_defaults(c, "127.0.0.1");  // a host with only a loopback interface
  EXPECT_EQ(c.wwsf.origin, "https://localhost:18443");
  EXPECT_EQ(c.wwsf.cors_origins, (V{"https://127.0.0.1:18443", "https://[::1]:18443"}));
  EXPECT_EQ(c.pcscf.allowed_origins, (V{"https://localhost:18443", "https://127.0.0.1:18443", "https://[::1]:18443"}));
  EXPECT_EQ(c.wwsf.csp_connect_src, (V{"wss://localhost:17443", "wss://127.0.0.1:17443"}));  // the wss:// listener
  EXPECT_EQ(c.wwsf.pcscf_url, "wss://{host}:17443");
  EXPECT_EQ(c.waf.issuer, "https://localhost:18443");
  EXPECT_EQ(c.wwsf.waf_token_url, "https://localhost:18443/waf/token");
  EXPECT_EQ(d.open_url, "https://localhost:18443/");
  EXPECT_EQ(d.remote_url, "");  // bound to loopback: not reachable from another machine
}

TEST(AllDefaults, OnlyLoopbackPrimaryAddressMeansNoRemoteUrl) {
  Config c;
  auto d = derive_all_defaults(c, "127.0.0.1");
  EXPECT_EQ(d.remote_url, "");
  EXPECT_EQ(c.pcscf.allowed_origins.size(), 3u);
}

TEST(AllDefaults, ValuesTheUserSetAreKept) {
  Config c;
  c.wwsf.origin = "https://wic.example.com";
  c.pcscf.allowed_origins = {"https://wic.example.com"};
  c.waf.issuer = "https://auth.example.com";
  c.wwsf.waf_token_url = "https://auth.example.com/oauth/token";
  c.pcscf.token_jwks_file = "/etc/webims/jwks.json";
  c.wwsf.pcscf_url = "wss://sip.example.com";
  auto d = derive_all_defaults(c, "192.0.2.10");
  EXPECT_EQ(c.wwsf.origin, "https://wic.example.com");
  EXPECT_EQ(c.pcscf.allowed_origins, V{"https://wic.example.com"});
  EXPECT_EQ(c.waf.issuer, "https://auth.example.com");
  EXPECT_EQ(c.pcscf.token_issuers, V{"https://auth.example.com"});  // still left at its default: follows the issuer
  EXPECT_EQ(c.wwsf.waf_token_url, "https://auth.example.com/oauth/token");
  EXPECT_FALSE(d.w4_in_process);
  EXPECT_FALSE(d.jwks_in_process);
  EXPECT_EQ(c.pcscf.token_jwks_url, pcscf::PcscfConfig{}.token_jwks_url);
  EXPECT_EQ(c.wwsf.pcscf_url, "wss://sip.example.com");
  // The local forms are still accepted (a page opened by address), and the page's own host may connect.
  EXPECT_EQ(c.wwsf.cors_origins.front(), "https://localhost:8443");
  EXPECT_EQ(c.wwsf.csp_connect_src.front(), "wss://wic.example.com:7443");
  EXPECT_EQ(d.open_url, "https://wic.example.com/");
}

TEST(AllDefaults, DefaultPortsLeaveTheOriginWithoutPort) {
  Config c;
  c.wwsf.listen = "https://[::]:443";
  c.pcscf.listen = {"wss://0.0.0.0:443"};
  auto d = derive_all_defaults(c, "192.0.2.10");
  EXPECT_EQ(c.wwsf.origin, "https://localhost");
  EXPECT_EQ(c.pcscf.allowed_origins.back(), "https://192.0.2.10");
  EXPECT_EQ(c.wwsf.csp_connect_src.front(), "wss://localhost:443");
  EXPECT_EQ(d.remote_url, "https://192.0.2.10/");
  EXPECT_EQ(origin_of("https", "::1", 8443), "https://[::1]:8443");
  EXPECT_EQ(origin_of("http", "localhost", 80), "http://localhost");
}

TEST(AllDefaults, UnreadableListenUrlIsAConfigurationError) {
  Config c;
  c.wwsf.listen = "https://127.0.0.1:notaport";
  EXPECT_THROW(derive_all_defaults(c, "127.0.0.1"), base::config::Error);
  Config d;
  d.pcscf.listen = {"wss://[::1:7443"};
  EXPECT_THROW(derive_all_defaults(d, "127.0.0.1"), base::config::Error);
}

TEST(AllDefaults, NextHopFollowsTheCoreListener) {
  Config untouched;
  derive_all_defaults(untouched, "127.0.0.1");
  EXPECT_EQ(untouched.pcscf.next_hop, Config{}.pcscf.next_hop);

  Config c;
  c.core.listen = {"udp://127.0.0.1:15060", "tcp://127.0.0.1:15061"};
  derive_all_defaults(c, "127.0.0.1");
  EXPECT_EQ(c.pcscf.next_hop, "sip:127.0.0.1:15061;transport=tcp");  // TCP before UDP

  Config wild;
  wild.core.listen = {"udp://[::]:15062"};
  derive_all_defaults(wild, "127.0.0.1");
  EXPECT_EQ(wild.pcscf.next_hop, "sip:[::1]:15062;transport=udp");

  Config set;
  set.core.listen = {"tcp://127.0.0.1:15063"};
  set.pcscf.next_hop = "sip:192.0.2.7:5060;transport=tcp";  // an external core: the user's choice stays
  derive_all_defaults(set, "127.0.0.1");
  EXPECT_EQ(set.pcscf.next_hop, "sip:192.0.2.7:5060;transport=tcp");
  EXPECT_NO_THROW(c.pcscf.validate());
}

}  // namespace
}  // namespace cli
