#include "turn/io/worker.hpp"

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "base/log.hpp"
#include "turn/io/stream_session.hpp"
#include "turn/io/udp.hpp"

namespace turn::io {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr const char* kLog = "turn";
constexpr uint64_t kListenerFlag = 1ull << 63;
constexpr int kMaxEvents = 128;
constexpr int kBatch = 32;             // datagrams per recvmmsg
constexpr int kDrainRounds = 2;        // recvmmsg calls per ready socket per round (fairness)
constexpr size_t kHeadroom = 64;       // room to frame ChannelData in place
constexpr size_t kSlotData = 8192;     // largest datagram relayed; larger ones are dropped
constexpr size_t kPendingMax = 64;     // datagrams to clients batched into one sendmmsg
constexpr size_t kControl = 64;

base::Endpoint to_endpoint(const tcp::endpoint& e) {
  auto a = e.address();
  if (a.is_v4()) return {base::IpAddress::v4(a.to_v4().to_uint()), e.port()};
  auto b = a.to_v6().to_bytes();
  return {base::IpAddress::v6(b.data()), e.port()};
}

tcp::endpoint to_tcp(const base::Endpoint& e) {
  sockaddr_storage ss;
  e.to_sockaddr(ss);
  tcp::endpoint out;
  std::memcpy(out.data(), &ss, e.addr.is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
  return out;
}

bool is_wildcard(const base::IpAddress& a) {
  static const uint8_t zero[16] = {};
  return std::memcmp(a.data(), zero, a.size()) == 0;
}

}  // namespace

// Datagrams received in one recvmmsg, with headroom so the logic can frame ChannelData in place.
struct Worker::RecvBatch {
  struct Slot {
    uint8_t buf[kHeadroom + kSlotData + 8];
    sockaddr_storage from;
    uint8_t control[kControl];
    iovec iov;
  };
  Slot slots[kBatch];
  mmsghdr msgs[kBatch];
  void prepare(bool want_control) {
    for (int i = 0; i < kBatch; ++i) {
      Slot& s = slots[i];
      s.iov = {s.buf + kHeadroom, kSlotData};
      msghdr& h = msgs[i].msg_hdr;
      h = {};
      h.msg_name = &s.from;
      h.msg_namelen = sizeof s.from;
      h.msg_iov = &s.iov;
      h.msg_iovlen = 1;
      h.msg_control = want_control ? s.control : nullptr;
      h.msg_controllen = want_control ? kControl : 0;
    }
  }
};

// Datagrams to clients waiting for the end of the round (one sendmmsg per listener socket).
struct Worker::Pending {
  struct Entry {
    uint32_t listener;
    sockaddr_storage to;
    uint8_t control[kControl];
    iovec iov;
    uint8_t data[kHeadroom + kSlotData + 8];
  };
  Entry entries[kPendingMax];
  mmsghdr msgs[kPendingMax];
  size_t count = 0;
};

Worker::Worker(Shared& shared, Reservations& reservations, int index, const std::vector<Listener>& listeners,
               std::vector<uint16_t>& ports, std::shared_ptr<asio::ssl::context> tls)
    : shared_(shared),
      reservations_(reservations),
      index_(index),
      logic_(shared, *this, random_),
      ep_desc_(io_),
      timer_(io_),
      tls_(std::move(tls)),
      pending_(std::make_unique<Pending>()),
      recv_(std::make_unique<RecvBatch>()) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  ep_desc_.assign(dup(epfd_));
  uint8_t r[4];
  random_.fill(r);
  port_cursor_ = base::load_be32(r);

