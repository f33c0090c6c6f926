// HTTP/1.1 (RFC 9112) server sessions over Beast. One session per connection, a shared_ptr kept
// alive by its pending operation; the server state (handler, limits, session set) is shared with the
// sessions so a completion that arrives after the HttpServer is gone finds it still valid.
#include "net/host_port.hpp"
#include "net/http_server.hpp"
#include "net/http_text.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "base/encoding.hpp"
#include "base/log.hpp"

namespace net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

base::Endpoint to_endpoint(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v4()) return {base::IpAddress::v4(a.to_v4().to_uint()), ep.port()};
  auto b = a.to_v6().to_bytes();
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; report them as the IPv4 they are.
  return {base::IpAddress::v6(b.data()).unmapped(), ep.port()};
}

struct ListenUrl {
  bool tls = false;
  tcp::endpoint endpoint;
};

ListenUrl parse_listen_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return std::runtime_error("bad HTTP listen URL '" + url + "': " + why);
  };
  ListenUrl out;
  std::string_view rest(url);
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    out.tls = true;
  } else {
    throw bad("expected http://HOST:PORT or https://HOST:PORT");
  }
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") throw bad("a listen URL has no path");
    rest = rest.substr(0, slash);
  }
  std::string_view host, port;
  if (auto why = detail::split_host_port(rest, host, port, "http://[::1]:8080")) throw bad(*why);
  unsigned p = out.tls ? 443 : 80;
  if (!port.empty() || rest.ends_with(':')) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p > 65535)
      throw bad("the port must be a number from 0 to 65535");
  }
  std::string h(host == "localhost" ? "127.0.0.1" : host);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(h, ec);
  if (ec) throw bad("the host must be an IP address or 'localhost'");
  out.endpoint = tcp::endpoint(addr, uint16_t(p));
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

// A peer-caused read error that deserves an answer before closing, or 0 to close silently.
int status_for_read_error(const boost::system::error_code& ec, bool header_done) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::buffer_overflow) return header_done ? 413 : 431;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return 0;  // peer went away
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) return 400;  // other parse errors
  return 0;  // socket, TLS or timeout: nobody to answer
}

const char* reason_text(int status) {
  switch (status) {
    case 400: return "Bad Request\n";
    case 413: return "Content Too Large\n";
    case 431: return "Request Header Fields Too Large\n";
    case 500: return "Internal Server Error\n";
    default: return "\n";
  }
}

}  // namespace

// ---- shared state -----------------------------------------------------------------------------------

namespace detail {

class HttpSessionBase {
 public:
  virtual ~HttpSessionBase() = default;
  virtual void close() = 0;
};

struct HttpServerState : std::enable_shared_from_this<HttpServerState> {
  HttpServerState(asio::io_context& io, HttpAsyncHandler h, std::shared_ptr<ssl::context> t, HttpLimits l, std::string u)
      : io(io), handler(std::move(h)), tls(std::move(t)), limits(l), url(std::move(u)), acceptor(io), retry(io) {}

  void accept();
  void on_accept(const boost::system::error_code& ec, tcp::socket socket);
  void stop();

  asio::io_context& io;
  HttpAsyncHandler handler;
  std::shared_ptr<ssl::context> tls;
  HttpLimits limits;
  std::string url;
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // backs off after accept errors such as EMFILE instead of spinning
  bool stopped = false;
  std::unordered_map<detail::HttpSessionBase*, std::weak_ptr<detail::HttpSessionBase>> sessions;
};

}  // namespace detail

using State = detail::HttpServerState;

namespace {

std::string peer_cert_sha256_hex(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  bool ok = X509_digest(cert, EVP_sha256(), md, &n) == 1;
  X509_free(cert);
  return ok ? base::hex_encode(base::Bytes(md, n)) : std::string();
}

template <class Stream>
class Session final : public detail::HttpSessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(std::shared_ptr<State> st, Stream stream, base::Endpoint remote)
      : st_(std::move(st)), stream_(std::move(stream)), remote_(remote),
        // Room for a full header plus one read's worth of body; string_body moves body bytes out as
        // they arrive, so the buffer never has to hold a whole body.
        buffer_(st_->limits.max_header_bytes + 65536) {}

  ~Session() override { st_->sessions.erase(this); }

