#include "pcscf/io/pcscf_service.hpp"

#include <netdb.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "base/encoding.hpp"
#include "base/log.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/sip_transport.hpp"
#include "net/tls.hpp"
#include "net/ws_server.hpp"
#include "sip/proxy.hpp"
#include "sip/uri.hpp"
#include "store/store.hpp"
#include "common/control_listener.hpp"
#include "common/host_address.hpp"
#include "common/sip_layer.hpp"

namespace pcscf::io {

namespace {

constexpr const char* kLog = "pcscf";

std::string upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(uint8_t(c)));
  return s;
}

// The core's hop from `next_hop` (an IP literal, or a name resolved once at start-up).
sip::Hop resolve_next_hop(const std::string& text) {
  auto uri = sip::parse_uri(text);
  if (!uri || !uri->is_sip()) throw std::runtime_error("[pcscf] next_hop \"" + text + "\" is not a SIP URI");
  if (auto hop = sip::ProxyCore::hop_for_uri(*uri)) return *hop;
  std::string host(uri->host_address());
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res)
    throw std::runtime_error("[pcscf] next_hop host \"" + host + "\" does not resolve");
  auto ep = base::Endpoint::from_sockaddr(res->ai_addr);
  freeaddrinfo(res);
  sip::Hop hop;
  std::string t = upper(std::string(uri->transport()));
  hop.transport = t.empty() ? (uri->scheme == sip::Scheme::Sips ? "TLS" : "UDP") : t;
  hop.remote = {ep->addr, uri->port.value_or(hop.transport == "TLS" ? 5061 : 5060)};
  return hop;
}

}  // namespace

