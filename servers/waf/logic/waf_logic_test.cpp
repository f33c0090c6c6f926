#include "waf/logic/waf_logic.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/encoding.hpp"
#include "base/test_temp_dir.hpp"
#include "waf/logic/form.hpp"

using namespace waf;
using nlohmann::json;

namespace {

constexpr int64_t kNow = 1'900'000'000;
const std::string kCert(64, 'a');       // the WWSF's pinned certificate hash
const std::string kBadCert(64, 'b');    // the blocked WWSF's
const std::string kOtherCert(64, 'c');  // registered to nobody
const std::string kRedirect = "https://app.example/cb";
const std::string kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";  // RFC 7636 Appendix B

class Waf : public ::testing::Test {
 protected:
  void SetUp() override {
    store = store::Store::open("sqlite://" + (dir / "waf.db"));
    store->put_wwsf({"wwsf.example", "*@pool.example", false, "", kNow, kNow});
    store->put_wwsf({"bad.example", "", true, "abuse", kNow, kNow});
    store->put_wwsf({"other.example", "*@pool.example", false, "", kNow, kNow});
    store->put_oauth_client({"wwsf-client", "wwsf", {}, "wwsf.example", kCert, kNow});
    store->put_oauth_client({"bad-client", "wwsf", {}, "bad.example", kBadCert, kNow});
    store->put_oauth_client({"wic", "public", {kRedirect, "https://app.example/other"}, "", "", kNow});
    auto alice = store::make_subscriber("alice@ims.example.org", "ims.example.org", "pw",
                                        {"sip:alice@ims.example.org", "tel:+15551234"}, kNow);
    alice.allowed_wwsf = {"wwsf.example", "bad.example"};
    store->put_subscriber(alice);
    store->put_subscriber(store::make_subscriber("bob@ims.example.org", "ims.example.org", "pw", {"sip:bob@ims.example.org"}, kNow));
    auto g1 = store::make_subscriber("g1@pool.example", "ims.example.org", "pw", {"sip:g1@pool.example"}, kNow);
    g1.pool_owner = "wwsf.example";
    store->put_subscriber(g1);
    auto g2 = store::make_subscriber("g2@pool.example", "ims.example.org", "pw", {"sip:g2@pool.example"}, kNow);
    g2.pool_owner = "other.example";
    store->put_subscriber(g2);

    WafSettings s;
    s.issuer = "https://waf.example";
    s.home_domain = "ims.example.org";
    s.turn_keys = {token::OAuthKey{"turn-k1", std::vector<uint8_t>(32, 7), token::OAuthAlg::A256GCM}};
    s.turn_server_name = "turn.example.org";
    key = token::SigningKey::generate();
    logic = std::make_unique<WafLogic>(s, std::vector<token::SigningKey>{key}, *store, random);
  }

  net::HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                         const std::string& cert = "", int64_t now = kNow) {
    net::HttpRequest r;
    r.method = method;
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = body;
    r.tls = true;
    r.peer_cert_sha256_hex = cert;
    if (method == "POST") r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    auto resp = logic->handle(r, now);
    EXPECT_TRUE(resp.has_value()) << target;
    return resp ? *resp : net::HttpResponse{};
  }

  static json body(const net::HttpResponse& r) { return json::parse(r.body); }

  static std::string location(const net::HttpResponse& r) {
    for (auto& [k, v] : r.headers)
      if (k == "Location") return v;
    return "";
  }

  // Parameters of a redirect: query for the code flow, fragment for the implicit one.
  static std::map<std::string, std::string> redirect_params(const net::HttpResponse& r) {
    std::string loc = location(r);
    auto at = loc.find_first_of("?#");
    if (at == std::string::npos) return {};
    return parse_form(loc.substr(at + 1)).value_or(std::map<std::string, std::string>{});
  }

  token::VerifyKeys verify_keys() { return token::VerifyKeys::from_jwks(token::jwks_json({key})).value(); }
  token::TokenPolicy policy() { return {{"https://waf.example"}, "ims.example.org", 60}; }

