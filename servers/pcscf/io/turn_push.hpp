// Approach 2 (protocols.md "TURN credentials, Approach 2"): the eP-CSCF's client of the TURN
// servers' control API.
//   POST <base>/v1/credentials  {"username":..,"password":..,"expires":<unix s>}
//   POST <base>/v1/revocations  {"username":..,"until":<unix s>}
// each with `Authorization: Bearer <token>`, to every configured TURN server, retried a bounded
// number of times on failure. Failures are logged with the server and the USERNAME (the Tid, which
// reveals nothing), never the password or the bearer token.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pcscf::io {

struct TurnPushOptions {
  std::vector<std::string> base_urls;  // e.g. "http://127.0.0.1:3479"
  std::string bearer_token;
  int attempts = 3;                    // per request and server
  std::chrono::milliseconds retry_delay{1000};
  std::chrono::milliseconds timeout{5000};
  std::shared_ptr<boost::asio::ssl::context> tls;  // trust for https:// base URLs
};

struct TurnPushStats {
  uint64_t delivered = 0, retried = 0, given_up = 0;
};

class TurnPusher {
 public:
  TurnPusher(boost::asio::io_context& io, TurnPushOptions opts);
  ~TurnPusher();  // pending retries and answers are dropped
  TurnPusher(const TurnPusher&) = delete;
  TurnPusher& operator=(const TurnPusher&) = delete;

  void push(const std::string& username, const std::string& password, int64_t expires_unix);
  void revoke(const std::string& username, int64_t until_unix);
  const TurnPushStats& stats() const { return *stats_; }

 private:
  void post(const std::string& path, const std::string& body, const std::string& what);

  boost::asio::io_context& io_;
  TurnPushOptions opts_;
  std::shared_ptr<TurnPushStats> stats_;
  std::shared_ptr<bool> alive_;
};

}  // namespace pcscf::io
