#include "wwsf/logic/wwsf_logic.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/test_temp_dir.hpp"

namespace wwsf {
namespace {

using nlohmann::json;

constexpr const char* kOrigin = "https://wwsf.example:8443";
constexpr const char* kRealm = "ims.example.org";

// The WAF over W4, faked: records the form bodies and answers when the test says so.
class FakeWaf final : public WafCaller {
 public:
  void post_token_request(std::string form_body, Done done) override {
    bodies.push_back(std::move(form_body));
    pending.push_back(std::move(done));
  }
  void answer(int status, std::string body) {
    auto d = std::move(pending.front());
    pending.erase(pending.begin());
    d(Answer{status, std::move(body)});
  }
  std::vector<std::string> bodies;
  std::vector<Done> pending;
};

struct Reply {
  int status = 0;
  json body;
  net::HttpResponse raw;
  bool answered = false;
  std::string header(const std::string& name) const {
    for (auto& [n, v] : raw.headers)
      if (n == name) return v;
    return {};
  }
};

class WwsfLogicTest : public ::testing::Test {
 protected:
  WwsfLogicTest() : store_(store::Store::open("sqlite::memory:")), random_(7) {
    std::filesystem::create_directories(dir_.path() / "dist");
    std::ofstream(dir_.path() / "dist" / "index.html") << "<!doctype html><title>WIC</title>";
    std::ofstream(dir_.path() / "secret.txt") << "outside the root";
    settings_.wwsf_id = "wwsf.example";
    settings_.origin = kOrigin;
    settings_.cors_origins = {"https://pcscf.example:7443"};
    settings_.csp_connect_src = {"wss://pcscf.example:7443"};
    settings_.pwhash = PwhashCost::minimum();
    settings_.login_attempts = 3;
    settings_.guest_rate = 100;
    now_ = {base::SteadyTime{} + std::chrono::hours(1000), 1'800'000'000};
    make();
  }
  void make() {
    logic_.reset();
    logic_ = std::make_unique<WwsfLogic>(settings_, *store_, random_, waf_, StaticFiles((dir_.path() / "dist").string()));
  }

  Reply send(const std::string& method, const std::string& path, const std::string& body = "",
             std::vector<std::pair<std::string, std::string>> headers = {}, const std::string& ip = "192.0.2.1") {
    net::HttpRequest r;
    r.method = method;
    r.target = r.path = path;
    r.headers = std::move(headers);
    r.body = body;
    r.remote = *base::Endpoint::parse(ip + ":40000");
    r.tls = true;
    auto out = std::make_shared<Reply>();
    last_ = out;
    logic_->handle(r, now_, [out](net::HttpResponse res) {
      out->answered = true;
      out->status = res.status;
      out->body = json::parse(res.body, nullptr, false);
      out->raw = std::move(res);
    });
    return *out;
  }
  // A POST from our own page with the session's cookie and CSRF token when there is one.
  Reply post(const std::string& path, const json& body, const std::string& ip = "192.0.2.1") {
    std::vector<std::pair<std::string, std::string>> h{{"origin", kOrigin}, {"content-type", "application/json"}};
    if (!cookie_.empty()) h.emplace_back("cookie", "theme=dark; " + cookie_);
    if (!csrf_.empty()) h.emplace_back("x-csrf-token", csrf_);
    return send("POST", path, body.dump(), h, ip);
  }
  // Logs in and keeps cookie and CSRF token.
  Reply login(const std::string& user, const std::string& password, const std::string& ip = "192.0.2.1") {
    cookie_.clear();
    csrf_.clear();
    auto r = post("/api/login", {{"username", user}, {"password", password}}, ip);
    if (r.status == 200) keep_session(r);
    return r;
  }
  void keep_session(const Reply& r) {
    auto sc = r.header("Set-Cookie");
    cookie_ = sc.substr(0, sc.find(';'));
    csrf_ = r.body["csrf_token"].get<std::string>();
  }
  void add_subscriber(const std::string& impi, const std::string& password, std::vector<std::string> allowed,
                      const std::string& pool_owner = "") {
    auto s = store::make_subscriber(impi, kRealm, password, {"sip:" + impi}, now_.unix_s);
    s.allowed_wwsf = std::move(allowed);
    s.pool_owner = pool_owner;
    store_->put_subscriber(s);
  }

  base::TestTempDir dir_;
  std::unique_ptr<store::Store> store_;
  base::SeededRandom random_;
  FakeWaf waf_;
  WwsfSettings settings_;
  base::Now now_;
  std::unique_ptr<WwsfLogic> logic_;
  std::string cookie_, csrf_;
  std::shared_ptr<Reply> last_;
};

TEST_F(WwsfLogicTest, LoginSetsAHostOnlySecureCookieAndCsrfToken) {
  ASSERT_TRUE(logic_->add_account("alice", "correct horse", now_.unix_s));
  auto r = login("alice", "correct horse");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["username"], "alice");
  auto sc = r.header("Set-Cookie");
  EXPECT_EQ(sc.rfind("__Host-webims_session=", 0), 0u) << sc;
  for (const char* attr : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict", "; Max-Age=43200"})
    EXPECT_NE(sc.find(attr), std::string::npos) << attr << " in " << sc;
  EXPECT_EQ(sc.find("Domain"), std::string::npos);
  EXPECT_EQ(cookie_.size(), std::string("__Host-webims_session=").size() + 43);  // 256 bits, base64url
  EXPECT_EQ(csrf_.size(), 43u);
  EXPECT_EQ(cookie_.find(csrf_), std::string::npos);  // two independent secrets
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.header("Strict-Transport-Security"), "max-age=31536000");
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), kOrigin);

