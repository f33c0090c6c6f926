#include "stun/channel_data.hpp"

#include <gtest/gtest.h>

TEST(ChannelDataSmoke, Frame) {
  uint8_t buf[16] = {};
  auto f = stun::frame_channel_data(buf, 0x4001, 5, true);
  EXPECT_EQ(f.size(), 12u);
}
