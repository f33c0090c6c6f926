// The WWSF's request handling, sans I/O (TR 33.871 4.2.2, 6.1.2, 6.1.3, Annex C): routing, web
// accounts, login sessions with CSRF protection, identity linking, the scenario 3 guest pool and
// token requests toward the WAF. The shell (io/wwsf_service) feeds it HTTP requests and the clock
// and carries out the W4 call through WafCaller.
//
// API (JSON bodies; every POST needs `Content-Type: application/json` and an Origin that is this
// WWSF's own or one of cors_origins; those marked [csrf] also need the session cookie and the
// session's token in `X-CSRF-Token`):
//   GET  /api/wic-config                          -> {pcscf_url, wwsf_id, guest, web_login, open_registration}
//                                                    what the app needs before anyone signs in (no session)
//   POST /api/register {username,password}       when open_registration
//   POST /api/login {username,password}          -> {username, csrf_token} + Set-Cookie
//   GET  /api/session                             -> {kind, csrf_token, username, links | guest}
//   POST /api/logout                              [csrf]
//   POST /api/links {impi}                        [csrf] unconfirmed link
//   POST /api/links/confirm {impi,password}       [csrf] the IMS side confirms (see below)
//   POST /api/links/remove {impi}                 [csrf]
//   POST /api/guest                               -> {impi, impu, expires_in, csrf_token} + Set-Cookie
//   POST /api/guest/release                       [csrf]
//   POST /api/token {impi}                        [csrf] -> {access_token, token_type, expires_in, impu, impi, pool}
// Anything else under /api/ is 404; other GET/HEAD paths are the app's static files.
//
// Identity linking, Annex C M2. The web user asks to link an IMPI (POST /api/links): the WWSF stores
// an unconfirmed link and reveals nothing about the IMPI. The IMS side then confirms it: the user
// proves the subscription by its IMS credential (POST /api/links/confirm with the IMS Digest
// password), which the WWSF checks against the HSS's HA1 for that IMPI in the operator's store
// (H(impi:realm:password) compared in constant time with the stored HA1), the same check the S-CSCF
// does for a Digest REGISTER, without the WWSF ever storing or logging the password. Only then, and
// only if the subscription lists this WWSF among its allowed WWSFs (REQ 2.1/2.3), is the link marked
// confirmed; only confirmed links yield tokens. In M2's terms the HSS data is the "IMS side" that
// vouches for the mapping and the WWSF keeps the mapping; in a split deployment where the WWSF must
// not read the HSS, this one check moves behind an operator API (the WAF) unchanged for the browser.
// Subscriptions with only IMS AKA credentials cannot be linked this way (no password to prove).
// Confirmation attempts count against the same limits as logins (per IMPI and per address), so the
// endpoint cannot be used to guess IMS passwords.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "base/result.hpp"
#include "net/http_server.hpp"
#include "store/store.hpp"
#include "wwsf/logic/credentials.hpp"
#include "wwsf/logic/sessions.hpp"
#include "wwsf/logic/static_files.hpp"
#include "wwsf/logic/w4.hpp"

