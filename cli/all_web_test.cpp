// `webims all`'s shared listener over real HTTPS: the WAF's endpoints and the WWSF's API on one
// port, W4 in memory with every WAF check, and the OAuth client record kept in step with the
// certificate.
#include "all_web.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/test_temp_dir.hpp"
#include "common/host_address.hpp"
#include "demo.hpp"
#include "net/http_client.hpp"
#include "net/tls.hpp"
#include "store/store.hpp"
#include "token/jwt.hpp"

namespace cli {
namespace {

using nlohmann::json;
constexpr const char* kOrigin = "https://wic.test";

struct Client {
  std::string base, ca;
  std::string cookie, csrf;
  net::HttpClientResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                               bool page = true) {
    net::HttpClientRequest r;
    r.method = method;
    r.url = base + path;
    if (page) r.headers.emplace_back("Origin", kOrigin);
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    if (!cookie.empty()) r.headers.emplace_back("Cookie", cookie);
    if (!csrf.empty()) r.headers.emplace_back("X-CSRF-Token", csrf);
    r.body = body;
    auto res = net::http_request_sync(r, {net::make_client_tls_context(ca)});
    EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error());
    if (!res.ok()) return {};
    if (auto* sc = res->header("set-cookie")) cookie = sc->substr(0, sc->find(';'));
    return *res;
  }
};

class AllWebTest : public ::testing::Test {
 protected:
  AllWebTest() : dir_("webims-all-web") {
    c_.store.url = "sqlite://" + (dir_ / "webims.db");
    c_.tls.dir = dir_ / "tls";
    c_.core.home_domain = "ims.example.org";
    c_.wwsf.listen = "https://127.0.0.1:0";
    c_.wwsf.origin = kOrigin;
    c_.wwsf.web_root = dir_.path().string();
    c_.wwsf.control_listen.clear();
    c_.waf.issuer = "https://waf.test";
    std::ofstream(dir_ / "index.html") << "<!doctype html><title>WIC</title>";
    auto st = store::Store::open(c_.store.url);
    DemoOptions o;
    o.cost = wwsf::PwhashCost::minimum();
    create_demo_if_empty(*st, o, std::time(nullptr));
    demo_ = list_demo(*st, o);
  }
  // Tokens as the eP-CSCF of the same process checks them: with the keys handed over.
  base::Result<token::ImsAccessToken, token::TokenFailure> verify(const std::string& tok, const WebFront& web) {
    auto keys = token::VerifyKeys::from_jwks(web.jwks());
    EXPECT_TRUE(keys.ok());
    return token::verify_ims_token(tok, *keys, {{"https://waf.test"}, "ims.example.org", 60}, std::time(nullptr));
  }
  Client client(const WebFront& web) {
    return {"https://127.0.0.1:" + std::to_string(web.endpoint().port), c_.tls.resolve().ca, "", ""};
  }

  base::TestTempDir dir_;
  Config c_;
  DemoListing demo_;
};

