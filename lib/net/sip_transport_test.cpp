#include "net/sip_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "base/test_temp_dir.hpp"
#include "net/tls.hpp"
#include "sip/test_support.hpp"

namespace net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;
using sip::test::crlf;

std::string request(int cseq, std::string_view call_id = "call-1", std::string_view body = "") {
  return crlf("OPTIONS sip:a@example.org SIP/2.0\n"
              "Via: SIP/2.0/TCP 192.0.2.1:5062;branch=z9hG4bK-" + std::to_string(cseq) + "\n"
              "Max-Forwards: 70\n"
              "From: <sip:b@example.org>;tag=1\n"
              "To: <sip:a@example.org>\n"
              "Call-ID: " + std::string(call_id) + "\n"
              "CSeq: " + std::to_string(cseq) + " OPTIONS\n"
              "Content-Length: " + std::to_string(body.size()) + "\n"
              "\n") + std::string(body);
}

sip::Message parsed(const std::string& text) {
  auto m = sip::parse_message(text);
  EXPECT_TRUE(m.ok()) << text;
  return m.ok() ? std::move(m).value() : sip::Message();
}

// A fresh directory for the test's files, removed afterwards.
struct TempDir : base::TestTempDir {
  TempDir() : base::TestTempDir("webims-sip") {}
};

struct Received {
  SipPeer from;
  sip::Message msg;
};

