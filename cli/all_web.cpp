#include "all_web.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "store/store.hpp"
#include "waf/io/waf_service.hpp"
#include "wwsf/io/wwsf_service.hpp"

namespace cli {

namespace {
constexpr const char* kLog = "all";
}  // namespace

WebFront::WebFront(const Config& c, bool w4_in_process) {
  waf::WafSettings settings;
  settings.home_domain = c.core.home_domain;
  settings.turn_keys = c.turn.oauth_key_set();
  settings.turn_server_name = c.turn.server_name();
  waf_ = std::make_unique<waf::io::WafService>(io_, c.waf, settings, c.store, c.tls, /*serve=*/false);
  jwks_ = waf_->logic().jwks();

  // The WWSF names its client over W4, so another client pinned to the same certificate (an
  // operator's own record) cannot make the certificate ambiguous (RFC 8705 §2).
  wwsf::WwsfConfig wc = c.wwsf;
  if (wc.w4_client_id.empty()) wc.w4_client_id = kLocalW4Client;
  w4_client_id_ = wc.w4_client_id;
  wwsf::io::ColocatedWaf colo;
  waf::io::WafService* waf = waf_.get();
  colo.handle = [waf](const net::HttpRequest& r) { return waf->try_handle(r); };
  colo.w4_in_process = w4_in_process;
  colo.token_path = c.waf.path_prefix + "/token";
  colo.request_client_cert = c.waf.request_client_cert;
  wwsf_ = std::make_unique<wwsf::io::WwsfService>(io_, wc, c.store, c.tls, std::move(colo));
  endpoint_ = wwsf_->endpoint();

  auto st = store::Store::open(c.store.url);
  auto existing = st->find_oauth_client(w4_client_id_);
  store::OAuthClient client{w4_client_id_, "wwsf", {}, wc.id, wwsf_->w4_cert_sha256(),
                            existing ? existing->created_unix : base::Now::system().unix_s};
  if (!existing || !(*existing == client)) {
    st->put_oauth_client(client);
    LOG_INFO(kLog) << "OAuth client \"" << w4_client_id_ << "\" of WWSF \"" << wc.id << "\" pinned to its W4 certificate "
                   << client.cert_sha256_hex;
  }
}

WebFront::~WebFront() { stop(); }

void WebFront::start() {
  wwsf_->start();
  LOG_INFO(kLog) << "WAF on the WWSF's listener " << endpoint_.to_string() << " (issuer "
                 << waf_->logic().settings().issuer << ")";
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    // A handler that throws is a bug; log it and keep serving rather than end the process.
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        LOG_ERROR(kLog) << "WWSF/WAF listener thread: " << e.what();
      }
    }
  });
}

void WebFront::stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    wwsf_->stop();
    waf_->stop();
    io_.stop();
  });
  thread_.join();
}


}  // namespace cli