  for (size_t i = 0; i < listeners.size(); ++i) {
    const Listener& l = listeners[i];
    base::Endpoint ep = l.endpoint;
    if (ports[i] != 0) ep.port = ports[i];
    if (l.transport == Listener::Transport::Udp) {
      std::string err;
      UdpOptions o;
      o.reuse_port = true;
      o.pktinfo = is_wildcard(ep.addr);
      o.buffer_bytes = shared.config.udp_buffer_bytes;
      int fd = open_udp(ep, o, err);
      if (fd < 0) throw std::runtime_error("cannot listen on " + l.url + ": " + err);
      UdpListener u{fd, local_endpoint(fd), o.pktinfo};
      ports[i] = u.bound.port;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLET;
      ev.data.u64 = kListenerFlag | udp_.size();
      epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
      udp_.push_back(u);
    } else {
      bool tls_listener = l.transport == Listener::Transport::Tls;
      if (tls_listener && !tls_) throw std::runtime_error("cannot listen on " + l.url + ": no TLS certificate");
      auto acc = std::make_unique<tcp::acceptor>(io_);
      boost::system::error_code ec;
      tcp::endpoint te = to_tcp(ep);
      acc->open(te.protocol(), ec);
      if (!ec && !ep.addr.is_v4()) acc->set_option(asio::ip::v6_only(true), ec);
      if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) {
        int one = 1;
        if (setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
          ec.assign(errno, boost::system::system_category());
      }
      if (!ec) acc->bind(te, ec);
      if (!ec) acc->listen(1024, ec);
      if (ec) throw std::runtime_error("cannot listen on " + l.url + ": " + ec.message());
      base::Endpoint bound = to_endpoint(acc->local_endpoint());
      ports[i] = bound.port;
      acceptors_.push_back({std::move(acc), bound, tls_listener});
    }
  }
}

Worker::~Worker() {
  for (auto& u : udp_)
    if (u.fd >= 0) ::close(u.fd);
  for (auto& r : relays_)
    if (r.fd >= 0) release_relay_fd(r.fd, r.bound);
  if (epfd_ >= 0) ::close(epfd_);
}

void Worker::run() {
  arm();
  for (size_t i = 0; i < acceptors_.size(); ++i) accept_next(i);
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
  io_.run();
}

void Worker::stop() {
  asio::post(io_, [this] {
    if (stopping_.exchange(true)) return;
    logic_.shutdown();
    flush();
    for (auto& a : acceptors_) a.acceptor->close();
    auto sessions = sessions_;
    for (auto& [id, s] : sessions) s->close();
    timer_.cancel();
    ep_desc_.cancel();
    io_.stop();
  });
}

// ---------------------------------------------------------------------------------------------
// UDP: listeners and relays share one epoll set; Asio wakes us when it is readable.

void Worker::arm() {
  ep_desc_.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (!ec && !stopping_) poll_round();
  });
}

void Worker::poll_round() {
  epoll_event ev[kMaxEvents];
  int n = epoll_wait(epfd_, ev, kMaxEvents, 0);
  base::Now now = base::Now::system();
  // Sockets left with data by the previous round's budget go first (edge-triggered: no new event
  // would come for data already queued).
  std::vector<uint64_t> again;
  again.swap(backlog_);
  for (uint64_t d : again) drain(d, now);
  for (int i = 0; i < n; ++i) drain(ev[i].data.u64, now);
  flush();
  if (!backlog_.empty() || n == kMaxEvents) asio::post(io_, [this] {
      if (!stopping_) poll_round();
    });
  else arm();
}

void Worker::drain(uint64_t d, const base::Now& now) {
  bool more = (d & kListenerFlag) ? drain_listener(uint32_t(d & 0xFFFFFFFF), now) : drain_relay(uint32_t(d & 0xFFFFFFFF), now);
  if (more) backlog_.push_back(d);
}