PcscfService::PcscfService(boost::asio::io_context& io, const PcscfConfig& cfg,
                           const std::vector<token::TurnKey>& turn_keys, const servers::StoreConfig& store_cfg,
                           const servers::TlsConfig& tls_cfg, const std::optional<std::string>& token_jwks)
    : io_(io), cfg_(cfg), timer_(io), purge_timer_(io), wwsf_timer_(io) {
  store_ = store::Store::open(store_cfg.url);

  PcscfSettings s;
  s.next_hop = resolve_next_hop(cfg.next_hop);
  if (!turn_keys.empty()) s.turn_key = turn_keys.front();
  else LOG_WARN(kLog) << "no [[turn.secrets]]: REGISTER/OPTIONS asking for a TURN credential will get none";
  s.turn_policy.lifetime_s = std::chrono::duration_cast<std::chrono::seconds>(cfg.turn_credential_lifetime).count();
  s.turn_policy.grace_s = std::chrono::duration_cast<std::chrono::seconds>(cfg.turn_credential_grace).count();
  s.turn_policy.coturn_order = cfg.turn_credential_coturn_order;
  s.turn_policy.uris = cfg.turn_uris;
  crypto::random_bytes(s.flow_key);

  auto seconds = [](base::config::Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); };
  s.token.home_domain = cfg.home_domain;
  s.token.policy.issuers = cfg.token_issuers;
  s.token.policy.audience = cfg.home_domain;
  s.token.policy.max_skew_seconds = seconds(cfg.token_max_skew);
  bool static_jwks = !cfg.token_jwks_file.empty() || token_jwks.has_value();
  s.token.jwks_fetch = jwks_fetch_ = !static_jwks && !cfg.token_jwks_url.empty();
  s.token.introspection = !cfg.token_introspection_url.empty();
  s.token.enabled = static_jwks || s.token.jwks_fetch || s.token.introspection;
  s.token.jwks_refetch_interval_s = seconds(cfg.token_jwks_refetch_interval);
  s.token.jwks_max_age_s = seconds(cfg.token_jwks_max_age);
  if (s.token.enabled && cfg.home_domain.empty()) {
    LOG_WARN(kLog) << "[pcscf] home_domain is empty: Bearer REGISTERs (scenarios 2 and 3) will be refused";
    s.token.enabled = false;
  }
  std::optional<token::VerifyKeys> static_keys;
  if (!cfg.token_jwks_file.empty()) {
    std::ifstream f(cfg.token_jwks_file);
    std::stringstream text;
    text << f.rdbuf();
    if (!f) throw std::runtime_error("[pcscf] cannot read token_jwks_file '" + cfg.token_jwks_file + "'");
    auto keys = token::VerifyKeys::from_jwks(text.str());
    if (!keys) throw std::runtime_error("[pcscf] token_jwks_file '" + cfg.token_jwks_file + "': " + keys.error());
    static_keys = std::move(*keys);
  } else if (token_jwks) {
    auto keys = token::VerifyKeys::from_jwks(*token_jwks);
    if (!keys) throw std::runtime_error("the WAF's keys handed over in process: " + keys.error());
    static_keys = std::move(*keys);
    LOG_INFO(kLog) << "token keys: the WAF of this process (no JWKS fetch)";
  }
  s.turn_push.push = !cfg.turn_push_urls.empty();
  s.turn_push.revoke = s.turn_push.push && cfg.turn_revoke_on_deregister;

  // SIP toward the core first: its address goes into Via, Path and Record-Route.
  std::shared_ptr<boost::asio::ssl::context> server_tls;
  bool need_tls = std::any_of(cfg.listen.begin(), cfg.listen.end(), [](auto& l) { return l.rfind("wss://", 0) == 0; }) ||
                  std::any_of(cfg.sip_listen.begin(), cfg.sip_listen.end(), [](auto& l) { return l.rfind("tls://", 0) == 0; });
  if (need_tls) {
    auto files = tls_cfg.resolve({"localhost", "127.0.0.1", "::1", servers::primary_address()});
    if (files.generated)
      LOG_INFO(kLog) << "TLS: using the generated certificate " << files.cert << " (CA " << files.ca << ")";
    server_tls = net::make_server_tls_context(files.cert, files.key);
  }
  std::string http_ca = tls_cfg.ca_file;
  if (need_tls) {
    auto files = tls_cfg.resolve({"localhost", "127.0.0.1", "::1", servers::primary_address()});
    if (http_ca.empty() && files.generated) http_ca = files.ca;  // the local CA of a self-contained deployment
  }
  http_tls_ = net::make_client_tls_context(http_ca, true);
  auto client_tls = net::make_client_tls_context(tls_cfg.ca_file, true);
  sip_ = servers::open_sip_layer(
      io, cfg.sip_listen,
      {[this](const sip::Hop& from, sip::Message msg) { logic_->on_sip_message(from, std::move(msg), base::Now::system()); },
       [this](uint64_t flow) { logic_->on_sip_flow_closed(flow, base::Now::system()); },
       [this](const sip::Message& msg) { logic_->on_sip_undelivered(msg, base::Now::system()); }},
      server_tls, client_tls, cfg.core_in_process);
  auto first = cfg.sip_listen.front();
  s.sip_transport = upper(first.substr(0, first.find("://")));
  auto bound = sip_->local_endpoint(servers::transport_of(s.sip_transport));
  if (!bound) throw std::runtime_error("[pcscf] sip_listen: no listener for " + s.sip_transport);
  std::string host = cfg.sip_host;
  if (host.empty()) {
    host = bound->addr.to_string();
    if (host == "0.0.0.0" || host == "::") host = servers::primary_address();
    if (!bound->addr.is_v4()) host = "[" + host + "]";
  }
  s.sip_host_port = host.find(':') != std::string::npos && host.front() != '[' ? host : host + ":" + std::to_string(bound->port);
  logic_ = std::make_unique<PcscfLogic>(s, static_cast<PcscfIo&>(*this), random_);
  if (s.turn_push.push) {
    TurnPushOptions po;
    po.base_urls = cfg.turn_push_urls;
    po.bearer_token = cfg.turn_push_token;
    po.attempts = cfg.turn_push_attempts;
    po.tls = http_tls_;
    turn_push_ = std::make_unique<TurnPusher>(io, std::move(po));
    LOG_INFO(kLog) << "Approach 2: TURN credentials pushed to " << cfg.turn_push_urls.size() << " control API(s)"
                   << (s.turn_push.revoke ? ", revoked on deregistration and connection close" : "");
  }
  if (static_keys) logic_->set_verify_keys(std::move(*static_keys));

  net::WsServerOptions wo;
  wo.allowed_origins = cfg.allowed_origins;
  wo.max_message_bytes = size_t(cfg.max_message_bytes);
  wo.ping_interval = std::chrono::duration_cast<std::chrono::seconds>(cfg.ws_ping_interval);
  wo.max_connections = size_t(cfg.max_connections);
  for (auto& url : cfg.listen) {
    auto server = std::make_unique<net::WsServer>(
        io, url, wo,
        [this](const net::WsConnectionInfo& c) {
          logic_->on_ws_open({c.id, c.remote, c.tls, c.origin, c.tls_session_id});
        },
        [this](uint64_t c, std::string text) { logic_->on_ws_message(c, std::move(text), base::Now::system()); },
        [this](uint64_t c, uint16_t) { logic_->on_ws_closed(c, base::Now::system()); },
        url.rfind("wss://", 0) == 0 ? server_tls : nullptr);
    ws_.push_back(std::move(server));
  }

  metrics_.add_collector([this](base::metrics::Sink& m) {
    const auto& st = logic_->stats();
    const auto& ps = logic_->proxy_stats();
    size_t conns = 0;
    for (auto& w : ws_) conns += w->connection_count();
    m.gauge("webims_pcscf_ws_connections", "Open WebSocket connections from WICs", {}, double(conns));
    m.gauge("webims_pcscf_bound_identities", "IMPUs bound to connections", {}, double(logic_->bindings().identity_count()));
    m.counter("webims_pcscf_registrations_total", "Successful registrations relayed (200 OK)", {}, double(st.registrations));
    m.counter("webims_pcscf_deregistrations_total", "Deregistrations relayed", {}, double(st.deregistrations));
    m.counter("webims_pcscf_turn_credentials_total", "Solution 1 TURN credentials issued", {}, double(st.turn_credentials));
    m.counter("webims_pcscf_refused_total", "Requests refused, by reason", {{"reason", "unbound_identity"}},
              double(st.refused_unbound_identity));
    m.counter("webims_pcscf_refused_total", "Requests refused, by reason", {{"reason", "malformed"}}, double(st.refused_malformed));
    m.counter("webims_pcscf_refused_total", "Requests refused, by reason", {{"reason", "token"}}, double(st.refused_token));
    m.counter("webims_pcscf_refused_total", "Requests refused, by reason", {{"reason", "flow_failed"}}, double(st.flow_failed));
    m.counter("webims_pcscf_token_registrations_total", "REGISTERs with a valid token forwarded with TNA", {},
              double(st.token_registrations));
    m.counter("webims_pcscf_token_unavailable_total", "Bearer REGISTERs answered 503 (keys or introspection unreachable)",
              {}, double(st.token_unavailable));
    m.counter("webims_pcscf_jwks_fetches_total", "JWKS fetches started", {}, double(st.jwks_fetches));
    m.counter("webims_pcscf_jwks_fetch_failures_total", "JWKS fetches that failed", {}, double(st.jwks_fetch_failures));
    m.counter("webims_pcscf_turn_pushes_total", "TURN credentials pushed (Approach 2)", {}, double(st.turn_pushes));
    m.counter("webims_pcscf_turn_revocations_total", "TURN credentials revoked (Approach 2)", {}, double(st.turn_revocations));
    m.counter("webims_pcscf_forwarded_total", "Requests forwarded", {}, double(ps.forwarded));
    m.counter("webims_pcscf_timeouts_total", "Forwarded requests that timed out", {}, double(ps.timeouts));
    m.gauge("webims_pcscf_transactions", "Proxy transactions in progress", {}, double(logic_->proxy_stats().forwarded ? 0 : 0));
  });
  if (!cfg.control_listen.empty()) {
    http_ = servers::open_control_listener(io, cfg.control_listen, metrics_, [this] { return health(); },
                                           servers::ControlMethods::Any);
  }
}

