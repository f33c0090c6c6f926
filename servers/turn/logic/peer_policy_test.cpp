#include "turn/logic/peer_policy.hpp"

#include <gtest/gtest.h>

using namespace turn;

namespace {
base::Endpoint ep(const char* s) { return *base::Endpoint::parse(s); }
}  // namespace

TEST(PeerPolicy, DeniesSpecialRangesByDefault) {
  PeerPolicy p({}, {}, {});
  for (const char* s : {"127.0.0.1:5000", "10.1.2.3:5000", "172.16.0.1:5000", "192.168.1.1:5000", "169.254.1.1:5000",
                        "0.0.0.0:5000", "224.0.0.1:5000", "255.255.255.255:5000", "100.64.0.1:5000", "[::1]:5000",
                        "[fe80::1]:5000", "[fc00::1]:5000", "[ff02::1]:5000", "[::]:5000", "[::ffff:127.0.0.1]:5000",
                        "[::ffff:10.0.0.1]:5000"})
    EXPECT_FALSE(p.allowed(ep(s))) << s;
  EXPECT_TRUE(p.allowed(ep("8.8.8.8:53")));
  EXPECT_TRUE(p.allowed(ep("[2a00:1450::1]:443")));
  EXPECT_FALSE(p.allowed(ep("8.8.8.8:0")));
}

TEST(PeerPolicy, AllowedRangesOverrideDefaultsButNotExplicitDenies) {
  PeerPolicy p({*base::Cidr::parse("127.0.0.0/8")}, {*base::Cidr::parse("127.0.0.99/32"), *base::Cidr::parse("9.9.9.0/24")},
               {*base::IpAddress::parse("127.0.0.1"), *base::IpAddress::parse("203.0.113.10")});
  EXPECT_TRUE(p.allowed(ep("127.0.0.1:5000")));  // allowed range beats the own-address rule too
  EXPECT_FALSE(p.allowed(ep("127.0.0.99:5000")));
  EXPECT_FALSE(p.allowed(ep("9.9.9.9:53")));
  EXPECT_EQ(p.check(ep("10.0.0.1:1")), PeerPolicy::Verdict::DeniedSpecial);
}

TEST(PeerPolicy, OwnAddressesDenied) {
  PeerPolicy p({}, {}, {*base::IpAddress::parse("8.8.4.4")});
  EXPECT_EQ(p.check(ep("8.8.4.4:50000")), PeerPolicy::Verdict::DeniedOwnAddress);
  EXPECT_TRUE(p.allowed(ep("8.8.8.8:50000")));
}
