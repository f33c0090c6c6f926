#include "turn/io/turn_service.hpp"

#include <sys/resource.h>

#include <boost/asio/steady_timer.hpp>

#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "common/control_listener.hpp"
#include "crypto/hash.hpp"
#include "net/http_server.hpp"
#include "net/tls.hpp"
#include "store/store.hpp"

namespace turn::io {

namespace {
constexpr const char* kLog = "turn";

// Each allocation holds a relay socket: let the process have as many descriptors as allowed.
void raise_fd_limit() {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}
}  // namespace

TurnService::TurnService(boost::asio::io_context& control, const TurnConfig& cfg, const servers::StoreConfig& store_cfg,
                         const servers::TlsConfig& tls_cfg)
    : control_(control), cfg_(cfg) {
  raise_fd_limit();
  listeners_ = cfg_.listeners();
  ports_.assign(listeners_.size(), 0);

  std::vector<base::IpAddress> own;
  std::array<uint8_t, 32> nonce_key;
  crypto::random_bytes(nonce_key);
  std::string v4 = cfg_.relay_address.empty() ? default_relay_address() : cfg_.relay_address;
  for (const std::string& a : {v4, cfg_.relay_address_v6, cfg_.relay_bind, cfg_.relay_bind_v6})
    if (auto ip = base::IpAddress::parse(a)) own.push_back(*ip);
  for (auto& l : listeners_)
    if (std::any_of(l.endpoint.addr.data(), l.endpoint.addr.data() + l.endpoint.addr.size(), [](uint8_t b) { return b; }))
      own.push_back(l.endpoint.addr);
  shared_ = std::make_unique<Shared>(cfg_, nonce_key, own);
  reservations_ = std::make_unique<Reservations>(shared_->relay_ports);
  if (cfg_.secrets.empty())
    LOG_WARN(kLog) << "no [[turn.secrets]] configured: Solution 1 (eP-CSCF provisioned) credentials are refused";

  store_ = store::Store::open(store_cfg.url);
  load_static_users();
  load_revocations();

  std::shared_ptr<boost::asio::ssl::context> tls;
  bool want_tls = std::any_of(listeners_.begin(), listeners_.end(),
                              [](const Listener& l) { return l.transport == Listener::Transport::Tls; });
  if (want_tls) {
    auto files = tls_cfg.resolve({"localhost", "127.0.0.1", "::1", v4});
    if (files.generated)
      LOG_INFO(kLog) << "TLS: using a generated certificate " << files.cert << " (CA " << files.ca
                     << "); set [tls] cert_file/key_file for a real one";
    tls = net::make_server_tls_context(files.cert, files.key);
  }

  int n = cfg_.threads > 0 ? cfg_.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i)
    workers_.push_back(std::make_unique<Worker>(*shared_, *reservations_, i, listeners_, ports_, tls));

