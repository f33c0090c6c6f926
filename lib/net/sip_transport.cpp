// SIP transports (RFC 3261 §18) on Asio/Beast: UDP listeners (one datagram = one message, §18.3),
// TCP and TLS listeners and outgoing connections framed by sip::StreamFramer, CRLF keep-alive pings
// answered with CRLF (RFC 5626 §4.4.1), idle timeout, connection cap, connection reuse (§18.1.1,
// RFC 5923 style: any open connection to the same remote and transport).
//
// Bad input never reaches the owner: a message that does not parse, or fails the mandatory-header
// checks, is answered with 400 (505 for another SIP version, 513 when too large) carrying a
// Warning 399 with the reason when the request line and Via/From/To/Call-ID/CSeq can still be
// recovered (sip::salvage_response), else dropped; one log line either way. A framing error on
// a stream also closes the connection, after the answer is written.
//
// Via `received`/`rport` (RFC 3261 §18.2.1, RFC 3581) are the proxy's to add: this layer reports
// the real remote endpoint in SipPeer and never edits messages.
//
// In-process links: two layers of one process on one io_context that both set
// SipTransportOptions::in_process (`webims all`: the eP-CSCF and the core) do not talk over a
// loopback socket. A TCP/TLS message from one to a listener of the other is copied (raw bytes are
// parsed) and handed over by a post() to the io_context, where the receiver treats it as if it had
// arrived on a connection (same 400/513 answers, same OnMessage; the common header checks of a
// message our own proxy made are only repeated in debug builds); the link has a connection id
// like a connection, so replies and requests back go the same way, and closing either layer
// reports OnClosed for it on both sides. It saves the system calls, the kernel's TCP work and the
// stream framing on both ends, which were about a quarter of each process's CPU per message.
//
// Connections are shared_ptrs kept alive by their pending operations; the state they share with
// the layer outlives it for completions still queued (same scheme as http_server.cpp).
#include "net/host_port.hpp"
#include "net/sip_transport.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <variant>

#include "base/log.hpp"
#include "net/tls.hpp"
#include "sip/salvage.hpp"
#include "sip/stream_framer.hpp"
#include "sip/validate.hpp"

namespace net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;

std::string_view to_string(SipTransport t) {
  switch (t) {
    case SipTransport::Udp: return "UDP";
    case SipTransport::Tcp: return "TCP";
    case SipTransport::Tls: return "TLS";
  }
  return "?";
}

namespace {

// Process-wide, so an id names one connection for the life of the process.
std::atomic<uint64_t> g_next_connection_id{1};

std::string_view scheme(SipTransport t) {
  switch (t) {
    case SipTransport::Udp: return "udp";
    case SipTransport::Tcp: return "tcp";
    case SipTransport::Tls: return "tls";
  }
  return "?";
}

base::Endpoint to_endpoint(const asio::ip::address& a, uint16_t port) {
  if (a.is_v4()) return {base::IpAddress::v4(a.to_v4().to_uint()), port};
  auto b = a.to_v6().to_bytes();
  // A dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d; report them as the IPv4 they are.
  return {base::IpAddress::v6(b.data()).unmapped(), port};
}
template <class Ep>
base::Endpoint to_endpoint(const Ep& ep) {
  return to_endpoint(ep.address(), ep.port());
}

asio::ip::address to_address(const base::IpAddress& a) {
  if (a.is_v4()) return asio::ip::address_v4(a.v4_host_order());
  asio::ip::address_v6::bytes_type b;
  std::copy(a.data(), a.data() + 16, b.begin());
  return asio::ip::address_v6(b);
}

struct ListenUrl {
  SipTransport transport;
  asio::ip::address address;
  uint16_t port;
};

ListenUrl parse_listen_url(const std::string& url) {
  auto bad = [&](const std::string& why) { return std::runtime_error("bad SIP listen URL '" + url + "': " + why); };
  ListenUrl out{};
  std::string_view rest(url);
  if (rest.starts_with("udp://")) out.transport = SipTransport::Udp;
  else if (rest.starts_with("tcp://")) out.transport = SipTransport::Tcp;
  else if (rest.starts_with("tls://")) out.transport = SipTransport::Tls;
  else throw bad("expected udp://, tcp:// or tls:// followed by HOST:PORT");
  rest.remove_prefix(6);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  std::string_view host, port;
  if (auto why = detail::split_host_port(rest, host, port, "udp://[::1]:5060")) throw bad(*why);
  unsigned p = out.transport == SipTransport::Tls ? 5061 : 5060;  // RFC 3261 §19.1.2
  if (!port.empty() || rest.ends_with(':')) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p > 65535)
      throw bad("the port must be a number from 0 to 65535");
  }
  std::string h(host == "localhost" ? "127.0.0.1" : host);
  error_code ec;
  out.address = asio::ip::make_address(h, ec);
  if (ec) throw bad("the host must be an IP address or 'localhost'");
  out.port = uint16_t(p);
  return out;
}

