#include "wwsf/io/wwsf_service.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "common/control_listener.hpp"
#include "common/host_address.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/tls.hpp"
#include "store/store.hpp"

namespace wwsf::io {

namespace {

constexpr const char* kLog = "wwsf";

std::chrono::seconds secs(base::config::Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d); }

}  // namespace

WwsfSettings settings_from(const WwsfConfig& cfg) {
  WwsfSettings s;
  s.wwsf_id = cfg.id;
  s.origin = cfg.origin;
  s.cors_origins = cfg.cors_origins;
  s.csp_connect_src = cfg.csp_connect_src;
  s.pcscf_url = cfg.pcscf_url;
  s.open_registration = cfg.open_registration;
  s.hsts = cfg.listen.rfind("https://", 0) == 0;
  s.session_idle = secs(cfg.session_idle);
  s.session_lifetime = secs(cfg.session_lifetime);
  s.guest_lifetime = secs(cfg.guest_lifetime);
  s.login_attempts = cfg.login_attempts;
  s.login_window = secs(cfg.login_window);
  s.guest_rate = cfg.guest_rate;
  s.guest_window = secs(cfg.guest_window);
  s.max_sessions = size_t(cfg.max_sessions);
  s.w4_client_id = cfg.w4_client_id;
  return s;
}

WwsfService::WwsfService(boost::asio::io_context& io, const WwsfConfig& cfg, const servers::StoreConfig& store_cfg,
                         const servers::TlsConfig& tls_cfg, ColocatedWaf waf)
    : io_(io), cfg_(cfg), waf_(std::move(waf)), timer_(io) {
  if (waf_.w4_in_process && !waf_.handle) throw std::invalid_argument("W4 in process needs the WAF's handler");
  store_ = store::Store::open(store_cfg.url);
  if (auto w = store_->find_wwsf(cfg.id); !w)
    LOG_WARN(kLog) << "WWSF \"" << cfg.id << "\" is not in the store: the WAF and the core will refuse its tokens "
                   << "(webims admin wwsf add " << cfg.id << ")";
  else if (w->blocked)
    LOG_WARN(kLog) << "WWSF \"" << cfg.id << "\" is blocked by the operator: its tokens will be refused";

  auto files = tls_cfg.resolve();
  if (files.generated) LOG_INFO(kLog) << "TLS: using the generated certificate " << files.cert << " (CA " << files.ca << ")";
  std::shared_ptr<boost::asio::ssl::context> server_tls;
  if (cfg.listen.rfind("https://", 0) == 0) {
    server_tls = net::make_server_tls_context(files.cert, files.key);
    if (waf_.request_client_cert) net::request_client_certificates(*server_tls);
  }

  // W4: trust the [tls] CA and present the WWSF's client certificate (RFC 8705 mTLS).
  w4_tls_ = net::make_client_tls_context(files.ca, true);
  std::string cert = cfg.w4_cert_file.empty() ? files.cert : cfg.w4_cert_file;
  std::string key = cfg.w4_key_file.empty() ? files.key : cfg.w4_key_file;
  boost::system::error_code ec;
  w4_tls_->use_certificate_chain_file(cert, ec);
  if (ec) throw std::runtime_error("[wwsf] W4 client certificate " + cert + ": " + ec.message());
  w4_tls_->use_private_key_file(key, boost::asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("[wwsf] W4 client key " + key + ": " + ec.message());
  w4_cert_sha256_ = net::cert_sha256_hex(cert);

  logic_ = std::make_unique<WwsfLogic>(settings_from(cfg), *store_, random_, static_cast<WafCaller&>(*this),
                                       StaticFiles(cfg.web_root));

  http_ = std::make_unique<net::HttpServer>(
      io, cfg.listen,
      net::HttpAsyncHandler([this](const net::HttpRequest& r, net::HttpRespond respond) {
        if (waf_.handle)
          if (auto res = waf_.handle(r)) return respond(std::move(*res));
        logic_->handle(r, base::Now::system(), std::move(respond));
      }),
      server_tls);

  metrics_.add_collector([this](base::metrics::Sink& m) {
    const auto& st = logic_->stats();
    m.gauge("webims_wwsf_sessions", "Login and guest sessions held", {}, double(logic_->session_count()));
    m.counter("webims_wwsf_logins_total", "Successful logins", {}, double(st.logins));
    m.counter("webims_wwsf_login_failures_total", "Failed logins", {}, double(st.login_failures));
    m.counter("webims_wwsf_accounts_created_total", "Web accounts created", {}, double(st.accounts_created));
    m.counter("webims_wwsf_refused_total", "Requests refused, by reason", {{"reason", "rate_limited"}}, double(st.rate_limited));
    m.counter("webims_wwsf_refused_total", "Requests refused, by reason", {{"reason", "csrf"}}, double(st.csrf_refused));
    m.counter("webims_wwsf_links_total", "Identity links, by outcome", {{"outcome", "requested"}}, double(st.links_requested));
    m.counter("webims_wwsf_links_total", "Identity links, by outcome", {{"outcome", "confirmed"}}, double(st.links_confirmed));
    m.counter("webims_wwsf_links_total", "Identity links, by outcome", {{"outcome", "refused"}}, double(st.links_refused));
    m.counter("webims_wwsf_guests_total", "Guest pool assignments, by outcome", {{"outcome", "assigned"}}, double(st.guests_assigned));
    m.counter("webims_wwsf_guests_total", "Guest pool assignments, by outcome", {{"outcome", "exhausted"}},
              double(st.guests_refused_exhausted));
    m.counter("webims_wwsf_guests_total", "Guest pool assignments, by outcome", {{"outcome", "released"}}, double(st.guests_released));
    m.counter("webims_wwsf_tokens_total", "Token requests, by outcome", {{"outcome", "issued"}}, double(st.tokens_issued));
    m.counter("webims_wwsf_tokens_total", "Token requests, by outcome", {{"outcome", "refused"}}, double(st.tokens_refused));
    m.counter("webims_wwsf_tokens_total", "Token requests, by outcome", {{"outcome", "waf_error"}}, double(st.waf_errors));
  });
  if (!cfg.control_listen.empty()) {
    control_ = servers::open_control_listener(io, cfg.control_listen, metrics_, [this] { return health(); },
                                              servers::ControlMethods::Any);
  }
}

WwsfService::~WwsfService() { stop(); }

void WwsfService::start() {
  LOG_INFO(kLog) << "WWSF \"" << cfg_.id << "\" on " << cfg_.listen << " (origin " << cfg_.origin << "), app from "
                 << cfg_.web_root << ", tokens from "
                 << (waf_.w4_in_process ? "the WAF of this process (W4 in memory)" : cfg_.waf_token_url);
  if (control_) LOG_INFO(kLog) << "control listener http://" << control_->local_endpoint().to_string() << " (/metrics, /health)";
  schedule();
}

void WwsfService::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  if (http_) http_->stop();
  if (control_) control_->stop();
}