// What one layer reported; filled on the io thread, read on the test thread.
struct Inbox {
  // The layers reporting here are destroyed first: a connection closing as the test ends would
  // otherwise report into an inbox already gone from the test's stack.
  std::function<void()> release;
  ~Inbox() {
    if (release) release();
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Received> messages;
  std::vector<SipPeer> closed;

  std::optional<Received> wait_message(size_t index, std::chrono::milliseconds t = 5000ms) {
    std::unique_lock lk(mu);
    if (!cv.wait_for(lk, t, [&] { return messages.size() > index; })) return std::nullopt;
    return Received{messages[index].from, messages[index].msg};
  }
  std::optional<SipPeer> wait_closed(size_t index, std::chrono::milliseconds t = 5000ms) {
    std::unique_lock lk(mu);
    if (!cv.wait_for(lk, t, [&] { return closed.size() > index; })) return std::nullopt;
    return closed[index];
  }
  size_t message_count() {
    std::lock_guard lk(mu);
    return messages.size();
  }
};

class SipTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  template <class F>
  auto on_io(F fn) {
    // Shared: the io thread may still be inside the task when get() returns here.
    auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
    auto f = task->get_future();
    asio::post(io_, [task] { (*task)(); });
    return f.get();
  }
  void TearDown() override {
    on_io([&] {
      layers_.clear();
      return 0;
    });
    guard_.reset();
    thread_.join();
  }
  // A layer on the io thread whose reports go to `inbox`.
  SipTransportLayer& make(const std::vector<std::string>& listen, Inbox& inbox,
                          std::shared_ptr<asio::ssl::context> server_tls = nullptr,
                          std::shared_ptr<asio::ssl::context> client_tls = nullptr, SipTransportOptions o = {}) {
    inbox.release = [this] {
      on_io([&] {
        layers_.clear();
        return 0;
      });
    };
    return *on_io([&] {
      layers_.push_back(std::make_unique<SipTransportLayer>(
          io_, listen,
          [&inbox](const SipPeer& from, sip::Message m) {
            std::lock_guard lk(inbox.mu);
            inbox.messages.push_back({from, std::move(m)});
            inbox.cv.notify_all();
          },
          [&inbox](const SipPeer& p) {
            std::lock_guard lk(inbox.mu);
            inbox.closed.push_back(p);
            inbox.cv.notify_all();
          },
          server_tls, client_tls, o));
      return layers_.back().get();
    });
  }
  bool send(SipTransportLayer& l, const SipPeer& to, const std::string& text) {
    return on_io([&] { return l.send(to, parsed(text)); });
  }
  bool send_raw(SipTransportLayer& l, const SipPeer& to, const std::string& bytes) {
    return on_io([&] { return l.send_raw(to, bytes); });
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::vector<std::unique_ptr<SipTransportLayer>> layers_;
};

// A blocking socket with bounded reads, on its own io_context.
class RawTcp {
 public:
  explicit RawTcp(const base::Endpoint& ep) : s_(io_) {
    s_.connect(tcp::endpoint(asio::ip::make_address(ep.addr.to_string()), ep.port));
    s_.set_option(tcp::no_delay(true));
    timeval tv{5, 0};
    ::setsockopt(s_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void write(std::string_view s) { asio::write(s_, asio::buffer(s.data(), s.size())); }
  // Reads until `delim` is in the buffer, or EOF/timeout (then returns what there is).
  std::string read_until(std::string_view delim) {
    while (buf_.find(delim) == std::string::npos) {
      char c[4096];
      ssize_t n = ::recv(s_.native_handle(), c, sizeof c, 0);
      if (n <= 0) break;
      buf_.append(c, size_t(n));
    }
    auto pos = buf_.find(delim);
    std::string out = pos == std::string::npos ? buf_ : buf_.substr(0, pos + delim.size());
    buf_.erase(0, out.size());
    return out;
  }
  // True when the peer closed (EOF or reset) within the receive timeout.
  bool closed_by_peer() {
    char c[4096];
    for (;;) {
      ssize_t n = ::recv(s_.native_handle(), c, sizeof c, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }
  base::Endpoint local() const {
    auto ep = s_.local_endpoint();
    return *base::Endpoint::parse((ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
                                  ":" + std::to_string(ep.port()));
  }
  void close() { s_.close(); }

 private:
  asio::io_context io_;
  tcp::socket s_;
  std::string buf_;
};

class RawUdp {
 public:
  RawUdp() : s_(io_) {
    s_.open(udp::v4());
    s_.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    timeval tv{2, 0};
    ::setsockopt(s_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const base::Endpoint& to, std::string_view s) {
    s_.send_to(asio::buffer(s.data(), s.size()), udp::endpoint(asio::ip::make_address(to.addr.to_string()), to.port));
  }
  std::optional<std::string> receive() {
    char c[65536];
    ssize_t n = ::recv(s_.native_handle(), c, sizeof c, 0);
    if (n < 0) return std::nullopt;
    return std::string(c, size_t(n));
  }

 private:
  asio::io_context io_;
  udp::socket s_;
};

base::Endpoint endpoint_of(SipTransportLayer& l, SipTransport t) {
  auto ep = l.local_endpoint(t);
  EXPECT_TRUE(ep);
  return ep.value_or(base::Endpoint{});
}

TEST_F(SipTransportTest, ListenersAndBadUrls) {
  Inbox in;
  auto& l = make({"udp://127.0.0.1:0", "tcp://127.0.0.1:0", "tcp://localhost:0"}, in);
  auto urls = l.listeners();
  ASSERT_EQ(urls.size(), 3u);
  EXPECT_TRUE(urls[0].starts_with("udp://127.0.0.1:"));
  EXPECT_TRUE(urls[1].starts_with("tcp://127.0.0.1:"));
  EXPECT_NE(urls[1], urls[2]);  // each ephemeral listener has its own port
  EXPECT_NE(endpoint_of(l, SipTransport::Udp).port, 0);
  EXPECT_EQ("tcp://" + endpoint_of(l, SipTransport::Tcp).to_string(), urls[1]);
  EXPECT_FALSE(l.local_endpoint(SipTransport::Tls));
  EXPECT_EQ(to_string(SipTransport::Tls), "TLS");
  for (std::string bad : {"sip:127.0.0.1:5060", "udp://example.org:5060", "tcp://127.0.0.1:70000", "tcp://::1:5060",
                          "tls://127.0.0.1:0" /* no certificate */}) {
    EXPECT_THROW(SipTransportLayer(io_, {bad}, nullptr), std::runtime_error) << bad;
  }
}

TEST_F(SipTransportTest, UdpBothWays) {
  Inbox ina, inb;
  auto& a = make({"udp://127.0.0.1:0"}, ina);
  auto& b = make({"udp://127.0.0.1:0"}, inb);
  auto a_ep = endpoint_of(a, SipTransport::Udp), b_ep = endpoint_of(b, SipTransport::Udp);
  ASSERT_TRUE(send(b, {SipTransport::Udp, a_ep, {}, 0}, request(1)));
  auto r = ina.wait_message(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from.transport, SipTransport::Udp);
  EXPECT_EQ(r->from.remote, b_ep);
  EXPECT_EQ(r->from.local, a_ep);
  EXPECT_EQ(r->from.connection, 0u);
  EXPECT_EQ(r->msg.method(), "OPTIONS");
  // Reply to where it came from.
  ASSERT_TRUE(on_io([&] { return a.send(r->from, sip::make_response(r->msg, 200, {}, "x")); }));
  auto resp = inb.wait_message(0);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->msg.status(), 200);
  EXPECT_EQ(resp->from.remote, a_ep);
  // No IPv6 UDP listener in b: cannot send there.
  EXPECT_FALSE(send(b, {SipTransport::Udp, *base::Endpoint::parse("[::1]:5060"), {}, 0}, request(2)));
}

TEST_F(SipTransportTest, TcpBothWaysAndReuse) {
  Inbox ina, inb;
  auto& a = make({"tcp://127.0.0.1:0"}, ina);
  auto& b = make({}, inb);
  auto a_ep = endpoint_of(a, SipTransport::Tcp);
  ASSERT_TRUE(send(b, {SipTransport::Tcp, a_ep, {}, 0}, request(1)));
  auto r = ina.wait_message(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from.transport, SipTransport::Tcp);
  EXPECT_EQ(r->from.local, a_ep);
  EXPECT_NE(r->from.connection, 0u);
  EXPECT_EQ(r->from.remote.addr.to_string(), "127.0.0.1");
  // The reply goes on the same connection.
  ASSERT_TRUE(on_io([&] { return a.send(r->from, sip::make_response(r->msg, 200, {}, "x")); }));
  auto resp = inb.wait_message(0);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->msg.status(), 200);
  EXPECT_EQ(resp->from.remote, a_ep);
  EXPECT_EQ(resp->from.local, r->from.remote);
  // A second request to the same remote reuses the connection, on both sides.
  ASSERT_TRUE(send(b, {SipTransport::Tcp, a_ep, {}, 0}, request(2)));
  auto r2 = ina.wait_message(1);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->from.connection, r->from.connection);
  EXPECT_EQ(r2->from.remote, r->from.remote);
  // a can reach b by address too (the inbound connection is reused: b has no listener).
  ASSERT_TRUE(send(a, {SipTransport::Tcp, r->from.remote, {}, 0}, request(3)));
  auto r3 = inb.wait_message(1);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->from.connection, resp->from.connection);
  EXPECT_EQ(r3->msg.cseq()->number, 3u);
}

TEST_F(SipTransportTest, MessagesQueuedWhileConnectingKeepTheirOrder) {
  Inbox ina, inb;
  auto& a = make({"tcp://127.0.0.1:0"}, ina);
  auto& b = make({}, inb);
  auto a_ep = endpoint_of(a, SipTransport::Tcp);
  on_io([&] {
    for (int i = 1; i <= 20; ++i) b.send({SipTransport::Tcp, a_ep, {}, 0}, parsed(request(i, "c", std::string(size_t(i * 100), 'x'))));
    return 0;
  });
  ASSERT_TRUE(ina.wait_message(19));
  std::lock_guard lk(ina.mu);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(ina.messages[size_t(i)].msg.cseq()->number, uint32_t(i + 1));
    EXPECT_EQ(ina.messages[size_t(i)].msg.body().size(), size_t((i + 1) * 100));
    EXPECT_EQ(ina.messages[size_t(i)].from.connection, ina.messages[0].from.connection);
  }
}

TEST_F(SipTransportTest, TlsBothWays) {
  TempDir t;
  auto files = ensure_local_ca(t / "tls", {"localhost", "127.0.0.1", "::1"});
  auto server = make_server_tls_context(files.cert, files.key);
  auto trusting = make_client_tls_context(files.ca_cert);
  Inbox ina, inb;
  auto& a = make({"tls://127.0.0.1:0"}, ina, server, trusting);
  auto& b = make({}, inb, nullptr, trusting);
  auto a_ep = endpoint_of(a, SipTransport::Tls);
  ASSERT_TRUE(send(b, {SipTransport::Tls, a_ep, {}, 0}, request(1)));
  auto r = ina.wait_message(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from.transport, SipTransport::Tls);
  EXPECT_NE(r->from.connection, 0u);
  ASSERT_TRUE(on_io([&] { return a.send(r->from, sip::make_response(r->msg, 200, {}, "x")); }));
  auto resp = inb.wait_message(0);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->msg.status(), 200);
  EXPECT_EQ(resp->from.transport, SipTransport::Tls);
  ASSERT_TRUE(send(b, {SipTransport::Tls, a_ep, {}, 0}, request(2)));
  auto r2 = ina.wait_message(1);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->from.connection, r->from.connection);