  std::string ticket(const std::string& sub, bool pool = false, const std::string& scope = std::string(token::kImsScope),
                     const std::string& cert = kCert) {
    auto r = call("POST", "/authorize/ticket",
                  "for_client_id=wic&sub=" + form_escape(sub) + "&pool=" + (pool ? "true" : "false") + "&scope=" + scope, cert);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? body(r).at("ticket").get<std::string>() : "";
  }

  std::string authorize_target(const std::string& t, const std::string& response_type = "code",
                               const std::string& extra = "") {
    std::string s = "/authorize?response_type=" + response_type + "&client_id=wic&redirect_uri=" + form_escape(kRedirect) +
                    "&state=xyz&ticket=" + form_escape(t);
    if (response_type == "code") s += "&code_challenge=" + pkce_s256(kVerifier) + "&code_challenge_method=S256";
    return s + extra;
  }

  std::string code_for(const std::string& sub, bool pool = false) {
    auto r = call("GET", authorize_target(ticket(sub, pool)));
    EXPECT_EQ(r.status, 302);
    auto p = redirect_params(r);
    EXPECT_EQ(p["state"], "xyz");
    EXPECT_EQ(p["iss"], "https://waf.example");
    EXPECT_TRUE(location(r).rfind(kRedirect + "?", 0) == 0) << location(r);
    return p["code"];
  }

  net::HttpResponse redeem(const std::string& code, const std::string& verifier = kVerifier,
                           const std::string& redirect = kRedirect, const std::string& client = "wic") {
    return call("POST", "/token",
                "grant_type=authorization_code&code=" + form_escape(code) + "&client_id=" + client +
                    "&redirect_uri=" + form_escape(redirect) + "&code_verifier=" + verifier);
  }

  net::HttpResponse w4(const std::string& sub, bool pool = false, const std::string& cert = kCert,
                       const std::string& extra = "") {
    return call("POST", "/token",
                "grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims&sub=" + form_escape(sub) +
                    "&pool=" + (pool ? "true" : "false") + extra,
                cert);
  }

  base::TestTempDir dir{"webims-waf"};
  std::unique_ptr<store::Store> store;
  base::SeededRandom random{42};
  token::SigningKey key = token::SigningKey::generate("unused");
  std::unique_ptr<WafLogic> logic;
};

}  // namespace

TEST(Pkce, Rfc7636AppendixB) {
  EXPECT_EQ(pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Form, ParseAndEscape) {
  auto f = parse_form("a=1&b=x+y%2Fz&c=&d&e=%C3%A9");
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["a"], "1");
  EXPECT_EQ((*f)["b"], "x y/z");
  EXPECT_EQ((*f)["c"], "");
  EXPECT_EQ((*f)["d"], "");
  EXPECT_EQ((*f)["e"], "\xC3\xA9");
  EXPECT_FALSE(parse_form("a=1&a=2")) << "RFC 6749 §3.1: no repeated parameters";
  EXPECT_FALSE(parse_form("a=%2"));
  EXPECT_FALSE(parse_form("a=%zz"));
  EXPECT_EQ(form_escape("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(parse_form("k=" + form_escape("x&y=z%"))->at("k"), "x&y=z%");
}

TEST_F(Waf, NotOurPathsAreLeftToTheOtherServer) {
  net::HttpRequest r;
  r.method = "GET";
  r.path = r.target = "/index.html";
  EXPECT_FALSE(logic->handle(r, kNow));
  r.path = r.target = "/api/login";
  EXPECT_FALSE(logic->handle(r, kNow));
}

TEST_F(Waf, MetadataAndJwks) {
  auto m = call("GET", "/.well-known/oauth-authorization-server");
  ASSERT_EQ(m.status, 200);
  json j = body(m);
  EXPECT_EQ(j["issuer"], "https://waf.example");
  EXPECT_EQ(j["token_endpoint"], "https://waf.example/token");
  EXPECT_EQ(j["jwks_uri"], "https://waf.example/.well-known/jwks.json");
  EXPECT_EQ(j["code_challenge_methods_supported"], json({"S256"}));
  auto k = call("GET", "/.well-known/jwks.json");
  ASSERT_EQ(k.status, 200);
  auto keys = token::VerifyKeys::from_jwks(k.body);
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->has(key.kid()));
  EXPECT_EQ(call("POST", "/.well-known/jwks.json").status, 405);
}

TEST_F(Waf, W4ClientCredentialsScenario2) {
  auto r = w4("alice@ims.example.org");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = body(r);
  EXPECT_EQ(j["token_type"], "Bearer");
  EXPECT_EQ(j["expires_in"], 3600);
  EXPECT_EQ(j["impu"], json({"sip:alice@ims.example.org", "tel:+15551234"}));
  auto t = token::verify_ims_token(j["access_token"].get<std::string>(), verify_keys(), policy(), kNow);
  ASSERT_TRUE(t.ok()) << t.error().reason;
  EXPECT_EQ(t->sub, "alice@ims.example.org");
  EXPECT_EQ(t->wwsf, "wwsf.example");
  EXPECT_EQ(t->aud, "ims.example.org");
  EXPECT_EQ(t->iss, "https://waf.example");
  EXPECT_FALSE(t->pool);
  EXPECT_EQ(t->exp, kNow + 3600);
  EXPECT_EQ(t->impu, (std::vector<std::string>{"sip:alice@ims.example.org", "tel:+15551234"}));
  // With client_id named explicitly, the same.
  EXPECT_EQ(w4("alice@ims.example.org", false, kCert, "&client_id=wwsf-client").status, 200);
  EXPECT_EQ(logic->stats().tokens_issued, 2u);
}

TEST_F(Waf, W4PoolScenario3) {
  auto r = w4("g1@pool.example", true);
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = token::verify_ims_token(body(r)["access_token"].get<std::string>(), verify_keys(), policy(), kNow);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->pool);
  EXPECT_EQ(t->sub, "g1@pool.example");
}