PcscfService::~PcscfService() { stop(); }

void PcscfService::start() {
  for (auto& l : ws_listeners()) LOG_INFO(kLog) << "WebSocket listener " << l;
  for (auto& l : sip_listeners()) LOG_INFO(kLog) << "SIP listener toward the core " << l;
  LOG_INFO(kLog) << "next hop " << cfg_.next_hop << "; allowed origins:" << [&] {
    std::string s;
    for (auto& o : cfg_.allowed_origins) s += " " + o;
    return s;
  }();
  schedule();
  purge_turn_credentials();
  poll_wwsfs();
  if (jwks_fetch_) fetch_jwks();  // warm the cache
}

void PcscfService::poll_wwsfs() {
  if (stopped_) return;
  try {
    uint64_t gen = store_->wwsfs_generation();
    if (gen != wwsfs_generation_) {
      std::vector<WwsfInfo> table;
      for (auto& w : store_->list_wwsfs()) table.push_back({w.id, w.pool_pattern, w.blocked});
      LOG_INFO(kLog) << "WWSF table loaded: " << table.size() << " WWSF(s)";
      logic_->set_wwsfs(std::move(table));
      wwsfs_generation_ = gen;
    }
  } catch (const std::exception& e) {
    LOG_ERROR(kLog) << "could not read the WWSF table: " << e.what();
  }
  // A blocked WWSF (REQ 2.2) takes effect within this delay.
  wwsf_timer_.expires_after(std::chrono::seconds(2));
  wwsf_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) poll_wwsfs();
  });
}

