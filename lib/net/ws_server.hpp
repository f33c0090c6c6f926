// WebSocket server for SIP over WebSocket (RFC 7118) with our own RFC 6455 framing, with the checks
// protocols.md fixes for W2: Origin allow-list (HTTP 403, no upgrade), subprotocol `sip`
// (HTTP 400 without it), text frames of at most `max_message_bytes` (close 1009), valid UTF-8
// (close 1007), WebSocket pings for keep-alive, and a send queue per connection.
// The same listener may serve plain HTTP requests (for /metrics and /health) via `on_http`.
// One instance lives on one io_context and is used from that thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.hpp"
#include "net/http_server.hpp"

namespace net {

struct WsConnectionInfo {
  uint64_t id = 0;
  base::Endpoint remote;
  base::Endpoint local;
  bool tls = false;
  std::string origin;  // the handshake's Origin
  std::string tls_session_id;  // hex of the TLS session id (for binding identities to the session), empty over ws://
};

struct WsServerOptions {
  std::vector<std::string> allowed_origins;   // exact match ("https://localhost:8443"); empty = refuse all
  std::string subprotocol = "sip";
  size_t max_message_bytes = 64 * 1024;      // close 1009 beyond
  std::chrono::seconds ping_interval{30};    // WebSocket ping when idle; no pong within another interval: closed
  std::chrono::seconds handshake_timeout{10};
  size_t max_connections = 20000;
  size_t max_queued_bytes = 1 << 20;         // per connection; beyond, the connection is closed (slow reader)
};

// Close codes used (RFC 6455 §7.4.1).
namespace ws_close {
constexpr uint16_t Normal = 1000;
constexpr uint16_t ProtocolError = 1002;
constexpr uint16_t InvalidData = 1007;     // not UTF-8
constexpr uint16_t PolicyViolation = 1008; // e.g. authorization failed (protocols.md: 403 then close)
constexpr uint16_t TooBig = 1009;
}  // namespace ws_close

class WsServer {
 public:
  using OnOpen = std::function<void(const WsConnectionInfo& c)>;
  using OnMessage = std::function<void(uint64_t connection, std::string text)>;
  using OnClose = std::function<void(uint64_t connection, uint16_t code)>;

  // listen_url: "wss://0.0.0.0:7443" or "ws://127.0.0.1:7080" (port 0 = ephemeral). wss needs `tls`.
  // Throws std::runtime_error with a clear sentence on a bad URL or a failed bind.
  WsServer(boost::asio::io_context& io, const std::string& listen_url, WsServerOptions options, OnOpen on_open,
           OnMessage on_message, OnClose on_close, std::shared_ptr<boost::asio::ssl::context> tls = nullptr,
           HttpHandler on_http = nullptr);
  ~WsServer();

  // Queues a text frame; false if the connection is gone or over its queue limit (then closed).
  bool send(uint64_t connection, std::string text);
  // Closes with a code and reason (after the queued frames are written).
  void close(uint64_t connection, uint16_t code, std::string_view reason = {});

  base::Endpoint local_endpoint() const;
  size_t connection_count() const;
  // Stops listening and closes every connection (1001 going away); on_close(id, 1001) is called
  // for each open connection before stop() returns. Destroying the server calls no callback.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A WebSocket client for SIP over WebSocket (the command-line WIC and tests): wss:// or ws://,
// with subprotocol `sip` and an Origin header. Connects synchronously with a timeout; then
// messages arrive on the io_context.
class WsClient {
 public:
  using OnMessage = std::function<void(std::string text)>;
  using OnClose = std::function<void(uint16_t code, std::string reason)>;
  // url: "wss://host:port/path". `tls` verifies the server unless built with verify=false.
  // Throws std::runtime_error on failure, including the HTTP status of a refused handshake.
  WsClient(boost::asio::io_context& io, const std::string& url, const std::string& origin,
           std::shared_ptr<boost::asio::ssl::context> tls, OnMessage on_message, OnClose on_close,
           std::chrono::seconds timeout = std::chrono::seconds(10));
  ~WsClient();
  void send(std::string text);
  void close(uint16_t code = ws_close::Normal);
  base::Endpoint local_endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace net
