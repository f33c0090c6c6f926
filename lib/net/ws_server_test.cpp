#include "net/ws_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "base/test_temp_dir.hpp"
#include "net/tls.hpp"
#include "net/ws_frame.hpp"

namespace net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

constexpr const char* kOrigin = "https://localhost:8443";

// A fresh directory for the test's files, removed afterwards.
struct TempDir : base::TestTempDir {
  TempDir() : base::TestTempDir("webims-ws") {}
};

// What the server reported, filled on the server thread, read on the test thread.
struct Events {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<WsConnectionInfo> opens;
  std::vector<std::pair<uint64_t, std::string>> messages;
  std::vector<std::pair<uint64_t, uint16_t>> closes;

  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds t = 5000ms) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, t, [&] { return pred(); });
  }
  std::optional<uint16_t> close_code(uint64_t id) {
    std::optional<uint16_t> out;
    wait([&] {
      for (auto& [c, code] : closes)
        if (c == id) out = code;
      return out.has_value();
    });
    return out;
  }
  size_t close_count(uint64_t id) {
    std::lock_guard lk(mu);
    return size_t(std::count_if(closes.begin(), closes.end(), [&](auto& p) { return p.first == id; }));
  }
};

// A Beast WebSocket client on its own io_context; every operation is bounded by run_for.
class RawWs {
 public:
  explicit RawWs(const base::Endpoint& ep) : ws_(io_) {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address(ep.addr.to_string()), ep.port));
  }

  // The opening handshake; the HTTP status the server answered.
  int handshake(std::optional<std::string> origin = kOrigin, std::optional<std::string> protocols = "sip") {
    ws_.set_option(websocket::stream_base::decorator([origin, protocols](websocket::request_type& req) {
      if (origin) req.set(http::field::origin, *origin);
      if (protocols) req.set(http::field::sec_websocket_protocol, *protocols);
    }));
    bool done = false;
    ws_.async_handshake(res_, "localhost", "/", [&](const error_code& ec) {
      ec_ = ec;
      done = true;
    });
    drive(done);
    return res_.result_int();
  }
  const websocket::response_type& response() const { return res_; }

  error_code write(std::string_view data, bool text = true) {
    ws_.text(text);
    bool done = false;
    ws_.async_write(asio::buffer(data.data(), data.size()), [&](const error_code& ec, size_t) {
      ec_ = ec;
      done = true;
    });
    drive(done);
    return ec_;
  }
  // The next message, or nullopt with error() set (websocket::error::closed and reason()).
  // With `keep_open`, a timeout leaves the connection (and the read) as it is: the last call.
  std::optional<std::string> read(std::chrono::milliseconds t = 5000ms, bool keep_open = false) {
    auto done = std::make_shared<bool>(false);
    auto ec = std::make_shared<error_code>();
    buf_.clear();
    ws_.async_read(buf_, [done, ec](const error_code& e, size_t) {
      *ec = e;
      *done = true;
    });
    bool in_time = drive(*done, t, keep_open);
    ec_ = in_time ? *ec : error_code(asio::error::timed_out);
    if (ec_) return std::nullopt;
    return beast::buffers_to_string(buf_.data());
  }
  error_code close(uint16_t code) {
    bool done = false;
    ws_.async_close(websocket::close_reason(code), [&](const error_code& ec) {
      ec_ = ec;
      done = true;
    });
    drive(done);
    return ec_;
  }
  void drop() { beast::get_lowest_layer(ws_).close(); }
  const error_code& error() const { return ec_; }
  websocket::close_reason reason() const { return ws_.reason(); }
  websocket::stream<beast::tcp_stream>& ws() { return ws_; }

 private:
  // Runs until `done` or the deadline; false (and error() timed_out) on a timeout.
  bool drive(bool& done, std::chrono::milliseconds t = 5000ms, bool keep_open = false) {
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + t;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_until(deadline);
    bool in_time = done;
    if (!in_time && !keep_open) {
      beast::get_lowest_layer(ws_).close();
      io_.restart();
      io_.run_for(1s);
    }
    if (!in_time) ec_ = asio::error::timed_out;
    return in_time;
  }

  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type res_;
  beast::flat_buffer buf_;
  error_code ec_;
};