  auto s = send("GET", "/api/session", "", {{"cookie", cookie_}});
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.body["kind"], "user");
  EXPECT_EQ(s.body["csrf_token"], csrf_);
  // The stored hash is Argon2id, never the password.
  auto acct = store_->find_web_account("wwsf.example", "alice");
  ASSERT_TRUE(acct);
  EXPECT_EQ(acct->password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(acct->password_hash.find("correct horse"), std::string::npos);
}

TEST_F(WwsfLogicTest, WicConfigTellsTheAppWhatItNeedsWithoutASession) {
  settings_.pcscf_url = "wss://{host}:17443";
  make();
  auto r = send("GET", "/api/wic-config");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body, (json{{"pcscf_url", "wss://{host}:17443"}, {"wwsf_id", "wwsf.example"}, {"guest", false},
                          {"web_login", true}, {"open_registration", false}}));
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.header("Set-Cookie"), "");
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "");  // no Origin sent: a same-origin GET
  EXPECT_EQ(send("GET", "/api/wic-config", "", {{"origin", kOrigin}}).header("Access-Control-Allow-Origin"), kOrigin);

  // A WWSF known without a pool: still no guest entry. With a pool (read at each request): guests.
  store_->put_wwsf({"wwsf.example", "", false, "", 1, 1});
  EXPECT_EQ(send("GET", "/api/wic-config").body["guest"], false);
  store_->put_wwsf({"wwsf.example", "*@guest.example", false, "", 1, 2});
  EXPECT_EQ(send("GET", "/api/wic-config").body["guest"], true);
  // Another WWSF's pool is not ours.
  store_->put_wwsf({"wwsf.example", "", false, "", 1, 3});
  store_->put_wwsf({"other.example", "*@other.example", false, "", 1, 3});
  EXPECT_EQ(send("GET", "/api/wic-config").body["guest"], false);

  settings_.open_registration = true;
  make();
  EXPECT_EQ(send("GET", "/api/wic-config").body["open_registration"], true);
  EXPECT_EQ(send("POST", "/api/wic-config", "{}", {{"origin", kOrigin}, {"content-type", "application/json"}}).status, 405);
}

TEST_F(WwsfLogicTest, LoginFailuresAreRefusedAndBounded) {
  ASSERT_TRUE(logic_->add_account("alice", "correct horse", now_.unix_s));
  EXPECT_EQ(login("alice", "wrong password").status, 401);
  EXPECT_EQ(login("nobody", "correct horse").status, 401);
  EXPECT_EQ(last_->raw.headers.end(), std::find_if(last_->raw.headers.begin(), last_->raw.headers.end(),
                                                   [](auto& h) { return h.first == "Set-Cookie"; }));
  EXPECT_EQ(login("alice", "wrong again").status, 401);
  EXPECT_EQ(login("alice", "wrong thrice").status, 401);
  // login_attempts (3) failures for the account: even the right password waits.
  auto limited = login("alice", "correct horse");
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.header("Retry-After").empty());
  // From another address too: the limit is per account.
  EXPECT_EQ(login("alice", "correct horse", "198.51.100.7").status, 429);
  now_.steady += settings_.login_window;
  EXPECT_EQ(login("alice", "correct horse").status, 200);
  EXPECT_EQ(logic_->stats().login_failures, 4u);
  EXPECT_EQ(logic_->stats().rate_limited, 2u);
}