namespace wwsf {

inline constexpr std::string_view kSessionCookie = "__Host-webims_session";

struct WwsfSettings {
  std::string wwsf_id = "localhost";
  // The eP-CSCF's WebSocket URL for the app (/api/wic-config); a literal "{host}" is replaced by the
  // page with location.hostname, so one value serves a page opened by name or by address.
  std::string pcscf_url = "wss://{host}:7443";
  std::string origin = "https://localhost:8443";
  std::vector<std::string> cors_origins;
  std::vector<std::string> csp_connect_src;
  bool open_registration = false;
  bool hsts = true;  // the listener is HTTPS
  std::chrono::seconds session_idle{1800};
  std::chrono::seconds session_lifetime{43200};
  std::chrono::seconds guest_lifetime{3600};
  int login_attempts = 5;
  std::chrono::seconds login_window{900};
  int guest_rate = 10;
  std::chrono::seconds guest_window{3600};
  size_t max_sessions = 100000;
  PwhashCost pwhash = PwhashCost::interactive();
  std::string w4_client_id;  // sent as client_id over W4 when not empty
};

// W4 transport: POSTs the form body to the WAF's token endpoint over mutually authenticated TLS.
class WafCaller {
 public:
  struct Answer {
    int status = 0;
    std::string body;
  };
  // The string: why no answer came (connection, TLS, timeout), one sentence without secrets.
  using Done = std::function<void(base::Result<Answer, std::string>)>;
  virtual ~WafCaller() = default;
  virtual void post_token_request(std::string form_body, Done done) = 0;
};

struct WwsfStats {
  uint64_t logins = 0, login_failures = 0, rate_limited = 0, csrf_refused = 0, accounts_created = 0;
  uint64_t links_requested = 0, links_confirmed = 0, links_refused = 0;
  uint64_t guests_assigned = 0, guests_refused_exhausted = 0, guests_released = 0;
  uint64_t tokens_issued = 0, tokens_refused = 0, waf_errors = 0;
};

class WwsfLogic {
 public:
  // Throws std::runtime_error when libsodium cannot start.
  WwsfLogic(WwsfSettings s, store::Store& store, base::Random& random, WafCaller& waf, StaticFiles files);
  ~WwsfLogic();

  // One request of the W1 listener; `respond` is called exactly once, now or when the WAF answers.
  void handle(const net::HttpRequest& req, base::Now now, net::HttpRespond respond);
  // Ends expired sessions (releasing their guests' pool subscriptions) and old rate-limit windows.
  void on_timer(base::Now now);

  // Creates a web account (the admin path and POST /api/register). Error: one sentence.
  base::Result<bool, std::string> add_account(const std::string& username, const std::string& password,
                                              int64_t now_unix);

  const WwsfStats& stats() const { return stats_; }
  size_t session_count() const { return sessions_.size(); }

 private:
  struct Ctx;
  net::HttpResponse api(Ctx& c, net::HttpRespond& respond, bool& deferred);
  net::HttpResponse preflight(const Ctx& c) const;
  net::HttpResponse register_account(Ctx& c);
  net::HttpResponse login(Ctx& c);
  net::HttpResponse session_info(Ctx& c);
  net::HttpResponse wic_config();
  net::HttpResponse logout(Ctx& c);
  net::HttpResponse link(Ctx& c);
  net::HttpResponse confirm_link(Ctx& c);
  net::HttpResponse remove_link(Ctx& c);
  net::HttpResponse guest(Ctx& c);
  net::HttpResponse guest_release(Ctx& c);
  void token(Ctx& c, net::HttpRespond respond);
  void finish(const Ctx& c, net::HttpResponse& r) const;
  bool origin_allowed(const std::string& origin) const;
  std::string session_cookie(const std::string& id, std::chrono::seconds max_age) const;
  void end_session(const std::string& id);
  void release_guest(const Session& s);

  WwsfSettings s_;
  store::Store& store_;
  base::Random& random_;
  WafCaller& waf_;
  StaticFiles files_;
  std::string csp_;
  std::string dummy_hash_;  // verified against for unknown accounts, so timing does not tell them apart
  SessionTable sessions_;
  WindowCounter login_failures_;  // per account / per IMPI
  WindowCounter address_failures_;
  WindowCounter guests_per_address_;
  WwsfStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // W4 answers after destruction are dropped
};

// Creates a web account of `wwsf_id` (the admin path `webims wwsf --add-account` and POST /api/register):
// checks the username (1-64 of letters, digits, . _ - @ +) and password (8-256 bytes), stores the
// Argon2id hash. Error: one sentence (bad input, or the account exists).
base::Result<bool, std::string> create_web_account(store::Store& store, const std::string& wwsf_id,
                                                   const std::string& username, const std::string& password,
                                                   PwhashCost cost, int64_t now_unix);

// Cookie header value -> the value of `name` (RFC 6265 §5.4 syntax); empty when absent.
std::string cookie_value(const net::HttpRequest& req, std::string_view name);

}  // namespace wwsf
