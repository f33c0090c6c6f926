// The WAF over real HTTPS: the client certificate reaches the logic (RFC 8705), and the signing key
// survives a restart through the store.
#include "waf/io/waf_service.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/encoding.hpp"
#include "base/test_temp_dir.hpp"
#include "net/http_client.hpp"
#include "net/tls.hpp"
#include "store/store.hpp"

namespace {

std::string cert_sha256_hex(const std::string& pem_file) {
  FILE* f = std::fopen(pem_file.c_str(), "r");
  X509* x = f ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
  if (f) std::fclose(f);
  unsigned char md[32];
  unsigned int n = 0;
  X509_digest(x, EVP_sha256(), md, &n);
  X509_free(x);
  return base::hex_encode(base::Bytes(md, n));
}

struct Server {
  boost::asio::io_context io{1};
  std::unique_ptr<waf::io::WafService> service;
  std::thread thread;
  void run() {
    thread = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io);
      io.run();
    });
  }
  ~Server() {
    boost::asio::post(io, [this] {
      service->stop();
      io.stop();
    });
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

TEST(WafService, MutualTlsClientCredentialsAndKeyKeptInTheStore) {
  base::TestTempDir dir("webims-waf-io");
  auto files = net::ensure_local_ca(dir / "tls", {"127.0.0.1"});
  servers::StoreConfig store_cfg{"sqlite://" + (dir / "waf.db")};
  {
    auto st = store::Store::open(store_cfg.url);
    st->put_wwsf({"wwsf.example", "", false, "", 1, 1});
    st->put_oauth_client({"wwsf-client", "wwsf", {}, "wwsf.example", cert_sha256_hex(files.cert), 1});
    auto alice = store::make_subscriber("alice@ims.example.org", "ims.example.org", "pw", {"sip:alice@ims.example.org"}, 1);
    alice.allowed_wwsf = {"wwsf.example"};
    st->put_subscriber(alice);
  }
  servers::TlsConfig tls_cfg;
  tls_cfg.cert_file = files.cert;
  tls_cfg.key_file = files.key;
  waf::WafConfig cfg;
  cfg.listen = "https://127.0.0.1:0";
  cfg.issuer = "https://waf.example";
  waf::WafSettings settings;
  settings.home_domain = "ims.example.org";

  std::string kid;
  {
    Server s;
    s.service = std::make_unique<waf::io::WafService>(s.io, cfg, settings, store_cfg, tls_cfg);
    s.run();
    std::string base = "https://127.0.0.1:" + std::to_string(s.service->local_endpoint().port);

    auto with_cert = net::make_client_tls_context(files.ca_cert);
    with_cert->use_certificate_chain_file(files.cert);
    with_cert->use_private_key_file(files.key, boost::asio::ssl::context::pem);
    net::HttpClientRequest req{"POST", base + "/token", {{"Content-Type", "application/x-www-form-urlencoded"}},
                               "grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims"
                               "&sub=alice%40ims.example.org&pool=false"};
    auto ok = net::http_request_sync(req, {with_cert});
    ASSERT_TRUE(ok.ok()) << ok.error();
    ASSERT_EQ(ok->status, 200) << ok->body;
    auto body = nlohmann::json::parse(ok->body);

    auto jwks = net::http_request_sync({"GET", base + "/.well-known/jwks.json", {}, ""}, {with_cert});
    ASSERT_TRUE(jwks.ok());
    auto keys = token::VerifyKeys::from_jwks(jwks->body);
    ASSERT_TRUE(keys.ok());
    auto t = token::verify_ims_token(body["access_token"].get<std::string>(), *keys,
                                     {{"https://waf.example"}, "ims.example.org", 60}, std::time(nullptr));
    ASSERT_TRUE(t.ok()) << t.error().reason;
    EXPECT_EQ(t->sub, "alice@ims.example.org");
    kid = nlohmann::json::parse(jwks->body)["keys"][0]["kid"];

    // Without a client certificate the same request is refused.
    auto no_cert = net::http_request_sync(req, {net::make_client_tls_context(files.ca_cert)});
    ASSERT_TRUE(no_cert.ok()) << no_cert.error();
    EXPECT_EQ(no_cert->status, 401);
    EXPECT_EQ(nlohmann::json::parse(no_cert->body)["error"], "invalid_client");
  }
  // A restart signs with the same key (kept as the store's local secret).
  auto st = store::Store::open(store_cfg.url);
  auto again = waf::io::load_signing_key("", *st);
  EXPECT_EQ(again.kid(), kid);
  EXPECT_EQ(again.kid(), token::jwk_thumbprint(again.public_jwk()));
}
