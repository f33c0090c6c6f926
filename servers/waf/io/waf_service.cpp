#include "waf/io/waf_service.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "common/control_listener.hpp"
#include "net/tls.hpp"
#include "store/store.hpp"

namespace waf::io {

namespace {
constexpr const char* kLog = "waf";

int64_t seconds(base::config::Duration d) { return int64_t(d.count() / 1000); }
}  // namespace

token::SigningKey load_signing_key(const std::string& file, store::Store& store) {
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read the WAF signing key file '" + file + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      return token::SigningKey::from_private_jwk(ss.str());
    } catch (const std::exception& e) {
      throw std::runtime_error("WAF signing key file '" + file + "': " + e.what());
    }
  }
  // Generated once; every WAF process sharing the store signs with the same key.
  return token::SigningKey::from_private_jwk(
      store.local_secret("waf-signing-jwk", [] { return token::SigningKey::generate().private_jwk(); }));
}

WafService::WafService(boost::asio::io_context& io, const WafConfig& cfg, WafSettings settings,
                       const servers::StoreConfig& store_cfg, const servers::TlsConfig& tls_cfg, bool serve)
    : cfg_(cfg) {
  store_ = store::Store::open(store_cfg.url);
  settings.issuer = cfg_.issuer;
  settings.path_prefix = cfg_.path_prefix;
  settings.token_lifetime_s = seconds(cfg_.token_lifetime);
  settings.turn_token_lifetime_s = seconds(cfg_.turn_token_lifetime);
  settings.code_lifetime_s = seconds(cfg_.code_lifetime);
  settings.ticket_lifetime_s = seconds(cfg_.ticket_lifetime);
  token::SigningKey key = load_signing_key(cfg_.signing_key_file, *store_);
  LOG_INFO(kLog) << "signing key kid " << key.kid();
  logic_ = std::make_unique<WafLogic>(std::move(settings), std::vector<token::SigningKey>{key}, *store_, random_);

  if (serve) {
    std::shared_ptr<boost::asio::ssl::context> tls;
    if (cfg_.listen.rfind("https://", 0) == 0) {
      auto files = tls_cfg.resolve({"localhost", "127.0.0.1", "::1"});
      tls = net::make_server_tls_context(files.cert, files.key);
      if (cfg_.request_client_cert) net::request_client_certificates(*tls);
    }
    https_ = std::make_unique<net::HttpServer>(
        io, cfg_.listen,
        [this](const net::HttpRequest& r) {
          if (auto res = try_handle(r)) return *res;
          return net::HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
        },
        tls);
  }

  metrics_.add_collector([this](base::metrics::Sink& m) {
    const WafStats& s = logic_->stats();
    m.counter("webims_waf_tokens_issued_total", "IMS access tokens issued", {}, double(s.tokens_issued));
    m.counter("webims_waf_turn_tokens_issued_total", "RFC 7635 TURN tokens issued", {}, double(s.turn_tokens_issued));
    m.counter("webims_waf_refused_total", "OAuth requests refused", {}, double(s.refused));
    m.counter("webims_waf_revoked_total", "Tokens revoked", {}, double(s.revoked));
  });
  if (!cfg_.control_listen.empty()) {
    control_ = servers::open_control_listener(
        io, cfg_.control_listen, metrics_, [] { return std::string("{\"status\":\"ok\"}"); }, servers::ControlMethods::Any);
  }
}

WafService::~WafService() { stop(); }

void WafService::start() {
  if (https_) LOG_INFO(kLog) << "listening on " << cfg_.listen << " (issuer " << cfg_.issuer << ")";
}

void WafService::stop() {
  if (https_) https_->stop();
  if (control_) control_->stop();
}

std::optional<net::HttpResponse> WafService::try_handle(const net::HttpRequest& req) {
  return logic_->handle(req, base::Now::system().unix_s);
}

base::Endpoint WafService::local_endpoint() const { return https_ ? https_->local_endpoint() : base::Endpoint{}; }

}  // namespace waf::io
