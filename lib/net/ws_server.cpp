// SIP over WebSocket (RFC 7118) transport: the W2 server of the eP-CSCF and the client of the
// command-line WIC (the client on Boost.Beast's websocket::stream).
//
// Server connection life: [TLS handshake] → HTTP request read with beast::http (so plain requests
// such as GET /metrics reach `on_http` on the same port) → checks (capacity 503, Origin 403,
// subprotocol 400, then RFC 6455 §4.2.1: Host, key 400, version 426; protocols.md W2) → 101 →
// open: our own framing (ws_frame.hpp) straight on the socket or TlsStream, one readiness wait
// pending, one write at a time from a queue → closed, reported once to on_close.
// The frame-level rules (1002 protocol errors, 1009 too big, 1007 bad UTF-8) are the decoder's
// (RFC 6455 §5, §7.1.7, §8.1); binary messages are closed here with 1003.
//
// Sessions are shared_ptrs kept alive by their pending operations; the server state is shared
// with them so a completion after ~WsServer finds it still valid (same scheme as http_server.cpp).
#include "net/host_port.hpp"
#include "net/ws_server.hpp"
#include "net/http_text.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "base/log.hpp"
#include "net/tls.hpp"
#include "net/tls_stream.hpp"
#include "net/ws_frame.hpp"

namespace net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// RFC 6455 §7.4.1 codes used here beyond ws_close.
constexpr uint16_t kGoingAway = 1001;
constexpr uint16_t kUnsupportedData = 1003;
constexpr uint16_t kNoStatus = 1005;
constexpr uint16_t kAbnormal = 1006;

// Process-wide, so an id names one connection for the life of the process (bindings, logs).
std::atomic<uint64_t> g_next_connection_id{1};

base::Endpoint to_endpoint(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v4()) return {base::IpAddress::v4(a.to_v4().to_uint()), ep.port()};
  auto b = a.to_v6().to_bytes();
  return {base::IpAddress::v6(b.data()).unmapped(), ep.port()};
}

struct WsUrl {
  bool tls = false;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string target = "/";
};

WsUrl parse_ws_url(const std::string& url, const char* what) {
  auto bad = [&](const std::string& why) {
    return std::runtime_error(std::string("bad ") + what + " URL '" + url + "': " + why);
  };
  WsUrl out;
  std::string_view rest(url);
  if (rest.starts_with("ws://")) {
    rest.remove_prefix(5);
  } else if (rest.starts_with("wss://")) {
    rest.remove_prefix(6);
    out.tls = true;
  } else {
    throw bad("expected ws://HOST:PORT or wss://HOST:PORT");
  }
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    out.target = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  std::string_view host, port;
  if (auto why = detail::split_host_port(rest, host, port, "ws://[::1]:7080")) throw bad(*why);
  if (host.empty()) throw bad("missing host");
  unsigned p = out.tls ? 443 : 80;
  if (!port.empty() || rest.ends_with(':')) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p > 65535)
      throw bad("the port must be a number from 0 to 65535");
  }
  out.host = std::string(host);
  out.port = uint16_t(p);
  return out;
}

// A peer-supplied value made safe for a log line: printable ASCII, at most 100 octets.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 100)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (s.size() > 100) out += "...";
  return out;
}