// True when the budget ran out with datagrams possibly left in the socket.
bool Worker::drain_listener(uint32_t index, const base::Now& now) {
  if (index >= udp_.size()) return false;
  const UdpListener l = udp_[index];
  for (int round = 0; round < kDrainRounds; ++round) {
    recv_->prepare(l.wildcard);
    int n = recvmmsg(l.fd, recv_->msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return false;
    for (int i = 0; i < n; ++i) {
      auto& s = recv_->slots[i];
      msghdr& h = recv_->msgs[i].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) {
        Stats::inc(io_stats_.recv_truncated);
        continue;
      }
      auto from = base::Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&s.from));
      if (!from) continue;
      ClientFlow flow;
      flow.tuple.transport = Transport::Udp;
      flow.tuple.client = *from;
      flow.tuple.server = l.bound;
      if (l.wildcard)
        if (auto dst = get_pktinfo(h)) flow.tuple.server.addr = *dst;
      flow.conn = index;
      logic_.on_client_packet(flow, base::Bytes(s.buf + kHeadroom, recv_->msgs[i].msg_len), now);
    }
    // Fewer than asked for: the queue was empty a moment ago, and anything newer raises a new edge.
    if (n < kBatch) return false;
  }
  return true;
}

bool Worker::drain_relay(uint32_t index, const base::Now& now) {
  if (index >= relays_.size()) return false;
  const int fd = relays_[index].fd;
  const uint64_t tag = relays_[index].tag;
  if (fd < 0) return false;
  for (int round = 0; round < kDrainRounds; ++round) {
    recv_->prepare(false);
    int n = recvmmsg(fd, recv_->msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return false;
    for (int i = 0; i < n; ++i) {
      auto& s = recv_->slots[i];
      if (recv_->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        Stats::inc(io_stats_.recv_truncated);
        continue;
      }
      auto from = base::Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&s.from));
      if (!from) continue;
      logic_.on_peer_packet(tag, *from, base::MutableBytes(s.buf, sizeof s.buf), kHeadroom, recv_->msgs[i].msg_len, now);
    }
    // The relay may have been closed by what we just handed to the logic.
    if (n < kBatch || relays_[index].fd != fd) return false;
  }
  return true;
}

void Worker::send_to_client(const ClientFlow& flow, base::Bytes msg) {
  if (flow.stream()) {
    auto it = sessions_.find(flow.conn);
    if (it != sessions_.end()) it->second->send(msg);
    return;
  }
  if (flow.conn >= udp_.size()) return;
  const UdpListener& l = udp_[flow.conn];
  if (msg.size() > kHeadroom + kSlotData) {
    // Too big for a batch slot (rare): send it on its own.
    sockaddr_storage to;
    socklen_t tl = flow.tuple.client.to_sockaddr(to);
    if (sendto(l.fd, msg.data(), msg.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), tl) < 0)
      Stats::inc(io_stats_.send_dropped);
    return;
  }
  if (pending_->count == kPendingMax) flush();
  size_t i = pending_->count++;
  auto& e = pending_->entries[i];
  e.listener = uint32_t(flow.conn);
  std::memcpy(e.data, msg.data(), msg.size());
  e.iov = {e.data, msg.size()};
  msghdr& h = pending_->msgs[i].msg_hdr;
  h = {};
  h.msg_name = &e.to;
  h.msg_namelen = flow.tuple.client.to_sockaddr(e.to);
  h.msg_iov = &e.iov;
  h.msg_iovlen = 1;
  if (l.wildcard) {
    // Answer from the address the client sent to, or its 5-tuple would not match.
    h.msg_control = e.control;
    h.msg_controllen = put_pktinfo(e.control, kControl, flow.tuple.server.addr);
  }
}

void Worker::flush() {
  size_t start = 0;
  while (start < pending_->count) {
    uint32_t l = pending_->entries[start].listener;
    size_t end = start;
    while (end < pending_->count && pending_->entries[end].listener == l) ++end;
    size_t off = start;
    while (off < end) {
      int n = sendmmsg(udp_[l].fd, pending_->msgs + off, unsigned(end - off), MSG_DONTWAIT);
      if (n <= 0) {
        // Socket buffer full or a bad destination: drop this one and go on with the rest.
        Stats::inc(io_stats_.send_dropped);
        ++off;
        continue;
      }
      off += size_t(n);
    }
    start = end;
  }
  pending_->count = 0;
}

