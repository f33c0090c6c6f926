// `webims waf`: the WAF's Asio shell. Opens the store, loads the signing key (the configured file, or
// one generated on first start and kept as the store's local secret "waf-signing-jwk"), and serves
// the logic over HTTPS, asking TLS clients for a certificate so WWSFs can authenticate (RFC 8705).
// In `webims all` another server (the WWSF's) can serve the WAF too: give it try_handle().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "base/metrics.hpp"
#include "common/common_config.hpp"
#include "crypto/random.hpp"
#include "net/http_server.hpp"
#include "waf/config.hpp"
#include "waf/logic/waf_logic.hpp"

namespace store {
class Store;
}

namespace waf::io {

// The signing key: from `file` (a private JWK) when set, else the store's "waf-signing-jwk".
token::SigningKey load_signing_key(const std::string& file, store::Store& store);

class WafService {
 public:
  // `settings` carries what comes from other sections (home domain, TURN keys); the [waf] values
  // (issuer, lifetimes, prefix) are applied over it. `serve`: bind [waf] listen (false: mounted only,
  // through try_handle). Throws std::runtime_error with one sentence on failure.
  WafService(boost::asio::io_context& io, const WafConfig& cfg, WafSettings settings, const servers::StoreConfig& store,
             const servers::TlsConfig& tls, bool serve = true);
  ~WafService();
  void start();
  void stop();  // idempotent; on the io_context's thread

  // nullopt when the request is not for the WAF.
  std::optional<net::HttpResponse> try_handle(const net::HttpRequest& req);
  base::Endpoint local_endpoint() const;
  WafLogic& logic() { return *logic_; }

 private:
  WafConfig cfg_;
  crypto::SystemRandom random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WafLogic> logic_;
  std::unique_ptr<net::HttpServer> https_, control_;
  base::metrics::Registry metrics_;
};

}  // namespace waf::io