// RFC 6455 §4.1: Sec-WebSocket-Protocol is a comma-separated list of tokens (possibly repeated
// as several fields); subprotocol names compare exactly.
bool offers_subprotocol(const http::request<http::string_body>& req, std::string_view want) {
  for (auto it = req.find(http::field::sec_websocket_protocol);
       it != req.end() && it->name() == http::field::sec_websocket_protocol; ++it) {
    std::string_view v = it->value();
    while (!v.empty()) {
      auto comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (item == want) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::string session_id_hex(SSL* ssl) {
  SSL_SESSION* s = SSL_get_session(ssl);
  if (!s) return {};
  unsigned len = 0;
  const unsigned char* id = SSL_SESSION_get_id(s, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[id[i] >> 4];
    out += kHex[id[i] & 15];
  }
  return out;
}

// The close code to report for a read that ended with `ec`.
uint16_t close_code_for(const error_code& ec, const websocket::close_reason& peer) {
  if (ec == websocket::error::closed) return peer.code ? uint16_t(peer.code) : kNoStatus;
  if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) return ws_close::TooBig;
  if (ec == websocket::error::bad_frame_payload) return ws_close::InvalidData;
  if (ec.category() == websocket::make_error_code(websocket::error::closed).category()) return ws_close::ProtocolError;
  return kAbnormal;  // socket error, timeout, TLS failure, aborted
}

}  // namespace

// ---- server state ------------------------------------------------------------------------------------

namespace detail {

class WsSessionBase {
 public:
  virtual ~WsSessionBase() = default;
  virtual bool send(std::string text) = 0;
  virtual void close(uint16_t code, std::string_view reason) = 0;
  virtual void stop() = 0;
  // The server's ticker asks every session whether it has something to do now, then lets those do it.
  virtual bool due(std::chrono::steady_clock::time_point now) const = 0;
  virtual void tick(std::chrono::steady_clock::time_point now) = 0;
};

struct WsServerState : std::enable_shared_from_this<WsServerState> {
  WsServerState(asio::io_context& io, WsServerOptions o, std::shared_ptr<ssl::context> t)
      : io(io), options(std::move(o)), tls(std::move(t)), acceptor(io), retry(io), ticker(io),
        read_buffer(std::make_unique<char[]>(kReadBuffer)) {}

  void accept();
  void arm_ticker();
  void on_tick();
  void on_accept(const error_code& ec, tcp::socket socket);
  void stop();
  bool origin_allowed(std::string_view origin) const {
    std::string o = detail::lower(origin);
    for (const auto& a : origins)
      if (o == a) return true;
    return false;
  }

  asio::io_context& io;
  WsServerOptions options;
  std::vector<std::string> origins;  // lower-cased, without a trailing '/'
  std::shared_ptr<ssl::context> tls;
  WsServer::OnOpen on_open;
  WsServer::OnMessage on_message;
  WsServer::OnClose on_close;
  HttpHandler on_http;
  std::string url;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  // One timer for the whole listener: keep-alive pings and closing deadlines of every connection.
  asio::steady_timer ticker;
  std::chrono::milliseconds tick_period{1000};
  // Every WebSocket read goes here first (one thread: one read at a time), so an idle connection
  // holds no buffer of its own. 16 kB: one TLS record.
  static constexpr size_t kReadBuffer = 16384;
  std::unique_ptr<char[]> read_buffer;
  bool stopped = false;
  std::unordered_map<uint64_t, std::weak_ptr<WsSessionBase>> open;     // upgraded, by connection id
  std::unordered_map<WsSessionBase*, std::weak_ptr<WsSessionBase>> all;  // every socket, for stop()
};

}  // namespace detail

using WsState = detail::WsServerState;

namespace {

template <class Stream>
class WsSession final : public detail::WsSessionBase, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(std::shared_ptr<WsState> st, Stream stream, base::Endpoint remote, base::Endpoint local)
      : st_(std::move(st)), raw_(std::move(stream)), remote_(remote), local_(local),
        dec_(st_->options.max_message_bytes) {}

  ~WsSession() override { st_->all.erase(this); }

  void start() {
    st_->all[this] = this->shared_from_this();
    arm_deadline(st_->options.handshake_timeout);
    if constexpr (kTls) {
      raw_->async_handshake(true, [self = this->shared_from_this()](const error_code& ec, size_t) {
        if (ec) {
          LOG_DEBUG("ws") << self->remote_.to_string() << ": TLS handshake failed: " << ec.message();
          return self->abort();
        }
        self->h_->tls_session_id = session_id_hex(self->raw_->native_handle());
        self->read_request();
      });
    } else {
      read_request();
    }
  }

  bool send(std::string text) override {
    if (!open_ || closing_) return false;
    if (queued_bytes_ + text.size() > st_->options.max_queued_bytes) {
      // A reader this slow would also never take a close frame: drop the connection now.
      LOG_INFO("ws") << "connection " << id_ << " from " << remote_.to_string() << ": send queue over "
                     << st_->options.max_queued_bytes << " bytes; closing";
      local_close_code_ = ws_close::PolicyViolation;
      finish(ws_close::PolicyViolation);
      abort();
      return false;
    }
    push_frame(ws::encode_frame(ws::Opcode::Text, text));
    return true;
  }

  void close(uint16_t code, std::string_view reason) override {
    if (!open_ || closing_) return;
    start_close(code, reason);  // after the frames already queued
  }

  // WsServer::stop(): report now, then close gracefully without further callbacks.
  void stop() override {
    if (h_) return abort();  // not upgraded yet
    if (!open_) return;
    finish(kGoingAway);
    if (!closing_) {
      drop_queued();
      start_close(kGoingAway, "server shutting down");
    }
  }

  // The server's ticker: keep-alive pings, dead peers, closing handshakes that overran.
  bool due(std::chrono::steady_clock::time_point now) const override {
    if (h_) return false;
    if (closing_ || torn_down_) return now - closing_since_ >= st_->options.handshake_timeout;
    if (!open_) return false;  // dropped already: the pending read ends it
    auto interval = st_->options.ping_interval;
    if (interval.count() <= 0) return false;
    auto idle = now - last_rx_;
    return idle >= 2 * interval || (idle >= interval && !ping_out_);
  }

  void tick(std::chrono::steady_clock::time_point now) override {
    if (!due(now)) return;
    if (closing_ || torn_down_) {
      LOG_DEBUG("ws") << "connection " << id_ << ": closing handshake timed out";
      return abort();
    }
    if (now - last_rx_ >= 2 * st_->options.ping_interval) {
      LOG_DEBUG("ws") << "connection " << id_ << " from " << remote_.to_string() << ": no answer to a ping; dropped";
      return abort();  // the read ends and reports 1006
    }
    ping_out_ = true;
    push_frame(ws::encode_frame(ws::Opcode::Ping, {}));
  }

 private:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  tcp::socket& lowest() { return beast::get_lowest_layer(*raw_); }

  void abort() {
    error_code ignored;
    lowest().close(ignored);
  }

  // The HTTP phase's timeout (TLS handshake, request, response): on expiry the socket goes. The
  // WebSocket stream runs its own timers after the upgrade, so the timer exists only until then.
  void arm_deadline(std::chrono::steady_clock::duration d) {
    if (!h_->deadline) h_->deadline.emplace(lowest().get_executor());
    h_->deadline->expires_after(d);
    h_->deadline->async_wait([w = this->weak_from_this()](const error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) {
        LOG_DEBUG("ws") << self->remote_.to_string() << ": HTTP phase timed out";
        self->abort();
      }
    });
  }

  // ---- HTTP phase ----

  void read_request() {
    if (st_->stopped) return abort();
    h_->parser.emplace();
    h_->parser->header_limit(8192);
    h_->parser->body_limit(64 * 1024);
    arm_deadline(st_->options.handshake_timeout);
    http::async_read(*raw_, h_->buffer, *h_->parser, [self = this->shared_from_this()](const error_code& ec, size_t) {
      self->on_request(ec);
    });
  }

  void on_request(const error_code& ec) {
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        LOG_INFO("ws") << remote_.to_string() << ": handshake refused: HTTP 400 (malformed request: " << ec.message()
                       << ")";
        return respond(ec == http::error::header_limit ? 431 : 400, "Bad Request\n", false);
      }
      LOG_DEBUG("ws") << remote_.to_string() << ": connection ended before a request: " << ec.message();
      return abort();
    }
    h_->req = h_->parser->release();
    h_->parser.reset();
    if (!websocket::is_upgrade(h_->req)) return handle_http();
    auto origin_it = h_->req.find(http::field::origin);
    h_->origin = origin_it == h_->req.end() ? std::string() : std::string(origin_it->value());
    if (st_->stopped) return refuse(503, "server stopping");
    if (st_->open.size() >= st_->options.max_connections)
      return refuse(503, "connection limit " + std::to_string(st_->options.max_connections) + " reached");
    if (origin_it == h_->req.end()) return refuse(403, "no Origin");
    if (!st_->origin_allowed(h_->origin)) return refuse(403, "Origin '" + printable(h_->origin) + "' not allowed");
    if (!offers_subprotocol(h_->req, st_->options.subprotocol))
      return refuse(400, "subprotocol '" + st_->options.subprotocol + "' not offered");
    upgrade();
  }

  void refuse(int status, const std::string& why) {
    LOG_INFO("ws") << remote_.to_string() << ": handshake refused: HTTP " << status << " (" << why << ")";
    std::string body = status == 403 ? "Forbidden\n" : status == 400 ? "Bad Request\n"
                       : status == 426 ? "Upgrade Required\n" : "Service Unavailable\n";
    respond(status, std::move(body), false, status == 426);
  }

  void handle_http() {
    HttpResponse r;
    if (!st_->on_http || st_->stopped) {
      r.status = 404;
      r.body = "Not Found\n";
    } else {
      HttpRequest hr;
      hr.method = std::string(h_->req.method_string());
      hr.target = std::string(h_->req.target());
      auto q = hr.target.find('?');
      hr.path = hr.target.substr(0, q);
      if (q != std::string::npos) hr.query = hr.target.substr(q + 1);
      hr.headers = detail::lowered_fields(h_->req);
      hr.body = std::move(h_->req.body());
      hr.remote = remote_;
      hr.tls = kTls;
      try {
        r = st_->on_http(hr);
      } catch (const std::exception& e) {
        LOG_ERROR("ws") << hr.method << " " << printable(hr.path) << " from " << remote_.to_string()
                        << ": handler failed: " << e.what();
        r = HttpResponse{500, "text/plain; charset=utf-8", "Internal Server Error\n", {}};
      }
    }
    bool keep_alive = h_->req.keep_alive() && !st_->stopped;
    h_->res = {};
    h_->res.version(h_->req.version() == 10 ? 10 : 11);
    if (r.status < 200 || r.status > 999) r = HttpResponse{500, "text/plain; charset=utf-8", "Internal Server Error\n", {}};
    h_->res.result(unsigned(r.status));
    h_->res.set(http::field::server, "webims");
    if (!r.content_type.empty() && detail::clean_header_text(r.content_type)) h_->res.set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) {
      if (!detail::writable_header_field(name, value)) continue;
      if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding")) continue;
      if (beast::iequals(name, "connection")) {
        if (beast::iequals(value, "close")) keep_alive = false;
        continue;
      }
      h_->res.insert(name, value);
    }
    if (r.status != 204 && r.status != 304) {
      h_->res.content_length(r.body.size());
      if (h_->req.method() != http::verb::head) h_->res.body() = std::move(r.body);
    }
    write_response(keep_alive);
  }

  void respond(int status, std::string body, bool keep_alive, bool want_version_13 = false) {
    h_->res = {};
    if (want_version_13) h_->res.set(http::field::sec_websocket_version, "13");  // RFC 6455 §4.4
    h_->res.version(11);
    h_->res.result(unsigned(status));
    h_->res.set(http::field::server, "webims");
    h_->res.set(http::field::content_type, "text/plain; charset=utf-8");
    h_->res.body() = std::move(body);
    h_->res.content_length(h_->res.body().size());
    write_response(keep_alive);
  }

  void write_response(bool keep_alive) {
    h_->res.keep_alive(keep_alive);
    arm_deadline(st_->options.handshake_timeout);
    http::async_write(*raw_, h_->res, [self = this->shared_from_this(), keep_alive](const error_code& ec, size_t) {
      if (ec) return self->abort();
      if (keep_alive) return self->read_request();
      self->finish_http();
    });
  }

  // After a final HTTP response: half-close and drain briefly so the response is not lost to a RST.
  void finish_http() {
    arm_deadline(std::chrono::seconds(2));
    if constexpr (kTls) {
      raw_->async_shutdown([self = this->shared_from_this()](const error_code&, size_t) { self->abort(); });
    } else {
      error_code ignored;
      lowest().shutdown(tcp::socket::shutdown_send, ignored);
      drain();
    }
  }

  void drain() {
    if (!h_->scratch) h_->scratch = std::make_unique<char[]>(kScratch);
    lowest().async_read_some(asio::buffer(h_->scratch.get(), kScratch), [self = this->shared_from_this()](const error_code& ec, size_t) {
      if (ec) return self->abort();
      self->drain();
    });
  }

  // ---- WebSocket phase: our own RFC 6455 framing (ws_frame.hpp) straight on the stream ----
  //
  // While idle a connection has one readiness wait pending and holds no buffer: reads go into the
  // server's shared buffer and through the decoder, which keeps only a partial frame. Writes go
  // one at a time from a queue of encoded frames. Keep-alive pings and the deadlines of closing
  // handshakes come from the server's ticker (due/tick), not from a timer per connection.

  // RFC 6455 §4.2.1/§4.2.2 on a request is_upgrade() accepted: Host, a 16-octet key, version 13.
  void upgrade() {
    auto& req = h_->req;
    if (req.version() != 11) return refuse(400, "WebSocket needs HTTP/1.1");
    if (req.find(http::field::host) == req.end()) return refuse(400, "no Host");
    std::string_view key = req[http::field::sec_websocket_key];
    if (!valid_ws_key(key)) return refuse(400, "bad Sec-WebSocket-Key");
    if (req[http::field::sec_websocket_version] != "13") return refuse(426, "Sec-WebSocket-Version is not 13");
    h_->upgrade_response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: " + ws_accept(key) + "\r\nSec-WebSocket-Protocol: " +
                           st_->options.subprotocol + "\r\nServer: webims\r\n\r\n";
    arm_deadline(st_->options.handshake_timeout);
    asio::async_write(*raw_, asio::buffer(h_->upgrade_response),
                      [self = this->shared_from_this()](const error_code& ec, size_t) { self->on_upgraded(ec); });
  }

  void on_upgraded(const error_code& ec) {
    if (ec) {
      LOG_INFO("ws") << remote_.to_string() << ": handshake failed: " << ec.message();
      return abort();
    }
    if (st_->stopped) return abort();
    id_ = g_next_connection_id.fetch_add(1, std::memory_order_relaxed);
    open_ = true;
    st_->open[id_] = this->shared_from_this();
    last_rx_ = std::chrono::steady_clock::now();
    if constexpr (!kTls) {
      error_code ignored;
      lowest().non_blocking(true, ignored);  // reads below are attempts; the reactor says when to retry
    }
    LOG_DEBUG("ws") << "connection " << id_ << " open from " << remote_.to_string();
    WsConnectionInfo info;
    info.id = id_;
    info.remote = remote_;
    info.local = local_;
    info.tls = kTls;
    info.origin = std::move(h_->origin);
    info.tls_session_id = std::move(h_->tls_session_id);
    // Frames the client sent right behind its request are already in the HTTP buffer.
    std::string early = beast::buffers_to_string(h_->buffer.data());
    h_.reset();  // and with it the HTTP phase's timer
    auto self = this->shared_from_this();  // on_open may close or stop
    if (st_->on_open) st_->on_open(info);
    if (!early.empty()) {
      last_rx_ = std::chrono::steady_clock::now();
      consume(early.data(), early.size());
    }
    on_readable({});
  }

  // Reads what is there now, then waits for the socket. After the teardown (close_notify and FIN
  // sent) only drains raw bytes until the peer's FIN, so the close frame is not lost to a reset.
  void on_readable(const error_code& ec) {
    if (ec) return read_ended();
    char* buf = st_->read_buffer.get();
    for (int round = 0; round < 16; ++round) {
      size_t n = 0;
      error_code rec;
      int want = 0;
      if (kTls && !torn_down_) {
        if constexpr (kTls) {
          auto r = raw_->read_now(buf, WsState::kReadBuffer);
          n = r.n, rec = r.ec, want = r.want;
        }
      } else {
        n = lowest().read_some(asio::buffer(buf, WsState::kReadBuffer), rec);
        if (rec == asio::error::would_block || rec == asio::error::try_again) rec = {}, want = 1;
      }
      if (want) {
        auto w = want == 1 ? tcp::socket::wait_read : tcp::socket::wait_write;
        return lowest().async_wait(w, [self = this->shared_from_this()](const error_code& e) { self->on_readable(e); });
      }
      if (rec) {
        // The peer's close frame and its close_notify (or FIN) can arrive before our close frame's
        // write has completed: stop reading, and let teardown() go on once ours is out.
        if (rec == asio::error::eof && peer_closed_ && !torn_down_ && writing_) {
          parked_ = true;
          return;
        }
        return read_ended();
      }
      last_rx_ = std::chrono::steady_clock::now();
      ping_out_ = false;
      if (!torn_down_) consume(buf, n);
    }
    // Still more: let other connections run first.
    asio::post(lowest().get_executor(), [self = this->shared_from_this()] { self->on_readable({}); });
  }

  // The socket is done (peer gone, error, or closed here): report once, close.
  void read_ended() {
    finish(local_close_code_ ? local_close_code_ : kAbnormal);
    abort();
  }

  void consume(const char* p, size_t n) {
    while (n > 0 && !torn_down_ && lowest().is_open()) {
      ws::Event ev;
      size_t used = dec_.feed(p, n, ev);
      p += used;
      n -= used;
      switch (ev.kind) {
        case ws::Event::None:
        case ws::Event::Pong:
          break;
        case ws::Event::Text:
          if (open_ && !closing_ && !st_->stopped && st_->on_message) st_->on_message(id_, std::move(ev.payload));
          break;
        case ws::Event::Binary:
          LOG_INFO("ws") << "connection " << id_ << " from " << remote_.to_string() << ": binary frame; closing 1003";
          close(kUnsupportedData, "text frames only (RFC 7118)");
          break;
        case ws::Event::Ping:
          if (!closing_) push_frame(ws::encode_frame(ws::Opcode::Pong, ev.payload));
          break;
        case ws::Event::Close:
          // RFC 6455 §5.5.1: answer with a close (echoing the code) unless ours went already.
          peer_closed_ = true;
          finish(local_close_code_ ? local_close_code_ : ev.code);
          if (!closing_) {
            drop_queued();
            closing_ = true;
            closing_since_ = std::chrono::steady_clock::now();
            push_frame(ws::encode_close(ev.code));
          }
          if (close_written_) teardown();
          break;
        case ws::Event::Fail:
          // §7.1.7: fail the connection: our close with the code, without waiting for the peer's.
          LOG_INFO("ws") << "connection " << id_ << " from " << remote_.to_string() << ": " << ev.why << "; closing "
                         << ev.code;
          if (!local_close_code_) local_close_code_ = ev.code;
          peer_closed_ = true;
          finish(local_close_code_);
          if (!closing_) {
            drop_queued();
            closing_ = true;
            closing_since_ = std::chrono::steady_clock::now();
            push_frame(ws::encode_close(ev.code, ev.why));
          }
          if (close_written_) teardown();
          break;
      }
    }
  }

  void push_frame(std::string frame) {
    queued_bytes_ += frame.size();
    queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      if (closing_ && !close_written_) {  // the close frame is always the last one queued
        close_written_ = true;
        if (peer_closed_) teardown();
      }
      return;
    }
    writing_ = true;
    asio::async_write(*raw_, asio::buffer(queue_.front()), [self = this->shared_from_this()](const error_code& ec, size_t) {
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      if (ec) {  // the read side reports the end
        self->writing_ = false;
        self->queue_.clear();
        self->queued_bytes_ = 0;
        return self->abort();
      }
      self->write_next();
    });
  }

  // Drops the frames not yet written (the front one is in flight while writing_).
  void drop_queued() {
    while (queue_.size() > (writing_ ? 1u : 0u)) {
      queued_bytes_ -= queue_.back().size();
      queue_.pop_back();
    }
  }

  void start_close(uint16_t code, std::string_view reason) {
    closing_ = true;
    closing_since_ = std::chrono::steady_clock::now();
    if (!local_close_code_) local_close_code_ = code;
    push_frame(ws::encode_close(code, reason));
  }

  // Both close frames are through: TLS close_notify, our FIN, then drain until the peer's FIN
  // (RFC 6455 §7.1.1: the server closes the TCP connection first). The ticker bounds the wait.
  void teardown() {
    if (torn_down_) return;
    torn_down_ = true;
    closing_since_ = std::chrono::steady_clock::now();
    if constexpr (kTls) raw_->close_notify_now();
    error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_send, ignored);
    if (parked_) {  // no read is pending: drain from here
      parked_ = false;
      on_readable({});
    }
  }

  // Reports the end once; the connection id is gone for send() from here on.
  void finish(uint16_t code) {
    if (!open_) return;
    open_ = false;
    st_->open.erase(id_);
    if (st_->on_close) st_->on_close(id_, code);
  }

  static bool valid_ws_key(std::string_view key) {
    // base64 of 16 octets: 22 characters and "==".
    if (key.size() != 24 || key.substr(22) != "==") return false;
    for (char c : key.substr(0, 22))
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return false;
    return true;
  }

  static std::string ws_accept(std::string_view key) {
    std::string in(key);
    in += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
    unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
    return std::string(reinterpret_cast<char*>(out), size_t(n));
  }

  std::shared_ptr<WsState> st_;
  std::optional<Stream> raw_;
  base::Endpoint remote_, local_;
  // What only the HTTP phase needs, given back at the upgrade: an idle WebSocket keeps none of it.
  struct HttpPhase {
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    std::optional<asio::steady_timer> deadline;
    std::unique_ptr<char[]> scratch;  // only for draining after a final HTTP response
    std::string origin, tls_session_id, upgrade_response;
  };
  static constexpr size_t kScratch = 1024;
  std::unique_ptr<HttpPhase> h_ = std::make_unique<HttpPhase>();

  ws::ServerDecoder dec_;
  std::list<std::string> queue_;  // encoded frames; usually empty or one. A deque would allocate 576 bytes up front
  size_t queued_bytes_ = 0;
  uint64_t id_ = 0;
  std::chrono::steady_clock::time_point last_rx_{}, closing_since_{};
  uint16_t local_close_code_ = 0;
  bool open_ = false;           // upgraded and not yet reported to on_close
  bool writing_ = false;
  bool ping_out_ = false;       // a keep-alive ping went out and nothing arrived since
  bool closing_ = false;        // our close frame is queued: nothing else is sent or delivered
  bool close_written_ = false;
  bool peer_closed_ = false;    // the peer's close arrived, or we failed the connection: no need to wait
  bool torn_down_ = false;      // close_notify and FIN sent: draining until the peer's FIN
  bool parked_ = false;         // reading stopped at the peer's end until our close frame is out
};

}  // namespace

