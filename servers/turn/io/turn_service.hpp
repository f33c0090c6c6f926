// `webims turn`: the workers, the control listener (/metrics, /health) and the background jobs
// (static users from the store, key reload), put together and run until stopped.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>
#include <vector>

#include "base/metrics.hpp"
#include "common/common_config.hpp"
#include "turn/config.hpp"
#include "turn/io/reservations.hpp"
#include "turn/io/worker.hpp"

namespace net {
class HttpServer;
struct HttpRequest;
struct HttpResponse;
}
namespace store {
class Store;
}

namespace turn::io {

class TurnService {
 public:
  // Binds every listener; throws std::runtime_error with one clear sentence on failure.
  // `control` is the io_context the caller runs (HTTP control listener, timers, signals).
  TurnService(boost::asio::io_context& control, const TurnConfig& cfg, const servers::StoreConfig& store,
              const servers::TlsConfig& tls);
  ~TurnService();

  void start();  // starts the worker threads
  void stop();   // stops workers and control listener; joins threads (call from the control thread)
  void reload_secrets(const std::vector<SecretConfig>& secrets);
  void reload_oauth_keys(const std::vector<OAuthKeyConfig>& keys);

  // What was actually bound (ports resolved when configured as 0), for tests and the log.
  std::vector<std::string> bound_listeners() const;
  base::Endpoint control_endpoint() const;
  size_t allocations() const;
  base::metrics::Registry& metrics() { return metrics_; }

 private:
  void load_static_users();
  void load_revocations();
  void poll_store();
  std::string health() const;
  // The Approach 2 control API (protocols.md): POST /v1/credentials and /v1/revocations.
  net::HttpResponse control(const net::HttpRequest& r);
  net::HttpResponse push_credential(const std::string& body);
  net::HttpResponse revoke(const std::string& body);

  boost::asio::io_context& control_;
  TurnConfig cfg_;
  std::unique_ptr<Shared> shared_;
  std::unique_ptr<Reservations> reservations_;  // after shared_: it marks shared_->relay_ports
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::vector<Listener> listeners_;
  std::vector<uint16_t> ports_;
  std::unique_ptr<store::Store> store_;
  uint64_t users_generation_ = 0;
  uint64_t revocations_generation_ = 0;
  int64_t last_expiry_sweep_ = 0;
  std::unique_ptr<boost::asio::steady_timer> store_timer_;
  base::metrics::Registry metrics_;
  std::unique_ptr<net::HttpServer> http_;
  bool stopped_ = false;
};

}  // namespace turn::io