void Worker::send_to_peer(uint64_t handle, const base::Endpoint& peer, base::Bytes payload) {
  uint32_t index = uint32_t(handle & 0xFFFFFFFF);
  if (index >= relays_.size() || relays_[index].generation != uint32_t(handle >> 32) || relays_[index].fd < 0) return;
  sockaddr_storage to;
  socklen_t tl = peer.to_sockaddr(to);
  if (sendto(relays_[index].fd, payload.data(), payload.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), tl) < 0)
    Stats::inc(io_stats_.send_dropped);
}

// ---------------------------------------------------------------------------------------------
// Relay sockets

int Worker::bind_relay(base::Family family, uint16_t port, bool dont_fragment, int& err) {
  const auto& cfg = shared_.config;
  std::string addr;
  if (family == base::Family::V4) {
    addr = !cfg.relay_bind.empty() ? cfg.relay_bind : shared_.relay_v4 ? shared_.relay_v4->to_string() : "";
  } else {
    addr = !cfg.relay_bind_v6.empty() ? cfg.relay_bind_v6 : shared_.relay_v6 ? shared_.relay_v6->to_string() : "";
  }
  auto ip = base::IpAddress::parse(addr);
  if (!ip) {
    err = EAFNOSUPPORT;
    return -1;
  }
  UdpOptions o;
  o.dont_fragment = dont_fragment;
  std::string msg;
  return open_udp({*ip, port}, o, msg, &err);
}

base::Result<Io::RelayOpened, int> Worker::open_relay(const RelayRequest& req) {
  RelayOpened out;
  int fd = -1;
  if (req.reservation_token) {
    auto held = reservations_.take(*req.reservation_token, std::chrono::steady_clock::now());
    if (!held) return base::fail(stun::code::InsufficientCapacity);
    fd = *held;
  } else {
    uint32_t lo = shared_.config.port_min(), hi = shared_.config.port_max();
    if (req.even_port && (lo % 2)) ++lo;
    uint32_t step = req.even_port ? 2 : 1;
    uint32_t count = (hi - lo) / step + 1;
    if (req.even_port && req.reserve_next && (lo + (count - 1) * step) + 1 > hi) --count;  // room for port+1
    uint32_t attempts = std::min<uint32_t>(count, 256);
    for (uint32_t a = 0; a < attempts && fd < 0; ++a) {
      uint16_t port = uint16_t(lo + (port_cursor_++ % count) * step);
      int err = 0;
      fd = bind_relay(req.family, port, req.dont_fragment, err);
      if (fd < 0) {
        if (err == EAFNOSUPPORT || err == EADDRNOTAVAIL) return base::fail(stun::code::AddressFamilyNotSupported);
        if (err == EMFILE || err == ENFILE) {
          LOG_ERROR(kLog) << "out of file descriptors: raise the limit (ulimit -n) for more allocations";
          return base::fail(stun::code::InsufficientCapacity);
        }
        continue;
      }
      if (req.reserve_next) {
        int fd2 = bind_relay(req.family, uint16_t(port + 1), req.dont_fragment, err);
        if (fd2 < 0) {
          ::close(fd);
          fd = -1;
          continue;
        }
        uint8_t t[8];
        random_.fill(t);
        out.reservation_token = base::load_be64(t);
        reservations_.put(*out.reservation_token, fd2, local_endpoint(fd2), std::chrono::steady_clock::now());
      }
    }
    // A random cursor per worker spreads allocations over the range; advance it unpredictably.
    uint8_t r[2];
    random_.fill(r);
    port_cursor_ += base::load_be16(r);
    if (fd < 0) return base::fail(stun::code::InsufficientCapacity);
  }
  uint32_t index;
  if (!free_relays_.empty()) {
    index = free_relays_.back();
    free_relays_.pop_back();
  } else {
    index = uint32_t(relays_.size());
    relays_.emplace_back();
  }
  RelayEntry& e = relays_[index];
  e.fd = fd;
  e.tag = req.tag;
  e.bound = local_endpoint(fd);
  ++e.generation;
  // From here until release_relay_fd, peers of other allocations may name this socket (a reserved
  // one is marked already).
  shared_.relay_ports.bound(e.bound.addr.family(), e.bound.port);
  uint64_t handle = uint64_t(e.generation) << 32 | index;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = index;  // listener flag clear
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    release_relay_fd(fd, e.bound);
    e.fd = -1;
    free_relays_.push_back(index);
    return base::fail(stun::code::ServerError);
  }
  out.handle = handle;
  out.bound = e.bound;
  return out;
}