// RFC 6455 by hand over a blocking TCP socket, for what a Beast client would not send.
class HandWs {
 public:
  explicit HandWs(const base::Endpoint& ep) : s_(io_) {
    s_.connect(tcp::endpoint(asio::ip::make_address(ep.addr.to_string()), ep.port));
    timeval tv{10, 0};  // a hang fails the test instead of blocking it
    ::setsockopt(s_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  // The RFC 6455 §1.3 example key by default.
  static std::string request(std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==", std::string_view version = "13") {
    return std::string("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n") +
           "Sec-WebSocket-Key: " + std::string(key) + "\r\nSec-WebSocket-Version: " + std::string(version) +
           "\r\nOrigin: " + kOrigin + "\r\nSec-WebSocket-Protocol: sip\r\n\r\n";
  }
  void write(std::string_view b) { asio::write(s_, asio::buffer(b.data(), b.size())); }
  // The response head, through the blank line.
  std::string read_head() {
    std::string h;
    char c;
    error_code ec;
    while (!h.ends_with("\r\n\r\n") && s_.read_some(asio::buffer(&c, 1), ec) == 1) h += c;
    return h;
  }
  struct Frame {
    int opcode = -1;
    bool fin = false, masked = false;
    std::string payload;
  };
  std::optional<Frame> read_frame() {
    unsigned char h[2];
    error_code ec;
    asio::read(s_, asio::buffer(h, 2), ec);
    if (ec) return std::nullopt;
    Frame f;
    f.fin = h[0] & 0x80;
    f.opcode = h[0] & 0x0F;
    f.masked = h[1] & 0x80;
    uint64_t len = h[1] & 0x7F;
    int ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (ext) {
      unsigned char e[8];
      asio::read(s_, asio::buffer(e, size_t(ext)), ec);
      len = 0;
      for (int i = 0; i < ext; ++i) len = (len << 8) | e[i];
    }
    f.payload.resize(size_t(len));
    if (len) asio::read(s_, asio::buffer(f.payload), ec);
    if (ec) return std::nullopt;
    return f;
  }
  // True when the server has closed the connection (EOF or reset, not a timeout).
  bool closed_by_server() {
    char c;
    error_code ec;
    s_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context io_;
  tcp::socket s_;
};

// A blocking HTTP exchange on its own io_context.
http::response<http::string_body> http_get(const base::Endpoint& ep, const std::string& target) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address(ep.addr.to_string()), ep.port));
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "localhost");
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  return res;
}

class WsServerTest : public ::testing::Test {
 protected:
  WsServerOptions options() {
    WsServerOptions o;
    o.allowed_origins = {kOrigin, "HTTPS://Other.Example/"};
    return o;
  }

