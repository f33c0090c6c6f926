// A small asynchronous HTTP/1.1 client (Boost.Beast) for server-to-server calls: the eP-CSCF fetching
// the WAF's JWKS and introspecting tokens (RFC 7662), pushing and revoking TURN credentials
// (Approach 2), the WWSF asking the WAF for tokens over W4 (mutually authenticated TLS).
// One request per connection (Connection: close): these calls are rare next to their cost.
//
// Threading: `done` runs on `io`'s thread; exactly once, also on timeout or error.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace net {

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // http://host:port/path?query or https://...; host an IP literal or a name
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  const std::string* header(std::string_view lower_name) const;
};

struct HttpClientOptions {
  // For https: verifies the server against this context's trust store and the URL's host (name or
  // IP, RFC 6125); a client certificate in it is presented (mTLS). nullptr: a default verifying context.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::chrono::milliseconds timeout{5000};  // whole exchange
  size_t max_body_bytes = 1 << 20;
};

// Error: one sentence naming the URL's host and the cause (never the body or auth headers).
using HttpClientDone = std::function<void(base::Result<HttpClientResponse, std::string>)>;

void http_request(boost::asio::io_context& io, HttpClientRequest req, HttpClientOptions opts, HttpClientDone done);

// Blocking variant for command-line tools and tests (runs its own io_context).
base::Result<HttpClientResponse, std::string> http_request_sync(HttpClientRequest req, HttpClientOptions opts = {});

}  // namespace net
