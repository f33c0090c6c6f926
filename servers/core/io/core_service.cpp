#include "core/io/core_service.hpp"

#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "common/control_listener.hpp"
#include "common/host_address.hpp"
#include "common/sip_layer.hpp"
#include "crypto/hash.hpp"
#include "net/http_server.hpp"
#include "net/sip_transport.hpp"
#include "net/tls.hpp"
#include "store/store.hpp"

namespace core::io {

namespace {

constexpr const char* kLog = "core";

}  // namespace

CoreService::CoreService(boost::asio::io_context& io, const CoreConfig& cfg, const servers::StoreConfig& store_cfg,
                         const servers::TlsConfig& tls_cfg)
    : io_(io), cfg_(cfg), timer_(io) {
  store_ = store::Store::open(store_cfg.url);

  std::shared_ptr<boost::asio::ssl::context> server_tls;
  if (std::any_of(cfg_.listen.begin(), cfg_.listen.end(), [](auto& l) { return l.rfind("tls://", 0) == 0; })) {
    auto files = tls_cfg.resolve({"localhost", "127.0.0.1", "::1", cfg_.home_domain});
    if (files.generated)
      LOG_INFO(kLog) << "TLS: using the generated certificate " << files.cert << " (CA " << files.ca << ")";
    server_tls = net::make_server_tls_context(files.cert, files.key);
  }
  auto client_tls = net::make_client_tls_context(tls_cfg.ca_file, true);
  sip_ = servers::open_sip_layer(
      io, cfg_.listen,
      {[this](const sip::Hop& from, sip::Message msg) { logic_->on_message(from, std::move(msg), base::Now::system()); },
       [this](uint64_t flow) { logic_->on_flow_closed(flow, base::Now::system()); },
       [this](const sip::Message& msg) { logic_->on_undelivered(msg, base::Now::system()); }},
      server_tls, client_tls,
      true);  // in process: an eP-CSCF of this process that asks for it ([pcscf] core_in_process)

  // Where we are, per transport: Via sent-by, Record-Route and Service-Route.
  std::vector<LocalAddress> local;
  for (std::string t : {"UDP", "TCP", "TLS"}) {
    auto bound = sip_->local_endpoint(servers::transport_of(t));
    if (!bound) continue;
    std::string host = cfg_.sip_host;
    if (host.empty()) {
      bool wildcard = bound->addr == base::IpAddress() || bound->addr == *base::IpAddress::parse("::");
      host = wildcard ? servers::primary_address() : bound->addr.to_string();
      if (!wildcard && !bound->addr.is_v4()) host = "[" + host + "]";
    }
    local.push_back({t, host + ":" + std::to_string(bound->port)});
  }

  // Digest nonces are keyed per process start: a restart only costs outstanding challenges a new
  // round trip, and nonce-count replay state (in memory) can never be bypassed across restarts.
  std::array<uint8_t, 32> nonce_secret;
  crypto::random_bytes(nonce_secret);
  logic_ = std::make_unique<CoreLogic>(cfg_, std::move(local), *store_, static_cast<Io&>(*this), random_,
                                       base::Bytes(nonce_secret), base::Now::system());
  OPENSSL_cleanse(nonce_secret.data(), nonce_secret.size());

  metrics_.add_collector([this](base::metrics::Sink& m) {
    const Stats& st = logic_->stats();
    const sip::ProxyStats& ps = logic_->proxy_stats();
    m.gauge("webims_core_registrations", "Current bindings (registered contacts)", {}, double(logic_->registration_count()));
    for (size_t r = 0; r < size_t(RegisterResult::Count); ++r)
      m.counter("webims_core_register_total", "REGISTER requests answered, by result",
                {{"result", std::string(name(RegisterResult(r)))}}, double(st.register_results[r]));
    for (size_t r = 0; r < size_t(AuthFailure::Count); ++r)
      m.counter("webims_core_auth_failures_total", "Authentication failures, by reason",
                {{"reason", std::string(name(AuthFailure(r)))}}, double(st.auth_failures[r]));
    for (size_t i = 1; i < st.routed.size(); ++i) {
      auto method = sip::method_name(sip::Method(i));
      if (method.empty()) continue;
      m.counter("webims_core_requests_routed_total", "Requests routed, by method", {{"method", std::string(method)}},
                double(st.routed[i]));
    }
    for (size_t c = 1; c <= 6; ++c)
      m.counter("webims_core_responses_sent_total", "Responses sent (local and relayed), by class",
                {{"class", std::to_string(c) + "xx"}}, double(st.responses[c]));
    m.gauge("webims_core_transactions", "SIP transactions in progress", {}, double(logic_->transaction_count()));
    m.gauge("webims_core_aka_challenges", "Outstanding AKA challenges", {}, double(logic_->aka_challenges()));
    m.counter("webims_core_retransmissions_total", "Requests and responses retransmitted over UDP", {},
              double(ps.retransmissions_sent));
    m.counter("webims_core_timeouts_total", "Forwarded requests that got no final response", {}, double(ps.timeouts));
    m.counter("webims_core_malformed_total", "Malformed requests answered 400 and responses dropped", {},
              double(ps.malformed));
  });
  if (!cfg_.control_listen.empty()) {
    http_ = servers::open_control_listener(io, cfg_.control_listen, metrics_, [this] { return health(); },
                                           servers::ControlMethods::GetHead);
  }
}

CoreService::~CoreService() { stop(); }

void CoreService::start() {
  for (auto& l : sip_listeners()) LOG_INFO(kLog) << "SIP listener " << l;
  if (http_) LOG_INFO(kLog) << "control listener http://" << http_->local_endpoint().to_string() << " (/metrics, /health)";
  LOG_INFO(kLog) << "home domain " << cfg_.home_domain << ", " << logic_->registration_count()
                 << " binding(s) loaded from the store";
  tick();
}

void CoreService::tick() {
  // Proxy timers (T1 = 500 ms) and registration expiry; 100 ms is fine-grained enough for both.
  auto now = base::Now::system();
  logic_->on_timer(now);
  if (now.steady >= next_poll_) {
    next_poll_ = now.steady + std::chrono::seconds(2);
    try {
      logic_->poll_store(now);  // `webims admin` changes from another process
    } catch (const std::exception& e) {
      LOG_WARN(kLog) << "store: " << e.what();
    }
  }
  timer_.expires_after(std::chrono::milliseconds(100));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopped_) tick();
  });
}

