// `webims pcscf`: the eP-CSCF's Asio shell. One io_context (the caller's) runs the WebSocket
// listener(s) toward WICs, the SIP transport toward the core, the proxy timers and the control
// listener; the logic (servers/pcscf/logic) decides everything.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/metrics.hpp"
#include "common/common_config.hpp"
#include "crypto/random.hpp"
#include "pcscf/config.hpp"
#include "pcscf/io/turn_push.hpp"
#include "pcscf/logic/pcscf_logic.hpp"
#include "token/turn_credential.hpp"

namespace net {
class WsServer;
class SipTransportLayer;
class HttpServer;
}  // namespace net
namespace store {
class Store;
}

namespace pcscf::io {

class PcscfService final : private PcscfIo {
 public:
  // `turn_keys`: [[turn.secrets]]; the first mints credentials. `token_jwks`: the WAF's keys (JWKS
  // JSON) handed over in process (webims all), used like [pcscf] token_jwks_file, which still takes
  // precedence. Throws std::runtime_error on a configuration the shell cannot use (unresolvable next
  // hop, port in use...).
  PcscfService(boost::asio::io_context& io, const PcscfConfig& cfg, const std::vector<token::TurnKey>& turn_keys,
               const servers::StoreConfig& store, const servers::TlsConfig& tls,
               const std::optional<std::string>& token_jwks = std::nullopt);
  ~PcscfService() override;

  void start();
  void stop();

  std::vector<std::string> ws_listeners() const;
  std::vector<std::string> sip_listeners() const;
  base::Endpoint control_endpoint() const;
  PcscfLogic& logic() { return *logic_; }

 private:
  bool ws_send(uint64_t connection, std::string text) override;
  void ws_close(uint64_t connection, uint16_t code, std::string_view reason) override;
  bool sip_send(const sip::Hop& to, const sip::Message& msg) override;
  void record_turn_credential(const TurnCredentialRecord& r) override;
  void fetch_jwks() override;
  void introspect(uint64_t request, const std::string& token) override;
  void push_turn_credential(const std::string& username, const std::string& password, int64_t expires_unix) override;
  void revoke_turn_credential(const std::string& username, int64_t until_unix) override;
  // Reloads the WWSF table when the store says it changed; again every 2 s.
  void poll_wwsfs();
  void schedule();
  // Deletes TURN credential records expired longer ago than turn_credential_retention; again hourly.
  void purge_turn_credentials();
  std::string health() const;

  boost::asio::io_context& io_;
  PcscfConfig cfg_;
  crypto::SystemRandom random_;
  std::unique_ptr<store::Store> store_;
  std::vector<std::unique_ptr<net::WsServer>> ws_;
  std::unique_ptr<net::SipTransportLayer> sip_;
  std::unique_ptr<PcscfLogic> logic_;
  std::unique_ptr<net::HttpServer> http_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer purge_timer_;  // hourly: expired TURN credential records
  boost::asio::steady_timer wwsf_timer_;
  std::optional<uint64_t> wwsfs_generation_;
  bool jwks_fetch_ = false;  // keys come from token_jwks_url
  std::shared_ptr<boost::asio::ssl::context> http_tls_;  // trust for the WAF and TURN control APIs
  std::unique_ptr<TurnPusher> turn_push_;                 // Approach 2; none without turn_push_urls
  // Completions of HTTP calls check it: false once stopped (the service may be gone).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  base::metrics::Registry metrics_;
  // Which WsServer a connection belongs to (connection ids are unique per server).
  std::vector<std::pair<uint64_t, net::WsServer*>> owner_hint_;
  bool stopped_ = false;
};

}  // namespace pcscf::io