  // Metrics: workers' counters summed at scrape time.
  metrics_.add_collector([this](base::metrics::Sink& s) {
    auto sum = [&](auto get) {
      double v = 0;
      for (auto& w : workers_) v += double(get(*w));
      return v;
    };
    s.gauge("webims_turn_allocations", "Current allocations", {},
            sum([](Worker& w) { return w.logic().stats().allocations.load(); }));
    s.counter("webims_turn_allocations_created_total", "Allocations created", {},
              sum([](Worker& w) { return w.logic().stats().allocations_created.load(); }));
    for (size_t r = 0; r < size_t(Teardown::Count); ++r)
      s.counter("webims_turn_allocations_deleted_total", "Allocations ended, by reason",
                {{"reason", std::string(name(Teardown(r)))}},
                sum([&](Worker& w) { return w.logic().stats().allocations_deleted[r].load(); }));
    for (size_t r = 0; r < size_t(AuthFailure::Count); ++r)
      s.counter("webims_turn_auth_failures_total", "Requests refused by authentication, by reason",
                {{"reason", std::string(name(AuthFailure(r)))}},
                sum([&](Worker& w) { return w.logic().stats().auth_failures[r].load(); }));
    s.counter("webims_turn_challenges_total", "401 challenges to requests without credentials", {},
              sum([](Worker& w) { return w.logic().stats().challenges.load(); }));
    for (size_t r = 0; r < size_t(Drop::Count); ++r)
      s.counter("webims_turn_dropped_total", "Packets and requests dropped, by reason",
                {{"reason", std::string(name(Drop(r)))}},
                sum([&](Worker& w) { return w.logic().stats().drops[r].load(); }));
    for (auto v : {PeerPolicy::Verdict::DeniedByConfig, PeerPolicy::Verdict::DeniedSpecial,
                   PeerPolicy::Verdict::DeniedOwnAddress})
      s.counter("webims_turn_peers_refused_total",
                "Peers refused (403 to CreatePermission/ChannelBind, Send dropped), by reason", {{"reason", std::string(name(v))}},
                sum([&](Worker& w) { return w.logic().stats().peers_refused[size_t(v)].load(); }));
    for (int m : {1, 3, 4, 8, 9})
      s.counter("webims_turn_requests_total", "STUN requests received, by method",
                {{"method", std::string(stun::method_name(stun::Method(m)))}},
                sum([&](Worker& w) { return w.logic().stats().requests[size_t(m)].load(); }));
    s.counter("webims_turn_relayed_packets_total", "Packets relayed", {{"direction", "to_peer"}},
              sum([](Worker& w) { return w.logic().stats().to_peer_packets.load(); }));
    s.counter("webims_turn_relayed_packets_total", "Packets relayed", {{"direction", "to_client"}},
              sum([](Worker& w) { return w.logic().stats().to_client_packets.load(); }));
    s.counter("webims_turn_relayed_bytes_total", "Payload bytes relayed", {{"direction", "to_peer"}},
              sum([](Worker& w) { return w.logic().stats().to_peer_bytes.load(); }));
    s.counter("webims_turn_relayed_bytes_total", "Payload bytes relayed", {{"direction", "to_client"}},
              sum([](Worker& w) { return w.logic().stats().to_client_bytes.load(); }));
    s.counter("webims_turn_send_dropped_total", "Datagrams dropped because a socket buffer was full", {},
              sum([](Worker& w) { return w.io_stats().send_dropped.load(); }));
    s.counter("webims_turn_recv_truncated_total", "Datagrams dropped for being larger than 8 KiB", {},
              sum([](Worker& w) { return w.io_stats().recv_truncated.load(); }));
    s.gauge("webims_turn_stream_connections", "Current TCP/TLS client connections", {},
            sum([](Worker& w) { return w.io_stats().tcp_connections.load(); }));
    s.counter("webims_turn_stream_rejected_total", "TCP/TLS connections refused over max_tcp_connections", {},
              sum([](Worker& w) { return w.io_stats().tcp_rejected.load(); }));
    s.gauge("webims_turn_static_users", "Static TURN users loaded from the store", {},
            double(shared_->credentials.static_user_count()));
    s.gauge("webims_turn_secrets", "Solution 1 keys configured", {}, double(cfg_.secrets.size()));
    s.gauge("webims_turn_revocations", "TURN usernames revoked (Approach 2)", {},
            double(shared_->credentials.revocations()->size()));
  });

  if (!cfg_.control_listen.empty()) {
    std::shared_ptr<boost::asio::ssl::context> control_tls;
    if (cfg_.control_listen.starts_with("https://")) {
      auto files = tls_cfg.resolve({"localhost", "127.0.0.1", "::1", v4});
      control_tls = net::make_server_tls_context(files.cert, files.key);
    }
    http_ = std::make_unique<net::HttpServer>(
        control_, cfg_.control_listen, net::HttpHandler([this](const net::HttpRequest& r) { return this->control(r); }), control_tls);
  }
}

namespace {

net::HttpResponse json_answer(int status, nlohmann::json body) {
  net::HttpResponse res;
  res.status = status;
  res.content_type = "application/json";
  res.body = body.dump() + "\n";
  return res;
}

net::HttpResponse json_error(int status, const std::string& sentence) {
  return json_answer(status, {{"error", sentence}});
}

// Constant time in the length of the expected token.
bool same_secret(std::string_view given, std::string_view expected) {
  unsigned diff = given.size() != expected.size();
  for (size_t i = 0; i < expected.size(); ++i) diff |= uint8_t(expected[i]) ^ uint8_t(i < given.size() ? given[i] : 0);
  return diff == 0;
}

int64_t unix_now() { return base::Now::system().unix_s; }

}  // namespace