namespace detail {

void WsServerState::accept() {
  acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void WsServerState::on_accept(const error_code& ec, tcp::socket socket) {
  if (stopped || ec == asio::error::operation_aborted) return;
  if (ec) {
    LOG_WARN("ws") << url << ": accept failed: " << ec.message();
    retry.expires_after(std::chrono::milliseconds(100));
    retry.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec && !self->stopped) self->accept();
    });
    return;
  }
  error_code rec, lec;
  auto remote = socket.remote_endpoint(rec);
  auto local = socket.local_endpoint(lec);
  if (rec || lec) {  // the peer already left
    accept();
    return;
  }
  // Sockets still in the HTTP phase are bounded by the handshake timeout; this bounds their number
  // too, so a flood cannot exhaust descriptors before the 503 check at upgrade time.
  if (all.size() >= options.max_connections + 1024) {
    LOG_DEBUG("ws") << url << ": too many sockets; refusing " << to_endpoint(remote).to_string();
    socket.close(rec);
    accept();
    return;
  }
  socket.set_option(tcp::no_delay(true), rec);
  auto self = shared_from_this();
  if (tls) {
    std::optional<TlsStream> stream;
    try {
      stream.emplace(std::move(socket), tls->native_handle());
    } catch (const std::exception& e) {
      LOG_WARN("ws") << url << ": refusing " << to_endpoint(remote).to_string() << ": " << e.what();
      accept();
      return;
    }
    std::make_shared<WsSession<TlsStream>>(self, std::move(*stream), to_endpoint(remote), to_endpoint(local))->start();
  } else {
    std::make_shared<WsSession<tcp::socket>>(self, std::move(socket), to_endpoint(remote), to_endpoint(local))->start();
  }
  accept();
}

