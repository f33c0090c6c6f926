// One worker thread of the TURN server: its io_context, its share of every listener
// (SO_REUSEPORT, so the kernel keeps each client 5-tuple on one worker), the relay sockets of the
// allocations it owns, and the ServerLogic that decides what to do. Nothing here is shared with
// other workers except through `Shared` and `Reservations`, so the relay path takes no locks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

#include "crypto/random.hpp"
#include "turn/config.hpp"
#include "turn/io/reservations.hpp"
#include "turn/logic/server_logic.hpp"

struct mmsghdr;

namespace turn::io {

class StreamSession;

// Counters of the shell itself (the logic has its own).
struct IoStats {
  std::atomic<uint64_t> send_dropped{0};      // socket buffer full or send error
  std::atomic<uint64_t> recv_truncated{0};    // datagram larger than the receive slot
  std::atomic<uint64_t> tcp_connections{0};   // current
  std::atomic<uint64_t> tcp_rejected{0};      // over max_tcp_connections
};

class Worker final : public Io {
 public:
  // `ports` gives the port each listener binds (resolved by the first worker when configured as 0).
  Worker(Shared& shared, Reservations& reservations, int index, const std::vector<Listener>& listeners,
         std::vector<uint16_t>& ports, std::shared_ptr<boost::asio::ssl::context> tls);
  ~Worker() override;

  void run();   // on the worker's own thread
  void stop();  // from any thread: tears down allocations, closes sockets, ends run()

  ServerLogic& logic() { return logic_; }
  IoStats& io_stats() { return io_stats_; }
  boost::asio::io_context& context() { return io_; }

  // Io
  base::Result<RelayOpened, int> open_relay(const RelayRequest& req) override;
  void close_relay(uint64_t handle) override;
  void send_to_client(const ClientFlow& flow, base::Bytes msg) override;
  void send_to_peer(uint64_t relay, const base::Endpoint& peer, base::Bytes payload) override;
  void close_client(const ClientFlow& flow) override;

  // From StreamSession.
  void on_stream_frame(StreamSession& s, base::Bytes frame);
  void on_stream_closed(StreamSession& s);

 private:
  struct UdpListener {
    int fd = -1;
    base::Endpoint bound;
    bool wildcard = false;
  };
  struct RelayEntry {
    int fd = -1;
    uint64_t tag = 0;
    uint32_t generation = 0;
    base::Endpoint bound;  // marked in shared_.relay_ports while fd is open
  };
  struct Pending;  // batched datagrams to clients

  void arm();
  void poll_round();
  void drain(uint64_t epoll_data, const base::Now& now);
  bool drain_listener(uint32_t index, const base::Now& now);
  bool drain_relay(uint32_t index, const base::Now& now);
  void flush();
  void tick();
  void accept_next(size_t acceptor);
  int bind_relay(base::Family family, uint16_t port, bool dont_fragment, int& err);
  // Unmarks the port in shared_.relay_ports, then closes (in that order: see RelayPortMap::bound).
  void release_relay_fd(int fd, const base::Endpoint& bound);

  Shared& shared_;
  Reservations& reservations_;
  int index_;
  boost::asio::io_context io_{1};
  crypto::SystemRandom random_;
  ServerLogic logic_;
  IoStats io_stats_;
  int epfd_ = -1;
  boost::asio::posix::stream_descriptor ep_desc_;
  boost::asio::steady_timer timer_;
  std::vector<UdpListener> udp_;
  struct Acceptor {
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    base::Endpoint bound;
    bool tls;
  };
  std::vector<Acceptor> acceptors_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::vector<RelayEntry> relays_;
  std::vector<uint32_t> free_relays_;
  std::unordered_map<uint64_t, std::shared_ptr<StreamSession>> sessions_;
  uint64_t next_session_ = 1;
  std::unique_ptr<Pending> pending_;
  std::vector<uint64_t> backlog_;  // sockets whose drain stopped at the budget
  struct RecvBatch;
  std::unique_ptr<RecvBatch> recv_;
  uint32_t port_cursor_;
  std::atomic<bool> stopping_{false};
};

}  // namespace turn::io