void Worker::release_relay_fd(int fd, const base::Endpoint& bound) {
  shared_.relay_ports.released(bound.addr.family(), bound.port);
  ::close(fd);
}

void Worker::close_relay(uint64_t handle) {
  uint32_t index = uint32_t(handle & 0xFFFFFFFF);
  if (index >= relays_.size()) return;
  RelayEntry& e = relays_[index];
  if (e.generation != uint32_t(handle >> 32) || e.fd < 0) return;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, e.fd, nullptr);
  release_relay_fd(e.fd, e.bound);
  e.fd = -1;
  free_relays_.push_back(index);
}

// ---------------------------------------------------------------------------------------------
// TCP / TLS clients

void Worker::accept_next(size_t i) {
  Acceptor& a = acceptors_[i];
  a.acceptor->async_accept([this, i](boost::system::error_code ec, tcp::socket sock) {
    if (stopping_) return;
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        LOG_WARN(kLog) << "accept: " << ec.message();
        // Back off briefly on fd exhaustion instead of spinning.
        auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
        t->async_wait([this, i, t](boost::system::error_code) {
          if (!stopping_) accept_next(i);
        });
      }
      return;
    }
    accept_next(i);
    if (sessions_.size() >= size_t(shared_.config.max_tcp_connections)) {
      Stats::inc(io_stats_.tcp_rejected);
      return;  // sock closes
    }
    boost::system::error_code e2;
    auto remote = sock.remote_endpoint(e2);
    auto local = sock.local_endpoint(e2);
    if (e2) return;
    sock.set_option(tcp::no_delay(true), e2);
    FiveTuple t;
    t.transport = acceptors_[i].tls ? Transport::Tls : Transport::Tcp;
    t.client = to_endpoint(remote);
    t.server = to_endpoint(local);
    uint64_t id = next_session_++;
    std::shared_ptr<StreamSession> s;
    if (acceptors_[i].tls) s = std::make_shared<TlsSession>(*this, id, t, asio::ssl::stream<tcp::socket>(std::move(sock), *tls_));
    else s = std::make_shared<TcpSession>(*this, id, t, std::move(sock));
    sessions_.emplace(id, s);
    io_stats_.tcp_connections.store(sessions_.size(), std::memory_order_relaxed);
    s->start();
  });
}

void Worker::on_stream_frame(StreamSession& s, base::Bytes frame) {
  ClientFlow flow{s.tuple(), s.id()};
  logic_.on_client_packet(flow, frame, base::Now::system());
}

void Worker::on_stream_closed(StreamSession& s) {
  logic_.on_client_closed(s.tuple(), base::Now::system());
  auto keep = sessions_.find(s.id());
  if (keep != sessions_.end()) {
    auto hold = keep->second;  // the session must outlive this call
    sessions_.erase(keep);
    asio::post(io_, [hold] {});
  }
  io_stats_.tcp_connections.store(sessions_.size(), std::memory_order_relaxed);
}

void Worker::close_client(const ClientFlow& flow) {
  if (!flow.stream()) return;
  auto it = sessions_.find(flow.conn);
  if (it != sessions_.end()) {
    auto s = it->second;
    s->close();
  }
}