TEST_F(AllWebTest, OneListenerServesTheWafAndTheWwsfWithW4InMemory) {
  // A record left by an earlier certificate: brought up to date at start.
  {
    auto st = store::Store::open(c_.store.url);
    st->put_oauth_client({kLocalW4Client, "wwsf", {}, "localhost", std::string(64, '0'), 5});
  }
  WebFront web(c_, /*w4_in_process=*/true);
  web.start();
  auto cl = client(web);
  {
    auto st = store::Store::open(c_.store.url);
    auto oc = st->find_oauth_client(kLocalW4Client);
    ASSERT_TRUE(oc);
    EXPECT_EQ(oc->cert_sha256_hex, net::cert_sha256_hex(c_.tls.resolve().cert));
    EXPECT_EQ(oc->wwsf_id, "localhost");
    EXPECT_EQ(oc->created_unix, 5);
  }

  // The WAF's endpoints.
  auto jwks = cl.call("GET", "/.well-known/jwks.json", "", false);
  EXPECT_EQ(jwks.status, 200);
  EXPECT_EQ(json::parse(jwks.body), json::parse(web.jwks()));
  auto meta = cl.call("GET", "/.well-known/oauth-authorization-server", "", false);
  EXPECT_EQ(json::parse(meta.body)["token_endpoint"], "https://waf.test/token");
  // A WWSF elsewhere asking over HTTPS without a client certificate: the WAF's own refusal.
  auto direct = cl.call("POST", "/token", "", false);
  EXPECT_EQ(direct.status, 400);  // not a form

  // The WWSF's app and API.
  EXPECT_EQ(cl.call("GET", "/", "", false).status, 200);
  auto cfg = cl.call("GET", "/api/wic-config", "", false);
  ASSERT_EQ(cfg.status, 200) << cfg.body;
  EXPECT_EQ(json::parse(cfg.body)["guest"], true);

  // Scenario 3: a guest's token comes from the WAF through W4 in memory.
  auto g = cl.call("POST", "/api/guest", "{}");
  ASSERT_EQ(g.status, 201) << g.body;
  auto gj = json::parse(g.body);
  cl.csrf = gj["csrf_token"];
  auto t = cl.call("POST", "/api/token", json{{"impi", gj["impi"]}}.dump());
  ASSERT_EQ(t.status, 200) << t.body;
  auto v = verify(json::parse(t.body)["access_token"], web);
  ASSERT_TRUE(v.ok()) << v.error().reason;
  EXPECT_EQ(v->sub, gj["impi"]);
  EXPECT_TRUE(v->pool);
  EXPECT_EQ(v->wwsf, "localhost");

  // Scenario 2: carol, linked to bob.
  Client carol = client(web);
  ASSERT_TRUE(demo_.web_account);
  auto login = carol.call("POST", "/api/login", json{{"username", "carol"}, {"password", demo_.web_account->password}}.dump());
  ASSERT_EQ(login.status, 200) << login.body;
  carol.csrf = json::parse(login.body)["csrf_token"];
  auto bt = carol.call("POST", "/api/token", json{{"impi", "bob@ims.example.org"}}.dump());
  ASSERT_EQ(bt.status, 200) << bt.body;
  auto bv = verify(json::parse(bt.body)["access_token"], web);
  ASSERT_TRUE(bv.ok());
  EXPECT_EQ(bv->sub, "bob@ims.example.org");
  EXPECT_FALSE(bv->pool);

  // The WAF's checks still run in memory: a blocked WWSF (REQ 2.2) gets no token.
  store::Store::open(c_.store.url)->set_wwsf_blocked("localhost", true, "test", std::time(nullptr));
  auto refused = carol.call("POST", "/api/token", json{{"impi", "bob@ims.example.org"}}.dump());
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["waf_error"], "access_denied");
  web.stop();
  web.stop();  // idempotent
}

TEST_F(AllWebTest, W4InMemoryPresentsTheCertificateTheWafPins) {
  // Another client pinned to the same certificate would make it ambiguous without client_id: the
  // WWSF names its own client, so it still gets tokens.
  WebFront web(c_, true);
  {
    auto st = store::Store::open(c_.store.url);
    st->put_oauth_client({"operators-own", "wwsf", {}, "localhost", net::cert_sha256_hex(c_.tls.resolve().cert), 1});
  }
  web.start();
  auto cl = client(web);
  auto g = cl.call("POST", "/api/guest", "{}");
  ASSERT_EQ(g.status, 201);
  cl.csrf = json::parse(g.body)["csrf_token"];
  auto t = cl.call("POST", "/api/token", json{{"impi", json::parse(g.body)["impi"]}}.dump());
  EXPECT_EQ(t.status, 200) << t.body;
  // With the record pinned to another certificate, the WAF refuses the in-memory request like a TLS one.
  store::Store::open(c_.store.url)->put_oauth_client({kLocalW4Client, "wwsf", {}, "localhost", std::string(64, 'a'), 1});
  auto t2 = cl.call("POST", "/api/token", json{{"impi", json::parse(g.body)["impi"]}}.dump());
  EXPECT_EQ(t2.status, 403) << t2.body;
  EXPECT_EQ(json::parse(t2.body)["waf_error"], "invalid_client");
}

// The one generated certificate answers to every name a browser may use for this host.
TEST_F(AllWebTest, GeneratedCertificateCoversEveryLocalName) {
  auto files = c_.tls.resolve();
  ASSERT_TRUE(files.generated);
  FILE* f = std::fopen(files.cert.c_str(), "r");
  ASSERT_TRUE(f);
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_TRUE(x);
  EXPECT_EQ(X509_check_host(x, "localhost", 0, 0, nullptr), 1);
  for (const std::string& ip : {std::string("127.0.0.1"), std::string("::1"), servers::primary_address()})
    EXPECT_EQ(X509_check_ip_asc(x, ip.c_str(), 0), 1) << ip;
  EXPECT_NE(X509_check_host(x, "other.example", 0, 0, nullptr), 1);
  X509_free(x);
}

}  // namespace
}  // namespace cli