  // Starts a server whose on_message echoes "echo:<text>", except "close:<code>" which closes
  // with that code and reason "bye".
  void start(WsServerOptions o, const std::string& url = "ws://127.0.0.1:0",
             std::shared_ptr<asio::ssl::context> tls = nullptr, HttpHandler on_http = nullptr) {
    server_ = std::make_unique<WsServer>(
        io_, url, std::move(o),
        [this](const WsConnectionInfo& c) {
          std::lock_guard lk(ev_.mu);
          ev_.opens.push_back(c);
          ev_.cv.notify_all();
        },
        [this](uint64_t id, std::string text) {
          if (text.starts_with("close:")) {
            server_->close(id, uint16_t(std::stoi(text.substr(6))), "bye");
          } else {
            server_->send(id, "echo:" + text);
          }
          std::lock_guard lk(ev_.mu);
          ev_.messages.emplace_back(id, std::move(text));
          ev_.cv.notify_all();
        },
        [this](uint64_t id, uint16_t code) {
          std::lock_guard lk(ev_.mu);
          ev_.closes.emplace_back(id, code);
          ev_.cv.notify_all();
        },
        std::move(tls), std::move(on_http));
    ep_ = server_->local_endpoint();
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  template <class F>
  auto on_server(F fn) {
    // Shared: the io thread may still be inside the task when get() returns here.
    auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
    auto f = task->get_future();
    asio::post(io_, [task] { (*task)(); });
    return f.get();
  }
  // The id of the next connection opened (in order), once on_open has reported it.
  uint64_t last_open_id() {
    uint64_t id = 0;
    EXPECT_TRUE(ev_.wait([&] { return ev_.opens.size() > seen_ && (id = ev_.opens[seen_].id) != 0; }));
    ++seen_;
    return id;
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
  std::unique_ptr<WsServer> server_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  base::Endpoint ep_;
  Events ev_;
  size_t seen_ = 0;
};

TEST_F(WsServerTest, HandshakeAndEchoOverWs) {
  start(options());
  RawWs c(ep_);
  ASSERT_EQ(c.handshake(kOrigin, "foo, sip"), 101) << c.error().message();
  EXPECT_EQ(c.response()[http::field::sec_websocket_protocol], "sip");
  uint64_t id = last_open_id();
  {
    std::lock_guard lk(ev_.mu);
    auto& info = ev_.opens.back();
    EXPECT_EQ(info.origin, kOrigin);
    EXPECT_FALSE(info.tls);
    EXPECT_TRUE(info.tls_session_id.empty());
    EXPECT_EQ(info.remote.addr.to_string(), "127.0.0.1");
    EXPECT_EQ(info.local, ep_);
  }
  EXPECT_EQ(on_server([&] { return server_->connection_count(); }), 1u);
  ASSERT_FALSE(c.write("OPTIONS sip:x SIP/2.0\r\n\r\n"));
  EXPECT_EQ(c.read(), "echo:OPTIONS sip:x SIP/2.0\r\n\r\n");
  // Server-initiated message without a request.
  EXPECT_TRUE(on_server([&] { return server_->send(id, "NOTIFY"); }));
  EXPECT_EQ(c.read(), "NOTIFY");
  ASSERT_FALSE(c.close(1000));
  EXPECT_EQ(ev_.close_code(id), 1000);
  EXPECT_EQ(on_server([&] { return server_->connection_count(); }), 0u);
  EXPECT_FALSE(on_server([&] { return server_->send(id, "late"); }));
  EXPECT_FALSE(on_server([&] { return server_->send(987654321, "nobody"); }));
  EXPECT_EQ(ev_.close_count(id), 1u);
}

TEST_F(WsServerTest, OriginCheckedCaseInsensitively) {
  start(options());
  RawWs c(ep_);
  EXPECT_EQ(c.handshake("https://OTHER.example"), 101) << c.error().message();
}

TEST_F(WsServerTest, RefusedHandshakes) {
  start(options());
  {
    RawWs c(ep_);
    EXPECT_EQ(c.handshake("https://evil.example"), 403);
    EXPECT_EQ(c.error(), websocket::error::upgrade_declined);
  }
  {
    RawWs c(ep_);
    EXPECT_EQ(c.handshake(std::nullopt), 403);  // no Origin
  }
  {
    RawWs c(ep_);
    EXPECT_EQ(c.handshake("https://localhost:8443.evil.example"), 403);  // prefix is not a match
  }
  {
    RawWs c(ep_);
    EXPECT_EQ(c.handshake(kOrigin, std::nullopt), 400);  // no subprotocol
  }
  {
    RawWs c(ep_);
    EXPECT_EQ(c.handshake(kOrigin, "sipx, SIP"), 400);  // names compare exactly
  }
  // No upgrade happened.
  EXPECT_TRUE(ev_.opens.empty());
  RawWs ok(ep_);
  EXPECT_EQ(ok.handshake(), 101);
}

TEST_F(WsServerTest, EmptyAllowListRefusesEveryOrigin) {
  start(WsServerOptions{});
  RawWs c(ep_);
  EXPECT_EQ(c.handshake(kOrigin), 403);
}

TEST_F(WsServerTest, ConnectionLimit) {
  auto o = options();
  o.max_connections = 2;
  start(o);
  RawWs a(ep_), b(ep_), c(ep_);
  EXPECT_EQ(a.handshake(), 101);
  EXPECT_EQ(b.handshake(), 101);
  EXPECT_EQ(c.handshake(), 503);
  a.close(1000);
  ASSERT_TRUE(ev_.wait([&] { return ev_.closes.size() == 1; }));
  RawWs d(ep_);
  EXPECT_EQ(d.handshake(), 101);
}

TEST_F(WsServerTest, OversizedMessageClosed1009) {
  auto o = options();
  o.max_message_bytes = 1024;
  start(o);
  RawWs c(ep_);
  ASSERT_EQ(c.handshake(), 101);
  uint64_t id = last_open_id();
  ASSERT_FALSE(c.write(std::string(1024, 'a')));  // at the limit: fine
  EXPECT_EQ(c.read(), "echo:" + std::string(1024, 'a'));
  c.write(std::string(1025, 'b'));
  EXPECT_FALSE(c.read());
  EXPECT_EQ(c.error(), websocket::error::closed);
  EXPECT_EQ(c.reason().code, 1009);
  EXPECT_EQ(ev_.close_code(id), ws_close::TooBig);
}

TEST_F(WsServerTest, InvalidUtf8Closed1007) {
  start(options());
  RawWs c(ep_);
  ASSERT_EQ(c.handshake(), 101);
  uint64_t id = last_open_id();
  ASSERT_FALSE(c.write("caf\xc3"));  // Beast does not check what it sends
  EXPECT_FALSE(c.read());
  EXPECT_EQ(c.reason().code, 1007);
  EXPECT_EQ(ev_.close_code(id), ws_close::InvalidData);
}

TEST_F(WsServerTest, BinaryFrameClosed1003) {
  start(options());
  RawWs c(ep_);
  ASSERT_EQ(c.handshake(), 101);
  uint64_t id = last_open_id();
  ASSERT_FALSE(c.write("INVITE", false));
  EXPECT_FALSE(c.read());
  EXPECT_EQ(c.reason().code, 1003);
  EXPECT_EQ(ev_.close_code(id), 1003);
  std::lock_guard lk(ev_.mu);
  EXPECT_TRUE(ev_.messages.empty());
}

TEST_F(WsServerTest, ServerCloseWithCodeAndReasonAfterQueuedFrames) {
  start(options());
  RawWs c(ep_);
  ASSERT_EQ(c.handshake(), 101);
  uint64_t id = last_open_id();
  on_server([&] {
    server_->send(id, "one");
    server_->send(id, "two");
    server_->close(id, ws_close::PolicyViolation, "forbidden");
    return server_->send(id, "after close");  // refused
  });
  EXPECT_EQ(c.read(), "one");
  EXPECT_EQ(c.read(), "two");
  EXPECT_FALSE(c.read());
  EXPECT_EQ(c.error(), websocket::error::closed);
  EXPECT_EQ(c.reason().code, 1008);
  EXPECT_EQ(std::string(c.reason().reason.data(), c.reason().reason.size()), "forbidden");
  EXPECT_EQ(ev_.close_code(id), 1008);

  // The same through a message handler.
  RawWs d(ep_);
  ASSERT_EQ(d.handshake(), 101);
  uint64_t id2 = last_open_id();
  EXPECT_GT(id2, id);
  d.write("close:4000");
  EXPECT_FALSE(d.read());
  EXPECT_EQ(d.reason().code, 4000);
  EXPECT_EQ(ev_.close_code(id2), 4000);
}

TEST_F(WsServerTest, ClientCloseCodesAndAbnormalEnd) {
  start(options());
  RawWs a(ep_);
  ASSERT_EQ(a.handshake(), 101);
  uint64_t ida = last_open_id();
  a.close(4321);
  EXPECT_EQ(ev_.close_code(ida), 4321);

  RawWs b(ep_);
  ASSERT_EQ(b.handshake(), 101);
  uint64_t idb = last_open_id();
  b.drop();  // TCP closed without a close frame
  EXPECT_EQ(ev_.close_code(idb), 1006);
  EXPECT_EQ(ev_.close_count(idb), 1u);
}

TEST_F(WsServerTest, PingsAndDeadPeer) {
  auto o = options();
  o.ping_interval = 1s;
  start(o);
  RawWs alive(ep_);
  ASSERT_EQ(alive.handshake(), 101);
  uint64_t id_alive = last_open_id();
  int pings = 0;
  alive.ws().control_callback([&](websocket::frame_type t, beast::string_view) {
    if (t == websocket::frame_type::ping) ++pings;
  });
  RawWs dead(ep_);  // never reads: never answers a ping
  ASSERT_EQ(dead.handshake(), 101);
  uint64_t id_dead = last_open_id();
  // Reading answers pings automatically; nothing else arrives.
  EXPECT_FALSE(alive.read(3500ms, true));
  EXPECT_EQ(alive.error(), asio::error::timed_out);
  EXPECT_GE(pings, 2);
  EXPECT_EQ(ev_.close_code(id_dead), 1006);
  EXPECT_EQ(ev_.close_count(id_alive), 0u);
}

TEST_F(WsServerTest, SendQueueLimit) {
  auto o = options();
  o.max_queued_bytes = 1000;
  start(o);
  RawWs c(ep_);
  ASSERT_EQ(c.handshake(), 101);
  uint64_t id = last_open_id();
  auto sent = on_server([&] {
    std::vector<bool> r;
    for (int i = 0; i < 3; ++i) r.push_back(server_->send(id, std::string(400, 'x')));
    return r;
  });
  EXPECT_EQ(sent, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(ev_.close_code(id), ws_close::PolicyViolation);
}

TEST_F(WsServerTest, HttpOnTheSamePort) {
  start(options(), "ws://127.0.0.1:0", nullptr, [](const HttpRequest& r) {
    if (r.path == "/health") return HttpResponse{200, "text/plain", "ok\n", {}};
    return HttpResponse{404, "text/plain", "nope\n", {}};
  });
  auto r = http_get(ep_, "/health");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "ok\n");
  EXPECT_EQ(r[http::field::server], "webims");
  EXPECT_EQ(http_get(ep_, "/other").result_int(), 404);
  RawWs c(ep_);
  EXPECT_EQ(c.handshake(), 101);
}

TEST_F(WsServerTest, HttpWithoutHandlerIs404) {
  start(options());
  EXPECT_EQ(http_get(ep_, "/metrics").result_int(), 404);
}

TEST_F(WsServerTest, GarbageNeverUpgrades) {
  start(options());
  for (std::string bad : {std::string("GARBAGE\r\n\r\n"), std::string("\x16\x03\x01\x00\x05hello", 10),
                          std::string("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: ") +
                              kOrigin + "\r\nSec-WebSocket-Protocol: sip\r\n\r\n"}) {  // no key/version
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ep_.port));
    asio::write(s, asio::buffer(bad));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    error_code ec;
    http::read(s, buf, res, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int() / 100, 4) << bad;
  }
  EXPECT_TRUE(ev_.opens.empty());
  RawWs c(ep_);
  EXPECT_EQ(c.handshake(), 101);
}