void WsServerState::arm_ticker() {
  ticker.expires_after(tick_period);
  ticker.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->on_tick();
  });
}

void WsServerState::on_tick() {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<WsSessionBase>> due;
  for (auto& [p, weak] : all)
    if (p->due(now))
      if (auto s = weak.lock()) due.push_back(std::move(s));
  for (auto& s : due) s->tick(now);
  // After stop() only as long as connections are still closing.
  if (!stopped || !all.empty()) arm_ticker();
}

void WsServerState::stop() {
  if (stopped) return;
  stopped = true;
  error_code ignored;
  acceptor.close(ignored);
  retry.cancel();
  if (all.empty()) ticker.cancel();
  std::vector<std::shared_ptr<WsSessionBase>> live;
  for (auto& [p, weak] : all)
    if (auto s = weak.lock()) live.push_back(std::move(s));
  for (auto& s : live) s->stop();
}

}  // namespace detail

struct WsServer::Impl {
  std::shared_ptr<WsState> st;
};

WsServer::WsServer(asio::io_context& io, const std::string& listen_url, WsServerOptions options, OnOpen on_open,
                   OnMessage on_message, OnClose on_close, std::shared_ptr<ssl::context> tls, HttpHandler on_http) {
  auto url = parse_ws_url(listen_url, "WebSocket listen");
  if (url.tls && !tls) throw std::runtime_error("WebSocket listener '" + listen_url + "' needs a TLS certificate and key");
  std::string host = url.host == "localhost" ? "127.0.0.1" : url.host;
  error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("bad WebSocket listen URL '" + listen_url + "': the host must be an IP address or 'localhost'");
  if (options.max_message_bytes == 0) throw std::runtime_error("WebSocket max_message_bytes must be positive");

  impl_ = std::make_unique<Impl>();
  impl_->st = std::make_shared<WsState>(io, std::move(options), url.tls ? std::move(tls) : nullptr);
  auto& st = *impl_->st;
  for (const auto& o : st.options.allowed_origins) {
    std::string l = detail::lower(o);
    while (l.ends_with('/')) l.pop_back();
    st.origins.push_back(std::move(l));
  }
  st.on_open = std::move(on_open);
  st.on_message = std::move(on_message);
  st.on_close = std::move(on_close);
  st.on_http = std::move(on_http);
  st.url = listen_url;
  tcp::endpoint ep(addr, url.port);
  st.acceptor.open(ep.protocol(), ec);
  if (!ec) st.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st.acceptor.bind(ep, ec);
  if (!ec) st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + listen_url + ": " + ec.message());
  // A quarter of the shortest deadline the ticker keeps: pings go out 0-25 % late.
  auto shortest = st.options.ping_interval.count() > 0 ? std::min(st.options.ping_interval, st.options.handshake_timeout)
                                                        : st.options.handshake_timeout;
  st.tick_period = std::max(std::chrono::milliseconds(100),
                            std::chrono::duration_cast<std::chrono::milliseconds>(shortest) / 4);
  st.accept();
  st.arm_ticker();
  LOG_INFO("ws") << "listening on " << (url.tls ? "wss://" : "ws://") << local_endpoint().to_string();
}