std::string url_of(SipTransport t, const base::Endpoint& ep) { return std::string(scheme(t)) + "://" + ep.to_string(); }

// warn-agent (RFC 3261 §20.43): our hostport, or a pseudonym when bound to the wildcard address.
std::string warn_agent(const base::Endpoint& local) {
  static const base::IpAddress any4, any6 = *base::IpAddress::parse("::");
  if (local.addr == any4 || local.addr == any6) return "webims";
  return local.to_string();
}

int status_for(const sip::Failure& f) {
  if (f.code == sip::Error::BadVersion) return 505;  // RFC 3261 §21.5.6
  if (f.code == sip::Error::TooLarge) return 513;    // RFC 3261 §21.5.13
  return 400;
}

// The message checks every received message passes before the owner sees it. Max-Forwards may
// be missing (RFC 4475 §3.4.1: a proxy assumes 70); the proxy decrements it.
std::optional<sip::Failure> check(const sip::Message& m) {
  sip::CheckOptions o;
  o.require_max_forwards = false;
  auto r = m.is_request() ? sip::check_request(m, o) : sip::check_response(m);
  if (r) return std::nullopt;
  return r.error();
}

struct PeerKey {
  SipTransport transport;
  base::Endpoint remote;
  friend bool operator==(const PeerKey& a, const PeerKey& b) {
    return a.transport == b.transport && a.remote == b.remote;
  }
};
struct PeerKeyHash {
  size_t operator()(const PeerKey& k) const { return k.remote.hash() * 3 + size_t(k.transport); }
};

}  // namespace

// ---- shared state -------------------------------------------------------------------------------------

namespace detail {

class SipConnBase {
 public:
  virtual ~SipConnBase() = default;
  virtual bool send(std::string bytes) = 0;
  virtual void stop() = 0;  // SipTransportLayer::close()
  virtual const SipPeer& peer() const = 0;
};

struct UdpListener {
  explicit UdpListener(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  base::Endpoint local;
  udp::endpoint from;
  std::array<char, 65536> buf;
};

struct StreamListener {
  explicit StreamListener(asio::io_context& io) : acceptor(io), retry(io) {}
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // backs off after accept errors such as EMFILE instead of spinning
  SipTransport transport = SipTransport::Tcp;
  base::Endpoint local;
};

struct SipState : std::enable_shared_from_this<SipState> {
  SipState(asio::io_context& io, SipTransportOptions o) : io(io), options(o) {
    limits.max_message_size = options.max_message_bytes;
  }

  void receive(UdpListener& l);
  void on_datagram(UdpListener& l, size_t n);
  void accept(StreamListener& l);
  void on_accept(StreamListener& l, const error_code& ec, tcp::socket socket);
  bool send_udp(const SipPeer& to, std::string bytes);
  bool send_stream(const SipPeer& to, std::string bytes);
  std::shared_ptr<ssl::context> client_context();
  void deliver(const SipPeer& from, sip::Message msg, const std::function<void(std::string)>& reply);
  void close();

  // In-process links (see the top of the file).
  struct LinkEnd {
    uint64_t id = 0;
    std::weak_ptr<SipState> other;
    SipPeer peer;  // as this side sees it: remote = the other side's listener, connection = id
  };
  const LinkEnd* link_by_id(uint64_t id) const;
  const LinkEnd* link_for(const SipPeer& to);  // an existing or new link to a listener in-process
  const LinkEnd* link_to(const SipPeer& to);  // the link `to` names or reaches, if any
  using LinkPayload = std::variant<std::string, sip::Message>;  // raw bytes, or a parsed message
  bool send_link(const LinkEnd& link, LinkPayload payload);
  void receive_link(uint64_t id, LinkPayload payload);
  void link_gone(uint64_t id);
  std::optional<base::Endpoint> stream_listener(SipTransport t) const;
  bool listens_at(SipTransport t, const base::Endpoint& ep) const;
  // Per connection. A registration storm of 10,000 WICs queues about 9 MB toward the core at once.
  size_t max_queued_bytes() const { return std::max<size_t>(16 << 20, 16 * options.max_message_bytes); }