TEST_F(WwsfLogicTest, StateChangesNeedOriginAndCsrfToken) {
  ASSERT_TRUE(logic_->add_account("alice", "correct horse", now_.unix_s));
  ASSERT_EQ(login("alice", "correct horse").status, 200);
  std::string body = json{{"impi", "alice@ims.example.org"}}.dump();
  auto h = [&](bool origin, const std::string& token) {
    std::vector<std::pair<std::string, std::string>> v{{"content-type", "application/json"}, {"cookie", cookie_}};
    if (origin) v.emplace_back("origin", kOrigin);
    if (!token.empty()) v.emplace_back("x-csrf-token", token);
    return v;
  };
  EXPECT_EQ(send("POST", "/api/links", body, h(true, "")).status, 403);                  // no token
  EXPECT_EQ(send("POST", "/api/links", body, h(true, csrf_ + "x")).status, 403);         // wrong token
  EXPECT_EQ(send("POST", "/api/links", body, h(true, std::string(43, 'A'))).status, 403);
  EXPECT_EQ(send("POST", "/api/links", body, h(false, csrf_)).status, 403);              // no Origin
  auto evil = h(false, csrf_);
  evil.emplace_back("origin", "https://evil.example");
  auto e = send("POST", "/api/links", body, evil);
  EXPECT_EQ(e.status, 403);
  EXPECT_TRUE(e.header("Access-Control-Allow-Origin").empty());
  auto text = h(true, csrf_);
  text[0].second = "text/plain";  // what a cross-site form could send
  EXPECT_EQ(send("POST", "/api/links", body, text).status, 415);
  EXPECT_TRUE(store_->identity_links("wwsf.example", "alice").empty());
  EXPECT_EQ(send("POST", "/api/links", body, h(true, csrf_)).status, 201);
  EXPECT_EQ(logic_->stats().csrf_refused, 5u);
  // Without a session at all.
  cookie_.clear();
  EXPECT_EQ(post("/api/links", {{"impi", "alice@ims.example.org"}}).status, 401);
  // Login itself also needs our Origin (login CSRF).
  EXPECT_EQ(send("POST", "/api/login", json{{"username", "alice"}, {"password", "correct horse"}}.dump(),
                 {{"content-type", "application/json"}, {"origin", "https://evil.example"}})
                .status,
            403);
}

TEST_F(WwsfLogicTest, CorsPreflightOnlyForConfiguredOrigins) {
  auto ok = send("OPTIONS", "/api/token", "", {{"origin", "https://pcscf.example:7443"}});
  EXPECT_EQ(ok.status, 204);
  EXPECT_EQ(ok.header("Access-Control-Allow-Origin"), "https://pcscf.example:7443");
  EXPECT_EQ(ok.header("Access-Control-Allow-Credentials"), "true");
  EXPECT_NE(ok.header("Access-Control-Allow-Headers").find("X-CSRF-Token"), std::string::npos);
  auto bad = send("OPTIONS", "/api/token", "", {{"origin", "https://evil.example"}});
  EXPECT_EQ(bad.status, 403);
  EXPECT_TRUE(bad.header("Access-Control-Allow-Origin").empty());
}