// Destroying reports nothing more (the owner is going away); stop() first to get on_close calls.
WsServer::~WsServer() {
  if (!impl_ || !impl_->st) return;
  impl_->st->on_open = nullptr;
  impl_->st->on_message = nullptr;
  impl_->st->on_close = nullptr;
  impl_->st->on_http = nullptr;
  impl_->st->stop();
}

bool WsServer::send(uint64_t connection, std::string text) {
  auto it = impl_->st->open.find(connection);
  if (it == impl_->st->open.end()) return false;
  auto s = it->second.lock();
  return s && s->send(std::move(text));
}

void WsServer::close(uint64_t connection, uint16_t code, std::string_view reason) {
  auto it = impl_->st->open.find(connection);
  if (it == impl_->st->open.end()) return;
  if (auto s = it->second.lock()) s->close(code, reason);
}

base::Endpoint WsServer::local_endpoint() const {
  error_code ec;
  auto ep = impl_->st->acceptor.local_endpoint(ec);
  return ec ? base::Endpoint{} : to_endpoint(ep);
}

size_t WsServer::connection_count() const { return impl_->st->open.size(); }

// Every open connection is reported to on_close with 1001 right here, then closed gracefully.
void WsServer::stop() { impl_->st->stop(); }

// ---- client ------------------------------------------------------------------------------------------

