// `webims all`'s web side: the WWSF and the WAF (TR 33.871 4.2.2) on one HTTPS listener ([wwsf]
// listen): a request the WAF takes (its endpoints: JWKS, metadata, /token for other WWSFs...) goes to
// the WAF, everything else to the WWSF. Both run on their own io_context thread, not the SIP one: the
// WWSF hashes Argon2id synchronously at each login (a fraction of a second), which must not stall
// SIP. Each service keeps its own Store object (SQLite connection), used only on that thread.
//
// W4 in memory: the WWSF's token requests go to the WAF's logic, posted on that thread, as requests
// from the holder of the WWSF's W4 certificate (its SHA-256, what mutual TLS would have shown), so
// every WAF check runs: client authentication (RFC 8705), REQ 2.1/2.2/3.2. The OAuth client record
// pinning that certificate is created or updated at each start, since a generated certificate can
// be re-issued (new name, renewal).
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <thread>

#include "base/ip.hpp"
#include "config.hpp"

namespace waf::io {
class WafService;
}
namespace wwsf::io {
class WwsfService;
}

namespace cli {

// The client id of the in-process W4 client when [wwsf] w4_client_id is empty.
inline constexpr const char* kLocalW4Client = "webims-all-w4";

class WebFront {
 public:
  // Builds both services, binds the listener and writes the OAuth client record. `w4_in_process`:
  // W4 to the WAF of this process in memory (else HTTPS to [wwsf] waf_token_url). Throws
  // std::runtime_error (port in use, certificate, store).
  WebFront(const Config& c, bool w4_in_process);
  ~WebFront();
  WebFront(const WebFront&) = delete;
  WebFront& operator=(const WebFront&) = delete;

  // Runs the listener's io_context on its own thread.
  void start();
  // Stops both services on their thread and joins it. From any other thread; idempotent.
  void stop();

  // The WAF's public signing keys (JWKS JSON), for the eP-CSCF of the same process.
  const std::string& jwks() const { return jwks_; }
  base::Endpoint endpoint() const { return endpoint_; }
  const std::string& w4_client_id() const { return w4_client_id_; }

 private:
  boost::asio::io_context io_{1};
  std::unique_ptr<waf::io::WafService> waf_;
  std::unique_ptr<wwsf::io::WwsfService> wwsf_;
  std::string jwks_, w4_client_id_;
  base::Endpoint endpoint_;
  std::thread thread_;
};

}  // namespace cli
