#include "net/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "base/test_temp_dir.hpp"
#include "net/tls.hpp"

namespace net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Response = http::response<http::string_body>;

// Echoes what the server understood of the request.
HttpResponse echo(const HttpRequest& r) {
  if (r.path == "/throw") throw std::runtime_error("boom");
  if (r.path == "/no-content") return {204, "", "ignored body", {}};
  if (r.path == "/bye") return {200, "text/plain", "bye", {{"Connection", "close"}}};
  if (r.path == "/bad-header") return {200, "text/plain", "ok", {{"X-Evil", "a\r\nSet-Cookie: x=1"}, {"X-Good", "1"}}};
  HttpResponse out;
  const std::string* t = r.header("x-test");
  out.body = r.method + " " + r.path + " q=" + r.query + " x-test=" + (t ? *t : "-") + " body=" + r.body;
  out.headers = {{"X-Remote", r.remote.addr.to_string()}, {"X-Tls", r.tls ? "yes" : "no"}, {"Set-Cookie", "a=1"},
                 {"Set-Cookie", "b=2"}};
  return out;
}

// A blocking client on its own io_context (the server's io_context has its own thread).
class Client {
 public:
  explicit Client(const base::Endpoint& ep) : sock_(io_) {
    sock_.connect(tcp::endpoint(asio::ip::make_address(ep.addr.to_string()), ep.port));
  }
  void write(std::string_view s) { asio::write(sock_, asio::buffer(s.data(), s.size())); }
  Response read(bool head = false) {
    http::response_parser<http::string_body> p;
    p.skip(head);
    p.body_limit(16 << 20);
    http::read(sock_, buf_, p);
    return p.release();
  }
  Response request(std::string_view raw, bool head = false) {
    write(raw);
    return read(head);
  }
  // True once the server has closed the connection (after any response bytes).
  bool closed_by_server() {
    char c[512];
    boost::system::error_code ec;
    while (!ec) sock_.read_some(asio::buffer(c), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  tcp::socket& socket() { return sock_; }

 private:
  asio::io_context io_;
  tcp::socket sock_;
  beast::flat_buffer buf_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpHandler h, HttpLimits limits = {}, const std::string& url = "http://127.0.0.1:0",
             std::shared_ptr<asio::ssl::context> tls = nullptr) {
    server_ = std::make_unique<HttpServer>(io_, url, std::move(h), std::move(tls), limits);
    ep_ = server_->local_endpoint();
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  // Runs `fn` on the server's thread and waits for it.
  void on_server(std::function<void()> fn) {
    std::promise<void> done;
    asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  void TearDown() override {
    if (thread_.joinable()) {
      asio::post(io_, [this] {
        server_.reset();
        guard_.reset();
      });
      thread_.join();
    }
  }

  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  base::Endpoint ep_;
};

TEST_F(HttpServerTest, GetAndPost) {
  start(echo);
  ASSERT_NE(ep_.port, 0);
  Client c(ep_);
  auto r = c.request("GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nX-TEST: hello\r\n\r\n");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "GET /a/b q=x=1&y=2 x-test=hello body=");
  EXPECT_EQ(r[http::field::server], "webims");
  EXPECT_EQ(r[http::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(r[http::field::content_length], std::to_string(r.body().size()));
  EXPECT_EQ(r["X-Remote"], "127.0.0.1");
  EXPECT_EQ(r["X-Tls"], "no");
  EXPECT_EQ(std::distance(r.equal_range("Set-Cookie").first, r.equal_range("Set-Cookie").second), 2);

  r = c.request("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(r.body(), "POST /p q= x-test=- body=hello");
  r = c.request("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_EQ(r.body(), "POST /c q= x-test=- body=abcde");
}

TEST_F(HttpServerTest, KeepAliveAndPipelining) {
  start(echo);
  Client c(ep_);
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("GET /k" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(r.body(), "GET /k" + std::to_string(i) + " q= x-test=- body=");
    EXPECT_TRUE(r.keep_alive());
  }
  // Three requests in one write: answered in order.
  c.write("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxyGET /3 HTTP/1.1\r\n"
          "Host: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(c.read().body(), "GET /1 q= x-test=- body=");
  EXPECT_EQ(c.read().body(), "POST /2 q= x-test=- body=xy");
  auto last = c.read();
  EXPECT_EQ(last.body(), "GET /3 q= x-test=- body=");
  EXPECT_FALSE(last.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, Http10ClosesAfterResponse) {
  start(echo);
  Client c(ep_);
  auto r = c.request("GET /old HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.version(), 10);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, HeadAndNoContent) {
  start(echo);
  Client c(ep_);
  auto r = c.request("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n", true);
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r[http::field::content_length], std::to_string(std::string("HEAD /h q= x-test=- body=").size()));
  EXPECT_TRUE(r.body().empty());
  r = c.request("GET /no-content HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.result_int(), 204);
  EXPECT_EQ(r.find(http::field::content_length), r.end());
  // The connection is still in sync after both.
  EXPECT_EQ(c.request("GET /after HTTP/1.1\r\nHost: h\r\n\r\n").body(), "GET /after q= x-test=- body=");
}

TEST_F(HttpServerTest, MalformedRequestsGet400) {
  start(echo);
  for (std::string bad : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
                          std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
                          std::string("POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n"),
                          std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(200, 'A'),
                          std::string("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n")}) {
    Client c(ep_);
    c.write(bad);
    auto r = c.read();
    EXPECT_EQ(r.result_int(), 400) << bad;
    EXPECT_EQ(r[http::field::server], "webims");
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(c.closed_by_server());
  }
  // Still serving.
  Client c(ep_);
  EXPECT_EQ(c.request("GET / HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);
}

// Mutated requests (seeded, so failures reproduce): the server answers or closes, and keeps serving.
TEST_F(HttpServerTest, SurvivesGarbage) {
  HttpLimits limits;
  limits.max_body_bytes = 64;
  limits.idle_timeout = std::chrono::seconds(2);
  start(echo, limits);
  const std::string seed_request =
      "POST /x?y=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  uint64_t s = 0x9e3779b97f4a7c15ull;
  auto next = [&s] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  for (int i = 0; i < 300; ++i) {
    std::string m = seed_request;
    int edits = 1 + int(next() % 8);
    for (int e = 0; e < edits; ++e) {
      size_t at = next() % m.size();
      switch (next() % 4) {
        case 0: m[at] = char(next()); break;
        case 1: m.erase(at, 1 + next() % 4); break;
        case 2: m.insert(at, std::string(1 + next() % 3, char(next()))); break;
        case 3: m.insert(at, m.substr(next() % m.size(), next() % 16)); break;
      }
      if (m.empty()) m = "\r\n";
    }
    Client c(ep_);
    c.write(m);
    boost::system::error_code ec;
    c.socket().shutdown(tcp::socket::shutdown_send, ec);
    c.closed_by_server();  // whatever the answer, the connection ends
  }
  Client c(ep_);
  EXPECT_EQ(c.request("GET / HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);
}

TEST_F(HttpServerTest, OversizedBodyGets413) {
  HttpLimits limits;
  limits.max_body_bytes = 100;
  start(echo, limits);
  {
    Client c(ep_);  // declared too large: refused before the body is sent
    auto r = c.request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n");
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    Client c(ep_);  // declared too large and sent anyway: the answer survives the unread body
    c.write("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 50000\r\n\r\n");
    c.write(std::string(50000, 'b'));
    EXPECT_EQ(c.read().result_int(), 413);
  }
  {
    Client c(ep_);  // chunked, grows past the limit
    c.write("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    auto r = c.request("64\r\n" + std::string(100, 'x') + "\r\n1\r\ny\r\n0\r\n\r\n");
    EXPECT_EQ(r.result_int(), 413);
  }
  Client c(ep_);
  auto r = c.request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'z'));
  EXPECT_EQ(r.result_int(), 200);
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  start(echo);
  Client c(ep_);
  auto r = c.request("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(10000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.result_int(), 431);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, ExpectContinue) {
  start(echo);
  Client c(ep_);
  auto interim = c.request("PUT /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(interim.result_int(), 100);
  auto r = c.request("data");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "PUT /e q= x-test=- body=data");
}

TEST_F(HttpServerTest, HandlerExceptionGives500AndServerLives) {
  start(echo);
  Client c(ep_);
  auto r = c.request("GET /throw HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_EQ(r[http::field::server], "webims");
  EXPECT_EQ(c.request("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);
}

TEST_F(HttpServerTest, HandlerHeadersAreSanitisedAndMayClose) {
  start(echo);
  Client c(ep_);
  auto r = c.request("GET /bad-header HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.find("X-Evil"), r.end());
  EXPECT_EQ(r.find(http::field::set_cookie), r.end());
  EXPECT_EQ(r["X-Good"], "1");
  r = c.request("GET /bye HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, IdleConnectionTimesOut) {
  HttpLimits limits;
  limits.idle_timeout = std::chrono::seconds(1);
  start(echo, limits);
  Client c(ep_);
  c.write("GET / HTTP/1.1\r\n");  // never finishes the header (slowloris)
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST_F(HttpServerTest, ConnectionLimit) {
  HttpLimits limits;
  limits.max_connections = 1;
  start(echo, limits);
  Client first(ep_);
  EXPECT_EQ(first.request("GET / HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);  // now surely accepted
  Client second(ep_);
  EXPECT_TRUE(second.closed_by_server());
  EXPECT_EQ(first.request("GET / HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);
}

TEST_F(HttpServerTest, StopClosesListenerAndConnections) {
  start(echo);
  Client c(ep_);
  EXPECT_EQ(c.request("GET / HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);
  on_server([this] { server_->stop(); });
  EXPECT_TRUE(c.closed_by_server());
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ep_.port), ec);
  EXPECT_TRUE(ec) << "still accepting after stop()";
  on_server([this] { server_->stop(); });  // idempotent
}

// An asynchronous handler answers later (the WWSF waits for the WAF); pipelined requests on the same
// connection wait for it and are answered in order.
TEST_F(HttpServerTest, AsyncHandlerAnswersLaterInOrder) {
  std::unique_ptr<asio::steady_timer> timer;
  server_ = std::make_unique<HttpServer>(io_, "http://127.0.0.1:0", HttpAsyncHandler([&](const HttpRequest& r, HttpRespond respond) {
    if (r.path == "/now") return respond({200, "text/plain", "now", {}});
    timer = std::make_unique<asio::steady_timer>(io_, std::chrono::milliseconds(20));
    timer->async_wait([respond](const boost::system::error_code&) {
      respond({202, "text/plain", "later", {}});
      respond({500, "text/plain", "a second answer is ignored", {}});
    });
  }));
  ep_ = server_->local_endpoint();
  guard_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
  Client c(ep_);
  c.write("GET /later HTTP/1.1\r\nHost: h\r\n\r\nGET /now HTTP/1.1\r\nHost: h\r\n\r\n");
  auto a = c.read();
  EXPECT_EQ(a.result_int(), 202);
  EXPECT_EQ(a.body(), "later");
  auto b = c.read();
  EXPECT_EQ(b.result_int(), 200);
  EXPECT_EQ(b.body(), "now");
  on_server([&] { timer.reset(); });
}

TEST(HttpServerSetup, BadUrlsAndBindFailures) {
  asio::io_context io;
  auto msg = [&](const std::string& url, std::shared_ptr<asio::ssl::context> tls = nullptr) {
    try {
      HttpServer s(io, url, echo, tls);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  for (const char* url : {"ftp://127.0.0.1:1", "127.0.0.1:80", "http://host.example:80", "http://127.0.0.1:99999",
                          "http://127.0.0.1:x", "http://::1:80", "http://[::1", "http://127.0.0.1:0/path"}) {
    auto m = msg(url);
    EXPECT_NE(m.find("bad HTTP listen URL"), std::string::npos) << url << ": " << m;
    EXPECT_NE(m.find(url), std::string::npos) << m;
  }
  EXPECT_NE(msg("https://127.0.0.1:0").find("needs a TLS certificate"), std::string::npos);
  HttpServer first(io, "http://127.0.0.1:0", echo);
  auto port = std::to_string(first.local_endpoint().port);
  auto m = msg("http://127.0.0.1:" + port);
  EXPECT_NE(m.find("cannot listen on http://127.0.0.1:" + port), std::string::npos) << m;
  HttpServer local(io, "http://localhost:0/", echo);
  EXPECT_EQ(local.local_endpoint().addr.to_string(), "127.0.0.1");
}

TEST_F(HttpServerTest, Ipv6) {
  try {
    start(echo, {}, "http://[::1]:0");
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  EXPECT_EQ(ep_.addr.to_string(), "::1");
  Client c(ep_);
  auto r = c.request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r["X-Remote"], "::1");
}

// A fresh directory for the test's files, removed afterwards.
struct TempDir : base::TestTempDir {
  TempDir() : base::TestTempDir("webims-https") {}
};

// One HTTPS exchange; throws on TLS failure.
Response https_get(const base::Endpoint& ep, asio::ssl::context& ctx, const std::string& peer_name) {
  asio::io_context io;
  asio::ssl::stream<tcp::socket> s(io, ctx);
  s.next_layer().connect(tcp::endpoint(asio::ip::make_address(ep.addr.to_string()), ep.port));
  set_tls_peer_name(s.native_handle(), peer_name);
  s.handshake(asio::ssl::stream_base::client);
  http::request<http::empty_body> req(http::verb::get, "/secure?z=9", 11);
  req.set(http::field::host, peer_name);
  http::write(s, req);
  beast::flat_buffer buf;
  Response r;
  http::read(s, buf, r);
  return r;
}

TEST_F(HttpServerTest, Https) {
  TempDir t;
  auto files = ensure_local_ca(t / "tls", {"localhost", "127.0.0.1"});
  start(echo, {}, "https://127.0.0.1:0", make_server_tls_context(files.cert, files.key));

  auto trusting = make_client_tls_context(files.ca_cert);
  auto r = https_get(ep_, *trusting, "127.0.0.1");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "GET /secure q=z=9 x-test=- body=");
  EXPECT_EQ(r["X-Tls"], "yes");
  EXPECT_EQ(https_get(ep_, *trusting, "localhost").result_int(), 200);  // SNI + DNS SAN

  EXPECT_THROW(https_get(ep_, *trusting, "other.example"), boost::system::system_error);  // name mismatch
  auto other = ensure_local_ca(t / "other", {"localhost"});
  EXPECT_THROW(https_get(ep_, *make_client_tls_context(other.ca_cert), "127.0.0.1"),
               boost::system::system_error);  // unknown CA

  // Plain HTTP to the TLS port: closed, and the server keeps serving.
  Client plain(ep_);
  plain.write("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_TRUE(plain.closed_by_server());
  EXPECT_EQ(https_get(ep_, *trusting, "127.0.0.1").result_int(), 200);
}

}  // namespace
}  // namespace net