TEST_F(WsServerTest, ManyConnections) {
  start(options());
  constexpr int kN = 50;
  std::vector<std::unique_ptr<RawWs>> cs;
  for (int i = 0; i < kN; ++i) {
    cs.push_back(std::make_unique<RawWs>(ep_));
    ASSERT_EQ(cs.back()->handshake(), 101);
  }
  for (int i = 0; i < kN; ++i) ASSERT_FALSE(cs[size_t(i)]->write("m" + std::to_string(i)));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(cs[size_t(i)]->read(), "echo:m" + std::to_string(i));
  EXPECT_EQ(on_server([&] { return server_->connection_count(); }), size_t(kN));
  std::set<uint64_t> ids;
  {
    std::lock_guard lk(ev_.mu);
    for (auto& o : ev_.opens) ids.insert(o.id);
  }
  EXPECT_EQ(ids.size(), size_t(kN));
  EXPECT_EQ(ids.count(0), 0u);
  for (auto& c : cs) c->close(1000);
  EXPECT_TRUE(ev_.wait([&] { return ev_.closes.size() == size_t(kN); }));
  EXPECT_EQ(on_server([&] { return server_->connection_count(); }), 0u);
}

TEST_F(WsServerTest, StopReportsGoingAway) {
  start(options());
  RawWs c(ep_);
  ASSERT_EQ(c.handshake(), 101);
  uint64_t id = last_open_id();
  on_server([&] {
    server_->stop();
    return 0;
  });
  EXPECT_EQ(ev_.close_code(id), 1001);
  EXPECT_FALSE(c.read());
  EXPECT_EQ(c.reason().code, 1001);
}