TEST_F(WwsfLogicTest, LinkIsConfirmedOnlyWithTheImsPassword) {
  add_subscriber("alice@ims.example.org", "ims-secret", {"wwsf.example"});
  ASSERT_TRUE(logic_->add_account("alice", "correct horse", now_.unix_s));
  ASSERT_EQ(login("alice", "correct horse").status, 200);
  auto l = post("/api/links", {{"impi", "alice@ims.example.org"}});
  ASSERT_EQ(l.status, 201);
  EXPECT_EQ(l.body["confirmed"], false);
  // Confirming an IMPI never asked for.
  EXPECT_EQ(post("/api/links/confirm", {{"impi", "bob@ims.example.org"}, {"password", "x"}}).status, 404);
  auto wrong = post("/api/links/confirm", {{"impi", "alice@ims.example.org"}, {"password", "not-it"}});
  EXPECT_EQ(wrong.status, 403);
  auto links = store_->identity_links("wwsf.example", "alice");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_FALSE(links[0].confirmed);
  auto right = post("/api/links/confirm", {{"impi", "alice@ims.example.org"}, {"password", "ims-secret"}});
  ASSERT_EQ(right.status, 200);
  EXPECT_EQ(right.body["confirmed"], true);
  EXPECT_EQ(right.body["impu"], json::array({"sip:alice@ims.example.org"}));
  links = store_->identity_links("wwsf.example", "alice");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_TRUE(links[0].confirmed);
  EXPECT_EQ(links[0].confirmed_unix, now_.unix_s);
  auto s = send("GET", "/api/session", "", {{"cookie", cookie_}});
  EXPECT_EQ(s.body["links"], json::array({{{"impi", "alice@ims.example.org"}, {"confirmed", true}}}));
}

TEST_F(WwsfLogicTest, ConfirmationGuessesAreBounded) {
  add_subscriber("alice@ims.example.org", "ims-secret", {"wwsf.example"});
  ASSERT_TRUE(logic_->add_account("mallory", "correct horse", now_.unix_s));
  ASSERT_EQ(login("mallory", "correct horse").status, 200);
  ASSERT_EQ(post("/api/links", {{"impi", "alice@ims.example.org"}}).status, 201);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(post("/api/links/confirm", {{"impi", "alice@ims.example.org"}, {"password", "guess" + std::to_string(i)}}).status, 403);
  EXPECT_EQ(post("/api/links/confirm", {{"impi", "alice@ims.example.org"}, {"password", "ims-secret"}}).status, 429);
  EXPECT_FALSE(store_->identity_links("wwsf.example", "mallory")[0].confirmed);
}