TEST_F(Waf, W4Refusals) {
  auto err = [](const net::HttpResponse& r) { return json::parse(r.body).value("error", ""); };
  // REQ 2.2: blocked WWSF.
  auto r = w4("alice@ims.example.org", false, kBadCert);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(err(r), "access_denied");
  EXPECT_NE(r.body.find("blocked"), std::string::npos);
  // REQ 2.1: the subscription does not allow this WWSF.
  r = w4("bob@ims.example.org");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(err(r), "invalid_grant");
  EXPECT_NE(r.body.find("REQ 2.1"), std::string::npos);
  // REQ 3.2: a pool IMPI of another WWSF; and a linked IMPI passed off as a pool one.
  r = w4("g2@pool.example", true);
  EXPECT_EQ(err(r), "invalid_grant");
  EXPECT_NE(r.body.find("REQ 3.2"), std::string::npos);
  EXPECT_EQ(err(w4("alice@ims.example.org", true)), "invalid_grant");
  // A pool IMPI asked for as a linked one (not in allowed_wwsf).
  EXPECT_EQ(err(w4("g1@pool.example", false)), "invalid_grant");
  // Unknown subscription, no sub.
  EXPECT_EQ(err(w4("nobody@ims.example.org")), "invalid_grant");
  EXPECT_EQ(err(call("POST", "/token", "grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims", kCert)),
            "invalid_request");
  // Wrong client certificate (RFC 8705): unknown, none, another client's with that client's id.
  r = w4("alice@ims.example.org", false, kOtherCert);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(err(r), "invalid_client");
  EXPECT_EQ(err(w4("alice@ims.example.org", false, "")), "invalid_client");
  EXPECT_EQ(err(w4("alice@ims.example.org", false, kBadCert, "&client_id=wwsf-client")), "invalid_client");
  EXPECT_EQ(err(w4("alice@ims.example.org", false, kCert, "&client_id=wic")), "invalid_client");
  // Scope and grant type.
  EXPECT_EQ(err(call("POST", "/token", "grant_type=client_credentials&scope=openid&sub=alice%40ims.example.org", kCert)),
            "invalid_scope");
  EXPECT_EQ(err(call("POST", "/token", "grant_type=password&username=a&password=b", kCert)), "unsupported_grant_type");
  EXPECT_EQ(err(w4("alice@ims.example.org", false, kCert, "&pool=maybe")), "invalid_request") << "repeated parameter";
  EXPECT_EQ(call("GET", "/token").status, 405);
  EXPECT_EQ(logic->stats().tokens_issued, 0u);
}