TEST_F(WsServerTest, FramingByHand) {
  start(options());
  HandWs c(ep_);
  // A first frame right behind the request, in the same write.
  c.write(HandWs::request() + ws::encode_masked_frame(ws::Opcode::Text, "early", 0x01020304));
  std::string head = c.read_head();
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101")) << head;
  EXPECT_NE(head.find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nSec-WebSocket-Protocol: sip\r\n"), std::string::npos) << head;
  uint64_t id = last_open_id();
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 1);
  EXPECT_TRUE(f->fin);
  EXPECT_FALSE(f->masked);  // RFC 6455 §5.1: a server never masks
  EXPECT_EQ(f->payload, "echo:early");

  // A fragmented message with a ping between its fragments, one octet per write.
  std::string bytes = ws::encode_masked_frame(ws::Opcode::Text, "frag", 7, false) +
                      ws::encode_masked_frame(ws::Opcode::Ping, "p?", 8) +
                      ws::encode_masked_frame(ws::Opcode::Continuation, "ment", 9, true);
  for (char b : bytes) c.write(std::string_view(&b, 1));
  f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 10);
  EXPECT_EQ(f->payload, "p?");
  f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 1);
  EXPECT_EQ(f->payload, "echo:fragment");

  // An unmasked frame fails the connection: close 1002, then the server closes TCP.
  c.write("\x81\x02hi");
  f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 8);
  ASSERT_GE(f->payload.size(), 2u);
  EXPECT_EQ((uint8_t(f->payload[0]) << 8) | uint8_t(f->payload[1]), 1002);
  EXPECT_EQ(ev_.close_code(id), ws_close::ProtocolError);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(WsServerTest, ClosingHandshakeByHand) {
  start(options());
  HandWs c(ep_);
  c.write(HandWs::request());
  ASSERT_TRUE(c.read_head().starts_with("HTTP/1.1 101"));
  uint64_t id = last_open_id();
  // The server echoes the code of the client's close and then closes TCP.
  c.write(ws::encode_masked_frame(ws::Opcode::Close, std::string("\x0f\xa1", 2) + "done", 5));
  auto f = c.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 8);
  ASSERT_GE(f->payload.size(), 2u);
  EXPECT_EQ((uint8_t(f->payload[0]) << 8) | uint8_t(f->payload[1]), 4001);
  EXPECT_EQ(ev_.close_code(id), 4001);
  EXPECT_TRUE(c.closed_by_server());

  // A close with a code that must not be sent is a protocol error.
  HandWs d(ep_);
  d.write(HandWs::request());
  ASSERT_TRUE(d.read_head().starts_with("HTTP/1.1 101"));
  uint64_t id2 = last_open_id();
  d.write(ws::encode_masked_frame(ws::Opcode::Close, std::string("\x03\xed", 2), 5));  // 1005
  f = d.read_frame();
  ASSERT_TRUE(f);
  ASSERT_GE(f->payload.size(), 2u);
  EXPECT_EQ((uint8_t(f->payload[0]) << 8) | uint8_t(f->payload[1]), 1002);
  EXPECT_EQ(ev_.close_code(id2), ws_close::ProtocolError);
}