TEST_F(WwsfLogicTest, LinkRefusedWhenTheSubscriptionDoesNotAllowThisWwsf) {
  add_subscriber("carol@ims.example.org", "ims-secret", {"other-wwsf.example"});
  ASSERT_TRUE(logic_->add_account("carol", "correct horse", now_.unix_s));
  ASSERT_EQ(login("carol", "correct horse").status, 200);
  ASSERT_EQ(post("/api/links", {{"impi", "carol@ims.example.org"}}).status, 201);
  auto r = post("/api/links/confirm", {{"impi", "carol@ims.example.org"}, {"password", "ims-secret"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body["error"].get<std::string>().find("does not allow this WWSF (wwsf.example)"), std::string::npos)
      << r.body.dump();
  EXPECT_FALSE(store_->identity_links("wwsf.example", "carol")[0].confirmed);
  EXPECT_EQ(post("/api/token", {{"impi", "carol@ims.example.org"}}).status, 403);
  EXPECT_TRUE(waf_.bodies.empty());
}

TEST_F(WwsfLogicTest, TokenOnlyForAConfirmedLinkAndAsTheWafIssuedIt) {
  add_subscriber("alice@ims.example.org", "ims-secret", {"wwsf.example"});
  add_subscriber("bob@ims.example.org", "bob-secret", {"wwsf.example"});
  ASSERT_TRUE(logic_->add_account("alice", "correct horse", now_.unix_s));
  ASSERT_EQ(login("alice", "correct horse").status, 200);
  // Never linked, then linked but not confirmed: refused without asking the WAF.
  EXPECT_EQ(post("/api/token", {{"impi", "bob@ims.example.org"}}).status, 403);
  ASSERT_EQ(post("/api/links", {{"impi", "alice@ims.example.org"}}).status, 201);
  EXPECT_EQ(post("/api/token", {{"impi", "alice@ims.example.org"}}).status, 403);
  EXPECT_TRUE(waf_.bodies.empty());
  ASSERT_EQ(post("/api/links/confirm", {{"impi", "alice@ims.example.org"}, {"password", "ims-secret"}}).status, 200);

  post("/api/token", {{"impi", "alice@ims.example.org"}});
  auto pending = last_;
  EXPECT_FALSE(pending->answered);  // waits for the WAF
  ASSERT_EQ(waf_.bodies.size(), 1u);
  EXPECT_EQ(waf_.bodies[0],
            "grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims&sub=alice%40ims.example.org&pool=false");
  waf_.answer(200, R"({"access_token":"header.claims.sig","token_type":"Bearer","expires_in":300})");
  ASSERT_TRUE(pending->answered);
  EXPECT_EQ(pending->status, 200);
  EXPECT_EQ(pending->body["access_token"], "header.claims.sig");
  EXPECT_EQ(pending->body["expires_in"], 300);
  EXPECT_EQ(pending->body["impi"], "alice@ims.example.org");
  EXPECT_EQ(pending->body["impu"], json::array({"sip:alice@ims.example.org"}));
  EXPECT_EQ(pending->body["pool"], false);
  EXPECT_EQ(pending->header("Cache-Control"), "no-store");
  EXPECT_EQ(pending->header("Access-Control-Allow-Origin"), kOrigin);

  // The WAF's refusal (e.g. a blocked WWSF, REQ 2.2) reaches the browser as 403 with its reason.
  post("/api/token", {{"impi", "alice@ims.example.org"}});
  pending = last_;
  waf_.answer(400, R"({"error":"access_denied","error_description":"WWSF wwsf.example is blocked"})");
  EXPECT_EQ(pending->status, 403);
  EXPECT_EQ(pending->body["waf_error"], "access_denied");
  // An unusable answer or no answer: 502.
  post("/api/token", {{"impi", "alice@ims.example.org"}});
  pending = last_;
  waf_.answer(200, "not json");
  EXPECT_EQ(pending->status, 502);
  post("/api/token", {{"impi", "alice@ims.example.org"}});
  pending = last_;
  auto done = std::move(waf_.pending.front());
  waf_.pending.clear();
  done(base::fail(std::string("connection refused")));
  EXPECT_EQ(pending->status, 502);
  EXPECT_EQ(logic_->stats().tokens_issued, 1u);
}

TEST_F(WwsfLogicTest, GuestsGetPoolIdentitiesUntilThePoolIsExhausted) {
  add_subscriber("guest1@socialnet.example", "p1", {}, "wwsf.example");
  add_subscriber("guest2@socialnet.example", "p2", {}, "wwsf.example");
  add_subscriber("other1@elsewhere.example", "p3", {}, "other-wwsf.example");
  auto g1 = post("/api/guest", json::object(), "192.0.2.10");
  ASSERT_EQ(g1.status, 201);
  EXPECT_EQ(g1.body["impi"], "guest1@socialnet.example");
  EXPECT_EQ(g1.body["impu"], json::array({"sip:guest1@socialnet.example"}));
  EXPECT_EQ(g1.body["expires_in"], 3600);
  EXPECT_NE(g1.header("Set-Cookie").find("HttpOnly"), std::string::npos);
  keep_session(g1);
  auto g1_cookie = cookie_, g1_csrf = csrf_;
  // Asking again with the same session returns the same identity, not a second one.
  auto again = post("/api/guest", json::object(), "192.0.2.10");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["impi"], "guest1@socialnet.example");

  cookie_.clear();
  csrf_.clear();
  auto g2 = post("/api/guest", json::object(), "192.0.2.11");
  ASSERT_EQ(g2.status, 201);
  EXPECT_EQ(g2.body["impi"], "guest2@socialnet.example");
  auto g3 = post("/api/guest", json::object(), "192.0.2.12");
  EXPECT_EQ(g3.status, 503);
  EXPECT_EQ(logic_->stats().guests_refused_exhausted, 1u);

  // The guest's token: for its own IMPI only, with pool=true.
  cookie_ = g1_cookie;
  csrf_ = g1_csrf;
  EXPECT_EQ(post("/api/token", {{"impi", "guest2@socialnet.example"}}).status, 403);
  post("/api/token", {{"impi", "guest1@socialnet.example"}});
  ASSERT_EQ(waf_.bodies.size(), 1u);
  EXPECT_EQ(waf_.bodies[0],
            "grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims&sub=guest1%40socialnet.example&pool=true");
  auto pending = last_;
  waf_.answer(200, R"({"access_token":"t","expires_in":60})");
  EXPECT_EQ(pending->body["pool"], true);

  // Release gives the identity back to the pool.
  EXPECT_EQ(post("/api/guest/release", json::object()).status, 200);
  EXPECT_FALSE(store_->find_pool_assignment("guest1@socialnet.example", now_.unix_s));
  EXPECT_EQ(post("/api/token", {{"impi", "guest1@socialnet.example"}}).status, 401);
  cookie_.clear();
  csrf_.clear();
  auto g4 = post("/api/guest", json::object(), "192.0.2.12");
  ASSERT_EQ(g4.status, 201);
  EXPECT_EQ(g4.body["impi"], "guest1@socialnet.example");
}

TEST_F(WwsfLogicTest, GuestSessionsExpireAndGiveTheirIdentityBack) {
  add_subscriber("guest1@socialnet.example", "p1", {}, "wwsf.example");
  auto g = post("/api/guest", json::object());
  ASSERT_EQ(g.status, 201);
  keep_session(g);
  now_.steady += settings_.session_idle;
  now_.unix_s += settings_.session_idle.count();
  logic_->on_timer(now_);
  EXPECT_EQ(logic_->session_count(), 0u);
  EXPECT_FALSE(store_->find_pool_assignment("guest1@socialnet.example", now_.unix_s));
  EXPECT_EQ(send("GET", "/api/session", "", {{"cookie", cookie_}}).status, 401);
}

TEST_F(WwsfLogicTest, GuestCreationIsRateLimitedPerAddress) {
  settings_.guest_rate = 2;
  make();
  for (int i = 0; i < 5; ++i) add_subscriber("g" + std::to_string(i) + "@socialnet.example", "p", {}, "wwsf.example");
  EXPECT_EQ(post("/api/guest", json::object(), "192.0.2.20").status, 201);
  EXPECT_EQ(post("/api/guest", json::object(), "192.0.2.20").status, 201);
  EXPECT_EQ(post("/api/guest", json::object(), "192.0.2.20").status, 429);
  EXPECT_EQ(post("/api/guest", json::object(), "192.0.2.21").status, 201);
}

TEST_F(WwsfLogicTest, SessionsEndOnIdleAndOnLogout) {
  ASSERT_TRUE(logic_->add_account("alice", "correct horse", now_.unix_s));
  ASSERT_EQ(login("alice", "correct horse").status, 200);
  now_.steady += settings_.session_idle - std::chrono::seconds(1);
  EXPECT_EQ(send("GET", "/api/session", "", {{"cookie", cookie_}}).status, 200);  // restarts the idle timer
  now_.steady += settings_.session_idle - std::chrono::seconds(1);
  EXPECT_EQ(send("GET", "/api/session", "", {{"cookie", cookie_}}).status, 200);
  now_.steady += settings_.session_idle;
  EXPECT_EQ(send("GET", "/api/session", "", {{"cookie", cookie_}}).status, 401);

  ASSERT_EQ(login("alice", "correct horse").status, 200);
  auto out = post("/api/logout", json::object());
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(send("GET", "/api/session", "", {{"cookie", cookie_}}).status, 401);
}

TEST_F(WwsfLogicTest, RegistrationOnlyWhenOpen) {
  EXPECT_EQ(post("/api/register", {{"username", "dave"}, {"password", "long enough"}}).status, 403);
  settings_.open_registration = true;
  make();
  EXPECT_EQ(post("/api/register", {{"username", "dave"}, {"password", "short"}}).status, 400);
  EXPECT_EQ(post("/api/register", {{"username", "bad name"}, {"password", "long enough"}}).status, 400);
  EXPECT_EQ(post("/api/register", {{"username", "dave"}, {"password", "long enough"}}).status, 201);
  EXPECT_EQ(post("/api/register", {{"username", "dave"}, {"password", "long enough"}}).status, 409);
  EXPECT_EQ(login("dave", "long enough").status, 200);
}

TEST_F(WwsfLogicTest, StaticFilesWithSecurityHeadersAndNoTraversal) {
  auto r = send("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.raw.body, "<!doctype html><title>WIC</title>");
  EXPECT_EQ(r.raw.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.header("Cache-Control"), "no-cache");
  auto csp = r.header("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("connect-src 'self' wss://pcscf.example:7443"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(r.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  for (const char* p : {"/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/missing.js"})
    EXPECT_EQ(send("GET", p).status, 404) << p;
  EXPECT_EQ(send("POST", "/index.html").status, 405);
  EXPECT_EQ(send("GET", "/api/nothing").status, 404);
  EXPECT_EQ(send("GET", "/api/login").status, 405);
}

}  // namespace
}  // namespace wwsf
