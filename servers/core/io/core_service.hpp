// `webims core`: the IMS core's Asio shell. One io_context (the caller's) runs the SIP transport
// (UDP/TCP/TLS listeners from [core] listen), the logic's timers, the store poll and the control
// listener (/metrics, /health); the logic (servers/core/logic) decides everything.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <vector>

#include "base/metrics.hpp"
#include "common/common_config.hpp"
#include "core/config.hpp"
#include "core/logic/core_logic.hpp"
#include "crypto/random.hpp"

namespace net {
class SipTransportLayer;
class HttpServer;
}  // namespace net
namespace store {
class Store;
}

namespace core::io {

class CoreService final : private Io {
 public:
  // Opens the store and binds every listener; throws std::runtime_error (or store::Error) with one
  // clear sentence on failure.
  CoreService(boost::asio::io_context& io, const CoreConfig& cfg, const servers::StoreConfig& store,
              const servers::TlsConfig& tls);
  ~CoreService() override;

  void start();
  void stop();  // idempotent; call on the io_context's thread

  std::vector<std::string> sip_listeners() const;
  base::Endpoint control_endpoint() const;
  CoreLogic& logic() { return *logic_; }
  base::metrics::Registry& metrics() { return metrics_; }

 private:
  bool send(const sip::Hop& to, const sip::Message& msg) override;
  void tick();
  std::string health() const;

  boost::asio::io_context& io_;
  CoreConfig cfg_;
  crypto::SystemRandom random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<net::SipTransportLayer> sip_;
  std::unique_ptr<CoreLogic> logic_;
  std::unique_ptr<net::HttpServer> http_;
  boost::asio::steady_timer timer_;
  base::SteadyTime next_poll_{};
  base::metrics::Registry metrics_;
  bool stopped_ = false;
};

}  // namespace core::io