TEST_F(WsServerTest, BadKeyIs400AndOtherVersionIs426) {
  start(options());
  {
    HandWs c(ep_);
    c.write(HandWs::request("dGhlIHNhbXBsZSBub25jZQ"));  // not 16 octets
    EXPECT_TRUE(c.read_head().starts_with("HTTP/1.1 400")) ;
  }
  {
    HandWs c(ep_);
    c.write(HandWs::request("dGhlIHNhbXBsZSBub25jZQ==", "8"));
    std::string head = c.read_head();
    EXPECT_TRUE(head.starts_with("HTTP/1.1 426")) << head;
    EXPECT_NE(head.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos) << head;
  }
  EXPECT_TRUE(ev_.opens.empty());
}

TEST(WsServerUrl, BadUrlsThrow) {
  asio::io_context io;
  auto make = [&](const std::string& url) { WsServer s(io, url, {}, nullptr, nullptr, nullptr); };
  EXPECT_THROW(make("http://127.0.0.1:0"), std::runtime_error);
  EXPECT_THROW(make("ws://example.org:0"), std::runtime_error);
  EXPECT_THROW(make("ws://127.0.0.1:99999"), std::runtime_error);
  EXPECT_THROW(make("wss://127.0.0.1:0"), std::runtime_error);  // no TLS context
}