  asio::io_context& io;
  SipTransportOptions options;
  sip::Limits limits;
  SipTransportLayer::OnMessage on_message;
  SipTransportLayer::OnClosed on_closed;
  SipTransportLayer::OnUndelivered on_undelivered;
  std::shared_ptr<ssl::context> server_tls, client_tls;
  bool system_tls_tried = false;
  std::vector<std::string> urls;  // bound listeners in the order given
  std::vector<std::unique_ptr<UdpListener>> udp;
  std::vector<std::unique_ptr<StreamListener>> streams;
  std::unordered_map<uint64_t, std::weak_ptr<SipConnBase>> conns;
  std::unordered_map<PeerKey, uint64_t, PeerKeyHash> by_remote;  // the newest connection per peer
  std::vector<LinkEnd> links;                                      // in-process links, few
  bool closed = false;
};

// The layers of this process that accept in-process links. Each is used on its own io_context's
// thread only; the registry itself may be looked at from any of them.
struct LinkRegistry {
  std::mutex mu;
  std::vector<std::weak_ptr<SipState>> layers;
  static LinkRegistry& get() {
    static LinkRegistry r;
    return r;
  }
  void add(const std::shared_ptr<SipState>& s) {
    std::lock_guard lock(mu);
    layers.push_back(s);
  }
  void remove(const SipState* s) {
    std::lock_guard lock(mu);
    std::erase_if(layers, [s](const std::weak_ptr<SipState>& w) {
      auto p = w.lock();
      return !p || p.get() == s;
    });
  }
  // A layer on `io` (other than `self`) with a `t` listener at `ep`.
  std::shared_ptr<SipState> find(const SipState* self, asio::io_context& io, SipTransport t, const base::Endpoint& ep) {
    std::lock_guard lock(mu);
    for (auto& w : layers) {
      auto p = w.lock();
      if (p && p.get() != self && &p->io == &io && !p->closed && p->listens_at(t, ep)) return p;
    }
    return nullptr;
  }
};

}  // namespace detail

using State = detail::SipState;

namespace {

// A message that did not get through: answer it when a response can be formed, log one line.
// `reply` sends on the same transport and connection/address the bytes came from.
void refuse(const SipPeer& from, std::string_view raw, const sip::Failure& f,
            const std::function<void(std::string)>& reply) {
  int status = status_for(f);
  auto response = sip::salvage_response(raw, status, {}, warn_agent(from.local), f.reason);
  LOG_INFO("sip") << to_string(from.transport) << " " << from.remote.to_string()
                  << (from.connection ? " conn " + std::to_string(from.connection) : std::string())
                  << ": bad message (" << f.reason << "); " << (response ? "answered " + std::to_string(status) : "dropped");
  if (response && reply) reply(std::move(*response));
}

template <class Stream>
class Conn final : public detail::SipConnBase, public std::enable_shared_from_this<Conn<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Conn(std::shared_ptr<State> st, Stream stream, SipPeer peer)
      : st_(std::move(st)), stream_(std::move(stream)), peer_(peer), framer_(st_->limits) {
    peer_.connection = g_next_connection_id.fetch_add(1, std::memory_order_relaxed);
  }

  ~Conn() override { unregister(); }

  uint64_t id() const { return peer_.connection; }
  const SipPeer& peer() const override { return peer_; }

  // An accepted connection.
  void start_inbound() {
    register_self();
    if constexpr (kTls) {
      lowest().expires_after(st_->options.connect_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](const error_code& ec) {
        if (ec) {
          LOG_DEBUG("sip") << "TLS " << self->peer_.remote.to_string() << ": handshake failed: " << ec.message();
          return self->close_now();
        }
        self->established();
      });
    } else {
      established();
    }
  }

  // An outgoing connection; messages sent meanwhile wait in the queue.
  void start_outbound() {
    register_self();
    lowest().expires_after(st_->options.connect_timeout);
    lowest().async_connect(tcp::endpoint(to_address(peer_.remote.addr), peer_.remote.port),
                           [self = this->shared_from_this()](const error_code& ec) { self->on_connect(ec); });
  }

  bool send(std::string bytes) override {
    if (closed_ || closing_) return false;
    if (queued_bytes_ + bytes.size() > st_->max_queued_bytes()) {
      // This message is refused, the connection stays: closing it would lose every message queued
      // on it too (a whole burst of transactions toward the next hop). A peer that stopped reading
      // is closed by the write timeout instead.
      if (!overflowing_)
        LOG_WARN("sip") << to_string(peer_.transport) << " " << peer_.remote.to_string() << " conn " << id()
                        << ": send queue over " << st_->max_queued_bytes() << " bytes; refusing messages until it drains";
      overflowing_ = true;
      return false;
    }
    overflowing_ = false;
    queued_bytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (ready_ && !writing_) write_next();
    return true;
  }