void Worker::tick() {
  auto now = base::Now::system();
  logic_.on_timer(now);
  if (index_ == 0) reservations_.expire(now.steady);
  // Connections that never allocated (or finished) and stay idle are closed; so are TLS
  // handshakes that do not complete.
  std::vector<std::shared_ptr<StreamSession>> idle;
  for (auto& [id, s] : sessions_) {
    auto quiet = now.steady - s->last_activity();
    if ((!s->established() && quiet > std::chrono::seconds(10)) ||
        (quiet > shared_.config.tcp_idle_timeout && !logic_.find(s->tuple())))
      idle.push_back(s);
  }
  for (auto& s : idle) s->close();
  flush();
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopping_) tick();
  });
}

// ---------------------------------------------------------------------------------------------
// StreamSessionT

template <class Stream>
void StreamSessionT<Stream>::start() {
  auto self = std::static_pointer_cast<StreamSessionT>(shared_from_this());
  if constexpr (std::is_same_v<Stream, asio::ip::tcp::socket>) {
    established_ = true;
    read();
  } else {
    stream_.async_handshake(asio::ssl::stream_base::server, [self](boost::system::error_code ec) {
      if (self->closed_) return;
      if (ec) {
        LOG_DEBUG(kLog) << "TLS handshake from " << self->tuple_.client.to_string() << " failed: " << ec.message();
        return self->close();
      }
      self->established_ = true;
      self->last_activity_ = std::chrono::steady_clock::now();
      self->read();
    });
  }
}

template <class Stream>
void StreamSessionT<Stream>::read() {
  auto self = std::static_pointer_cast<StreamSessionT>(shared_from_this());
  stream_.async_read_some(asio::buffer(in_.data() + in_len_, in_.size() - in_len_),
                          [self](boost::system::error_code ec, size_t n) {
                            if (self->closed_) return;
                            if (ec) return self->close();
                            self->on_read(n);
                          });
}

template <class Stream>
void StreamSessionT<Stream>::on_read(size_t n) {
  in_len_ += n;
  last_activity_ = std::chrono::steady_clock::now();
  size_t off = 0;
  while (!closed_) {
    auto f = stun::StreamFramer::next(base::Bytes(in_.data() + off, in_len_ - off));
    if (f.kind == stun::StreamFramer::Kind::Invalid) {
      LOG_DEBUG(kLog) << "closing " << tuple_.client.to_string() << ": bytes are neither STUN nor ChannelData";
      return close();
    }
    if (f.kind == stun::StreamFramer::Kind::NeedMore) {
      if (f.needed > in_.size()) in_.resize(f.needed);
      break;
    }
    worker_.on_stream_frame(*this, base::Bytes(in_.data() + off, f.size));
    off += f.size;
  }
  if (closed_) return;
  std::memmove(in_.data(), in_.data() + off, in_len_ - off);
  in_len_ -= off;
  // Give back memory after a large frame.
  if (in_len_ <= 4096 && in_.size() > 4096) in_.resize(4096), in_.shrink_to_fit();
  read();
}

template <class Stream>
void StreamSessionT<Stream>::send(base::Bytes data) {
  if (closed_ || !established_) return;
  if (out_pending_.size() + data.size() > kMaxPendingOut) return;  // slow reader: drop
  out_pending_.insert(out_pending_.end(), data.begin(), data.end());
  if (!writing_) write();
}

template <class Stream>
void StreamSessionT<Stream>::write() {
  std::swap(out_pending_, out_writing_);
  out_pending_.clear();
  writing_ = true;
  auto self = std::static_pointer_cast<StreamSessionT>(shared_from_this());
  asio::async_write(stream_, asio::buffer(out_writing_), [self](boost::system::error_code ec, size_t) {
    self->writing_ = false;
    if (self->closed_) return;
    if (ec) return self->close();
    if (!self->out_pending_.empty()) self->write();
  });
}

template <class Stream>
void StreamSessionT<Stream>::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  lowest().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  lowest().close(ec);
  worker_.on_stream_closed(*this);
}

template class StreamSessionT<asio::ip::tcp::socket>;
template class StreamSessionT<asio::ssl::stream<asio::ip::tcp::socket>>;

}  // namespace turn::io
