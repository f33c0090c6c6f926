// HTTP/1.1 (RFC 9112) client exchanges over Beast: resolve, connect, TLS handshake (RFC 6125 name or
// IP check, SNI for names), write, read, close. One exchange per connection, so there is no pool to
// keep honest; one deadline covers the whole exchange, resolution included.
#include "net/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <optional>

#include "net/host_port.hpp"
#include "net/http_text.hpp"
#include "net/tls.hpp"

namespace net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct Url {
  bool tls = false;
  std::string host;    // without brackets
  std::string port;    // decimal
  std::string target;  // path and query, at least "/"
  std::string host_header;
};

base::Result<Url, std::string> parse_url(std::string_view url) {
  auto bad = [&](const std::string& why) { return base::fail("bad HTTP URL: " + why); };
  Url out;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    out.tls = true;
  } else {
    return bad("expected http:// or https://");
  }
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("it contains a space or control character");
  auto slash = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);  // never sent
  if (authority.find('@') != std::string_view::npos) return bad("user information in the URL is not supported");
  std::string_view host, port;
  if (auto why = detail::split_host_port(authority, host, port, "https://[::1]:8443/")) return bad(*why);
  if (host.empty()) return bad("no host");
  unsigned p = out.tls ? 443 : 80;
  if (!port.empty()) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535)
      return bad("the port must be a number from 1 to 65535");
  }
  out.host = std::string(host);
  out.port = std::to_string(p);
  out.target = rest.empty() ? "/" : rest.starts_with('?') ? "/" + std::string(rest) : std::string(rest);
  bool v6 = out.host.find(':') != std::string::npos;
  out.host_header = v6 ? "[" + out.host + "]" : out.host;
  if (p != (out.tls ? 443u : 80u)) out.host_header += ":" + out.port;
  return out;
}

// Shared by every exchange that names no context: the system's trust store, loaded once.
std::shared_ptr<ssl::context> default_tls_context() {
  static const std::shared_ptr<ssl::context> ctx = make_client_tls_context("");
  return ctx;
}