void CoreService::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  if (logic_) {
    try {
      logic_->flush_store();  // write-behind registration changes go to the store before we exit
    } catch (const std::exception& e) {
      LOG_ERROR(kLog) << "store: " << e.what() << "; " << logic_->unwritten_changes()
                      << " registration change(s) not written";
    }
  }
  if (sip_) sip_->close();
  if (http_) http_->stop();
}

std::vector<std::string> CoreService::sip_listeners() const { return sip_->listeners(); }

base::Endpoint CoreService::control_endpoint() const { return http_ ? http_->local_endpoint() : base::Endpoint{}; }

bool CoreService::send(const sip::Hop& to, const sip::Message& msg) {
  if (to.transport != "UDP" && to.transport != "TCP" && to.transport != "TLS") {
    LOG_WARN(kLog) << "cannot send over " << to.transport << " to " << to.remote.to_string();
    return false;
  }
  if (sip_->send(servers::peer_of(to), msg)) return true;
  LOG_WARN(kLog) << "could not send " << (msg.is_request() ? msg.method() : "a response") << " to " << to.to_string();
  return false;
}

std::string CoreService::health() const {
  nlohmann::json j;
  j["status"] = "ok";
  j["registrations"] = logic_->registration_count();
  j["transactions"] = logic_->transaction_count();
  j["home_domain"] = cfg_.home_domain;
  j["sip_listeners"] = sip_listeners();
  return j.dump() + "\n";
}

}  // namespace core::io