TEST_F(Waf, BlockingTakesEffectAtOnce) {
  ASSERT_EQ(w4("alice@ims.example.org").status, 200);
  std::string t = ticket("alice@ims.example.org");
  store->set_wwsf_blocked("wwsf.example", true, "test", kNow);
  EXPECT_EQ(w4("alice@ims.example.org").status, 403);
  auto r = call("GET", authorize_target(t));
  EXPECT_EQ(redirect_params(r)["error"], "access_denied");
}

TEST_F(Waf, AuthorizationCodeWithPkce) {
  std::string code = code_for("alice@ims.example.org");
  ASSERT_FALSE(code.empty());
  auto r = redeem(code);
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = token::verify_ims_token(body(r)["access_token"].get<std::string>(), verify_keys(), policy(), kNow);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->sub, "alice@ims.example.org");
  EXPECT_EQ(t->wwsf, "wwsf.example");
  auto claims = token::verify_es256_jws(body(r)["access_token"].get<std::string>(), verify_keys())->payload;
  EXPECT_EQ(claims["client_id"], "wic");
}

TEST_F(Waf, ReusedCodeIsRefusedAndItsTokenRevoked) {
  std::string code = code_for("alice@ims.example.org");
  auto first = redeem(code);
  ASSERT_EQ(first.status, 200);
  std::string at = body(first)["access_token"];
  auto again = redeem(code);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(body(again)["error"], "invalid_grant");
  auto intro = call("POST", "/introspect", "token=" + at, kCert);
  ASSERT_EQ(intro.status, 200);
  EXPECT_EQ(body(intro)["active"], false);
}

TEST_F(Waf, CodeRefusals) {
  auto err = [](const net::HttpResponse& r) { return json::parse(r.body).value("error", ""); };
  // Bad PKCE verifier (well-formed, wrong), then the code is spent.
  std::string code = code_for("alice@ims.example.org");
  EXPECT_EQ(err(redeem(code, std::string(43, 'x'))), "invalid_grant");
  EXPECT_EQ(err(redeem(code)), "invalid_grant") << "a failed attempt spends the code";
  // Missing / short verifier.
  EXPECT_EQ(err(redeem(code_for("alice@ims.example.org"), "")), "invalid_grant");
  EXPECT_EQ(err(redeem(code_for("alice@ims.example.org"), "short")), "invalid_grant");
  // Wrong redirect URI (even another registered one), wrong client.
  EXPECT_EQ(err(redeem(code_for("alice@ims.example.org"), kVerifier, "https://app.example/other")), "invalid_grant");
  EXPECT_EQ(err(redeem(code_for("alice@ims.example.org"), kVerifier, kRedirect, "other")), "invalid_grant");
  // Expired code.
  std::string late = code_for("alice@ims.example.org");
  auto r = call("POST", "/token",
                "grant_type=authorization_code&code=" + late + "&client_id=wic&redirect_uri=" + form_escape(kRedirect) +
                    "&code_verifier=" + kVerifier,
                "", kNow + 61);
  EXPECT_EQ(err(r), "invalid_grant");
  // Unknown code.
  EXPECT_EQ(err(redeem("nope")), "invalid_grant");
}