  // A client that does not trust the CA never gets a message through, and a keeps serving.
  Inbox inc;
  auto other = ensure_local_ca(t / "other", {"127.0.0.1"});
  auto& c = make({}, inc, nullptr, make_client_tls_context(other.ca_cert));
  EXPECT_TRUE(send(c, {SipTransport::Tls, a_ep, {}, 0}, request(3)));  // queued, then dropped
  ASSERT_TRUE(send(b, {SipTransport::Tls, a_ep, {}, 0}, request(4)));
  auto r4 = ina.wait_message(2);
  ASSERT_TRUE(r4);
  EXPECT_EQ(r4->msg.cseq()->number, 4u);
  EXPECT_EQ(ina.message_count(), 3u);
}

TEST_F(SipTransportTest, StreamSplitIntoSingleBytes) {
  Inbox in;
  auto& a = make({"tcp://127.0.0.1:0"}, in);
  RawTcp raw(endpoint_of(a, SipTransport::Tcp));
  std::string two = request(1, "split", "hello body") + request(2, "split");
  for (char c : two) {
    raw.write(std::string_view(&c, 1));
    std::this_thread::sleep_for(50us);
  }
  auto m2 = in.wait_message(1);
  ASSERT_TRUE(m2);
  auto m1 = in.wait_message(0);
  EXPECT_EQ(m1->msg.body(), "hello body");
  EXPECT_EQ(m2->msg.cseq()->number, 2u);
  EXPECT_EQ(m1->from.remote, raw.local());
}

