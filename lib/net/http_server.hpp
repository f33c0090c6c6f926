// A small HTTP/1.1 server (RFC 9112) on Boost.Beast, for the control and metrics endpoints, the WAF
// and the WWSF: keep-alive, one request at a time per connection (pipelined requests wait in the
// buffer and are answered in order), bounded header/body sizes, an idle timeout, a connection cap.
//
// Peer-caused errors never throw and never reach the handler: malformed request → 400, body larger
// than the limit → 413, header larger than the limit → 431, each then closing the connection. A
// handler that throws gets a 500 and a LOG_ERROR line. Every response carries `Server: webims` and
// `Content-Length` (except 204/304, where RFC 9110 §8.6 forbids a body length).
//
// Threading: everything, handler included, runs on the thread running `io` (the one thread of that
// io_context). Construct, stop() and destroy on that thread, or while `io` is not running.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/ip.hpp"

namespace net {
namespace detail {
struct HttpServerState;
}

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // request-target as sent, e.g. "/v1/credentials?x=1"
  std::string path;    // target before '?', not percent-decoded
  std::string query;   // target after '?', without it; empty when none
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values as sent, in order
  std::string body;
  base::Endpoint remote;
  bool tls = false;
  // https: SHA-256 of the client's certificate (DER), lower-case hex; empty when it sent none. The
  // chain is not verified here: RFC 8705 §2.2 clients are pinned by this hash. Only filled when the
  // TLS context asks for client certificates (SSL_VERIFY_PEER with a callback that accepts).
  std::string peer_cert_sha256_hex;

  // The first header with that (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;  // 200..999; anything else is answered as 500
  std::string content_type = "text/plain; charset=utf-8";  // empty: no Content-Type header
  std::string body;
  // Extra headers. Content-Length, Transfer-Encoding and Connection are the server's to set and
  // are ignored, except `Connection: close`, which closes after this response. Server and
  // Content-Type given here replace the defaults. Headers with CR, LF or NUL are dropped.
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// For handlers that must wait for something (the WWSF asking the WAF over W4): call `respond` once,
// now or later, on `io`'s thread. A response for a connection that closed meanwhile is dropped.
using HttpRespond = std::function<void(HttpResponse)>;
using HttpAsyncHandler = std::function<void(const HttpRequest&, HttpRespond respond)>;

struct HttpLimits {
  size_t max_header_bytes = 8192;       // request line + header fields; beyond → 431
  size_t max_body_bytes = 1 << 20;      // beyond → 413
  std::chrono::seconds idle_timeout{30};  // to receive a whole request (or the TLS handshake) or send a response
  size_t max_connections = 1000;        // further connections are closed at once
};

class HttpServer {
 public:
  // listen_url: "http://127.0.0.1:3479", "https://0.0.0.0:8443", "http://[::1]:0" (port 0 =
  // ephemeral, for tests); the host is an IP literal or "localhost"; the port defaults to 80/443.
  // https needs `tls`. Throws std::runtime_error with a clear sentence on a bad URL or bind failure.
  HttpServer(boost::asio::io_context& io, const std::string& listen_url, HttpHandler handler,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr, HttpLimits limits = {});
  HttpServer(boost::asio::io_context& io, const std::string& listen_url, HttpAsyncHandler handler,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  base::Endpoint local_endpoint() const;
  // Closes the acceptor and every connection; the handler is not called again. Idempotent.
  void stop();

 private:
  std::shared_ptr<detail::HttpServerState> state_;
};

}  // namespace net
