#include "turn/logic/nonce.hpp"

#include <gtest/gtest.h>

using namespace turn;

TEST(Nonce, ValidStaleInvalid) {
  std::array<uint8_t, 32> key{};
  key[0] = 1;
  NonceManager n(key, 600);
  auto ip = *base::IpAddress::parse("198.51.100.7");
  auto other = *base::IpAddress::parse("198.51.100.8");
  std::string nonce = n.make(ip, 1000);
  EXPECT_TRUE(nonce.starts_with("obMatJos2"));
  EXPECT_LT(nonce.size(), 128u);  // RFC 8489 §14.10
  EXPECT_EQ(n.check(nonce, ip, 1000), NonceManager::Check::Valid);
  EXPECT_EQ(n.check(nonce, ip, 1600), NonceManager::Check::Valid);
  EXPECT_EQ(n.check(nonce, ip, 1601), NonceManager::Check::Stale);
  EXPECT_EQ(n.check(nonce, other, 1000), NonceManager::Check::Invalid);  // bound to the client address
  std::string tampered = nonce;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(n.check(tampered, ip, 1000), NonceManager::Check::Invalid);
  EXPECT_EQ(n.check("", ip, 1000), NonceManager::Check::Invalid);
  EXPECT_EQ(n.check("obMatJos2gAAA!!", ip, 1000), NonceManager::Check::Invalid);
  std::array<uint8_t, 32> key2{};
  EXPECT_EQ(NonceManager(key2, 600).check(nonce, ip, 1000), NonceManager::Check::Invalid);
  EXPECT_TRUE(NonceManager::has_password_algorithms_feature(nonce));
  EXPECT_FALSE(NonceManager::has_password_algorithms_feature("abcdef"));
}