TEST_F(SipTransportTest, FullSendQueueRefusesMessagesButKeepsTheConnection) {
  // A peer that accepts and does not read yet: the queue toward it fills up.
  asio::io_context pio;
  tcp::acceptor acc(pio, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto peer_ep = *base::Endpoint::parse("127.0.0.1:" + std::to_string(acc.local_endpoint().port()));
  Inbox in;
  auto& b = make({}, in);
  std::string big = request(1, "call-big", std::string(60000, 'x'));
  size_t accepted = 0;
  bool refused = false;
  for (int i = 0; i < 1000 && !refused; ++i) {  // 60 MB would be far beyond the cap
    if (send(b, {SipTransport::Tcp, peer_ep, {}, 0}, big)) ++accepted;
    else refused = true;
  }
  ASSERT_TRUE(refused);
  EXPECT_GT(accepted, 100u);
  EXPECT_FALSE(in.wait_closed(0, 200ms));  // the connection and what it queued are still there
  // The peer reads everything: every accepted message arrives, and sending works again.
  tcp::socket s(pio);
  acc.accept(s);
  size_t want = accepted * big.size(), got = 0;
  std::vector<char> buf(1 << 16);
  timeval tv{10, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (got < want) {
    ssize_t n = ::recv(s.native_handle(), buf.data(), buf.size(), 0);
    if (n <= 0) break;
    got += size_t(n);
  }
  EXPECT_EQ(got, want);
  EXPECT_TRUE(send(b, {SipTransport::Tcp, peer_ep, {}, 0}, request(2)));
}

TEST_F(SipTransportTest, CrlfKeepAliveAnswered) {
  Inbox in;
  auto& a = make({"tcp://127.0.0.1:0"}, in);
  RawTcp raw(endpoint_of(a, SipTransport::Tcp));
  raw.write("\r\n\r\n");
  EXPECT_EQ(raw.read_until("\r\n"), "\r\n");
  raw.write("\r\n");  // a pong: nothing to answer
  raw.write(request(1));
  ASSERT_TRUE(in.wait_message(0));
  raw.write("\r\n\r");
  raw.write("\n");
  EXPECT_EQ(raw.read_until("\r\n"), "\r\n");
}

TEST_F(SipTransportTest, MalformedOverUdpAnswered400AndServiceGoesOn) {
  Inbox in;
  auto& a = make({"udp://127.0.0.1:0"}, in);
  auto ep = endpoint_of(a, SipTransport::Udp);
  RawUdp raw;
  // A control character in a header: does not parse, but a response can be formed.
  std::string bad = request(1);
  bad.insert(bad.find("Max-Forwards"), "Subject: a\x01z\r\n");
  raw.send(ep, bad);
  auto resp = raw.receive();
  ASSERT_TRUE(resp);
  auto m = parsed(*resp);
  EXPECT_EQ(m.status(), 400);
  ASSERT_TRUE(m.get(sip::HeaderId::Warning));
  EXPECT_TRUE(m.get(sip::HeaderId::Warning)->starts_with("399 127.0.0.1:")) << *m.get(sip::HeaderId::Warning);
  EXPECT_EQ(m.get(sip::HeaderId::CallId), "call-1");
  // Parses, but CSeq method differs from the request method: 400 too.
  std::string mismatch = request(2);
  mismatch.replace(mismatch.find("2 OPTIONS"), 9, "2 INVITE");
  raw.send(ep, mismatch);
  resp = raw.receive();
  ASSERT_TRUE(resp);
  m = parsed(*resp);
  EXPECT_EQ(m.status(), 400);
  EXPECT_NE(m.get(sip::HeaderId::Warning)->find("differs"), std::string_view::npos);
  // Garbage and a response missing headers: dropped silently.
  raw.send(ep, "GARBAGE\r\n\r\n");
  raw.send(ep, crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Length: 0\n\n"));
  // A valid message still arrives, and nothing else did.
  raw.send(ep, request(3));
  auto r = in.wait_message(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->msg.cseq()->number, 3u);
  EXPECT_EQ(in.message_count(), 1u);
}

TEST_F(SipTransportTest, MalformedOverTcp) {
  Inbox in;
  auto& a = make({"tcp://127.0.0.1:0"}, in);
  auto ep = endpoint_of(a, SipTransport::Tcp);
  {
    // Framing error (no Content-Length on a stream): 400 with the reason, then the connection closes.
    RawTcp raw(ep);
    std::string bad = request(1);
    bad.erase(bad.find("Content-Length"), std::string("Content-Length: 0\r\n").size());
    raw.write(bad);
    auto resp = raw.read_until("\r\n\r\n");
    auto m = parsed(resp);
    EXPECT_EQ(m.status(), 400);
    ASSERT_TRUE(m.get(sip::HeaderId::Warning));
    EXPECT_NE(m.get(sip::HeaderId::Warning)->find("Content-Length"), std::string_view::npos);
    EXPECT_TRUE(raw.closed_by_peer());
  }
  {
    // A message that frames but fails the checks: 400, the connection stays.
    RawTcp raw(ep);
    std::string bad = request(2);
    bad.replace(bad.find("Max-Forwards: 70"), 16, "Max-Forwards: xx");
    raw.write(bad);
    auto m = parsed(raw.read_until("\r\n\r\n"));
    EXPECT_EQ(m.status(), 400);
    raw.write(request(3));
    auto r = in.wait_message(0);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->msg.cseq()->number, 3u);
  }
  {
    // Garbage: no answer possible, closed.
    RawTcp raw(ep);
    raw.write(std::string("\x16\x03\x01\x00\x05hello\r\n\r\n", 14));
    EXPECT_TRUE(raw.closed_by_peer());
  }
  EXPECT_EQ(in.message_count(), 1u);
}

TEST_F(SipTransportTest, OnClosedWhenPeerCloses) {
  Inbox in;
  auto& a = make({"tcp://127.0.0.1:0"}, in);
  RawTcp raw(endpoint_of(a, SipTransport::Tcp));
  raw.write(request(1));
  auto r = in.wait_message(0);
  ASSERT_TRUE(r);
  raw.close();
  auto c = in.wait_closed(0);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->connection, r->from.connection);
  EXPECT_EQ(c->remote, r->from.remote);
  EXPECT_EQ(c->transport, SipTransport::Tcp);
  // Sending on it now fails.
  EXPECT_FALSE(send(a, r->from, request(2)));
}

TEST_F(SipTransportTest, IdleTimeoutAndConnectionLimit) {
  Inbox in;
  SipTransportOptions o;
  o.idle_timeout = 1s;
  o.max_connections = 1;
  auto& a = make({"tcp://127.0.0.1:0"}, in, nullptr, nullptr, o);
  auto ep = endpoint_of(a, SipTransport::Tcp);
  RawTcp first(ep);
  first.write(request(1));
  ASSERT_TRUE(in.wait_message(0));
  RawTcp second(ep);  // over the limit: closed at once
  EXPECT_TRUE(second.closed_by_peer());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(first.closed_by_peer());  // idle
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(in.wait_closed(0));
}

TEST_F(SipTransportTest, ConnectFailureDoesNotStick) {
  Inbox ina, inb;
  auto& b = make({}, inb);
  // A port nobody listens on: the send is queued, the connection fails and goes.
  base::Endpoint ep;
  {
    asio::io_context tmp;
    tcp::acceptor acc(tmp, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ep = *base::Endpoint::parse("127.0.0.1:" + std::to_string(acc.local_endpoint().port()));
  }
  EXPECT_TRUE(send(b, {SipTransport::Tcp, ep, {}, 0}, request(1)));
  // Once somebody listens there, a new send opens a new connection.
  std::unique_ptr<SipTransportLayer>* la = nullptr;
  for (int i = 0; i < 50 && !la; ++i) {
    try {
      make({"tcp://" + ep.to_string()}, ina);
      la = &layers_.back();
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(20ms);
    }
  }
  ASSERT_TRUE(la);
  bool got = false;
  for (int i = 0; i < 50 && !got; ++i) {
    send(b, {SipTransport::Tcp, ep, {}, 0}, request(2));
    got = ina.wait_message(0, 100ms).has_value();
  }
  EXPECT_TRUE(got);
}

TEST_F(SipTransportTest, Ipv6Loopback) {
  Inbox ina, inb;
  SipTransportLayer* a = nullptr;
  try {
    a = &make({"udp://[::1]:0", "tcp://[::1]:0"}, ina);
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  auto& b = make({"udp://[::1]:0"}, inb);
  EXPECT_TRUE(a->listeners()[0].starts_with("udp://[::1]:"));
  auto udp_ep = endpoint_of(*a, SipTransport::Udp), tcp_ep = endpoint_of(*a, SipTransport::Tcp);
  ASSERT_TRUE(send(b, {SipTransport::Udp, udp_ep, {}, 0}, request(1)));
  auto r = ina.wait_message(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from.remote, endpoint_of(b, SipTransport::Udp));
  ASSERT_TRUE(send(b, {SipTransport::Tcp, tcp_ep, {}, 0}, request(2)));
  auto r2 = ina.wait_message(1);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->from.remote.addr.to_string(), "::1");
  EXPECT_EQ(r2->from.local, tcp_ep);
}

TEST_F(SipTransportTest, CloseReportsConnectionsAndStops) {
  Inbox ina, inb;
  auto& a = make({"tcp://127.0.0.1:0", "udp://127.0.0.1:0"}, ina);
  auto& b = make({}, inb);
  auto ep = endpoint_of(a, SipTransport::Tcp);
  ASSERT_TRUE(send(b, {SipTransport::Tcp, ep, {}, 0}, request(1)));
  ASSERT_TRUE(ina.wait_message(0));
  on_io([&] {
    a.close();
    return 0;
  });
  EXPECT_TRUE(ina.wait_closed(0));
  EXPECT_TRUE(inb.wait_closed(0));  // b sees its connection go
  EXPECT_FALSE(send(a, {SipTransport::Udp, endpoint_of(a, SipTransport::Udp), {}, 0}, request(2)));
}

// `webims all`: the eP-CSCF's layer and the core's on one io_context hand messages over in memory.
TEST_F(SipTransportTest, InProcessLinkHandsMessagesOverWithoutASocket) {
  SipTransportOptions o;
  o.in_process = true;
  Inbox ina, inb;
  auto& a = make({"tcp://127.0.0.1:0"}, ina, nullptr, nullptr, o);  // the core
  auto& b = make({"tcp://127.0.0.1:0"}, inb, nullptr, nullptr, o);  // the eP-CSCF
  auto a_ep = endpoint_of(a, SipTransport::Tcp), b_ep = endpoint_of(b, SipTransport::Tcp);
  ASSERT_TRUE(send(b, {SipTransport::Tcp, a_ep, {}, 0}, request(1)));
  auto r = ina.wait_message(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->msg.cseq()->number, 1u);
  EXPECT_EQ(r->from.transport, SipTransport::Tcp);
  EXPECT_EQ(r->from.remote, b_ep);  // b's listener: a socket would have come from an ephemeral port
  EXPECT_EQ(r->from.local, a_ep);
  EXPECT_NE(r->from.connection, 0u);
  // The reply goes back on the link, by its connection id.
  ASSERT_TRUE(on_io([&] { return a.send(r->from, sip::make_response(r->msg, 200, {}, "x")); }));
  auto resp = inb.wait_message(0);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->msg.status(), 200);
  EXPECT_EQ(resp->from.remote, a_ep);
  EXPECT_EQ(resp->from.connection, r->from.connection);
  // By address, both ways: the same link.
  ASSERT_TRUE(send(b, {SipTransport::Tcp, a_ep, {}, 0}, request(2)));
  ASSERT_TRUE(send(a, {SipTransport::Tcp, b_ep, {}, 0}, request(3)));
  auto r2 = ina.wait_message(1);
  auto r3 = inb.wait_message(1);
  ASSERT_TRUE(r2 && r3);
  EXPECT_EQ(r2->from.connection, r->from.connection);
  EXPECT_EQ(r3->from.connection, r->from.connection);
  EXPECT_EQ(r3->msg.cseq()->number, 3u);
  // A message failing the checks is answered 400 back over the link and never reaches a; a
  // keep-alive is nothing to answer.
  std::string bad = request(4);
  bad.replace(bad.find("Max-Forwards: 70"), 16, "Max-Forwards: xx");
  ASSERT_TRUE(send_raw(b, {SipTransport::Tcp, a_ep, {}, 0}, "\r\n\r\n"));
  ASSERT_TRUE(send_raw(b, {SipTransport::Tcp, a_ep, {}, 0}, bad));
  auto refused = inb.wait_message(2);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->msg.status(), 400);
  EXPECT_EQ(refused->msg.cseq()->number, 4u);
  ASSERT_TRUE(send(b, {SipTransport::Tcp, a_ep, {}, 0}, request(5)));
  auto r5 = ina.wait_message(2);
  ASSERT_TRUE(r5);
  EXPECT_EQ(r5->msg.cseq()->number, 5u);
  EXPECT_EQ(ina.message_count(), 3u);
  // Closing a ends the link as a connection ends: reported on both sides, and gone for sending.
  on_io([&] {
    a.close();
    return 0;
  });
  auto ca = ina.wait_closed(0), cb = inb.wait_closed(0);
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ(ca->connection, r->from.connection);
  EXPECT_EQ(cb->connection, r->from.connection);
  EXPECT_EQ(cb->remote, a_ep);
  EXPECT_FALSE(send(b, resp->from, request(6)));
}

