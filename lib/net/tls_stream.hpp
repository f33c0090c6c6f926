// A TLS stream that drives OpenSSL straight on the socket, for the listeners that hold many idle
// connections (the eP-CSCF's WSS listener: one per WIC).
//
// Why we own this instead of using boost::asio::ssl::stream: Asio's stream talks to OpenSSL through
// a BIO pair and keeps its own input and output buffers, about 66 kB per connection that
// SSL_MODE_RELEASE_BUFFERS cannot give back (docs/performance.md, "Memory per WSS connection").
// Here OpenSSL reads and writes the descriptor itself through a small socket BIO (send with
// MSG_NOSIGNAL, so a peer that left cannot raise SIGPIPE) and releases its record buffers whenever
// the connection is idle; Asio's reactor only tells us when the socket is readable or writable, as
// Kamailio's tls module does with its own poll loop. An idle connection costs OpenSSL's SSL object
// and session, a few kB.
//
// It is an Asio AsyncReadStream/AsyncWriteStream, so Beast's HTTP and WebSocket code runs over it;
// websocket::stream<TlsStream> finds async_teardown() below by ADL. One read and one write may be
// pending at once (OpenSSL allows SSL_read and SSL_write to interleave on one thread, as nginx
// does); all calls must come from one thread or strand.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <utility>
#include <vector>

namespace net {

class TlsStream {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using next_layer_type = socket_type;

  // Takes the connected socket (made non-blocking here) and a new SSL object from `ctx`.
  // Throws std::runtime_error when OpenSSL cannot allocate one.
  TlsStream(socket_type socket, SSL_CTX* ctx);
  TlsStream(TlsStream&&) noexcept = default;
  TlsStream& operator=(TlsStream&&) noexcept = default;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& next_layer() noexcept { return socket_; }
  SSL* native_handle() noexcept { return ssl_.get(); }

  // Server or client handshake; completes with error_code.
  template <class Token>
  auto async_handshake(bool server, Token&& token) {
    if (server) SSL_set_accept_state(ssl_.get());
    else SSL_set_connect_state(ssl_.get());
    return run(Call{Call::Handshake, nullptr, 0}, std::forward<Token>(token));
  }

  // Reads into the first non-empty buffer; completes with (error_code, bytes). A clean close_notify
  // from the peer is asio::error::eof; a connection cut without one is asio::ssl::error::stream_truncated.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b(*it);
      if (b.size()) return run(Call{Call::Read, b.data(), b.size()}, std::forward<Token>(token));
    }
    return run(Call{Call::Read, nullptr, 0}, std::forward<Token>(token));
  }

  // Writes a prefix of `buffers` as one TLS record: a sequence of small buffers (Beast's frame
  // header and payload) is gathered first so it does not become two records and two send() calls.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    auto begin = boost::asio::buffer_sequence_begin(buffers), end = boost::asio::buffer_sequence_end(buffers);
    boost::asio::const_buffer first;
    size_t nonempty = 0;
    for (auto it = begin; it != end; ++it) {
      boost::asio::const_buffer b(*it);
      if (!b.size()) continue;
      if (nonempty++ == 0) first = b;
    }
    if (nonempty <= 1) return run(Call{Call::Write, const_cast<void*>(first.data()), first.size()}, std::forward<Token>(token));
    auto gathered = std::make_shared<std::vector<unsigned char>>();
    for (auto it = begin; it != end && gathered->size() < kMaxRecord; ++it) {
      boost::asio::const_buffer b(*it);
      size_t take = std::min(b.size(), kMaxRecord - gathered->size());
      auto* p = static_cast<const unsigned char*>(b.data());
      gathered->insert(gathered->end(), p, p + take);
    }
    return run(Call{Call::Write, gathered->data(), gathered->size(), std::move(gathered)}, std::forward<Token>(token));
  }

  // One OpenSSL step: done (ec set or not, n bytes) or wait for the socket to become readable
  // (want == 1) or writable (want == 2).
  struct Step {
    boost::system::error_code ec;
    size_t n = 0;
    int want = 0;
  };

  // For a reader that waits for readiness itself, so that no buffer of its own stays pending while
  // the connection is idle (the WSS listener reads every connection into one shared buffer): reads
  // what OpenSSL can give now. With `want`, wait for the socket as it says, then call again;
  // until then nothing is buffered in OpenSSL (no read-ahead), so a readiness wait cannot stall.
  Step read_now(void* data, size_t size) { return step(Call{Call::Read, data, size}); }

  // Sends close_notify if the socket takes it now; never waits (before a TCP teardown).
  void close_notify_now();

  // Sends close_notify (without waiting for the peer's); completes with error_code.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return run(Call{Call::Shutdown, nullptr, 0}, std::forward<Token>(token));
  }

 private:
  static constexpr size_t kMaxRecord = 16384;  // TLS plaintext record limit (RFC 8446 §5.1)

  struct SslFree {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
  };

  struct Call {
    enum Kind { Handshake, Read, Write, Shutdown } kind;
    void* data;
    size_t size;
    std::shared_ptr<std::vector<unsigned char>> keep{};  // a gathered write's bytes
  };

  Step step(const Call& c);

  template <class Token>
  auto run(Call call, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
        Op{this, std::move(call)}, token, socket_);
  }

  // The composed operation: retry the OpenSSL call each time the socket is ready. The first
  // result is posted so a completion never runs inside the initiating call.
  struct Op {
    TlsStream* s;
    Call call;
    bool started = false;
    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
      if (ec) return self.complete(ec, 0);  // the wait failed: socket closed, aborted
      Step r = s->step(call);
      if (r.want) {
        started = true;
        auto w = r.want == 1 ? socket_type::wait_read : socket_type::wait_write;
        return s->socket_.async_wait(w, std::move(self));
      }
      if (!started) {
        started = true;
        auto ex = s->socket_.get_executor();
        return boost::asio::post(ex, [self = std::move(self), r]() mutable { self.complete(r.ec, r.n); });
      }
      self.complete(r.ec, r.n);
    }
  };

  socket_type socket_;
  std::unique_ptr<SSL, SslFree> ssl_;
};

// websocket::stream<TlsStream>'s close: close_notify, then the TCP teardown (RFC 6455 §7.1.1).
void teardown(boost::beast::role_type role, TlsStream& stream, boost::system::error_code& ec);

template <class Handler>
void async_teardown(boost::beast::role_type role, TlsStream& stream, Handler&& handler) {
  stream.async_shutdown([role, &stream, h = std::forward<Handler>(handler)](const boost::system::error_code&,
                                                                          size_t) mutable {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::move(h));
  });
}

}  // namespace net