  void start() {
    st_->sessions[this] = this->shared_from_this();
    if constexpr (kTls) {
      lowest().expires_after(st_->limits.idle_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](const boost::system::error_code& ec) {
                                if (ec) {
                                  LOG_DEBUG("http") << self->remote_.to_string() << ": TLS handshake failed: " << ec.message();
                                  return self->close();
                                }
                                self->peer_cert_hex_ = peer_cert_sha256_hex(self->stream_.native_handle());
                                self->read_header();
                              });
    } else {
      read_header();
    }
  }

  void close() override {
    closed_ = true;
    lowest().close();
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read_header() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(uint32_t(std::min<size_t>(st_->limits.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(st_->limits.max_body_bytes);
    lowest().expires_after(st_->limits.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(const boost::system::error_code& ec) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    auto expect = req.find(http::field::expect);
    if (expect != req.end() && iequals(expect->value(), "100-continue") && !parser_->is_done()) {
      // RFC 9110 §10.1.1: the client waits for this before sending the body.
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue),
                        [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    if (closed_) return;
    if (parser_->is_done()) return handle();
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
                       if (ec) return self->on_read_error(ec);
                       self->handle();
                     });
  }

  void on_read_error(const boost::system::error_code& ec) {
    if (closed_) return;
    int status = status_for_read_error(ec, parser_ && parser_->is_header_done());
    if (status == 0) {
      LOG_DEBUG("http") << remote_.to_string() << ": connection ended: " << ec.message();
      return close();
    }
    LOG_DEBUG("http") << remote_.to_string() << ": " << status << " for a request: " << ec.message();
    HttpResponse r;
    r.status = status;
    r.body = reason_text(status);
    send(std::move(r), false, false, 11);
  }

  void handle() {
    if (closed_ || st_->stopped) return close();
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    req.headers = detail::lowered_fields(msg);
    req.body = std::move(msg.body());
    req.remote = remote_;
    req.tls = kTls;
    req.peer_cert_sha256_hex = peer_cert_hex_;
    bool keep_alive = msg.keep_alive();
    bool head = msg.method() == http::verb::head;
    unsigned version = msg.version();

    // One response per request, whenever the handler gives it; nothing once the connection closed.
    auto responded = std::make_shared<bool>(false);
    auto respond = [self = this->shared_from_this(), responded, keep_alive, head, version](HttpResponse r) {
      if (*responded) return;
      *responded = true;
      if (self->closed_) return;  // closed meanwhile, or the handler stopped the server
      self->send(std::move(r), keep_alive && !self->st_->stopped, head, version);
    };
    try {
      st_->handler(req, respond);
    } catch (const std::exception& e) {
      LOG_ERROR("http") << req.method << " " << req.path << " from " << remote_.to_string()
                        << ": handler failed: " << e.what();
      respond(HttpResponse{500, "text/plain; charset=utf-8", reason_text(500), {}});
    } catch (...) {
      LOG_ERROR("http") << req.method << " " << req.path << " from " << remote_.to_string()
                        << ": handler failed with a non-standard exception";
      respond(HttpResponse{500, "text/plain; charset=utf-8", reason_text(500), {}});
    }
  }

  void send(HttpResponse r, bool keep_alive, bool head, unsigned version) {
    if (r.status < 200 || r.status > 999) {
      LOG_ERROR("http") << "handler returned status " << r.status << "; answering 500";
      r = HttpResponse{500, "text/plain; charset=utf-8", reason_text(500), {}};
    }
    res_ = {};
    res_.version(version == 10 ? 10 : 11);
    res_.result(unsigned(r.status));
    res_.set(http::field::server, "webims");
    if (!r.content_type.empty() && detail::clean_header_text(r.content_type)) res_.set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) {
      if (!detail::writable_header_field(name, value)) {
        LOG_ERROR("http") << "handler returned a malformed header; dropped";
        continue;
      }
      if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
      if (iequals(name, "connection")) {
        if (iequals(value, "close")) keep_alive = false;
        continue;
      }
      if (iequals(name, "server") || iequals(name, "content-type")) res_.set(name, value);
      else res_.insert(name, value);
    }
    bool no_body = r.status == 204 || r.status == 304;
    if (!no_body) {
      res_.content_length(r.body.size());
      if (!head) res_.body() = std::move(r.body);
    }
    res_.keep_alive(keep_alive);
    lowest().expires_after(st_->limits.idle_timeout);
    http::async_write(stream_, res_,
                      [self = this->shared_from_this(), keep_alive](const boost::system::error_code& ec, size_t) {
                        if (ec) return self->close();
                        if (!keep_alive) return self->finish();
                        self->read_header();
                      });
  }

  // Half-close and drain what the peer still sends (e.g. the rest of a refused body) for a moment:
  // closing with unread data makes the kernel send RST, which can destroy the response in flight.
  void finish() {
    if (closed_) return;
    lowest().expires_after(std::chrono::seconds(2));
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](const boost::system::error_code&) { self->close(); });
    } else {
      boost::system::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      drain();
    }
  }

  void drain() {
    lowest().async_read_some(asio::buffer(scratch_),
                             [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
                               if (ec || self->closed_) return self->close();
                               self->drain();
                             });
  }

  std::shared_ptr<State> st_;
  Stream stream_;
  base::Endpoint remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  char scratch_[4096];
  std::string peer_cert_hex_;
  bool closed_ = false;
};

}  // namespace

