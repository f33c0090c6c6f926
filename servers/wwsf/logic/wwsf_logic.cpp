#include "wwsf/logic/wwsf_logic.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "base/encoding.hpp"
#include "base/log.hpp"
#include "crypto/hash.hpp"

namespace wwsf {

using nlohmann::json;

namespace {

constexpr const char* kLog = "wwsf";

net::HttpResponse json_response(int status, const json& body) {
  net::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

net::HttpResponse error(int status, const std::string& text) { return json_response(status, {{"error", text}}); }

bool valid_username(const std::string& u) {
  if (u.empty() || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '@' || c == '+';
  });
}

// An IMPI is a NAI (RFC 7542): printable, no spaces, with a realm.
bool valid_impi(const std::string& i) {
  if (i.size() < 3 || i.size() > 253 || i.find('@') == std::string::npos) return false;
  return std::all_of(i.begin(), i.end(), [](char c) { return uint8_t(c) > 0x20 && uint8_t(c) < 0x7f; });
}

std::string string_field(const json& j, const char* k) {
  if (j.is_object() && j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
  return {};
}

// net::HttpRequest::header() without linking the server (the logic needs only the struct).
const std::string* find_header(const net::HttpRequest& req, std::string_view lower_name) {
  for (auto& [n, v] : req.headers)
    if (n == lower_name) return &v;
  return nullptr;
}

bool is_json(const net::HttpRequest& req) {
  auto* ct = find_header(req, "content-type");
  if (!ct) return false;
  std::string t = ct->substr(0, ct->find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
  for (auto& c : t) c = char(std::tolower(uint8_t(c)));
  return t == "application/json";
}

}  // namespace

std::string cookie_value(const net::HttpRequest& req, std::string_view name) {
  for (auto& [h, v] : req.headers) {
    if (h != "cookie") continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      auto val = pair.substr(eq + 1);
      while (!val.empty() && (val.back() == ' ' || val.back() == '\t')) val.remove_suffix(1);
      if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
      return std::string(val);
    }
  }
  return {};
}

struct WwsfLogic::Ctx {
  Ctx(const net::HttpRequest& r, base::Now n) : req(r), now(n) {}
  const net::HttpRequest& req;
  base::Now now;
  std::string origin;  // the Origin header, empty when absent
  bool origin_ok = false;
  std::string address;  // the client's IP address, for rate limits
  std::string session_id;
  Session* session = nullptr;
  json body;
};

WwsfLogic::WwsfLogic(WwsfSettings s, store::Store& store, base::Random& random, WafCaller& waf, StaticFiles files)
    : s_(std::move(s)), store_(store), random_(random), waf_(waf), files_(std::move(files)),
      sessions_(s_.session_idle, s_.max_sessions),
      login_failures_(s_.login_attempts, s_.login_window),
      address_failures_(s_.login_attempts * 4, s_.login_window),
      guests_per_address_(s_.guest_rate, s_.guest_window) {
  csp_ = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
         "connect-src 'self'";
  for (auto& c : s_.csp_connect_src) csp_ += " " + c;
  csp_ += "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  dummy_hash_ = hash_web_password(random_token(random_), s_.pwhash);
}

WwsfLogic::~WwsfLogic() { *alive_ = false; }

bool WwsfLogic::origin_allowed(const std::string& origin) const {
  if (origin.empty()) return false;
  if (origin == s_.origin) return true;
  return std::find(s_.cors_origins.begin(), s_.cors_origins.end(), origin) != s_.cors_origins.end();
}

std::string WwsfLogic::session_cookie(const std::string& id, std::chrono::seconds max_age) const {
  // __Host- prefix (RFC 6265bis §4.1.3.2): Secure, Path=/, no Domain, so no sibling host can set or read it.
  return std::string(kSessionCookie) + "=" + id + "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age.count());
}

void WwsfLogic::finish(const Ctx& c, net::HttpResponse& r) const {
  auto& h = r.headers;
  h.emplace_back("Content-Security-Policy", csp_);
  h.emplace_back("X-Content-Type-Options", "nosniff");
  h.emplace_back("Referrer-Policy", "no-referrer");
  h.emplace_back("X-Frame-Options", "DENY");
  h.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  if (s_.hsts) h.emplace_back("Strict-Transport-Security", "max-age=31536000");
  if (c.req.path.rfind("/api/", 0) == 0) {
    h.emplace_back("Cache-Control", "no-store");
    h.emplace_back("Vary", "Origin");
    if (c.origin_ok) {
      h.emplace_back("Access-Control-Allow-Origin", c.origin);
      h.emplace_back("Access-Control-Allow-Credentials", "true");
    }
  }
}

void WwsfLogic::handle(const net::HttpRequest& req, base::Now now, net::HttpRespond respond) {
  Ctx c(req, now);
  if (auto* o = find_header(req, "origin")) c.origin = *o;
  c.origin_ok = origin_allowed(c.origin);
  c.address = req.remote.addr.to_string();

  net::HttpResponse r;
  if (req.path.rfind("/api/", 0) == 0) {
    bool deferred = false;
    r = api(c, respond, deferred);
    if (deferred) return;
  } else if (req.method == "GET" || req.method == "HEAD") {
    if (auto f = files_.get(req.path)) {
      r.content_type = f->content_type;
      r.body = std::move(f->body);
      r.headers.emplace_back("Cache-Control", f->cache_control);
    } else {
      r = {404, "text/plain; charset=utf-8", "not found\n", {}};
    }
  } else {
    r = {405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", "GET, HEAD"}}};
  }
  finish(c, r);
  respond(std::move(r));
}

net::HttpResponse WwsfLogic::preflight(const Ctx& c) const {
  // CORS preflight (Fetch standard): only for the origins this WWSF serves.
  if (!c.origin_ok) return error(403, "origin not allowed");
  net::HttpResponse r{204, "", "", {}};
  r.headers = {{"Access-Control-Allow-Methods", "GET, POST"},
               {"Access-Control-Allow-Headers", "Content-Type, X-CSRF-Token"},
               {"Access-Control-Max-Age", "600"}};
  return r;
}

net::HttpResponse WwsfLogic::api(Ctx& c, net::HttpRespond& respond, bool& deferred) {
  const auto& path = c.req.path;
  const auto& method = c.req.method;
  if (method == "OPTIONS") return preflight(c);

  // The session named by the cookie, if live. An expired guest session gives its pool subscription back.
  std::string cookie = cookie_value(c.req, kSessionCookie);
  if (!cookie.empty()) {
    std::optional<Session> expired;
    c.session = sessions_.find(cookie, c.now.steady, &expired);
    if (c.session) c.session_id = cookie;
    if (expired) release_guest(*expired);
  }

  if (path == "/api/wic-config") {
    if (method != "GET") return {405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", "GET"}}};
    return wic_config();
  }
  if (path == "/api/session") {
    if (method != "GET") return {405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", "GET"}}};
    return session_info(c);
  }
  static const char* const kPosts[] = {"/api/register", "/api/login", "/api/logout", "/api/links",
                                       "/api/links/confirm", "/api/links/remove", "/api/guest",
                                       "/api/guest/release", "/api/token"};
  if (std::find(std::begin(kPosts), std::end(kPosts), path) == std::end(kPosts)) return error(404, "no such API");
  if (method != "POST") return {405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", "POST"}}};

  // Every state change: the browser must say it comes from a page of ours (Origin), and send JSON,
  // which a cross-site form cannot and a cross-origin fetch cannot without a preflight we refuse.
  if (!c.origin_ok) {
    ++stats_.csrf_refused;
    return error(403, c.origin.empty() ? "Origin header missing" : "origin not allowed");
  }
  if (!is_json(c.req)) return error(415, "the body must be application/json");
  c.body = c.req.body.empty() ? json::object() : json::parse(c.req.body, nullptr, false);
  if (!c.body.is_object()) return error(400, "the body is not a JSON object");

  if (path == "/api/register") return register_account(c);
  if (path == "/api/login") return login(c);
  if (path == "/api/guest") return guest(c);

  // The rest act on a session: it must exist and the request must carry its CSRF token.
  if (!c.session) return error(401, "not logged in");
  auto* sent = find_header(c.req, "x-csrf-token");
  if (!sent || !crypto::constant_time_equal(crypto::view(*sent), crypto::view(c.session->csrf_token))) {
    ++stats_.csrf_refused;
    return error(403, "missing or wrong X-CSRF-Token");
  }
  if (path == "/api/logout") return logout(c);
  if (path == "/api/guest/release") return guest_release(c);
  if (path == "/api/token") {
    deferred = true;
    token(c, std::move(respond));
    return {};
  }
  if (c.session->kind != Session::Kind::User) return error(403, "a guest session has no web account");
  if (path == "/api/links") return link(c);
  if (path == "/api/links/confirm") return confirm_link(c);
  return remove_link(c);
}

base::Result<bool, std::string> create_web_account(store::Store& store, const std::string& wwsf_id,
                                                   const std::string& username, const std::string& password,
                                                   PwhashCost cost, int64_t now_unix) {
  if (!valid_username(username))
    return base::fail(std::string("a username is 1 to 64 letters, digits or . _ - @ +"));
  if (password.size() < 8 || password.size() > 256)
    return base::fail(std::string("a password is 8 to 256 characters"));
  store::WebAccount a{wwsf_id, username, hash_web_password(password, cost), now_unix};
  if (!store.add_web_account(a)) return base::fail("the account \"" + username + "\" already exists");
  return true;
}

base::Result<bool, std::string> WwsfLogic::add_account(const std::string& username, const std::string& password,
                                                       int64_t now_unix) {
  auto r = create_web_account(store_, s_.wwsf_id, username, password, s_.pwhash, now_unix);
  if (r) ++stats_.accounts_created;
  return r;
}

net::HttpResponse WwsfLogic::register_account(Ctx& c) {
  if (!s_.open_registration) return error(403, "registration is closed on this WWSF");
  // Hashing costs the server; bound it per address like guest creation.
  std::string key = "register:" + c.address;
  if (guests_per_address_.exceeded(key, c.now.steady)) {
    ++stats_.rate_limited;
    auto r = error(429, "too many registrations from this address; try later");
    r.headers.emplace_back("Retry-After", std::to_string(guests_per_address_.retry_after(key, c.now.steady)));
    return r;
  }
  guests_per_address_.hit(key, c.now.steady);
  auto username = string_field(c.body, "username");
  auto res = add_account(username, string_field(c.body, "password"), c.now.unix_s);
  if (!res) return error(res.error().find("exists") != std::string::npos ? 409 : 400, res.error());
  LOG_INFO(kLog) << "web account \"" << username << "\" registered from " << c.address;
  return json_response(201, {{"username", username}});
}

net::HttpResponse WwsfLogic::login(Ctx& c) {
  auto username = string_field(c.body, "username");
  auto password = string_field(c.body, "password");
  if (username.empty() || password.empty() || username.size() > 64 || password.size() > 1024)
    return error(400, "username and password are required");
  std::string account_key = "user:" + username, address_key = "addr:" + c.address;
  if (login_failures_.exceeded(account_key, c.now.steady) || address_failures_.exceeded(address_key, c.now.steady)) {
    ++stats_.rate_limited;
    auto after = std::max(login_failures_.retry_after(account_key, c.now.steady),
                          address_failures_.retry_after(address_key, c.now.steady));
    auto r = error(429, "too many failed logins; try later");
    r.headers.emplace_back("Retry-After", std::to_string(after));
    return r;
  }
  auto account = store_.find_web_account(s_.wwsf_id, username);
  // An unknown account costs the same hash as a known one.
  bool ok = verify_web_password(account ? account->password_hash : dummy_hash_, password) && account.has_value();
  if (!ok) {
    login_failures_.hit(account_key, c.now.steady);
    address_failures_.hit(address_key, c.now.steady);
    ++stats_.login_failures;
    LOG_INFO(kLog) << "failed login for \"" << username << "\" from " << c.address;
    return error(401, "wrong username or password");
  }
  login_failures_.reset(account_key);
  // A fresh id at every login (no session fixation); the old session, if any, ends.
  if (!c.session_id.empty()) end_session(c.session_id);
  Session s;
  s.kind = Session::Kind::User;
  s.username = username;
  s.csrf_token = random_token(random_);
  s.expires = c.now.steady + s_.session_lifetime;
  auto csrf = s.csrf_token;
  auto id = sessions_.create(std::move(s), random_, c.now.steady);
  if (!id) return error(503, "too many sessions; try later");
  ++stats_.logins;
  LOG_INFO(kLog) << "login \"" << username << "\" from " << c.address;
  auto r = json_response(200, {{"username", username}, {"csrf_token", csrf}});
  r.headers.emplace_back("Set-Cookie", session_cookie(*id, s_.session_lifetime));
  return r;
}

net::HttpResponse WwsfLogic::session_info(Ctx& c) {
  if (!c.session) return error(401, "no session");
  auto& s = *c.session;
  json out{{"csrf_token", s.csrf_token}};
  if (s.kind == Session::Kind::User) {
    out["kind"] = "user";
    out["username"] = s.username;
    json links = json::array();
    for (auto& l : store_.identity_links(s_.wwsf_id, s.username))
      links.push_back({{"impi", l.impi}, {"confirmed", l.confirmed}});
    out["links"] = links;
  } else {
    out["kind"] = "guest";
    auto a = store_.find_pool_assignment(s.guest_impi, c.now.unix_s);
    json g{{"impi", s.guest_impi}};
    if (a && a->guest == s.guest_handle) g["expires_in"] = a->expires_unix - c.now.unix_s;
    if (auto sub = store_.find_subscriber(s.guest_impi)) g["impu"] = sub->impus;
    out["guest"] = g;
  }
  return json_response(200, out);
}

net::HttpResponse WwsfLogic::wic_config() {
  // The guest entry is offered only when the operator gave this WWSF a pool (scenario 3, NOTE 6);
  // read at every request so `webims admin wwsf add --pool-pattern` shows without a restart.
  auto w = store_.find_wwsf(s_.wwsf_id);
  bool guest = w && !w->pool_pattern.empty();
  return json_response(200, {{"pcscf_url", s_.pcscf_url},
                             {"wwsf_id", s_.wwsf_id},
                             {"guest", guest},
                             {"web_login", true},
                             {"open_registration", s_.open_registration}});
}

void WwsfLogic::release_guest(const Session& s) {
  if (s.kind != Session::Kind::Guest || s.guest_impi.empty()) return;
  if (store_.release_pool_subscriber(s.guest_impi, s.guest_handle)) ++stats_.guests_released;
}

void WwsfLogic::end_session(const std::string& id) {
  if (auto s = sessions_.take(id)) release_guest(*s);
}

net::HttpResponse WwsfLogic::logout(Ctx& c) {
  end_session(c.session_id);
  auto r = json_response(200, {{"ok", true}});
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) +
                                           "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
  return r;
}

net::HttpResponse WwsfLogic::link(Ctx& c) {
  auto impi = string_field(c.body, "impi");
  if (!valid_impi(impi)) return error(400, "impi must be a private identity such as alice@ims.example.org");
  auto links = store_.identity_links(s_.wwsf_id, c.session->username);
  for (auto& l : links)
    if (l.impi == impi) return json_response(200, {{"impi", impi}, {"confirmed", l.confirmed}});
  if (links.size() >= 16) return error(409, "an account may have at most 16 links");
  // Nothing is looked up yet: asking reveals nothing about which IMPIs exist.
  store_.put_identity_link({s_.wwsf_id, c.session->username, impi, false, c.now.unix_s, 0});
  ++stats_.links_requested;
  return json_response(201, {{"impi", impi}, {"confirmed", false}});
}

net::HttpResponse WwsfLogic::confirm_link(Ctx& c) {
  auto impi = string_field(c.body, "impi");
  auto password = string_field(c.body, "password");
  if (!valid_impi(impi) || password.empty() || password.size() > 1024) return error(400, "impi and password are required");
  std::optional<store::IdentityLink> link;
  for (auto& l : store_.identity_links(s_.wwsf_id, c.session->username))
    if (l.impi == impi) link = l;
  if (!link) return error(404, "no link request for this IMPI: POST /api/links first");
  std::string impi_key = "impi:" + impi, address_key = "addr:" + c.address;
  if (login_failures_.exceeded(impi_key, c.now.steady) || address_failures_.exceeded(address_key, c.now.steady)) {
    ++stats_.rate_limited;
    auto r = error(429, "too many failed attempts; try later");
    r.headers.emplace_back("Retry-After", std::to_string(std::max(login_failures_.retry_after(impi_key, c.now.steady),
                                                                  address_failures_.retry_after(address_key, c.now.steady))));
    return r;
  }
  auto sub = store_.find_subscriber(impi);
  if (!sub || !ims_password_matches(*sub, password)) {
    login_failures_.hit(impi_key, c.now.steady);
    address_failures_.hit(address_key, c.now.steady);
    ++stats_.links_refused;
    LOG_INFO(kLog) << "link of \"" << c.session->username << "\" to " << impi << ": IMS credentials not accepted";
    return error(403, "the IMS credentials were not accepted for this IMPI");
  }
  login_failures_.reset(impi_key);
  auto& allowed = sub->allowed_wwsf;
  if (std::find(allowed.begin(), allowed.end(), s_.wwsf_id) == allowed.end()) {
    ++stats_.links_refused;
    LOG_INFO(kLog) << "link of \"" << c.session->username << "\" to " << impi << " refused: WWSF not allowed";
    return error(403, "the subscription " + impi + " does not allow this WWSF (" + s_.wwsf_id +
                          "): ask the operator to allow it (TR 33.871 REQ 2.1)");
  }
  link->confirmed = true;
  link->confirmed_unix = c.now.unix_s;
  store_.put_identity_link(*link);
  ++stats_.links_confirmed;
  LOG_INFO(kLog) << "link of \"" << c.session->username << "\" to " << impi << " confirmed";
  return json_response(200, {{"impi", impi}, {"confirmed", true}, {"impu", sub->impus}});
}

net::HttpResponse WwsfLogic::remove_link(Ctx& c) {
  auto impi = string_field(c.body, "impi");
  if (!store_.remove_identity_link(s_.wwsf_id, c.session->username, impi)) return error(404, "no such link");
  return json_response(200, {{"impi", impi}, {"removed", true}});
}

net::HttpResponse WwsfLogic::guest(Ctx& c) {
  // A guest that already holds a subscription keeps it: asking again does not drain the pool.
  if (c.session && c.session->kind == Session::Kind::Guest) {
    if (auto a = store_.find_pool_assignment(c.session->guest_impi, c.now.unix_s); a && a->guest == c.session->guest_handle) {
      json out{{"impi", a->impi}, {"expires_in", a->expires_unix - c.now.unix_s}, {"csrf_token", c.session->csrf_token}};
      if (auto sub = store_.find_subscriber(a->impi)) out["impu"] = sub->impus;
      return json_response(200, out);
    }
  }
  std::string key = "guest:" + c.address;
  if (guests_per_address_.exceeded(key, c.now.steady)) {
    ++stats_.rate_limited;
    auto r = error(429, "too many guest sessions from this address; try later");
    r.headers.emplace_back("Retry-After", std::to_string(guests_per_address_.retry_after(key, c.now.steady)));
    return r;
  }
  if (sessions_.size() >= s_.max_sessions) return error(503, "too many sessions; try later");
  Session s;
  s.kind = Session::Kind::Guest;
  // The store sees only this handle, never the cookie.
  std::array<uint8_t, 16> h{};
  random_.fill(h);
  s.guest_handle = "guest-" + base::hex_encode({h.data(), h.size()});
  auto a = store_.assign_pool_subscriber(s_.wwsf_id, s.guest_handle, c.now.unix_s,
                                         c.now.unix_s + s_.guest_lifetime.count());
  if (!a) {
    ++stats_.guests_refused_exhausted;
    LOG_WARN(kLog) << "guest pool of " << s_.wwsf_id << " exhausted";
    auto r = error(503, "no guest identity is free; try again later");
    r.headers.emplace_back("Retry-After", "60");
    return r;
  }
  guests_per_address_.hit(key, c.now.steady);
  s.guest_impi = a->impi;
  s.csrf_token = random_token(random_);
  s.expires = c.now.steady + s_.guest_lifetime;
  auto csrf = s.csrf_token;
  auto handle = s.guest_handle;
  if (!c.session_id.empty()) end_session(c.session_id);
  auto id = sessions_.create(std::move(s), random_, c.now.steady);
  if (!id) {
    store_.release_pool_subscriber(a->impi, handle);
    return error(503, "too many sessions; try later");
  }
  ++stats_.guests_assigned;
  LOG_INFO(kLog) << "guest from " << c.address << " assigned " << a->impi;
  json out{{"impi", a->impi}, {"expires_in", s_.guest_lifetime.count()}, {"csrf_token", csrf}};
  if (auto sub = store_.find_subscriber(a->impi)) out["impu"] = sub->impus;
  auto r = json_response(201, out);
  r.headers.emplace_back("Set-Cookie", session_cookie(*id, s_.guest_lifetime));
  return r;
}

net::HttpResponse WwsfLogic::guest_release(Ctx& c) {
  if (c.session->kind != Session::Kind::Guest) return error(403, "not a guest session");
  auto impi = c.session->guest_impi;
  end_session(c.session_id);
  auto r = json_response(200, {{"impi", impi}, {"released", true}});
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) +
                                           "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
  return r;
}

void WwsfLogic::token(Ctx& c, net::HttpRespond respond) {
  auto reply = [&](net::HttpResponse r) {
    finish(c, r);
    respond(std::move(r));
  };
  auto impi = string_field(c.body, "impi");
  if (!valid_impi(impi)) return reply(error(400, "impi is required"));
  bool pool = c.session->kind == Session::Kind::Guest;
  if (pool) {
    auto a = store_.find_pool_assignment(impi, c.now.unix_s);
    if (impi != c.session->guest_impi || !a || a->guest != c.session->guest_handle) {
      ++stats_.tokens_refused;
      return reply(error(403, "this guest session does not hold " + impi));
    }
  } else {
    bool linked = false;
    for (auto& l : store_.identity_links(s_.wwsf_id, c.session->username))
      if (l.impi == impi && l.confirmed) linked = true;
    if (!linked) {
      ++stats_.tokens_refused;
      return reply(error(403, "no confirmed link from this account to " + impi));
    }
  }
  std::vector<std::string> impus;
  if (auto sub = store_.find_subscriber(impi)) impus = sub->impus;

  // CORS and security headers depend only on the request; keep what finish() needs.
  auto req_copy = std::make_shared<net::HttpRequest>();
  req_copy->path = c.req.path;
  auto origin = c.origin;
  bool origin_ok = c.origin_ok;
  std::string user = pool ? "guest" : c.session->username;
  waf_.post_token_request(
      w4_token_request_body(impi, pool, s_.w4_client_id),
      [this, alive = alive_, respond = std::move(respond), req_copy, origin, origin_ok, impi, pool, impus, user](
          base::Result<WafCaller::Answer, std::string> answer) {
        if (!*alive) return;
        Ctx c2(*req_copy, {});
        c2.origin = origin;
        c2.origin_ok = origin_ok;
        net::HttpResponse r;
        if (!answer) {
          ++stats_.waf_errors;
          LOG_WARN(kLog) << "W4 token request for " << impi << " failed: " << answer.error();
          r = error(502, "the WAF could not be reached");
        } else if (auto t = parse_w4_token_response(answer->status, answer->body); !t) {
          auto& e = t.error();
          if (e.status >= 400 && e.status < 500) {
            ++stats_.tokens_refused;
            LOG_INFO(kLog) << "WAF refused a token for " << impi << " (" << user << "): " << e.error << " "
                           << e.description;
            r = json_response(403, {{"error", "the WAF refused the token"}, {"waf_error", e.error},
                                    {"waf_error_description", e.description}});
          } else {
            ++stats_.waf_errors;
            LOG_WARN(kLog) << "WAF token answer for " << impi << " not usable: status " << e.status << " "
                           << e.error << " " << e.description;
            r = error(502, "the WAF's answer was not usable");
          }
        } else {
          ++stats_.tokens_issued;
          LOG_INFO(kLog) << "token for " << impi << " (" << user << (pool ? ", pool" : "") << "), "
                         << t->expires_in << " s";
          r = json_response(200, {{"access_token", t->access_token},
                                  {"token_type", t->token_type.empty() ? "Bearer" : t->token_type},
                                  {"expires_in", t->expires_in},
                                  {"impu", t->impu.empty() ? impus : t->impu},
                                  {"impi", impi},
                                  {"pool", pool}});
        }
        finish(c2, r);
        respond(std::move(r));
      });
}

void WwsfLogic::on_timer(base::Now now) {
  sessions_.prune(now.steady, [this](const Session& s) { release_guest(s); });
  login_failures_.prune(now.steady);
  address_failures_.prune(now.steady);
  guests_per_address_.prune(now.steady);
}

}  // namespace wwsf
