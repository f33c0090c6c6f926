// SIP over UDP, TCP and TLS (RFC 3261 §18) for the servers: listeners, outgoing connections,
// framing of streams (sip::StreamFramer, CRLF keep-alives answered) and connection reuse.
// Messages go in and out as complete, parsed sip::Message values; routing decisions are the
// caller's. One instance lives on one io_context and is used from that thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.hpp"
#include "sip/error.hpp"
#include "sip/message.hpp"

namespace net {

enum class SipTransport : uint8_t { Udp, Tcp, Tls };
std::string_view to_string(SipTransport t);  // "UDP" "TCP" "TLS" (as in Via)

// Where a message came from / goes to. `connection` identifies a TCP/TLS connection (0 for UDP,
// or "any connection to `remote`, open one if needed" when sending).
struct SipPeer {
  SipTransport transport = SipTransport::Udp;
  base::Endpoint remote;
  base::Endpoint local;
  uint64_t connection = 0;
};

struct SipTransportOptions {
  size_t max_message_bytes = 64 * 1024;
  std::chrono::seconds idle_timeout{600};  // TCP/TLS connections without traffic are closed
  size_t max_connections = 10000;
  std::chrono::seconds connect_timeout{5};
  // Hand TCP/TLS messages to a listener of another layer in this process on the same io_context
  // that also sets this (the eP-CSCF and the core in `webims all`) in memory, not over a socket.
  bool in_process = false;
};

class SipTransportLayer {
 public:
  // A complete message from `from`. Malformed ones never reach it: the layer answers
  // 400 Bad Request (with a Warning naming the problem) where a response can be formed,
  // drops otherwise, and logs one line.
  using OnMessage = std::function<void(const SipPeer& from, sip::Message msg)>;
  // A TCP/TLS connection went away (for flow/binding cleanup).
  using OnClosed = std::function<void(const SipPeer& peer)>;

  // listen: "udp://127.0.0.1:5060", "tcp://[::]:5060", "tls://0.0.0.0:5061" (port 0 = ephemeral).
  // `tls` is needed for tls:// listeners and for sending over TLS. Throws std::runtime_error
  // with a clear sentence on a bad URL or a failed bind.
  SipTransportLayer(boost::asio::io_context& io, const std::vector<std::string>& listen, OnMessage on_message,
                    OnClosed on_closed = {}, std::shared_ptr<boost::asio::ssl::context> server_tls = nullptr,
                    std::shared_ptr<boost::asio::ssl::context> client_tls = nullptr, SipTransportOptions options = {});
  ~SipTransportLayer();

  // Sends a message. For TCP/TLS with `connection` set, on that connection (dropped with a log
  // line if it is gone); with `connection` 0, on an open connection to `remote`, or a new one.
  // Returns false if it could not even be queued.
  bool send(const SipPeer& to, const sip::Message& msg);
  bool send_raw(const SipPeer& to, std::string bytes);

  // Messages that were queued on an outgoing connection that never came up (refused, timed out,
  // TLS handshake failed) are handed back, one call each in order, so the owner can fail the
  // transactions waiting for them at once (RFC 3261 §8.1.3.1) instead of at their timeout.
  using OnUndelivered = std::function<void(const SipPeer& to, std::string_view bytes)>;
  void set_on_undelivered(OnUndelivered f);

  // The bound listeners, ports resolved ("udp://127.0.0.1:5060").
  std::vector<std::string> listeners() const;
  // The local endpoint of the first listener of a transport (for Via/Record-Route/Path), if any.
  std::optional<base::Endpoint> local_endpoint(SipTransport t) const;

  // Stops listening and closes every connection; OnClosed is called for each established
  // TCP/TLS connection before close() returns. Destroying the layer calls no callback.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace net
