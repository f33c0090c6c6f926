#include "base/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace base::metrics {
namespace {

TEST(Metrics, EmptyRegistryRendersNothing) {
  Registry r;
  EXPECT_EQ(r.render(), "");
}

TEST(Metrics, CounterAndGaugeRender) {
  Registry r;
  auto& c = r.counter("turn_allocations_total", "Allocations created.");
  c.inc();
  c.inc(41);
  auto& g = r.gauge("turn_allocations", "Allocations alive.");
  g.set(10);
  g.add(-13);
  EXPECT_EQ(c.value(), 42u);
  EXPECT_EQ(g.value(), -3);
  EXPECT_EQ(r.render(),
            "# HELP turn_allocations Allocations alive.\n"
            "# TYPE turn_allocations gauge\n"
            "turn_allocations -3\n"
            "# HELP turn_allocations_total Allocations created.\n"
            "# TYPE turn_allocations_total counter\n"
            "turn_allocations_total 42\n");
}

TEST(Metrics, SameNameAndLabelsIsSameObject) {
  Registry r;
  auto& a = r.counter("x_total", "h", {{"a", "1"}, {"b", "2"}});
  auto& b = r.counter("x_total", "h", {{"b", "2"}, {"a", "1"}});
  auto& c = r.counter("x_total", "h", {{"a", "1"}, {"b", "3"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  // Stable addresses across many later registrations.
  for (int i = 0; i < 1000; ++i) r.counter("x_total", "h", {{"a", std::to_string(i)}});
  EXPECT_EQ(&a, &r.counter("x_total", "h", {{"a", "1"}, {"b", "2"}}));
}

TEST(Metrics, FamilyGroupedUnderOneHelpAndType) {
  Registry r;
  r.counter("stun_requests_total", "STUN requests.", {{"method", "binding"}}).inc(3);
  r.gauge("other", "Other.").set(1);
  r.counter("stun_requests_total", "STUN requests.", {{"method", "allocate"}}).inc(2);
  EXPECT_EQ(r.render(),
            "# HELP other Other.\n"
            "# TYPE other gauge\n"
            "other 1\n"
            "# HELP stun_requests_total STUN requests.\n"
            "# TYPE stun_requests_total counter\n"
            "stun_requests_total{method=\"allocate\"} 2\n"
            "stun_requests_total{method=\"binding\"} 3\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry r;
  r.gauge("g", "line1\nback\\slash \"quoted\"", {{"v", "a\"b\\c\nd"}}).set(7);
  EXPECT_EQ(r.render(),
            "# HELP g line1\\nback\\\\slash \"quoted\"\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\"b\\\\c\\nd\"} 7\n");
}

TEST(Metrics, InvalidNamesThrow) {
  Registry r;
  EXPECT_THROW(r.counter("", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("1abc", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("a-b", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "h", {{"bad-label", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "h", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "h", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  r.counter("ns:sub_total", "h");  // colons are legal in metric names
  EXPECT_THROW(r.gauge("ns:sub_total", "h"), std::invalid_argument);  // type clash
}

TEST(Metrics, CollectorsAddAndSumSamples) {
  Registry r;
  r.counter("relayed_bytes_total", "Bytes relayed.", {{"dir", "in"}}).inc(100);
  // Two "threads" report their share of the same series; it is summed, also with the registered one.
  for (int t = 0; t < 2; ++t) {
    r.add_collector([t](Sink& s) {
      s.counter("relayed_bytes_total", "ignored help", {{"dir", "in"}}, 10 + t);
      s.counter("relayed_bytes_total", "ignored help", {{"dir", "out"}}, 5);
      s.gauge("threads_up", "Threads running.", {}, 1);
    });
  }
  auto id = r.add_collector([](Sink& s) {
    s.gauge("ratio", "A ratio.", {}, 0.25);
    s.gauge("relayed_bytes_total", "type clash: dropped", {}, 1);
    s.counter("bad name", "dropped", {}, 1);
  });
  EXPECT_EQ(r.render(),
            "# HELP ratio A ratio.\n"
            "# TYPE ratio gauge\n"
            "ratio 0.25\n"
            "# HELP relayed_bytes_total Bytes relayed.\n"
            "# TYPE relayed_bytes_total counter\n"
            "relayed_bytes_total{dir=\"in\"} 121\n"
            "relayed_bytes_total{dir=\"out\"} 10\n"
            "# HELP threads_up Threads running.\n"
            "# TYPE threads_up gauge\n"
            "threads_up 2\n");
  r.remove_collector(id);
  EXPECT_EQ(r.render().find("ratio"), std::string::npos);
}

TEST(Metrics, CollectorMayRegister) {
  Registry r;
  r.add_collector([&r](Sink&) { r.gauge("made_in_collector", "h").set(1); });
  r.render();  // must not deadlock
  EXPECT_NE(r.render().find("made_in_collector 1"), std::string::npos);
}

TEST(Metrics, ValueFormatting) {
  Registry r;
  r.counter("big_total", "h").inc(UINT64_MAX);
  r.gauge("neg", "h").set(INT64_MIN);
  r.add_collector([](Sink& s) {
    s.gauge("inf", "h", {}, 1.0 / 0.0);
    s.gauge("nan", "h", {}, std::nan(""));
    s.gauge("frac", "h", {}, 1e-3);
  });
  auto text = r.render();
  EXPECT_NE(text.find("big_total 18446744073709551615\n"), std::string::npos) << text;
  EXPECT_NE(text.find("neg -9223372036854775808\n"), std::string::npos) << text;
  EXPECT_NE(text.find("inf +Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("nan NaN\n"), std::string::npos) << text;
  EXPECT_NE(text.find("frac 0.001"), std::string::npos) << text;
}

TEST(Metrics, ConcurrentRegistrationAndIncrement) {
  Registry r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&r, t] {
      for (int i = 0; i < 1000; ++i) {
        r.counter("hits_total", "h", {{"k", std::to_string(i % 10)}}).inc();
        if (t == 0 && i % 100 == 0) r.render();
      }
    });
  for (auto& t : threads) t.join();
  uint64_t sum = 0;
  for (int k = 0; k < 10; ++k) sum += r.counter("hits_total", "h", {{"k", std::to_string(k)}}).value();
  EXPECT_EQ(sum, 4000u);
}

}  // namespace
}  // namespace base::metrics