  void stop() override {
    report();
    close_now();
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void register_self() {
    st_->conns[id()] = this->shared_from_this();
    st_->by_remote[PeerKey{peer_.transport, peer_.remote}] = id();
  }
  void unregister() {
    if (unregistered_) return;
    unregistered_ = true;
    st_->conns.erase(id());
    auto it = st_->by_remote.find(PeerKey{peer_.transport, peer_.remote});
    if (it != st_->by_remote.end() && it->second == id()) st_->by_remote.erase(it);
  }

  void on_connect(const error_code& ec) {
    if (closed_) return;
    if (ec) return connect_failed(ec.message());
    error_code lec;
    peer_.local = to_endpoint(lowest().socket().local_endpoint(lec));
    lowest().socket().set_option(tcp::no_delay(true), lec);
    if constexpr (kTls) {
      // SipPeer carries no host name: the certificate must cover the IP address (RFC 5922 §7.2 wants the
      // domain; a name-based target needs the owner to resolve and pass the address of a covered name).
      try {
        set_tls_peer_name(stream_.native_handle(), peer_.remote.addr.to_string());
      } catch (const std::exception& e) {
        return connect_failed(e.what());
      }
      stream_.async_handshake(ssl::stream_base::client, [self = this->shared_from_this()](const error_code& ec) {
        if (self->closed_) return;
        if (ec) return self->connect_failed("TLS handshake: " + ec.message());
        self->established();
      });
    } else {
      established();
    }
  }

  void connect_failed(const std::string& why) {
    LOG_INFO("sip") << to_string(peer_.transport) << " connection to " << peer_.remote.to_string() << " failed: " << why
                    << "; " << queue_.size() << " message(s) dropped";
    auto dropped = std::move(queue_);
    close_now();
    for (auto& m : dropped)
      if (st_->on_undelivered && !st_->closed) st_->on_undelivered(peer_, m);
  }

  void established() {
    if (closed_) return;
    ready_ = true;
    established_ = true;
    LOG_DEBUG("sip") << to_string(peer_.transport) << " conn " << id() << " " << peer_.local.to_string() << " <-> "
                     << peer_.remote.to_string();
    if (!queue_.empty() && !writing_) write_next();
    read();
  }

  void read() {
    if (closed_) return;
    lowest().expires_after(draining_ ? std::chrono::seconds(2) : st_->options.idle_timeout);
    stream_.async_read_some(asio::buffer(chunk_), [self = this->shared_from_this()](const error_code& ec, size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(const error_code& ec, size_t n) {
    if (closed_) return;
    if (ec) {
      if (ec == beast::error::timeout && !draining_)
        LOG_DEBUG("sip") << to_string(peer_.transport) << " conn " << id() << ": idle; closing";
      return close_now();
    }
    if (closing_) return read();  // after a framing error: discard until the peer closes
    in_.append(chunk_.data(), n);
    auto self = this->shared_from_this();  // the owner may close us from its callback
    size_t start = 0;
    while (!closed_ && !closing_) {
      auto r = framer_.feed(std::string_view(in_).substr(start));
      start += r.consumed;
      using E = sip::StreamFramer::Event;
      if (r.event == E::NeedMore) break;
      if (r.event == E::Message) {
        sip::Message m = framer_.take();
        st_->deliver(peer_, std::move(m), [this](std::string b) { send(std::move(b)); });
      } else if (r.event == E::Ping) {
        send("\r\n");  // RFC 5626 §4.4.1 pong
      } else if (r.event == E::Error) {
        const sip::Failure& f = framer_.failure();
        refuse(peer_, std::string_view(in_).substr(start), f, [this](std::string b) { send(std::move(b)); });
        close_after_write();
        break;
      }
    }
    in_.erase(0, start);
    read();
  }

  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      if (closing_) finish();
      return;
    }
    writing_ = true;
    lowest().expires_after(closing_ ? std::chrono::seconds(2) : st_->options.idle_timeout);
    // Everything queued goes out in one gathered write: under load many transactions share the
    // connection to the next hop, and one system call for all of them is most of the saving.
    gather_.clear();
    size_t bytes = 0;
    for (auto& m : queue_) {
      if (gather_.size() == kMaxGather || (bytes > 0 && bytes + m.size() > kMaxGatherBytes)) break;
      gather_.push_back(asio::buffer(m));
      bytes += m.size();
    }
    asio::async_write(stream_, gather_, [self = this->shared_from_this(), n = gather_.size()](const error_code& ec, size_t) {
      if (self->closed_) return;
      for (size_t i = 0; i < n; ++i) {
        self->queued_bytes_ -= self->queue_.front().size();
        self->queue_.pop_front();
      }
      if (ec) return self->close_now();
      self->write_next();
    });
  }
  bool overflowing_ = false;
  static constexpr size_t kMaxGather = 64;
  static constexpr size_t kMaxGatherBytes = 256 * 1024;
  std::vector<asio::const_buffer> gather_;

  // After a framing error: nothing more is read as SIP; the answer is written, then the stream ends.
  void close_after_write() {
    closing_ = true;
    if (!writing_) finish();
  }

  // Half-close and drain briefly (the read still pending discards) so the peer gets what we wrote
  // instead of a RST. Over TLS too: a close_notify would need a write beside the pending read.
  void finish() {
    draining_ = true;
    lowest().expires_after(std::chrono::seconds(2));
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void report() {
    if (reported_ || !established_) return;
    reported_ = true;
    if (st_->on_closed && !st_->closed) st_->on_closed(peer_);
  }

  void close_now() {
    if (closed_) return;
    closed_ = true;
    unregister();
    error_code ignored;
    lowest().socket().close(ignored);
    queue_.clear();
    queued_bytes_ = 0;
    auto self = this->shared_from_this();
    report();
  }

  std::shared_ptr<State> st_;
  Stream stream_;
  SipPeer peer_;
  sip::StreamFramer framer_;
  std::array<char, 16384> chunk_;
  std::string in_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool ready_ = false, established_ = false, writing_ = false;
  bool closing_ = false, draining_ = false, closed_ = false, reported_ = false, unregistered_ = false;
};

using TcpConn = Conn<beast::tcp_stream>;
using TlsConn = Conn<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace

namespace detail {

void SipState::deliver(const SipPeer& from, sip::Message msg, const std::function<void(std::string)>& reply) {
  if (auto f = check(msg)) {
    // A response is never answered (RFC 3261 §18.1.2 discards it); a request gets its 400.
    std::string raw = msg.to_string();
    refuse(from, msg.is_request() ? std::string_view(raw) : std::string_view(), *f, reply);
    return;
  }
  if (on_message && !closed) on_message(from, std::move(msg));
}

void SipState::receive(UdpListener& l) {
  l.socket.async_receive_from(asio::buffer(l.buf), l.from,
                              [self = shared_from_this(), &l](const error_code& ec, size_t n) {
                                if (self->closed || ec == asio::error::operation_aborted) return;
                                if (ec) {
                                  // ICMP errors from earlier sends surface here; the socket is fine.
                                  LOG_DEBUG("sip") << "UDP " << l.local.to_string() << ": receive: " << ec.message();
                                } else {
                                  self->on_datagram(l, n);
                                }
                                if (!self->closed) self->receive(l);
                              });
}

void SipState::on_datagram(UdpListener& l, size_t n) {
  std::string_view data(l.buf.data(), n);
  SipPeer from{SipTransport::Udp, to_endpoint(l.from), l.local, 0};
  // Keep-alives: CRLF (RFC 5626 §3.5.1 is CRLF on streams, but some send it over UDP too) and
  // STUN (§4.4.2, first two bits zero) are not SIP; not answered here.
  if (data.find_first_not_of("\r\n") == std::string_view::npos) return;
  if ((uint8_t(data[0]) & 0xC0) == 0) {
    LOG_DEBUG("sip") << "UDP " << from.remote.to_string() << ": non-SIP datagram of " << n << " bytes dropped";
    return;
  }
  udp::endpoint back = l.from;
  auto reply = [&l, back](std::string b) {
    error_code ec;
    l.socket.send_to(asio::buffer(b), back, 0, ec);
    if (ec) LOG_DEBUG("sip") << "UDP send to " << to_endpoint(back).to_string() << ": " << ec.message();
  };
  auto m = sip::parse_message(data, limits);
  if (!m) return refuse(from, data, m.error(), reply);
  deliver(from, std::move(m).value(), reply);
}

void SipState::accept(StreamListener& l) {
  l.acceptor.async_accept([self = shared_from_this(), &l](const error_code& ec, tcp::socket socket) {
    self->on_accept(l, ec, std::move(socket));
  });
}

void SipState::on_accept(StreamListener& l, const error_code& ec, tcp::socket socket) {
  if (closed || ec == asio::error::operation_aborted) return;
  if (ec) {
    LOG_WARN("sip") << url_of(l.transport, l.local) << ": accept failed: " << ec.message();
    l.retry.expires_after(std::chrono::milliseconds(100));
    l.retry.async_wait([self = shared_from_this(), &l](const error_code& ec) {
      if (!ec && !self->closed) self->accept(l);
    });
    return;
  }
  error_code rec, lec;
  auto remote = socket.remote_endpoint(rec);
  auto local = socket.local_endpoint(lec);
  if (rec || lec) return accept(l);  // the peer already left
  if (conns.size() >= options.max_connections) {
    LOG_INFO("sip") << url_of(l.transport, l.local) << ": connection limit " << options.max_connections
                    << " reached; refusing " << to_endpoint(remote).to_string();
    socket.close(rec);
    return accept(l);
  }
  socket.set_option(tcp::no_delay(true), rec);
  SipPeer peer{l.transport, to_endpoint(remote), to_endpoint(local), 0};
  auto self = shared_from_this();
  if (l.transport == SipTransport::Tls) {
    std::make_shared<TlsConn>(self, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *server_tls),
                              peer)
        ->start_inbound();
  } else {
    std::make_shared<TcpConn>(self, beast::tcp_stream(std::move(socket)), peer)->start_inbound();
  }
  accept(l);
}

bool SipState::send_udp(const SipPeer& to, std::string bytes) {
  UdpListener* via = nullptr;
  bool map_v4 = false;
  for (auto& l : udp) {
    if (l->local.addr.family() == to.remote.addr.family()) {
      via = l.get();
      break;
    }
  }
  if (!via && to.remote.addr.is_v4()) {
    // A dual-stack [::] listener reaches IPv4 peers as ::ffff:a.b.c.d.
    for (auto& l : udp) {
      error_code ec;
      asio::ip::v6_only v6only;
      l->socket.get_option(v6only, ec);
      if (!ec && !v6only.value() && l->local.addr == *base::IpAddress::parse("::")) {
        via = l.get();
        map_v4 = true;
        break;
      }
    }
  }
  if (!via) {
    LOG_INFO("sip") << "UDP to " << to.remote.to_string() << ": no UDP listener of that address family; dropped";
    return false;
  }
  auto addr = to_address(to.remote.addr);
  if (map_v4) addr = asio::ip::make_address_v6(asio::ip::v4_mapped, addr.to_v4());
  udp::endpoint dest(addr, to.remote.port);
  error_code ec;
  via->socket.send_to(asio::buffer(bytes), dest, 0, ec);
  if (ec == asio::error::would_block) {
    auto owned = std::make_shared<std::string>(std::move(bytes));
    via->socket.async_send_to(asio::buffer(*owned), dest, [owned](const error_code&, size_t) {});
    return true;
  }
  if (ec) {
    LOG_INFO("sip") << "UDP to " << to.remote.to_string() << ": " << ec.message() << "; dropped";
    return false;
  }
  return true;
}

std::shared_ptr<ssl::context> SipState::client_context() {
  if (client_tls || system_tls_tried) return client_tls;
  system_tls_tried = true;
  try {
    client_tls = make_client_tls_context("", true);
  } catch (const std::exception& e) {
    LOG_ERROR("sip") << "no TLS client context: " << e.what();
  }
  return client_tls;
}

bool SipState::send_stream(const SipPeer& to, std::string bytes) {
  if (const LinkEnd* l = link_to(to)) return send_link(*l, std::move(bytes));
  if (to.connection) {
    auto it = conns.find(to.connection);
    auto c = it == conns.end() ? nullptr : it->second.lock();
    if (!c) {
      LOG_INFO("sip") << to_string(to.transport) << " conn " << to.connection << " to " << to.remote.to_string()
                      << " is gone; message dropped";
      return false;
    }
    return c->send(std::move(bytes));
  }
  auto it = by_remote.find(PeerKey{to.transport, to.remote});
  if (it != by_remote.end()) {
    auto c = conns.count(it->second) ? conns[it->second].lock() : nullptr;
    if (c) return c->send(std::move(bytes));
  }
  if (closed) return false;
  if (conns.size() >= options.max_connections) {
    LOG_INFO("sip") << "connection limit " << options.max_connections << " reached; message to "
                    << to.remote.to_string() << " dropped";
    return false;
  }
  SipPeer peer{to.transport, to.remote, {}, 0};
  auto self = shared_from_this();
  if (to.transport == SipTransport::Tls) {
    auto ctx = client_context();
    if (!ctx) return false;
    auto c = std::make_shared<TlsConn>(self, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(io), *ctx), peer);
    c->send(std::move(bytes));
    c->start_outbound();
  } else {
    auto c = std::make_shared<TcpConn>(self, beast::tcp_stream(io), peer);
    c->send(std::move(bytes));
    c->start_outbound();
  }
  return true;
}

std::optional<base::Endpoint> SipState::stream_listener(SipTransport t) const {
  for (auto& l : streams)
    if (l->transport == t) return l->local;
  return std::nullopt;
}

bool SipState::listens_at(SipTransport t, const base::Endpoint& ep) const {
  static const base::IpAddress any4, any6 = *base::IpAddress::parse("::");
  for (auto& l : streams) {
    if (l->transport != t || l->local.port != ep.port) continue;
    if (l->local.addr == ep.addr) return true;
    // A wildcard listener holds the port on every address; loopback is certainly one of ours.
    auto a = ep.addr.unmapped();
    bool loopback = a.is_v4() ? a.data()[0] == 127 : a == *base::IpAddress::parse("::1");
    if (loopback && (l->local.addr == any6 || (l->local.addr == any4 && a.is_v4())))
      return true;
  }
  return false;
}

const SipState::LinkEnd* SipState::link_by_id(uint64_t id) const {
  for (auto& l : links)
    if (l.id == id) return &l;
  return nullptr;
}

const SipState::LinkEnd* SipState::link_for(const SipPeer& to) {
  for (auto& l : links)
    if (l.peer.transport == to.transport && l.peer.remote == to.remote) return &l;
  if (closed) return nullptr;
  auto other = LinkRegistry::get().find(this, io, to.transport, to.remote);
  if (!other) return nullptr;
  uint64_t id = g_next_connection_id.fetch_add(1, std::memory_order_relaxed);
  // What each side sees as the other's address: its listener of that transport (where a socket
  // connection's far end would be, but with the listening port), else its first stream listener.
  auto ours = stream_listener(to.transport);
  if (!ours && !streams.empty()) ours = streams.front()->local;
  base::Endpoint theirs = *other->stream_listener(to.transport);
  other->links.push_back({id, weak_from_this(), SipPeer{to.transport, ours.value_or(base::Endpoint{}), theirs, id}});
  links.push_back({id, other, SipPeer{to.transport, to.remote, ours.value_or(base::Endpoint{}), id}});
  LOG_INFO("sip") << to_string(to.transport) << " " << to.remote.to_string()
                  << " is a listener of this process: messages handed over in memory (conn " << id << ")";
  return &links.back();
}

const SipState::LinkEnd* SipState::link_to(const SipPeer& to) {
  if (!options.in_process || to.transport == SipTransport::Udp) return nullptr;
  return to.connection ? link_by_id(to.connection) : link_for(to);
}

// A parsed message crosses as a copy: the receiver checks it as it would the same bytes from a
// socket, without the serialization and the parse in between. Raw bytes (send_raw) are parsed.
bool SipState::send_link(const LinkEnd& link, LinkPayload payload) {
  if (closed) return false;
  auto other = link.other.lock();
  if (!other || other->closed) return false;
  asio::post(io, [other, id = link.id, p = std::move(payload)]() mutable { other->receive_link(id, std::move(p)); });
  return true;
}

void SipState::receive_link(uint64_t id, LinkPayload payload) {
  const LinkEnd* l = link_by_id(id);
  if (closed || !l) return;
  SipPeer from = l->peer;
  auto reply = [self = shared_from_this(), id](std::string b) {
    if (auto* back = self->link_by_id(id)) self->send_link(*back, std::move(b));
  };
  if (auto* bytes = std::get_if<std::string>(&payload)) {
    if (bytes->find_first_not_of("\r\n") == std::string::npos) return;  // a keep-alive, nothing to answer in memory
    auto m = sip::parse_message(std::string_view(*bytes), limits);
    if (!m) return refuse(from, *bytes, m.error(), reply);
    return deliver(from, std::move(*m), reply);
  }
  auto& msg = std::get<sip::Message>(payload);
  if (msg.serialized_size() > limits.max_message_size) {  // what the framer would have refused
    auto too_large = sip::make_failure(sip::Error::TooLarge, "over " + std::to_string(limits.max_message_size) + " bytes");
    std::string raw = msg.to_string();
    return refuse(from, msg.is_request() ? std::string_view(raw) : std::string_view(), too_large, reply);
  }
  // The other side is our own proxy: it made this message from one that passed these checks, with
  // edits the Message API validates. Re-parsing Via/From/To/Call-ID/CSeq here was two thirds of the
  // checks of a registration in one process, so release builds trust it; debug builds (the sanitizer
  // CI runs every test on one) still check and stop loudly on a message a socket would have refused.
#ifndef NDEBUG
  if (auto f = check(msg)) {
    LOG_ERROR("sip") << "in-process link " << id << ": our own message fails the checks (" << f->reason << "):\n"
                     << msg.to_string();
    std::abort();
  }
#endif
  msg.set_common_checked();
  deliver(from, std::move(msg), reply);
}

void SipState::link_gone(uint64_t id) {
  auto it = std::find_if(links.begin(), links.end(), [id](const LinkEnd& l) { return l.id == id; });
  if (it == links.end()) return;
  SipPeer peer = it->peer;
  links.erase(it);
  if (on_closed && !closed) on_closed(peer);
}

void SipState::close() {
  if (closed) return;
  std::vector<std::shared_ptr<SipConnBase>> live;
  for (auto& [id, weak] : conns)
    if (auto c = weak.lock()) live.push_back(std::move(c));
  for (auto& c : live) c->stop();  // reports OnClosed while the owner still listens
  // In-process links end as connections do: reported here now, to the other side when it runs.
  auto ended = std::move(links);
  links.clear();
  for (auto& l : ended) {
    if (on_closed) on_closed(l.peer);
    if (auto other = l.other.lock())
      asio::post(io, [other, id = l.id] { other->link_gone(id); });
  }
  if (options.in_process) LinkRegistry::get().remove(this);
  closed = true;
  error_code ignored;
  for (auto& l : udp) l->socket.close(ignored);
  for (auto& l : streams) {
    l->acceptor.close(ignored);
    l->retry.cancel();
  }
}

}  // namespace detail

struct SipTransportLayer::Impl {
  std::shared_ptr<State> st;
};

SipTransportLayer::SipTransportLayer(asio::io_context& io, const std::vector<std::string>& listen, OnMessage on_message,
                                     OnClosed on_closed, std::shared_ptr<ssl::context> server_tls,
                                     std::shared_ptr<ssl::context> client_tls, SipTransportOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (options.max_message_bytes == 0) throw std::runtime_error("SIP max_message_bytes must be positive");
  auto st = std::make_shared<State>(io, options);
  st->on_message = std::move(on_message);
  st->on_closed = std::move(on_closed);
  st->server_tls = std::move(server_tls);
  st->client_tls = std::move(client_tls);
  for (const auto& url : listen) {
    auto u = parse_listen_url(url);
    error_code ec;
    if (u.transport == SipTransport::Udp) {
      auto l = std::make_unique<detail::UdpListener>(io);
      udp::endpoint ep(u.address, u.port);
      l->socket.open(ep.protocol(), ec);
      if (!ec) l->socket.bind(ep, ec);
      if (!ec) l->socket.non_blocking(true, ec);
      if (ec) throw std::runtime_error("cannot listen on " + url + ": " + ec.message());
      l->local = to_endpoint(l->socket.local_endpoint());
      st->urls.push_back(url_of(SipTransport::Udp, l->local));
      st->udp.push_back(std::move(l));
    } else {
      if (u.transport == SipTransport::Tls && !st->server_tls)
        throw std::runtime_error("SIP TLS listener '" + url + "' needs a TLS certificate and key");
      auto l = std::make_unique<detail::StreamListener>(io);
      l->transport = u.transport;
      tcp::endpoint ep(u.address, u.port);
      l->acceptor.open(ep.protocol(), ec);
      if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) l->acceptor.bind(ep, ec);
      if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) throw std::runtime_error("cannot listen on " + url + ": " + ec.message());
      l->local = to_endpoint(l->acceptor.local_endpoint());
      st->urls.push_back(url_of(l->transport, l->local));
      st->streams.push_back(std::move(l));
    }
  }
  for (auto& l : st->udp) st->receive(*l);
  for (auto& l : st->streams) st->accept(*l);
  if (st->options.in_process) detail::LinkRegistry::get().add(st);
  impl_->st = std::move(st);
  for (const auto& u : listeners()) LOG_INFO("sip") << "listening on " << u;
}

