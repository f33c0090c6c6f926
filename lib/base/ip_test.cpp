#include "base/ip.hpp"

#include <gtest/gtest.h>

using namespace base;

TEST(IpAddress, ParseAndFormat) {
  auto a = IpAddress::parse("192.0.2.10");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->to_string(), "192.0.2.10");
  EXPECT_EQ(a->v4_host_order(), 0xC000020Au);
  auto b = IpAddress::parse("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->is_v4());
  EXPECT_EQ(b->to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("256.1.1.1"));
  EXPECT_FALSE(IpAddress::parse("example.org"));
  EXPECT_FALSE(IpAddress::parse(""));
}

TEST(IpAddress, MappedIsSeenAsV4) {
  auto m = IpAddress::parse("::ffff:127.0.0.1");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_v4_mapped());
  EXPECT_EQ(m->unmapped(), *IpAddress::parse("127.0.0.1"));
  EXPECT_TRUE(Cidr::parse("127.0.0.0/8")->contains(*m));
}

TEST(Endpoint, ParseAndSockaddr) {
  auto e = Endpoint::parse("[::1]:3478");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 3478);
  EXPECT_EQ(e->to_string(), "[::1]:3478");
  sockaddr_storage ss;
  e->to_sockaddr(ss);
  EXPECT_EQ(*Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)), *e);
  EXPECT_EQ(Endpoint::parse("10.0.0.1:80")->to_string(), "10.0.0.1:80");
  EXPECT_FALSE(Endpoint::parse("::1:80"));
  EXPECT_FALSE(Endpoint::parse("10.0.0.1:65536"));
  EXPECT_FALSE(Endpoint::parse("10.0.0.1:"));
}

TEST(Cidr, Contains) {
  auto c = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(*IpAddress::parse("10.255.0.1")));
  EXPECT_FALSE(c->contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_FALSE(c->contains(*IpAddress::parse("::1")));
  auto v6 = Cidr::parse("fe80::/10");
  EXPECT_TRUE(v6->contains(*IpAddress::parse("febf::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("fec0::1")));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("8.8.8.8")));
  EXPECT_EQ(Cidr::parse("1.2.3.4")->prefix(), 32);
  EXPECT_FALSE(Cidr::parse("1.2.3.4/33"));
  EXPECT_FALSE(Cidr::parse("1.2.3.4/"));
}