void PcscfService::fetch_jwks() {
  net::HttpClientRequest req;
  req.url = cfg_.token_jwks_url;
  req.headers = {{"Accept", "application/json"}};
  net::HttpClientOptions o;
  o.tls = http_tls_;
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.token_http_timeout);
  o.max_body_bytes = 256 * 1024;
  net::http_request(io_, std::move(req), o, [this, alive = alive_](base::Result<net::HttpClientResponse, std::string> r) {
    if (!*alive) return;
    base::Result<token::VerifyKeys, std::string> keys = base::fail(std::string());
    if (!r) keys = base::fail(r.error());
    else if (r->status != 200) keys = base::fail(cfg_.token_jwks_url + " answered " + std::to_string(r->status));
    else if (auto k = token::VerifyKeys::from_jwks(r->body); !k) keys = base::fail(cfg_.token_jwks_url + ": " + k.error());
    else keys = std::move(*k);
    logic_->on_jwks(std::move(keys), base::Now::system());
  });
}

void PcscfService::introspect(uint64_t request, const std::string& token) {
  net::HttpClientRequest req;
  req.method = "POST";
  req.url = cfg_.token_introspection_url;
  std::string auth = cfg_.token_introspection_client_id.empty()
                         ? "Bearer " + cfg_.token_introspection_secret
                         : "Basic " + base::base64_encode(base::as_bytes(cfg_.token_introspection_client_id + ":" +
                                                                         cfg_.token_introspection_secret));
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"},
                 {"Authorization", std::move(auth)}};
  req.body = introspection_request_body(token);
  net::HttpClientOptions o;
  o.tls = http_tls_;
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.token_http_timeout);
  o.max_body_bytes = 64 * 1024;
  net::http_request(io_, std::move(req), o,
                    [this, alive = alive_, request](base::Result<net::HttpClientResponse, std::string> r) {
                      if (!*alive) return;
                      base::Result<std::string, std::string> body = base::fail(std::string());
                      if (!r) body = base::fail(r.error());
                      else if (r->status != 200) body = base::fail("introspection answered " + std::to_string(r->status));
                      else body = std::move(r->body);
                      logic_->on_introspection(request, std::move(body), base::Now::system());
                    });
}