TEST_F(SipTransportTest, InProcessLinkOnlyWhenBothAskAndToOurListeners) {
  SipTransportOptions o;
  o.in_process = true;
  Inbox ina, inb, inc;
  auto& a = make({"tcp://0.0.0.0:0"}, ina, nullptr, nullptr, o);  // wildcard: reached at 127.0.0.1
  auto& b = make({"tcp://127.0.0.1:0"}, inb);                      // does not ask for links
  auto& c = make({"tcp://127.0.0.1:0"}, inc, nullptr, nullptr, o);
  uint16_t a_port = endpoint_of(a, SipTransport::Tcp).port;
  base::Endpoint a_loop{*base::IpAddress::parse("127.0.0.1"), a_port};
  auto b_ep = endpoint_of(b, SipTransport::Tcp), c_ep = endpoint_of(c, SipTransport::Tcp);
  // b -> a: over a socket (from an ephemeral port).
  ASSERT_TRUE(send(b, {SipTransport::Tcp, a_loop, {}, 0}, request(1)));
  auto r1 = ina.wait_message(0);
  ASSERT_TRUE(r1);
  EXPECT_NE(r1->from.remote, b_ep);
  // a -> b's listener: a socket too, b did not ask.
  ASSERT_TRUE(send(a, {SipTransport::Tcp, b_ep, {}, 0}, request(2)));
  auto r2 = inb.wait_message(0);
  ASSERT_TRUE(r2);
  EXPECT_NE(r2->from.remote.port, a_port);
  // c -> a at 127.0.0.1 on a's wildcard listener: the link.
  ASSERT_TRUE(send(c, {SipTransport::Tcp, a_loop, {}, 0}, request(3)));
  auto r3 = ina.wait_message(1);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->from.remote, c_ep);
  // Another transport, or a port nobody here listens on, is not linked.
  ASSERT_TRUE(send(c, {SipTransport::Tcp, b_ep, {}, 0}, request(4)));
  auto r4 = inb.wait_message(1);
  ASSERT_TRUE(r4);
  EXPECT_NE(r4->from.remote, c_ep);
}

