// `webims wwsf`: the WWSF's Asio shell. One io_context (the caller's) runs the HTTPS listener (W1)
// for the app and its API, the W4 client toward the WAF (mutual TLS, net::http_request), the session
// timer and the control listener (/metrics, /health); the logic (servers/wwsf/logic) decides.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>

#include "base/metrics.hpp"
#include "common/common_config.hpp"
#include "crypto/random.hpp"
#include "wwsf/config.hpp"
#include "wwsf/logic/wwsf_logic.hpp"

namespace net {
class HttpServer;
}
namespace store {
class Store;
}

namespace wwsf::io {

class WwsfService final : private WafCaller {
 public:
  // Throws std::runtime_error (port in use, unreadable certificate...).
  WwsfService(boost::asio::io_context& io, const WwsfConfig& cfg, const servers::StoreConfig& store,
              const servers::TlsConfig& tls);
  ~WwsfService() override;

  void start();
  void stop();

  base::Endpoint endpoint() const;
  base::Endpoint control_endpoint() const;
  WwsfLogic& logic() { return *logic_; }

 private:
  void post_token_request(std::string form_body, Done done) override;
  void schedule();
  std::string health() const;

  boost::asio::io_context& io_;
  WwsfConfig cfg_;
  crypto::SystemRandom random_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<boost::asio::ssl::context> w4_tls_;
  std::unique_ptr<WwsfLogic> logic_;
  std::unique_ptr<net::HttpServer> http_;
  std::unique_ptr<net::HttpServer> control_;
  boost::asio::steady_timer timer_;
  base::metrics::Registry metrics_;
  bool stopped_ = false;
};

// Settings of the logic from the configuration (shared with `webims wwsf --add-account`).
WwsfSettings settings_from(const WwsfConfig& cfg);

}  // namespace wwsf::io