namespace {

// Shuts a socket down when the synchronous connect/handshake overruns its deadline. ::shutdown on
// the descriptor is the only thing it does from its thread (no Asio object is touched there), and
// the descriptor is swapped only under the lock, so it can never hit a reused descriptor number.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::steady_clock::duration timeout)
      : thread_([this, deadline = std::chrono::steady_clock::now() + timeout] {
          std::unique_lock lk(mu_);
          if (!cv_.wait_until(lk, deadline, [this] { return done_; })) {
            fired_ = true;
            if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
          }
        }) {}
  ~Watchdog() { disarm(); }
  // Runs `fn` (which may close the watched socket) and watches `fd` afterwards.
  template <class F>
  void with_lock(F&& fn) {
    std::lock_guard lk(mu_);
    fn();
  }
  void watch(int fd) { fd_ = fd; }  // call inside with_lock
  bool fired() {
    std::lock_guard lk(mu_);
    return fired_;
  }
  void disarm() {
    {
      std::lock_guard lk(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;
  bool done_ = false, fired_ = false;
  std::thread thread_;
};

class WsClientBase {
 public:
  virtual ~WsClientBase() = default;
  virtual void start() = 0;
  virtual void send(std::string text) = 0;
  virtual void close(uint16_t code) = 0;
  virtual void abort() = 0;
};

template <class Stream>
class ClientSession final : public WsClientBase, public std::enable_shared_from_this<ClientSession<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  explicit ClientSession(Args&&... args) : ws_(std::forward<Args>(args)...) {}

  websocket::stream<Stream>& ws() { return ws_; }

  WsClient::OnMessage on_message;
  WsClient::OnClose on_close;
  std::chrono::seconds timeout{10};

  void start() override {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = timeout;  // for the closing handshake
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    do_read();
  }

  void send(std::string text) override {
    if (done_ || close_pending_) return;
    queue_.push_back(std::move(text));
    if (!writing_) write_next();
  }

  void close(uint16_t code) override {
    if (done_ || close_pending_) return;
    close_pending_ = code;
    if (!writing_) start_close();
  }

  void abort() override {
    on_message = nullptr;
    on_close = nullptr;
    done_ = true;
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void do_read() {
    ws_.async_read(buf_, [self = this->shared_from_this()](const error_code& ec, size_t) { self->on_read(ec); });
  }

  void on_read(const error_code& ec) {
    if (ec) {
      // A close we started reads the peer's answer itself; the read then ends aborted and the
      // close's completion reports.
      if (close_started_ && ec != websocket::error::closed) return;
      return report(close_code_for(ec, ws_.reason()), ec);
    }
    std::string text = beast::buffers_to_string(buf_.data());
    buf_.clear();
    auto self = this->shared_from_this();
    if (!done_ && on_message) on_message(std::move(text));
    do_read();
  }

  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      if (close_pending_) start_close();
      return;
    }
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()), [self = this->shared_from_this()](const error_code& ec, size_t) {
      self->queue_.pop_front();
      if (ec) {
        self->writing_ = false;
        self->queue_.clear();
        return;
      }
      self->write_next();
    });
  }

  void start_close() {
    close_started_ = true;
    ws_.async_close(websocket::close_reason(*close_pending_), [self = this->shared_from_this()](const error_code& ec) {
      if (ec) return self->report(kAbnormal, ec);
      auto peer = self->ws_.reason().code;
      self->report(peer ? uint16_t(peer) : *self->close_pending_, websocket::error::closed);
    });
  }

  void report(uint16_t code, const error_code& ec) {
    if (done_) return;
    done_ = true;
    std::string reason = ec == websocket::error::closed
                             ? std::string(ws_.reason().reason.data(), ws_.reason().reason.size())
                             : ec.message();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    on_message = nullptr;
    if (auto cb = std::move(on_close)) cb(code, std::move(reason));
  }

  websocket::stream<Stream> ws_;
  beast::flat_buffer buf_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool done_ = false;
  bool close_started_ = false;
  std::optional<uint16_t> close_pending_;
};

}  // namespace