TEST_F(SipTransportTest, InProcessLinkKeepsTheReceiversSizeLimit) {
  SipTransportOptions small, o;
  small.in_process = o.in_process = true;
  small.max_message_bytes = 1024;
  Inbox ina, inb;
  auto& a = make({"tcp://127.0.0.1:0"}, ina, nullptr, nullptr, small);
  auto& b = make({"tcp://127.0.0.1:0"}, inb, nullptr, nullptr, o);
  auto a_ep = endpoint_of(a, SipTransport::Tcp);
  ASSERT_TRUE(send(b, {SipTransport::Tcp, a_ep, {}, 0}, request(1, "call-1", std::string(2000, 'x'))));
  auto refused = inb.wait_message(0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->msg.status(), 513);
  ASSERT_TRUE(send(b, {SipTransport::Tcp, a_ep, {}, 0}, request(2, "call-2", "small")));
  auto r = ina.wait_message(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->msg.cseq()->number, 2u);
  EXPECT_EQ(r->msg.body(), "small");
  EXPECT_EQ(r->from.remote, endpoint_of(b, SipTransport::Tcp));
  EXPECT_EQ(ina.message_count(), 1u);
}

TEST_F(SipTransportTest, MessagesOfAConnectionThatNeverCameUpAreHandedBack) {
  Inbox in;
  auto& a = make({"tcp://127.0.0.1:0"}, in);
  std::mutex mu;
  std::vector<std::pair<SipPeer, std::string>> back;
  on_io([&] {
    a.set_on_undelivered([&](const SipPeer& to, std::string_view bytes) {
      std::lock_guard lk(mu);
      back.push_back({to, std::string(bytes)});
    });
    return 0;
  });
  // A port nobody listens on: bind one, note it, close it.
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acc.local_endpoint().port();
  }
  base::Endpoint dead{*base::IpAddress::parse("127.0.0.1"), port};
  ASSERT_TRUE(send(a, {SipTransport::Tcp, dead, {}, 0}, request(1)));  // queued while connecting
  ASSERT_TRUE(send(a, {SipTransport::Tcp, dead, {}, 0}, request(2)));
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lk(mu);
      if (back.size() >= 2) break;
    }
    std::this_thread::sleep_for(50ms);
  }
  std::lock_guard lk(mu);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].first.remote, dead);
  EXPECT_EQ(parsed(back[0].second).cseq()->number, 1u);
  EXPECT_EQ(parsed(back[1].second).cseq()->number, 2u);
}

}  // namespace
}  // namespace net
