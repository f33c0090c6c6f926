// The control pages every server shares: what /metrics, /health and the rest answer, per method rule.
#include "common/control_listener.hpp"

#include <gtest/gtest.h>

namespace {

net::HttpRequest get(const std::string& method, const std::string& path) {
  net::HttpRequest r;
  r.method = method;
  r.target = r.path = path;
  return r;
}

struct ControlPageTest : ::testing::Test {
  ControlPageTest() { metrics.counter("webims_test_total", "A counter of the test").inc(3); }
  base::metrics::Registry metrics;
  servers::HealthBody health = [] { return std::string("{\"status\":\"ok\",\"n\":1}\n"); };
};

TEST_F(ControlPageTest, MetricsAreTheRegistryInTheTextFormat) {
  auto res = servers::control_page(get("GET", "/metrics"), metrics, health, servers::ControlMethods::GetHead);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.body, metrics.render());
  EXPECT_NE(res.body.find("webims_test_total 3\n"), std::string::npos) << res.body;
}

TEST_F(ControlPageTest, HealthIsTheServersBodyAsJson) {
  auto res = servers::control_page(get("HEAD", "/health"), metrics, health, servers::ControlMethods::GetHead);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, "{\"status\":\"ok\",\"n\":1}\n");
}

TEST_F(ControlPageTest, AnythingElseIsNotFound) {
  for (auto methods : {servers::ControlMethods::Any, servers::ControlMethods::GetHead}) {
    auto res = servers::control_page(get("GET", "/metrics/"), metrics, health, methods);
    EXPECT_EQ(res.status, 404);
    EXPECT_EQ(res.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(res.body, "not found\n");
  }
}

TEST_F(ControlPageTest, OtherMethodsRefusedOnlyWhenGetAndHeadAreTheRule) {
  auto refused = servers::control_page(get("POST", "/health"), metrics, health, servers::ControlMethods::GetHead);
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(refused.body, "method not allowed\n");
  auto served = servers::control_page(get("POST", "/health"), metrics, health, servers::ControlMethods::Any);
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.body, "{\"status\":\"ok\",\"n\":1}\n");
}

}  // namespace
