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

TEST(RelayPortMap, LiveOnlyWhileBoundAndOnlyOnItsNames) {
  RelayPortMap m({*base::IpAddress::parse("10.0.0.5"), *base::IpAddress::parse("198.51.100.7"),
                  *base::IpAddress::parse("0.0.0.0"), *base::IpAddress::parse("fd00::5")});
  EXPECT_EQ(m.names().size(), 3u);  // the wildcard names nothing
  EXPECT_FALSE(m.live(ep("10.0.0.5:49200")));
  m.bound(base::Family::V4, 49200);
  m.bound(base::Family::V4, 49201);
  EXPECT_TRUE(m.live(ep("10.0.0.5:49200")));
  EXPECT_TRUE(m.live(ep("198.51.100.7:49200")));        // advertised and bound address (1:1 NAT)
  EXPECT_TRUE(m.live(ep("[::ffff:10.0.0.5]:49200")));  // the mapped form is the same address
  EXPECT_FALSE(m.live(ep("127.0.0.1:49200")));          // another address with the same port
  EXPECT_FALSE(m.live(ep("0.0.0.0:49200")));
  EXPECT_FALSE(m.live(ep("10.0.0.5:49202")));
  EXPECT_FALSE(m.live(ep("[fd00::5]:49200")));  // the IPv6 relay has its own ports
  m.released(base::Family::V4, 49200);
  EXPECT_FALSE(m.live(ep("10.0.0.5:49200")));
  EXPECT_TRUE(m.live(ep("10.0.0.5:49201")));  // its neighbour in the same word is untouched
  m.bound(base::Family::V6, 65535);
  EXPECT_TRUE(m.live(ep("[fd00::5]:65535")));
  m.bound(base::Family::V4, 0);
  EXPECT_FALSE(m.live(ep("10.0.0.5:0")));
}

TEST(PeerPolicy, LiveRelayedAddressOfThisServerIsAllowed) {
  RelayPortMap relays({*base::IpAddress::parse("10.0.0.5"), *base::IpAddress::parse("8.8.4.4")});
  PeerPolicy p({}, {}, {*base::IpAddress::parse("10.0.0.5"), *base::IpAddress::parse("8.8.4.4")}, &relays);
  using V = PeerPolicy::Verdict;
  // Nothing allocated yet: our address is refused on every port.
  EXPECT_EQ(p.check(ep("10.0.0.5:49200")), V::DeniedOwnAddress);
  relays.bound(base::Family::V4, 49200);
  EXPECT_EQ(p.check(ep("10.0.0.5:49200")), V::AllowedOwnRelay);
  EXPECT_TRUE(p.allowed(ep("10.0.0.5:49200")));
  EXPECT_TRUE(p.own_relay(ep("10.0.0.5:49200")));
  EXPECT_EQ(p.check(ep("8.8.4.4:49200")), V::AllowedOwnRelay);  // a public relay address: same rule
  EXPECT_EQ(p.check(ep("8.8.4.4:3478")), V::DeniedOwnAddress);   // a listener port is not a relay socket
  EXPECT_EQ(p.check(ep("10.0.0.5:3479")), V::DeniedOwnAddress);
  EXPECT_EQ(p.check(ep("10.0.0.5:49201")), V::DeniedOwnAddress);  // in relay_ports, but nobody's relay
  EXPECT_EQ(p.check(ep("127.0.0.1:49200")), V::DeniedSpecial);    // a loopback peer that is not our relay
  EXPECT_EQ(p.check(ep("10.0.0.6:49200")), V::DeniedSpecial);
  EXPECT_EQ(p.check(ep("10.0.0.5:0")), V::DeniedSpecial);
  EXPECT_EQ(p.check(ep("8.8.8.8:49200")), V::Allowed);  // ordinary peers are not a relay of ours
  relays.released(base::Family::V4, 49200);
  EXPECT_EQ(p.check(ep("10.0.0.5:49200")), V::DeniedOwnAddress);
  EXPECT_FALSE(p.own_relay(ep("10.0.0.5:49200")));
}

TEST(PeerPolicy, ExplicitDenialBeatsALiveRelay) {
  RelayPortMap relays({*base::IpAddress::parse("10.0.0.5")});
  relays.bound(base::Family::V4, 49200);
  PeerPolicy p({}, {*base::Cidr::parse("10.0.0.0/24")}, {*base::IpAddress::parse("10.0.0.5")}, &relays);
  EXPECT_EQ(p.check(ep("10.0.0.5:49200")), PeerPolicy::Verdict::DeniedByConfig);
  // Without the map (no exception) the same peer is simply our own address.
  PeerPolicy q({}, {}, {*base::IpAddress::parse("10.0.0.5")});
  EXPECT_EQ(q.check(ep("10.0.0.5:49200")), PeerPolicy::Verdict::DeniedOwnAddress);
  EXPECT_FALSE(q.own_relay(ep("10.0.0.5:49200")));
}

TEST(PeerPolicy, VerdictNamesForLogsAndMetrics) {
  EXPECT_EQ(name(PeerPolicy::Verdict::DeniedByConfig), "denied_range");
  EXPECT_EQ(name(PeerPolicy::Verdict::DeniedSpecial), "special_range");
  EXPECT_EQ(name(PeerPolicy::Verdict::DeniedOwnAddress), "own_address");
  EXPECT_EQ(name(PeerPolicy::Verdict::AllowedOwnRelay), "own_relay");
}