// Destroying reports nothing more (the owner is going away); close() first to get OnClosed calls.
SipTransportLayer::~SipTransportLayer() {
  if (!impl_ || !impl_->st) return;
  impl_->st->on_message = nullptr;
  impl_->st->on_closed = nullptr;
  impl_->st->on_undelivered = nullptr;
  impl_->st->close();
}

bool SipTransportLayer::send(const SipPeer& to, const sip::Message& msg) {
  auto& st = *impl_->st;
  if (!st.closed)
    if (const auto* link = st.link_to(to)) return st.send_link(*link, msg);
  return send_raw(to, msg.to_string());
}

bool SipTransportLayer::send_raw(const SipPeer& to, std::string bytes) {
  auto& st = *impl_->st;
  if (st.closed) return false;
  if (to.transport == SipTransport::Udp) return st.send_udp(to, std::move(bytes));
  return st.send_stream(to, std::move(bytes));
}

void SipTransportLayer::set_on_undelivered(OnUndelivered f) { impl_->st->on_undelivered = std::move(f); }

std::vector<std::string> SipTransportLayer::listeners() const { return impl_->st->urls; }

std::optional<base::Endpoint> SipTransportLayer::local_endpoint(SipTransport t) const {
  if (t == SipTransport::Udp) {
    if (!impl_->st->udp.empty()) return impl_->st->udp.front()->local;
    return std::nullopt;
  }
  for (auto& l : impl_->st->streams)
    if (l->transport == t) return l->local;
  return std::nullopt;
}

// Reports OnClosed for every open connection, then stops listening and closes them all.
void SipTransportLayer::close() { impl_->st->close(); }

}  // namespace net