TEST_F(Waf, AuthorizeRefusals) {
  auto page_status = [&](const std::string& target) { return call("GET", target).status; };
  std::string t = ticket("alice@ims.example.org");
  // Unknown client or unregistered redirect URI: an error page, never a redirect.
  EXPECT_EQ(page_status("/authorize?response_type=code&client_id=nobody&redirect_uri=" + form_escape(kRedirect)), 400);
  EXPECT_EQ(page_status("/authorize?response_type=code&client_id=wic&redirect_uri=" + form_escape("https://evil.example/cb")), 400);
  EXPECT_EQ(page_status("/authorize?response_type=code&client_id=wic&redirect_uri=" + form_escape(kRedirect + "/")), 400);
  EXPECT_EQ(page_status("/authorize?response_type=code&client_id=wic"), 400);
  EXPECT_EQ(page_status("/authorize?response_type=code&client_id=wwsf-client&redirect_uri=" + form_escape(kRedirect)), 400);

  auto error_of = [&](const std::string& target) {
    auto r = call("GET", target);
    EXPECT_EQ(r.status, 302);
    return redirect_params(r)["error"];
  };
  std::string base = "/authorize?response_type=code&client_id=wic&redirect_uri=" + form_escape(kRedirect) + "&ticket=";
  // PKCE: missing challenge, plain, missing method (= plain).
  EXPECT_EQ(error_of(base + ticket("alice@ims.example.org")), "invalid_request");
  EXPECT_EQ(error_of(base + ticket("alice@ims.example.org") + "&code_challenge=" + kVerifier + "&code_challenge_method=plain"),
            "invalid_request");
  EXPECT_EQ(error_of(base + ticket("alice@ims.example.org") + "&code_challenge=" + pkce_s256(kVerifier)), "invalid_request");
  // No ticket, an unknown one, an expired one, one used twice.
  std::string pk = "&code_challenge=" + pkce_s256(kVerifier) + "&code_challenge_method=S256";
  EXPECT_EQ(error_of("/authorize?response_type=code&client_id=wic&redirect_uri=" + form_escape(kRedirect) + pk), "access_denied");
  EXPECT_EQ(error_of(base + "forged" + pk), "access_denied");
  std::string old = ticket("alice@ims.example.org");
  auto r = call("GET", authorize_target(old), "", "", kNow + 121);
  EXPECT_EQ(redirect_params(r)["error"], "access_denied");
  EXPECT_EQ(call("GET", authorize_target(t)).status, 302);
  EXPECT_EQ(error_of(authorize_target(t)), "access_denied") << "tickets are single-use";
  EXPECT_EQ(error_of(authorize_target(ticket("alice@ims.example.org"), "id_token")), "unsupported_response_type");
}

TEST_F(Waf, TicketRefusals) {
  auto err = [](const net::HttpResponse& r) { return json::parse(r.body).value("error", ""); };
  auto post = [&](const std::string& body, const std::string& cert) { return call("POST", "/authorize/ticket", body, cert); };
  EXPECT_EQ(err(post("for_client_id=wic&sub=alice%40ims.example.org", "")), "invalid_client");
  EXPECT_EQ(err(post("for_client_id=wic&sub=alice%40ims.example.org", kOtherCert)), "invalid_client");
  EXPECT_EQ(err(post("for_client_id=wic&sub=alice%40ims.example.org", kBadCert)), "access_denied");
  EXPECT_EQ(err(post("for_client_id=wic&sub=bob%40ims.example.org", kCert)), "invalid_grant");
  EXPECT_EQ(err(post("for_client_id=wic&sub=g2%40pool.example&pool=true", kCert)), "invalid_grant");
  EXPECT_EQ(err(post("for_client_id=wwsf-client&sub=alice%40ims.example.org", kCert)), "invalid_request");
  EXPECT_EQ(err(post("sub=alice%40ims.example.org", kCert)), "invalid_request");
}

TEST_F(Waf, ImplicitImsAndTurnTokens) {
  auto r = call("GET", authorize_target(ticket("alice@ims.example.org"), "token"));
  ASSERT_EQ(r.status, 302);
  EXPECT_TRUE(location(r).rfind(kRedirect + "#", 0) == 0) << "implicit answers in the fragment";
  auto p = redirect_params(r);
  EXPECT_EQ(p["token_type"], "Bearer");
  EXPECT_TRUE(token::verify_ims_token(p["access_token"], verify_keys(), policy(), kNow).ok());

  // TR 33.872 TURN flow: scope turn, implicit.
  r = call("GET", authorize_target(ticket("alice@ims.example.org", false, "turn"), "token", "&scope=turn"));
  ASSERT_EQ(r.status, 302);
  p = redirect_params(r);
  EXPECT_EQ(p["token_type"], "pop");
  EXPECT_EQ(p["kid"], "turn-k1");
  auto tok = base::base64_decode(p["access_token"]);
  ASSERT_TRUE(tok);
  token::OAuthKey k{"turn-k1", std::vector<uint8_t>(32, 7), token::OAuthAlg::A256GCM};
  auto opened = token::decode_oauth_token(k, "turn.example.org", *tok);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(base::base64_encode(opened->mac_key), p["key"]);
  EXPECT_EQ(opened->seconds(), kNow);
  EXPECT_EQ(opened->lifetime, 3600u);
  // The ticket's scope binds: asking for turn with an IMS ticket fails.
  r = call("GET", authorize_target(ticket("alice@ims.example.org"), "token", "&scope=turn"));
  EXPECT_EQ(redirect_params(r)["error"], "invalid_scope");
}

