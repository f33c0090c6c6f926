// A TURN client connection over TCP or TLS (RFC 8656 §3.1): frames STUN and ChannelData out of the
// byte stream (stun::StreamFramer) and writes replies and relayed data back, double-buffered.
// TR 33.871 6.3.1: TLS on 443 is how WICs behind restrictive firewalls reach the relay.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <vector>

#include "base/clock.hpp"
#include "stun/channel_data.hpp"
#include "turn/logic/server_logic.hpp"

namespace turn::io {

class Worker;

class StreamSession : public std::enable_shared_from_this<StreamSession> {
 public:
  static constexpr size_t kMaxPendingOut = 1 << 20;  // beyond this, relayed data is dropped (media is loss-tolerant)

  StreamSession(Worker& w, uint64_t id, FiveTuple tuple) : worker_(w), id_(id), tuple_(tuple) {}
  virtual ~StreamSession() = default;
  virtual void start() = 0;
  virtual void send(base::Bytes data) = 0;
  virtual void close() = 0;

  uint64_t id() const { return id_; }
  const FiveTuple& tuple() const { return tuple_; }
  base::SteadyTime last_activity() const { return last_activity_; }
  bool established() const { return established_; }
  bool closed() const { return closed_; }

 protected:
  Worker& worker_;
  uint64_t id_;
  FiveTuple tuple_;
  base::SteadyTime last_activity_ = std::chrono::steady_clock::now();
  bool established_ = false;
  bool closed_ = false;
};

template <class Stream>
class StreamSessionT final : public StreamSession {
 public:
  StreamSessionT(Worker& w, uint64_t id, FiveTuple tuple, Stream stream)
      : StreamSession(w, id, tuple), stream_(std::move(stream)), in_(4096) {}

  void start() override;
  void send(base::Bytes data) override;
  void close() override;

 private:
  void read();
  void on_read(size_t n);
  void write();
  auto& lowest() { return stream_.lowest_layer(); }

  Stream stream_;
  std::vector<uint8_t> in_;
  size_t in_len_ = 0;
  std::vector<uint8_t> out_pending_, out_writing_;
  bool writing_ = false;
};

using TcpSession = StreamSessionT<boost::asio::ip::tcp::socket>;
using TlsSession = StreamSessionT<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

}  // namespace turn::io