// ---- WsClient ----

TEST_F(WsServerTest, ClientOverWs) {
  start(options());
  asio::io_context cio;
  std::vector<std::string> got;
  std::optional<std::pair<uint16_t, std::string>> closed;
  WsClient client(
      cio, "ws://127.0.0.1:" + std::to_string(ep_.port) + "/", kOrigin, nullptr,
      [&](std::string t) {
        got.push_back(std::move(t));
        if (got.size() == 2) cio.stop();
      },
      [&](uint16_t code, std::string reason) {
        closed.emplace(code, std::move(reason));
        cio.stop();
      });
  uint64_t id = last_open_id();
  {
    std::lock_guard lk(ev_.mu);
    EXPECT_EQ(ev_.opens.back().remote, client.local_endpoint());
  }
  client.send("REGISTER");
  on_server([&] { return server_->send(id, "pushed"); });
  cio.run_for(5s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE((got == std::vector<std::string>{"echo:REGISTER", "pushed"}) ||
              (got == std::vector<std::string>{"pushed", "echo:REGISTER"}));
  // Server-initiated close reaches on_close with code and reason.
  client.send("close:4003");
  cio.restart();
  cio.run_for(5s);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->first, 4003);
  EXPECT_EQ(closed->second, "bye");
  EXPECT_EQ(ev_.close_code(id), 4003);
}

TEST_F(WsServerTest, ClientCloses) {
  start(options());
  asio::io_context cio;
  std::optional<uint16_t> closed;
  WsClient client(cio, "ws://127.0.0.1:" + std::to_string(ep_.port), kOrigin, nullptr, [](std::string) {},
                  [&](uint16_t code, std::string) { closed = code; });
  uint64_t id = last_open_id();
  client.send("bye soon");
  client.close(1000);
  cio.run_for(5s);  // returns once the close handshake ends (nothing left to do)
  EXPECT_EQ(closed, 1000);
  EXPECT_EQ(ev_.close_code(id), 1000);
  std::lock_guard lk(ev_.mu);
  ASSERT_EQ(ev_.messages.size(), 1u);  // the queued frame went before the close
}

TEST_F(WsServerTest, ClientRefusedHandshakeThrowsWithStatus) {
  start(options());
  asio::io_context cio;
  auto url = "ws://127.0.0.1:" + std::to_string(ep_.port);
  try {
    WsClient c(cio, url, "https://evil.example", nullptr, nullptr, nullptr);
    FAIL() << "connected";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("refused: HTTP 403"), std::string::npos) << e.what();
  }
  // Nothing listening.
  auto port = ep_.port;
  TearDown();
  EXPECT_THROW(WsClient(cio, "ws://127.0.0.1:" + std::to_string(port), kOrigin, nullptr, nullptr, nullptr),
               std::runtime_error);
}

