#include "pcscf/io/turn_push.hpp"

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "net/http_client.hpp"

namespace pcscf::io {

namespace {

constexpr const char* kLog = "pcscf";

// One request to one server, with its remaining attempts; kept alive by its pending operation.
struct Attempt : std::enable_shared_from_this<Attempt> {
  Attempt(boost::asio::io_context& io, const TurnPushOptions& o, std::shared_ptr<TurnPushStats> st,
          std::shared_ptr<bool> alive, net::HttpClientRequest r, std::string w)
      : io(io), opts(o), stats(std::move(st)), alive(std::move(alive)), req(std::move(r)), what(std::move(w)),
        left(o.attempts), retry(io) {}

  void run() {
    --left;
    net::HttpClientOptions o;
    o.tls = opts.tls;
    o.timeout = opts.timeout;
    o.max_body_bytes = 16 * 1024;
    net::http_request(io, req, o, [me = shared_from_this()](base::Result<net::HttpClientResponse, std::string> r) {
      if (!*me->alive) return;
      std::string why;
      if (!r) why = r.error();  // names the host and the cause; never the body or the headers
      else if (r->status < 200 || r->status > 299) why = "answered " + std::to_string(r->status);
      if (why.empty()) {
        ++me->stats->delivered;
        return;
      }
      if (me->left <= 0) {
        ++me->stats->given_up;
        LOG_ERROR(kLog) << me->what << " to " << me->req.url << " failed, giving up: " << why;
        return;
      }
      ++me->stats->retried;
      LOG_WARN(kLog) << me->what << " to " << me->req.url << " failed (" << why << "); retrying";
      me->retry.expires_after(me->opts.retry_delay);
      me->retry.async_wait([me](boost::system::error_code ec) {
        if (!ec && *me->alive) me->run();
      });
    });
  }

  boost::asio::io_context& io;
  TurnPushOptions opts;
  std::shared_ptr<TurnPushStats> stats;
  std::shared_ptr<bool> alive;
  net::HttpClientRequest req;
  std::string what;
  int left;
  boost::asio::steady_timer retry;
};

}  // namespace

TurnPusher::TurnPusher(boost::asio::io_context& io, TurnPushOptions opts)
    : io_(io), opts_(std::move(opts)), stats_(std::make_shared<TurnPushStats>()), alive_(std::make_shared<bool>(true)) {
  if (opts_.attempts < 1) opts_.attempts = 1;
}

TurnPusher::~TurnPusher() { *alive_ = false; }

void TurnPusher::push(const std::string& username, const std::string& password, int64_t expires_unix) {
  nlohmann::json j{{"username", username}, {"password", password}, {"expires", expires_unix}};
  post("/v1/credentials", j.dump(), "push of TURN credential " + username);
}

void TurnPusher::revoke(const std::string& username, int64_t until_unix) {
  nlohmann::json j{{"username", username}, {"until", until_unix}};
  post("/v1/revocations", j.dump(), "revocation of TURN credential " + username);
}

void TurnPusher::post(const std::string& path, const std::string& body, const std::string& what) {
  for (const auto& base_url : opts_.base_urls) {
    net::HttpClientRequest req;
    req.method = "POST";
    std::string url = base_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    req.url = url + path;
    req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + opts_.bearer_token}};
    req.body = body;
    std::make_shared<Attempt>(io_, opts_, stats_, alive_, std::move(req), what)->run();
  }
}

}  // namespace pcscf::io