struct WsClient::Impl {
  std::shared_ptr<ssl::context> tls;  // outlives the stream that uses it
  std::shared_ptr<WsClientBase> session;
  base::Endpoint local;
};

namespace {

// Connects `ws` (any websocket::stream over tcp_stream or ssl_stream<tcp_stream>) synchronously:
// TCP, TLS with SNI and name verification, then the RFC 6455 §4.1 opening handshake. Throws.
template <class Session>
base::Endpoint connect_client(Session& s, asio::io_context& io, const WsUrl& u, const std::string& url,
                              const std::string& origin, std::chrono::seconds timeout) {
  auto& ws = s.ws();
  auto& sock = beast::get_lowest_layer(ws).socket();
  error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(u.host, std::to_string(u.port), ec);
  if (ec) throw std::runtime_error("cannot resolve '" + u.host + "' for " + url + ": " + ec.message());

  Watchdog dog(timeout);
  auto timed_out = [&] {
    return std::runtime_error("WebSocket connection to " + url + " timed out after " +
                              std::to_string(timeout.count()) + " s");
  };
  error_code cec = asio::error::host_not_found;
  for (const auto& r : results) {
    dog.with_lock([&] {
      error_code ignored;
      sock.close(ignored);
      sock.open(r.endpoint().protocol(), cec);
      dog.watch(cec ? -1 : sock.native_handle());
    });
    if (cec) continue;
    sock.connect(r.endpoint(), cec);
    if (!cec || dog.fired()) break;
  }
  if (dog.fired()) throw timed_out();
  if (cec) throw std::runtime_error("cannot connect to " + url + ": " + cec.message());
  sock.set_option(tcp::no_delay(true), ec);
  ws.text(true);
  auto local = to_endpoint(sock.local_endpoint(ec));

  if constexpr (Session::kTls) {
    set_tls_peer_name(ws.next_layer().native_handle(), u.host);
    ws.next_layer().handshake(ssl::stream_base::client, ec);
    if (dog.fired()) throw timed_out();
    if (ec) throw std::runtime_error("TLS handshake with " + url + " failed: " + ec.message());
  }

  ws.set_option(websocket::stream_base::decorator([origin](websocket::request_type& req) {
    req.set(http::field::origin, origin);
    req.set(http::field::sec_websocket_protocol, "sip");
    req.set(http::field::user_agent, "webims");
  }));
  websocket::response_type res;
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (!((u.tls && u.port == 443) || (!u.tls && u.port == 80))) host += ":" + std::to_string(u.port);
  ws.handshake(res, host, u.target, ec);
  if (dog.fired()) throw timed_out();
  if (ec == websocket::error::upgrade_declined)
    throw std::runtime_error("WebSocket handshake with " + url + " refused: HTTP " + std::to_string(res.result_int()));
  if (ec) throw std::runtime_error("WebSocket handshake with " + url + " failed: " + ec.message());
  auto proto = res.find(http::field::sec_websocket_protocol);
  if (proto == res.end() || proto->value() != "sip")
    throw std::runtime_error("WebSocket handshake with " + url + ": the server did not select subprotocol 'sip'");
  dog.disarm();
  if (dog.fired()) throw timed_out();
  return local;
}

}  // namespace