base::Endpoint WwsfService::endpoint() const { return http_->local_endpoint(); }
base::Endpoint WwsfService::control_endpoint() const { return control_ ? control_->local_endpoint() : base::Endpoint{}; }

void WwsfService::schedule() {
  timer_.expires_after(std::chrono::seconds(15));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    try {
      logic_->on_timer(base::Now::system());
    } catch (const std::exception& e) {
      LOG_ERROR(kLog) << "session upkeep failed: " << e.what();
    }
    schedule();
  });
}

void WwsfService::post_token_request(std::string form_body, Done done) {
  if (waf_.w4_in_process) return post_in_process(std::move(form_body), std::move(done));
  net::HttpClientRequest req;
  req.method = "POST";
  req.url = cfg_.waf_token_url;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = std::move(form_body);
  net::HttpClientOptions opts;
  opts.tls = w4_tls_;
  opts.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.w4_timeout);
  opts.max_body_bytes = 64 * 1024;
  net::http_request(io_, std::move(req), opts, [done = std::move(done)](base::Result<net::HttpClientResponse, std::string> r) {
    if (!r) return done(base::fail(r.error()));
    done(WafCaller::Answer{r->status, std::move(r->body)});
  });
}

// The request the WAF would have read off the mutually authenticated connection: same method, path,
// form and client-certificate hash, so its client authentication (RFC 8705) and REQ 2.1/2.2/3.2 checks
// run unchanged. Posted, so the logic that asked is never re-entered from inside its own call.
void WwsfService::post_in_process(std::string form_body, Done done) {
  auto req = std::make_shared<net::HttpRequest>();
  req->method = "POST";
  req->target = req->path = waf_.token_path;
  req->headers = {{"content-type", "application/x-www-form-urlencoded"}, {"accept", "application/json"}};
  req->body = std::move(form_body);
  req->remote = *base::Endpoint::parse("127.0.0.1:0");
  req->tls = true;
  req->peer_cert_sha256_hex = w4_cert_sha256_;
  boost::asio::post(io_, [this, req, done = std::move(done)] {
    if (stopped_) return;
    std::optional<net::HttpResponse> res;
    try {
      res = waf_.handle(*req);
    } catch (const std::exception& e) {
      LOG_ERROR(kLog) << "the WAF of this process failed on a W4 request: " << e.what();
      return done(base::fail(std::string("the WAF of this process failed")));
    }
    if (!res) return done(base::fail("the WAF of this process does not serve " + waf_.token_path));
    done(WafCaller::Answer{res->status, std::move(res->body)});
  });
}

std::string WwsfService::health() const {
  nlohmann::json j;
  j["status"] = "ok";
  j["wwsf"] = cfg_.id;
  j["sessions"] = logic_->session_count();
  j["listener"] = http_->local_endpoint().to_string();
  return j.dump() + "\n";
}

}  // namespace wwsf::io
