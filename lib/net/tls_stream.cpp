#include "net/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

namespace net {
namespace {

// ---- the socket BIO ----
// OpenSSL's own BIO_s_socket writes with write(2), which raises SIGPIPE when the peer has gone;
// this one uses send(MSG_NOSIGNAL) so no process-wide signal disposition is needed.

int fd_of(BIO* b) { return int(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

bool retryable(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

int bio_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::send(fd_of(b), data, size_t(len), MSG_NOSIGNAL);
  if (n < 0 && retryable(errno)) BIO_set_retry_write(b);
  return int(n);
}

int bio_read(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::recv(fd_of(b), data, size_t(len), 0);
  if (n < 0 && retryable(errno)) BIO_set_retry_read(b);
  return int(n);
}

int bio_puts(BIO* b, const char* s) { return bio_write(b, s, int(std::strlen(s))); }

long bio_ctrl(BIO*, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
      return 1;
    default:
      return 0;
  }
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* socket_method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "webims socket");
    if (!meth || !BIO_meth_set_write(meth, bio_write) || !BIO_meth_set_read(meth, bio_read) ||
        !BIO_meth_set_puts(meth, bio_puts) || !BIO_meth_set_ctrl(meth, bio_ctrl) ||
        !BIO_meth_set_create(meth, bio_create))
      throw std::runtime_error("OpenSSL cannot create the socket BIO method");
    return meth;
  }();
  return m;
}

}  // namespace

TlsStream::TlsStream(socket_type socket, SSL_CTX* ctx) : socket_(std::move(socket)), ssl_(SSL_new(ctx)) {
  if (!ssl_) throw std::runtime_error("OpenSSL cannot allocate a TLS connection (out of memory?)");
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) throw std::runtime_error("cannot make a TLS socket non-blocking: " + ec.message());
  BIO* bio = BIO_new(socket_method());
  if (!bio) throw std::runtime_error("OpenSSL cannot allocate a socket BIO (out of memory?)");
  BIO_set_data(bio, reinterpret_cast<void*>(intptr_t(socket_.native_handle())));
  SSL_set_bio(ssl_.get(), bio, bio);  // the SSL object owns the BIO from here
  // Partial writes: async_write_some reports what one record took. Moving buffer: a gathered
  // write may be retried from another address. Release buffers: idle connections hold none.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
}

TlsStream::Step TlsStream::step(const Call& c) {
  Step out;
  if (!socket_.is_open()) {
    out.ec = boost::asio::error::bad_descriptor;
    return out;
  }
  if ((c.kind == Call::Read || c.kind == Call::Write) && c.size == 0) return out;
  ERR_clear_error();
  errno = 0;
  int r = 0;
  size_t n = 0;
  switch (c.kind) {
    case Call::Handshake: r = SSL_do_handshake(ssl_.get()); break;
    case Call::Read: r = SSL_read_ex(ssl_.get(), c.data, c.size, &n); break;
    case Call::Write: r = SSL_write_ex(ssl_.get(), c.data, c.size, &n); break;
    case Call::Shutdown:
      r = SSL_shutdown(ssl_.get());
      if (r == 0) r = 1;  // close_notify sent; the peer's is not awaited
      break;
  }
  if (r > 0) {
    out.n = n;
    return out;
  }
  int err = SSL_get_error(ssl_.get(), r);
  int saved_errno = errno;
  switch (err) {
    case SSL_ERROR_WANT_READ: out.want = 1; break;
    case SSL_ERROR_WANT_WRITE: out.want = 2; break;
    case SSL_ERROR_ZERO_RETURN: out.ec = boost::asio::error::eof; break;
    case SSL_ERROR_SYSCALL:
      out.ec = saved_errno ? boost::system::error_code(saved_errno, boost::system::system_category())
                           : boost::system::error_code(boost::asio::ssl::error::stream_truncated);
      break;
    default: {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        out.ec = boost::asio::ssl::error::stream_truncated;
      else
        out.ec = boost::system::error_code(int(e ? e : ERR_PACK(ERR_LIB_SSL, 0, ERR_R_INTERNAL_ERROR)),
                                           boost::asio::error::get_ssl_category());
      ERR_clear_error();
    }
  }
  return out;
}

void TlsStream::close_notify_now() {
  if (socket_.is_open()) SSL_shutdown(ssl_.get());  // best effort: the socket is non-blocking
  ERR_clear_error();
}

void teardown(boost::beast::role_type role, TlsStream& stream, boost::system::error_code& ec) {
  SSL_shutdown(stream.native_handle());  // best effort: the socket is non-blocking
  ERR_clear_error();
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

}  // namespace net
