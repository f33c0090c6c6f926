// `webims wwsf`: the WWSF's Asio shell. One io_context (the caller's) runs the HTTPS listener (W1)
// for the app and its API, the W4 client toward the WAF (mutual TLS, net::http_request), the session
// timer and the control listener (/metrics, /health); the logic (servers/wwsf/logic) decides.
// In `webims all` the listener also serves a WAF of the same process (ColocatedWaf), and W4 may go to
// it in memory.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
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

// A WAF in the same process (`webims all`), served on the WWSF's listener.
struct ColocatedWaf {
  // Tried first for every request of the listener: what it answers (the WAF's endpoints) is sent as
  // is; nullopt leaves the request to the WWSF. Called on the listener's thread only.
  std::function<std::optional<net::HttpResponse>(const net::HttpRequest&)> handle;
  // W4 in memory: the token request goes to `handle` as a POST to `token_path`, presenting the SHA-256
  // of the W4 certificate as its mTLS identity (RFC 8705), instead of HTTPS to waf_token_url.
  bool w4_in_process = false;
  std::string token_path = "/token";
  // Ask TLS clients for a certificate on the shared listener ([waf] request_client_cert).
  bool request_client_cert = false;
};

class WwsfService final : private WafCaller {
 public:
  // Throws std::runtime_error (port in use, unreadable certificate...).
  WwsfService(boost::asio::io_context& io, const WwsfConfig& cfg, const servers::StoreConfig& store,
              const servers::TlsConfig& tls, ColocatedWaf waf = {});
  ~WwsfService() override;

  void start();
  void stop();

  base::Endpoint endpoint() const;
  base::Endpoint control_endpoint() const;
  // SHA-256 (hex) of the certificate presented over W4: what the WAF's OAuth client record pins.
  const std::string& w4_cert_sha256() const { return w4_cert_sha256_; }
  WwsfLogic& logic() { return *logic_; }

 private:
  void post_token_request(std::string form_body, Done done) override;
  void post_in_process(std::string form_body, Done done);
  void schedule();
  std::string health() const;

  boost::asio::io_context& io_;
  WwsfConfig cfg_;
  ColocatedWaf waf_;
  std::string w4_cert_sha256_;
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