void PcscfService::push_turn_credential(const std::string& username, const std::string& password, int64_t expires_unix) {
  if (turn_push_) turn_push_->push(username, password, expires_unix);
}

void PcscfService::revoke_turn_credential(const std::string& username, int64_t until_unix) {
  if (turn_push_) turn_push_->revoke(username, until_unix);
}

void PcscfService::purge_turn_credentials() {
  if (stopped_) return;
  try {
    auto keep_s = std::chrono::duration_cast<std::chrono::seconds>(cfg_.turn_credential_retention).count();
    size_t n = store_->expire_turn_credentials(base::Now::system().unix_s - keep_s);
    if (n) LOG_INFO(kLog) << "deleted " << n << " TURN credential record(s) past retention";
  } catch (const std::exception& e) {
    LOG_ERROR(kLog) << "could not delete expired TURN credential records: " << e.what();
  }
  purge_timer_.expires_after(std::chrono::hours(1));
  purge_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) purge_turn_credentials();
  });
}

void PcscfService::schedule() {
  // The proxy's retransmission and timeout timers; 100 ms is well below T1 (500 ms).
  timer_.expires_after(std::chrono::milliseconds(100));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    logic_->on_timer(base::Now::system());
    schedule();
  });
}

void PcscfService::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  turn_push_.reset();
  timer_.cancel();
  purge_timer_.cancel();
  wwsf_timer_.cancel();
  for (auto& w : ws_) w->stop();
  if (sip_) sip_->close();
  if (http_) http_->stop();
}

std::vector<std::string> PcscfService::ws_listeners() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < ws_.size(); ++i) {
    std::string scheme = cfg_.listen[i].substr(0, cfg_.listen[i].find("://"));
    out.push_back(scheme + "://" + ws_[i]->local_endpoint().to_string());
  }
  return out;
}

std::vector<std::string> PcscfService::sip_listeners() const { return sip_->listeners(); }

base::Endpoint PcscfService::control_endpoint() const { return http_ ? http_->local_endpoint() : base::Endpoint{}; }

bool PcscfService::ws_send(uint64_t connection, std::string text) {
  // Copied only when there is a server after this one to try (ws:// and wss:// listeners).
  for (size_t i = 0; i < ws_.size(); ++i)
    if (ws_[i]->send(connection, i + 1 == ws_.size() ? std::move(text) : text)) return true;
  return false;
}

void PcscfService::ws_close(uint64_t connection, uint16_t code, std::string_view reason) {
  for (auto& w : ws_) w->close(connection, code, reason);
}

bool PcscfService::sip_send(const sip::Hop& to, const sip::Message& msg) {
  if (sip_->send(servers::peer_of(to), msg)) return true;
  LOG_WARN(kLog) << "could not send " << (msg.is_request() ? msg.method() : "response") << " to " << to.to_string();
  return false;
}

void PcscfService::record_turn_credential(const TurnCredentialRecord& r) {
  try {
    store::TurnCredentialRecord rec;
    rec.tid = r.tid;
    rec.impu = r.impu;
    rec.impi = r.impi;
    rec.expires_unix = r.expires_unix;
    rec.created_unix = base::Now::system().unix_s;
    rec.origin = r.origin;
    store_->put_turn_credential(rec);
  } catch (const std::exception& e) {
    // The credential was still issued: losing the accountability record is logged, not fatal.
    LOG_ERROR(kLog) << "could not record TURN credential " << r.tid << ": " << e.what();
  }
}

std::string PcscfService::health() const {
  nlohmann::json j;
  j["status"] = "ok";
  size_t conns = 0;
  for (auto& w : ws_) conns += w->connection_count();
  j["ws_connections"] = conns;
  j["bound_identities"] = logic_->bindings().identity_count();
  j["ws_listeners"] = ws_listeners();
  j["sip_listeners"] = sip_listeners();
  return j.dump() + "\n";
}

}  // namespace pcscf::io