TEST_F(Waf, TurnTokenOverW4) {
  auto r = call("POST", "/token", "grant_type=client_credentials&scope=turn", kCert);
  ASSERT_EQ(r.status, 200) << r.body;
  auto g = token::parse_oauth_grant_json(r.body);
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ(g->kid, "turn-k1");
  EXPECT_EQ(body(r)["token_type"], "pop");
  EXPECT_EQ(call("POST", "/token", "grant_type=client_credentials&scope=turn", kBadCert).status, 403);
  EXPECT_EQ(json::parse(call("POST", "/token", "grant_type=client_credentials&scope=turn+" + std::string(token::kImsScope), kCert).body)["error"],
            "invalid_scope");
}

TEST_F(Waf, IntrospectionAndRevocation) {
  std::string at = body(w4("alice@ims.example.org"))["access_token"];
  // Unauthenticated introspection is refused (RFC 7662 §2.1).
  EXPECT_EQ(call("POST", "/introspect", "token=" + at).status, 401);
  auto i = body(call("POST", "/introspect", "token=" + at, kCert));
  EXPECT_EQ(i["active"], true);
  EXPECT_EQ(i["sub"], "alice@ims.example.org");
  EXPECT_EQ(i["client_id"], "wwsf-client");
  EXPECT_EQ(i["scope"], token::kImsScope);
  EXPECT_EQ(body(call("POST", "/introspect", "token=garbage", kCert))["active"], false);
  // Expired tokens are inactive.
  auto late = call("POST", "/introspect", "token=" + at, kCert, kNow + 3601);
  EXPECT_EQ(body(late)["active"], false);

  // Only the client it was issued to revokes it: the public client's attempt changes nothing.
  EXPECT_EQ(call("POST", "/revoke", "token=" + at + "&client_id=wic").status, 200);
  EXPECT_EQ(body(call("POST", "/introspect", "token=" + at, kCert))["active"], true);
  EXPECT_EQ(call("POST", "/revoke", "token=" + at, kCert).status, 200);
  EXPECT_EQ(body(call("POST", "/introspect", "token=" + at, kCert))["active"], false);
  EXPECT_TRUE(store->token_revoked(token::verify_es256_jws(at, verify_keys())->payload["jti"]));
  // Unknown tokens: 200 (RFC 7009 §2.2); unidentified clients: 401.
  EXPECT_EQ(call("POST", "/revoke", "token=garbage", kCert).status, 200);
  EXPECT_EQ(call("POST", "/revoke", "token=" + at).status, 401);

  // A public client revokes its own (authorization code) token.
  auto r = redeem(code_for("alice@ims.example.org"));
  std::string pub_at = body(r)["access_token"];
  EXPECT_EQ(call("POST", "/revoke", "token=" + pub_at + "&client_id=wic").status, 200);
  EXPECT_EQ(body(call("POST", "/introspect", "token=" + pub_at, kCert))["active"], false);

  // A blocked WWSF's tokens introspect inactive (REQ 2.2).
  std::string at2 = body(w4("alice@ims.example.org"))["access_token"];
  store->set_wwsf_blocked("wwsf.example", true, "test", kNow);
  store->put_oauth_client({"auditor", "wwsf", {}, "other.example", kOtherCert, kNow});
  EXPECT_EQ(body(call("POST", "/introspect", "token=" + at2, kOtherCert))["active"], false);
}

TEST_F(Waf, PathPrefix) {
  WafSettings s = logic->settings();
  s.path_prefix = "/waf";
  WafLogic prefixed(s, {key}, *store, random);
  net::HttpRequest r;
  r.method = "GET";
  r.path = r.target = "/.well-known/jwks.json";
  EXPECT_FALSE(prefixed.handle(r, kNow));
  r.path = r.target = "/waf/.well-known/oauth-authorization-server";
  auto m = prefixed.handle(r, kNow);
  ASSERT_TRUE(m);
  EXPECT_EQ(json::parse(m->body)["token_endpoint"], "https://waf.example/waf/token");
}
