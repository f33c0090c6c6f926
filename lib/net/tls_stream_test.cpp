// TlsStream against Asio's own ssl::stream as the peer: handshake, data both ways at once in
// pieces larger than a TLS record (so reads and writes interleave and hit WANT_READ/WANT_WRITE
// on a socket whose buffers fill), a gathered write, close_notify, a cut connection, and a peer
// that does not speak TLS.
#include "net/tls_stream.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "base/test_temp_dir.hpp"
#include "net/tls.hpp"

namespace net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

// A fresh directory for the test's files, removed afterwards.
struct TempDir : base::TestTempDir {
  TempDir() : base::TestTempDir("webims-tlsstream") {}
};

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(g());
  return s;
}

class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = ensure_local_ca(dir_ / "tls", {"127.0.0.1"});
    server_ctx_ = make_server_tls_context(files_.cert, files_.key);
    client_ctx_ = make_client_tls_context(files_.ca_cert);
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
  }

  // A connected pair: our stream on the accepted side, Asio's ssl::stream on the other.
  void connect(bool small_buffers = false) {
    client_.emplace(io_, *client_ctx_);
    client_->next_layer().connect(acceptor_.local_endpoint());
    tcp::socket s(io_);
    acceptor_.accept(s);
    s.set_option(tcp::no_delay(true));  // as the listeners do; Nagle would only slow the test down
    client_->next_layer().set_option(tcp::no_delay(true));
    if (small_buffers) {  // fill the socket quickly so writes must wait for the peer to read
      int v = 8192;
      ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    }
    server_.emplace(std::move(s), server_ctx_->native_handle());
  }

  void handshake() {
    error_code sec = asio::error::would_block, cec = asio::error::would_block;
    server_->async_handshake(true, [&](const error_code& ec, size_t) { sec = ec; });
    client_->async_handshake(asio::ssl::stream_base::client, [&](const error_code& ec) { cec = ec; });
    io_.run_for(5s);
    io_.restart();
    ASSERT_FALSE(sec) << sec.message();
    ASSERT_FALSE(cec) << cec.message();
  }

  TempDir dir_;
  LocalCaFiles files_;
  std::shared_ptr<asio::ssl::context> server_ctx_, client_ctx_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::optional<asio::ssl::stream<tcp::socket>> client_;
  std::optional<TlsStream> server_;
};

TEST_F(TlsStreamTest, BothWaysAtOnceInPiecesLargerThanARecord) {
  connect(/*small_buffers=*/true);
  handshake();
  const std::string up = random_bytes(1 << 20, 1), down = random_bytes(1 << 20, 2);
  std::string got_up(up.size(), '\0'), got_down(down.size(), '\0');
  error_code e1 = asio::error::would_block, e2 = e1, e3 = e1, e4 = e1;
  // Server reads and writes concurrently (one read and one write pending at a time), as Beast does.
  asio::async_read(*server_, asio::buffer(got_up), [&](const error_code& ec, size_t) { e1 = ec; });
  asio::async_write(*server_, asio::buffer(down), [&](const error_code& ec, size_t) { e2 = ec; });
  asio::async_write(*client_, asio::buffer(up), [&](const error_code& ec, size_t) { e3 = ec; });
  asio::async_read(*client_, asio::buffer(got_down), [&](const error_code& ec, size_t) { e4 = ec; });
  io_.run_for(20s);
  EXPECT_FALSE(e1) << e1.message();
  EXPECT_FALSE(e2) << e2.message();
  EXPECT_FALSE(e3) << e3.message();
  EXPECT_FALSE(e4) << e4.message();
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
}

TEST_F(TlsStreamTest, GatheredWriteIsOneRecordAndCompletesAfterTheCall) {
  connect();
  handshake();
  std::string a = "header:", b = "payload";
  std::array<asio::const_buffer, 3> bufs{asio::buffer(a), asio::const_buffer(), asio::buffer(b)};
  bool done = false;
  size_t wrote = 0;
  server_->async_write_some(bufs, [&](const error_code& ec, size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    wrote = n;
    done = true;
  });
  EXPECT_FALSE(done);  // never inside the initiating call
  io_.run_for(2s);
  io_.restart();
  ASSERT_TRUE(done);
  EXPECT_EQ(wrote, a.size() + b.size());
  std::string got(wrote, '\0');
  asio::read(*client_, asio::buffer(got));
  EXPECT_EQ(got, a + b);
}

TEST_F(TlsStreamTest, CloseNotifyIsEofAndCutConnectionIsTruncated) {
  connect();
  handshake();
  char buf[64];
  error_code got = asio::error::would_block;
  server_->async_read_some(asio::buffer(buf), [&](const error_code& ec, size_t) { got = ec; });
  client_->async_shutdown([](const error_code&) {});  // close_notify; it then waits for ours
  io_.run_for(2s);
  io_.restart();
  EXPECT_EQ(got, asio::error::eof) << got.message();

  // Our close_notify reaches the peer as a clean TLS shutdown.
  connect();
  handshake();
  error_code shut = asio::error::would_block;
  server_->async_shutdown([&](const error_code& ec, size_t) { shut = ec; });
  io_.run_for(2s);
  io_.restart();
  EXPECT_FALSE(shut) << shut.message();
  error_code ignored;
  size_t n = client_->read_some(asio::buffer(buf), ignored);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(ignored, asio::error::eof) << ignored.message();

  // A peer that closes the TCP connection without close_notify.
  connect();
  handshake();
  got = asio::error::would_block;
  server_->async_read_some(asio::buffer(buf), [&](const error_code& ec, size_t) { got = ec; });
  client_->next_layer().close();
  io_.run_for(2s);
  io_.restart();
  // Truncated, or reset when the peer closed with our session tickets still unread.
  EXPECT_TRUE(got == asio::ssl::error::stream_truncated || got == asio::error::connection_reset) << got.message();
}

TEST_F(TlsStreamTest, PlainTextPeerFailsTheHandshake) {
  tcp::socket plain(io_);
  plain.connect(acceptor_.local_endpoint());
  tcp::socket s(io_);
  acceptor_.accept(s);
  server_.emplace(std::move(s), server_ctx_->native_handle());
  asio::write(plain, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  error_code got = asio::error::would_block;
  server_->async_handshake(true, [&](const error_code& ec, size_t) { got = ec; });
  io_.run_for(2s);
  ASSERT_TRUE(got);
  EXPECT_NE(got, asio::error::would_block);
  EXPECT_EQ(got.category(), asio::error::get_ssl_category()) << got.message();
}

TEST_F(TlsStreamTest, ClosingTheSocketAbortsAPendingRead) {
  connect();
  handshake();
  char buf[16];
  error_code got = asio::error::would_block;
  server_->async_read_some(asio::buffer(buf), [&](const error_code& ec, size_t) { got = ec; });
  io_.poll();
  server_->next_layer().close();
  io_.run_for(2s);
  EXPECT_EQ(got, asio::error::operation_aborted) << got.message();
}

}  // namespace
}  // namespace net