WsClient::WsClient(asio::io_context& io, const std::string& url, const std::string& origin,
                   std::shared_ptr<ssl::context> tls, OnMessage on_message, OnClose on_close,
                   std::chrono::seconds timeout)
    : impl_(std::make_unique<Impl>()) {
  auto u = parse_ws_url(url, "WebSocket");
  auto setup = [&](auto session) {
    session->on_message = std::move(on_message);
    session->on_close = std::move(on_close);
    session->timeout = timeout;
    impl_->local = connect_client(*session, io, u, url, origin, timeout);
    impl_->session = session;
    // Nothing else touches the stream yet, so the first read may start from this thread; its
    // completion, and everything after, runs on the io_context's thread.
    session->start();
  };
  if (u.tls) {
    if (!tls) tls = make_client_tls_context("", true);
    impl_->tls = tls;
    setup(std::make_shared<ClientSession<beast::ssl_stream<beast::tcp_stream>>>(io, *tls));
  } else {
    setup(std::make_shared<ClientSession<beast::tcp_stream>>(io));
  }
}

WsClient::~WsClient() {
  if (impl_ && impl_->session) impl_->session->abort();
}

void WsClient::send(std::string text) { impl_->session->send(std::move(text)); }

void WsClient::close(uint16_t code) { impl_->session->close(code); }

base::Endpoint WsClient::local_endpoint() const { return impl_->local; }

}  // namespace net