net::HttpResponse TurnService::control(const net::HttpRequest& r) {
  if (r.path == "/v1/credentials" || r.path == "/v1/revocations") {
    if (cfg_.control_token.empty()) return json_error(404, "the control API is off: [turn] control_token is not set");
    if (r.method != "POST") {
      auto res = json_error(405, "use POST");
      res.headers.push_back({"Allow", "POST"});
      return res;
    }
    const std::string* auth = r.header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (!auth || !auth->starts_with(kBearer) || !same_secret(std::string_view(*auth).substr(kBearer.size()), cfg_.control_token)) {
      LOG_WARN(kLog) << "control API: refused " << r.method << " " << r.path << " from " << r.remote.to_string()
                     << " (" << (auth ? "wrong bearer token" : "no Authorization") << ")";
      auto res = json_error(401, "a valid bearer token is required");
      res.headers.push_back({"WWW-Authenticate", "Bearer realm=\"webims-turn\""});
      return res;
    }
    try {
      return r.path == "/v1/credentials" ? push_credential(r.body) : revoke(r.body);
    } catch (const store::Error& e) {
      LOG_ERROR(kLog) << "control API: " << e.what();
      return json_error(503, std::string("the credential store failed: ") + e.what());
    }
  }
  return servers::control_page(r, metrics_, [this] { return health(); }, servers::ControlMethods::GetHead);
}

net::HttpResponse TurnService::push_credential(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json_error(400, "the body is not a JSON object");
  if (!j.contains("username") || !j["username"].is_string() || !j.contains("password") || !j["password"].is_string())
    return json_error(400, "\"username\" and \"password\" must be strings");
  if (!j.contains("expires") || !j["expires"].is_number_integer())
    return json_error(400, "\"expires\" must be an integer: the expiry as Unix time in seconds");
  std::string username = j["username"].get<std::string>();
  int64_t expires = j["expires"].get<int64_t>();
  int64_t now = unix_now();
  if (expires <= now) return json_error(400, "\"expires\" is not in the future");
  store::TurnUser u;
  try {
    u = store::make_turn_user(username, cfg_.realm, j["password"].get<std::string>(), now);
  } catch (const store::Error& e) {
    return json_error(400, e.what());
  }
  u.expires_unix = expires;
  store_->put_turn_user(u);
  // Usable at once here; other nodes load it when they see the store's counter move.
  shared_->credentials.put_static_user({u.username, u.key_md5, u.key_sha256, u.expires_unix});
  LOG_INFO(kLog) << "control API: credential \"" << username << "\" pushed, expires " << expires;
  return json_answer(200, {{"username", username}, {"expires", expires}});
}

net::HttpResponse TurnService::revoke(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json_error(400, "the body is not a JSON object");
  if (!j.contains("username") || !j["username"].is_string() || j["username"].get<std::string>().empty())
    return json_error(400, "\"username\" must be a non-empty string");
  if (!j.contains("until") || !j["until"].is_number_integer())
    return json_error(400, "\"until\" must be an integer: the end of the revocation as Unix time in seconds");
  std::string username = j["username"].get<std::string>();
  int64_t until = j["until"].get<int64_t>();
  int64_t now = unix_now();
  if (until <= now) return json_error(400, "\"until\" is not in the future");
  store_->put_turn_revocation({username, until, now});
  // Applied at once: the workers' next tick (within a second) ends the allocations made with it.
  shared_->credentials.add_revocation(username, until);
  LOG_INFO(kLog) << "control API: \"" << username << "\" revoked until " << until;
  return json_answer(200, {{"username", username}, {"until", until}});
}

TurnService::~TurnService() { stop(); }

void TurnService::start() {
  for (auto& w : workers_) threads_.emplace_back([w = w.get()] { w->run(); });
  store_timer_ = std::make_unique<boost::asio::steady_timer>(control_);
  poll_store();
  for (auto& l : bound_listeners()) LOG_INFO(kLog) << "listening on " << l;
  if (http_)
    LOG_INFO(kLog) << "control listener " << (cfg_.control_listen.starts_with("https://") ? "https://" : "http://")
                   << http_->local_endpoint().to_string() << " (/metrics, /health"
                   << (cfg_.control_token.empty() ? "" : ", /v1/credentials, /v1/revocations") << ")";
  if (shared_->credentials.oauth_enabled())
    LOG_INFO(kLog) << "RFC 7635 tokens accepted for server name \"" << cfg_.server_name() << "\", "
                   << cfg_.oauth_keys.size() << " AS-RS key(s)";
  LOG_INFO(kLog) << "relay address " << (shared_->relay_v4 ? shared_->relay_v4->to_string() : "-")
                 << (shared_->relay_v6 ? " and " + shared_->relay_v6->to_string() : "") << ", ports "
                 << cfg_.relay_ports << ", " << workers_.size() << " worker thread(s), realm \"" << cfg_.realm << "\"";
}

