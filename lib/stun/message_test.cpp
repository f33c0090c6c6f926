#include "stun/message.hpp"

#include <gtest/gtest.h>

TEST(StunSmoke, BuildParse) {
  uint8_t buf[256];
  stun::TransactionId tid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  stun::Builder b(buf, stun::Method::Binding, stun::Class::Request, tid);
  b.add(stun::attr::Username, "user");
  uint8_t key[] = {1, 2, 3};
  b.add_message_integrity(key);
  b.add_fingerprint();
  auto r = b.finish();
  ASSERT_TRUE(r.ok());
  auto m = stun::parse(*r);
  ASSERT_TRUE(m.ok()) << stun::to_string(m.error());
  EXPECT_EQ(m->method(), stun::Method::Binding);
  EXPECT_TRUE(stun::verify_message_integrity(*m, key));
}