TEST_F(WsServerTest, ClientHandshakeTimeout) {
  // A listener that never answers the upgrade request.
  asio::io_context lio;
  tcp::acceptor a(lio, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::io_context cio;
  auto t0 = std::chrono::steady_clock::now();
  try {
    WsClient c(cio, "ws://127.0.0.1:" + std::to_string(a.local_endpoint().port()), kOrigin, nullptr, nullptr,
               nullptr, 1s);
    FAIL() << "connected";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(WsServerTest, WssWithLocalCa) {
  TempDir t;
  auto files = ensure_local_ca(t / "tls", {"localhost", "127.0.0.1"});
  start(options(), "wss://127.0.0.1:0", make_server_tls_context(files.cert, files.key));
  auto trusting = make_client_tls_context(files.ca_cert);
  asio::io_context cio;
  std::vector<std::string> got;
  WsClient client(
      cio, "wss://127.0.0.1:" + std::to_string(ep_.port), kOrigin, trusting,
      [&](std::string m) {
        got.push_back(std::move(m));
        cio.stop();
      },
      nullptr);
  last_open_id();
  {
    std::lock_guard lk(ev_.mu);
    EXPECT_TRUE(ev_.opens.back().tls);
    EXPECT_FALSE(ev_.opens.back().tls_session_id.empty());
    EXPECT_EQ(ev_.opens.back().tls_session_id.size() % 2, 0u);
  }
  client.send("over tls");
  cio.run_for(5s);
  EXPECT_EQ(got, std::vector<std::string>{"echo:over tls"});

  // By name (SNI), and refused for a name the certificate does not cover or an unknown CA.
  WsClient by_name(cio, "wss://localhost:" + std::to_string(ep_.port), kOrigin, trusting, nullptr, nullptr);
  auto other = ensure_local_ca(t / "other", {"localhost"});
  EXPECT_THROW(WsClient(cio, "wss://127.0.0.1:" + std::to_string(ep_.port), kOrigin,
                        make_client_tls_context(other.ca_cert), nullptr, nullptr),
               std::runtime_error);
  // Plain ws to the wss port fails, and the server goes on.
  EXPECT_THROW(WsClient(cio, "ws://127.0.0.1:" + std::to_string(ep_.port), kOrigin, nullptr, nullptr, nullptr, 2s),
               std::runtime_error);
  WsClient again(cio, "wss://127.0.0.1:" + std::to_string(ep_.port), kOrigin, trusting, nullptr, nullptr);
  EXPECT_TRUE(ev_.wait([&] { return ev_.opens.size() == 3; }));
}


// Over our own TLS stream: messages spanning several TLS records both ways, a server close code
// reaching the client, HTTPS on the same port, and a silent TCP peer dropped at the handshake timeout.
TEST_F(WsServerTest, WssLargeMessagesCloseHttpsAndHandshakeTimeout) {
  TempDir t;
  auto files = ensure_local_ca(t / "tls", {"127.0.0.1"});
  auto o = options();
  o.max_message_bytes = 1 << 20;
  o.handshake_timeout = std::chrono::seconds(1);
  start(o, "wss://127.0.0.1:0", make_server_tls_context(files.cert, files.key), [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", r.tls ? "tls\n" : "plain\n", {}};
  });
  auto trusting = make_client_tls_context(files.ca_cert);
  asio::io_context cio;
  std::vector<std::string> got;
  std::optional<uint16_t> closed;
  std::string close_reason;
  WsClient client(
      cio, "wss://127.0.0.1:" + std::to_string(ep_.port), kOrigin, trusting,
      [&](std::string m) {
        got.push_back(std::move(m));
        if (got.size() == 2) cio.stop();
      },
      [&](uint16_t code, std::string reason) {
        closed = code;
        close_reason = std::move(reason);
        cio.stop();
      });
  std::string big(300 * 1000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = char('a' + i % 26);
  client.send(big);
  client.send("small");
  cio.run_for(10s);
  cio.restart();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0] == "echo:" + big);
  EXPECT_EQ(got[1], "echo:small");
  client.send("close:4001");
  cio.run_for(5s);
  cio.restart();
  EXPECT_EQ(closed, std::optional<uint16_t>(4001)) << close_reason;

  // HTTPS on the WSS port.
  {
    asio::io_context io;
    asio::ssl::stream<tcp::socket> s(io, *trusting);
    s.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ep_.port));
    s.handshake(asio::ssl::stream_base::client);
    http::request<http::empty_body> req(http::verb::get, "/x", 11);
    req.set(http::field::host, "localhost");
    req.keep_alive(false);
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "tls\n");
  }

  // A TCP peer that never starts TLS is dropped after the handshake timeout.
  {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ep_.port));
    timeval tv{30, 0};  // a hang fails the test instead of blocking it
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  }
}

}  // namespace
}  // namespace net
