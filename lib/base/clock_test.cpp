#include "base/clock.hpp"

#include <gtest/gtest.h>

using namespace base;
using std::chrono::milliseconds;

TEST(Duration, Parse) {
  milliseconds d;
  ASSERT_TRUE(parse_duration("24h", d));
  EXPECT_EQ(d, std::chrono::hours(24));
  ASSERT_TRUE(parse_duration("1m30s", d));
  EXPECT_EQ(d, std::chrono::seconds(90));
  ASSERT_TRUE(parse_duration("250ms", d));
  EXPECT_EQ(d.count(), 250);
  ASSERT_TRUE(parse_duration("60", d));
  EXPECT_EQ(d, std::chrono::seconds(60));
  EXPECT_FALSE(parse_duration("", d));
  EXPECT_FALSE(parse_duration("1x", d));
  EXPECT_FALSE(parse_duration("-1s", d));
  EXPECT_FALSE(parse_duration("h", d));
}

TEST(Duration, FormatRoundTrips) {
  EXPECT_EQ(format_duration(std::chrono::hours(168)), "168h");
  for (const char* s : {"24h", "10m", "90s", "250ms", "0s"}) {
    milliseconds d;
    ASSERT_TRUE(parse_duration(s, d)) << s;
    EXPECT_EQ(format_duration(d), s);
  }
}
