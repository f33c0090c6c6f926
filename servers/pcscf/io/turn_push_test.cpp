// Approach 2 pushes and revocations against control APIs on loopback (net::HttpServer stands in for
// the TURN server's): what is sent, to whom, and the bounded retries.
#include "pcscf/io/turn_push.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/log.hpp"
#include "net/http_server.hpp"

using namespace pcscf::io;
namespace asio = boost::asio;

namespace {

struct Seen {
  std::string method, path, auth, content_type;
  nlohmann::json body;
};

// A control API on its own thread that answers `fail_first` requests with 503, then 204.
class ControlApi {
 public:
  explicit ControlApi(int fail_first = 0) : fail_left_(fail_first) {
    server_ = std::make_unique<net::HttpServer>(io_, "http://127.0.0.1:0", [this](const net::HttpRequest& r) {
      std::lock_guard lock(mu_);
      auto* auth = r.header("authorization");
      auto* ct = r.header("content-type");
      seen_.push_back({r.method, r.path, auth ? *auth : "", ct ? *ct : "", nlohmann::json::parse(r.body, nullptr, false)});
      if (fail_left_ > 0) {
        --fail_left_;
        return net::HttpResponse{503, "text/plain", "busy\n", {}};
      }
      return net::HttpResponse{204, "", "", {}};
    });
    url_ = "http://127.0.0.1:" + std::to_string(server_->local_endpoint().port);
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ControlApi() {
    asio::post(io_, [this] {
      server_.reset();
      guard_.reset();
    });
    thread_.join();
  }
  const std::string& url() const { return url_; }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  asio::io_context io_;
  std::unique_ptr<net::HttpServer> server_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::string url_;
  std::mutex mu_;
  std::vector<Seen> seen_;
  int fail_left_;
};

TurnPushOptions options(std::vector<std::string> urls, int attempts = 3) {
  TurnPushOptions o;
  o.base_urls = std::move(urls);
  o.bearer_token = "ctl-token";
  o.attempts = attempts;
  o.retry_delay = std::chrono::milliseconds(10);
  return o;
}

std::string closed_port_url() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return "http://127.0.0.1:" + std::to_string(a.local_endpoint().port());
}  // the acceptor closes: nobody listens there any more

}  // namespace

TEST(TurnPush, PushAndRevokeReachEveryServer) {
  base::log::set_level(base::log::Level::Error);
  ControlApi a, b;
  asio::io_context io;
  TurnPusher p(io, options({a.url(), b.url() + "/"}));
  p.push("AAAAAAAAAAAAAAAAAAAAAA:1900086400", "c2VjcmV0", 1900086400);
  p.revoke("BBBBBBBBBBBBBBBBBBBBBB:1900000600", 1900000600);
  io.run();
  EXPECT_EQ(p.stats().delivered, 4u);
  EXPECT_EQ(p.stats().retried, 0u);
  for (ControlApi* api : {&a, &b}) {
    auto seen = api->seen();
    ASSERT_EQ(seen.size(), 2u);
    std::sort(seen.begin(), seen.end(), [](auto& x, auto& y) { return x.path < y.path; });
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].path, "/v1/credentials");
    EXPECT_EQ(seen[0].auth, "Bearer ctl-token");
    EXPECT_EQ(seen[0].content_type, "application/json");
    EXPECT_EQ(seen[0].body, (nlohmann::json{{"username", "AAAAAAAAAAAAAAAAAAAAAA:1900086400"},
                                            {"password", "c2VjcmV0"},
                                            {"expires", 1900086400}}));
    EXPECT_EQ(seen[1].path, "/v1/revocations");
    EXPECT_EQ(seen[1].auth, "Bearer ctl-token");
    EXPECT_EQ(seen[1].body, (nlohmann::json{{"username", "BBBBBBBBBBBBBBBBBBBBBB:1900000600"}, {"until", 1900000600}}));
  }
}

TEST(TurnPush, FailuresAreRetriedABoundedNumberOfTimes) {
  base::log::set_level(base::log::Level::Error);
  ControlApi busy_twice(2);
  asio::io_context io;
  TurnPusher p(io, options({busy_twice.url()}, 3));
  p.push("u:1", "pw", 1);
  io.run();
  EXPECT_EQ(busy_twice.seen().size(), 3u);  // 503, 503, 204
  EXPECT_EQ(p.stats().retried, 2u);
  EXPECT_EQ(p.stats().delivered, 1u);
  EXPECT_EQ(p.stats().given_up, 0u);

  ControlApi always_busy(100);
  asio::io_context io2;
  TurnPusher q(io2, options({always_busy.url(), closed_port_url()}, 2));
  q.revoke("u:1", 1);
  io2.run();
  EXPECT_EQ(always_busy.seen().size(), 2u);  // two attempts, no more
  EXPECT_EQ(q.stats().retried, 2u);           // one per server
  EXPECT_EQ(q.stats().given_up, 2u);
  EXPECT_EQ(q.stats().delivered, 0u);
}

TEST(TurnPush, NothingHappensAfterThePusherIsGone) {
  base::log::set_level(base::log::Level::Error);
  ControlApi busy(100);
  asio::io_context io;
  auto p = std::make_unique<TurnPusher>(io, options({busy.url()}, 5));
  p->push("u:1", "pw", 1);
  p.reset();  // the answer and any retry find it gone
  io.run();
  EXPECT_LE(busy.seen().size(), 1u);
}