using SslStream = beast::ssl_stream<beast::tcp_stream>;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& io, Url url, HttpClientRequest req, HttpClientOptions opts, HttpClientDone done)
      : io_(io), url_(std::move(url)), opts_(std::move(opts)), done_(std::move(done)), resolver_(io), timer_(io) {
    req_.method(http::string_to_verb(req.method));
    if (req_.method() == http::verb::unknown) req_.method_string(req.method);
    req_.target(url_.target);
    req_.version(11);
    req_.set(http::field::host, url_.host_header);
    req_.set(http::field::user_agent, "webims");
    for (auto& [name, value] : req.headers) req_.insert(name, value);
    req_.set(http::field::connection, "close");
    req_.body() = std::move(req.body);
    if (!req_.body().empty() || req_.method() == http::verb::post || req_.method() == http::verb::put)
      req_.prepare_payload();
  }

  void start() {
    timer_.expires_after(opts_.timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      self->resolver_.cancel();
      self->close();
    });
    if (url_.tls) {
      auto ctx = opts_.tls ? opts_.tls : default_tls_context();
      tls_.emplace(beast::tcp_stream(io_), *ctx);
      tls_->set_verify_mode(ssl::verify_peer);  // whatever the context says: this client always verifies
      try {
        set_tls_peer_name(tls_->native_handle(), url_.host);
      } catch (const std::exception& e) {
        // Still never from inside http_request.
        return asio::post(io_, [self = shared_from_this(), why = std::string(e.what())] { self->finish(base::fail(why)); });
      }
    } else {
      plain_.emplace(io_);
    }
    resolver_.async_resolve(url_.host, url_.port,
                            [self = shared_from_this()](const boost::system::error_code& ec, tcp::resolver::results_type r) {
                              if (ec) return self->fail("cannot resolve the host", ec);
                              self->lowest().async_connect(
                                  r, [self](const boost::system::error_code& ec, const tcp::endpoint&) {
                                    if (ec) return self->fail("cannot connect", ec);
                                    self->on_connected();
                                  });
                            });
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void on_connected() {
    if (!tls_) return write();
    tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return self->fail("TLS handshake failed", ec);
      self->write();
    });
  }

  template <class Stream>
  void write_on(Stream& s) {
    http::async_write(s, req_, [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
      if (ec) return self->fail("cannot send the request", ec);
      self->read();
    });
  }
  void write() {
    if (tls_) write_on(*tls_);
    else write_on(*plain_);
  }

  template <class Stream>
  void read_on(Stream& s) {
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    parser_->body_limit(opts_.max_body_bytes);
    http::async_read(s, buffer_, *parser_, [self = shared_from_this()](boost::system::error_code ec, size_t) {
      // A server that closes TLS without close_notify after a complete message lost us nothing.
      if (ec == ssl::error::stream_truncated && self->parser_->is_done()) ec = {};
      if (ec == http::error::body_limit)
        return self->finish(base::fail("the response body is larger than " +
                                       std::to_string(self->opts_.max_body_bytes) + " bytes"));
      if (ec) return self->fail("cannot read the response", ec);
      self->on_response();
    });
  }
  void read() {
    if (tls_) read_on(*tls_);
    else read_on(*plain_);
  }

  void on_response() {
    auto msg = parser_->release();
    HttpClientResponse r;
    r.status = int(msg.result_int());
    r.headers = detail::lowered_fields(msg);
    r.body = std::move(msg.body());
    finish(std::move(r));
  }

  void fail(const char* what, const boost::system::error_code& ec) {
    if (timed_out_) return finish(base::fail("no answer within " + std::to_string(opts_.timeout.count()) + " ms"));
    std::string cause = ec.message();
    if (tls_) {
      // Which part of the verification failed ("hostname mismatch", "unable to get local issuer").
      long v = SSL_get_verify_result(tls_->native_handle());
      if (v != X509_V_OK) cause += " (" + std::string(X509_verify_cert_error_string(v)) + ")";
    }
    finish(base::fail(std::string(what) + ": " + cause));
  }

  void finish(base::Result<HttpClientResponse, std::string> r) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    close();
    if (!r.ok()) r = base::fail("HTTP request to " + url_.host + " failed: " + r.error());
    auto done = std::move(done_);
    done(std::move(r));
  }

  void close() {
    boost::system::error_code ignored;
    if (tls_ || plain_) lowest().socket().close(ignored);
  }

  asio::io_context& io_;
  Url url_;
  HttpClientOptions opts_;
  HttpClientDone done_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<SslStream> tls_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool finished_ = false, timed_out_ = false;
};

}  // namespace

const std::string* HttpClientResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

void http_request(asio::io_context& io, HttpClientRequest req, HttpClientOptions opts, HttpClientDone done) {
  auto late = [&](std::string why) {
    asio::post(io, [done = std::move(done), why = std::move(why)] { done(base::fail(why)); });
  };
  auto url = parse_url(req.url);
  if (!url) return late(url.error());
  for (const auto& [name, value] : req.headers)
    if (!detail::writable_header_field(name, value))
      return late("HTTP request to " + url->host + " not sent: a malformed header field");
  if (http::string_to_verb(req.method) == http::verb::unknown &&
      (req.method.empty() || req.method.find_first_of(" \t\r\n") != std::string::npos))
    return late("HTTP request to " + url->host + " not sent: a malformed method");
  std::make_shared<Exchange>(io, std::move(*url), std::move(req), std::move(opts), std::move(done))->start();
}

base::Result<HttpClientResponse, std::string> http_request_sync(HttpClientRequest req, HttpClientOptions opts) {
  asio::io_context io;
  std::optional<base::Result<HttpClientResponse, std::string>> out;
  http_request(io, std::move(req), std::move(opts), [&](auto r) { out.emplace(std::move(r)); });
  io.run();
  if (!out) return base::fail(std::string("HTTP request ended without an answer"));
  return std::move(*out);
}

}  // namespace net