namespace detail {

void HttpServerState::accept() {
  acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void HttpServerState::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (stopped || ec == asio::error::operation_aborted) return;
  if (ec) {
    LOG_WARN("http") << url << ": accept failed: " << ec.message();
    retry.expires_after(std::chrono::milliseconds(100));
    retry.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->stopped) self->accept();
    });
    return;
  }
  boost::system::error_code rec;
  auto remote = socket.remote_endpoint(rec);
  if (rec) {  // the peer already left
    accept();
    return;
  }
  if (sessions.size() >= limits.max_connections) {
    LOG_DEBUG("http") << url << ": connection limit " << limits.max_connections << " reached; refusing "
                      << to_endpoint(remote).to_string();
    socket.close(rec);
    accept();
    return;
  }
  auto self = shared_from_this();
  if (tls) {
    using S = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<Session<S>>(self, S(beast::tcp_stream(std::move(socket)), *tls), to_endpoint(remote))->start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(self, beast::tcp_stream(std::move(socket)), to_endpoint(remote))
        ->start();
  }
  accept();
}

void HttpServerState::stop() {
  if (stopped) return;
  stopped = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  retry.cancel();
  std::vector<std::shared_ptr<HttpSessionBase>> live;
  for (auto& [p, weak] : sessions)
    if (auto s = weak.lock()) live.push_back(std::move(s));
  for (auto& s : live) s->close();
}

}  // namespace detail

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

HttpServer::HttpServer(asio::io_context& io, const std::string& listen_url, HttpHandler handler,
                       std::shared_ptr<ssl::context> tls, HttpLimits limits)
    : HttpServer(io, listen_url,
                 handler ? HttpAsyncHandler([h = std::move(handler)](const HttpRequest& req, HttpRespond respond) {
                   respond(h(req));
                 })
                         : HttpAsyncHandler(),
                 std::move(tls), limits) {}

HttpServer::HttpServer(asio::io_context& io, const std::string& listen_url, HttpAsyncHandler handler,
                       std::shared_ptr<ssl::context> tls, HttpLimits limits) {
  auto url = parse_listen_url(listen_url);
  if (url.tls && !tls) throw std::runtime_error("HTTPS listener '" + listen_url + "' needs a TLS certificate and key");
  if (!handler) throw std::invalid_argument("HttpServer needs a handler");
  state_ = std::make_shared<State>(io, std::move(handler), url.tls ? std::move(tls) : nullptr, limits, listen_url);
  auto& a = state_->acceptor;
  boost::system::error_code ec;
  a.open(url.endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(url.endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + listen_url + ": " + ec.message());
  state_->accept();
  LOG_INFO("http") << "listening on " << (url.tls ? "https://" : "http://") << local_endpoint().to_string();
}

HttpServer::~HttpServer() {
  if (state_) state_->stop();
}

base::Endpoint HttpServer::local_endpoint() const {
  boost::system::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? base::Endpoint{} : to_endpoint(ep);
}

void HttpServer::stop() { state_->stop(); }

}  // namespace net