void TurnService::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (store_timer_) store_timer_->cancel();
  if (http_) http_->stop();
  for (auto& w : workers_) w->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void TurnService::reload_secrets(const std::vector<SecretConfig>& secrets) {
  shared_->credentials.set_secrets(secrets);
  cfg_.secrets = secrets;
  std::string ids;
  for (auto& s : secrets) ids += (ids.empty() ? "" : ", ") + s.id;
  LOG_INFO(kLog) << "Solution 1 keys reloaded: " << (ids.empty() ? "none" : ids);
}

void TurnService::reload_oauth_keys(const std::vector<OAuthKeyConfig>& keys) {
  cfg_.oauth_keys = keys;
  shared_->credentials.set_oauth_keys(cfg_.oauth_key_set());
  std::string ids;
  for (auto& k : keys) ids += (ids.empty() ? "" : ", ") + k.kid;
  LOG_INFO(kLog) << "Solution 2 AS-RS keys reloaded: " << (ids.empty() ? "none" : ids);
}

void TurnService::load_revocations() {
  uint64_t gen = store_->turn_revocations_generation();
  Credentials::Revocations r;
  for (auto& x : store_->list_turn_revocations(unix_now())) r[x.username] = x.until_unix;
  size_t n = r.size();
  shared_->credentials.set_revocations(std::move(r));
  if (gen != revocations_generation_ && n) LOG_INFO(kLog) << n << " TURN revocation(s) in force";
  revocations_generation_ = gen;
}

void TurnService::load_static_users() {
  uint64_t gen = store_->turn_users_generation();
  std::vector<StaticUser> users;
  size_t other_realm = 0;
  int64_t now = unix_now();
  for (auto& u : store_->list_turn_users()) {
    if (u.realm != cfg_.realm) {
      ++other_realm;
      continue;
    }
    if (u.expires_unix != 0 && u.expires_unix <= now) continue;
    users.push_back({u.username, u.key_md5, u.key_sha256, u.expires_unix});
  }
  if (other_realm)
    LOG_WARN(kLog) << other_realm << " TURN user(s) in the store were added for another realm than \"" << cfg_.realm
                   << "\" and are ignored (re-add them)";
  size_t n = users.size();
  shared_->credentials.set_static_users(std::move(users));
  if (gen != users_generation_ || n) LOG_INFO(kLog) << n << " static TURN user(s) loaded";
  users_generation_ = gen;
}

void TurnService::poll_store() {
  // `webims admin turn-user add|remove` from another process shows up within two seconds.
  try {
    int64_t now = unix_now();
    // Expired pushed credentials and revocations leave the store once a minute (any node may do it).
    if (now - last_expiry_sweep_ >= 60) {
      last_expiry_sweep_ = now;
      store_->expire_turn_users(now);
      store_->expire_turn_revocations(now);
    }
    if (store_->turn_users_generation() != users_generation_) load_static_users();
    if (store_->turn_revocations_generation() != revocations_generation_) load_revocations();
  } catch (const std::exception& e) {
    LOG_WARN(kLog) << "store: " << e.what();
  }
  store_timer_->expires_after(std::chrono::seconds(2));
  store_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec) poll_store();
  });
}

std::vector<std::string> TurnService::bound_listeners() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < listeners_.size(); ++i) {
    const char* scheme = listeners_[i].transport == Listener::Transport::Udp   ? "udp://"
                         : listeners_[i].transport == Listener::Transport::Tcp ? "tcp://"
                                                                               : "tls://";
    base::Endpoint e = listeners_[i].endpoint;
    e.port = ports_[i];
    out.push_back(scheme + e.to_string());
  }
  return out;
}

base::Endpoint TurnService::control_endpoint() const { return http_ ? http_->local_endpoint() : base::Endpoint{}; }

size_t TurnService::allocations() const {
  size_t n = 0;
  for (auto& w : workers_) n += w->logic().stats().allocations.load();
  return n;
}

std::string TurnService::health() const {
  nlohmann::json j;
  j["status"] = "ok";
  j["allocations"] = allocations();
  j["workers"] = workers_.size();
  j["listeners"] = bound_listeners();
  return j.dump() + "\n";
}

}  // namespace turn::io
