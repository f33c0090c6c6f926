#include "net/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <optional>
#include <thread>

#include "base/test_temp_dir.hpp"
#include "net/http_server.hpp"
#include "net/tls.hpp"

namespace net {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Outcome = base::Result<HttpClientResponse, std::string>;

// Echoes what the server understood, and serves a large body on /big.
HttpResponse echo(const HttpRequest& r) {
  if (r.path == "/big") return {200, "application/octet-stream", std::string(4000, 'x'), {}};
  const std::string* auth = r.header("authorization");
  const std::string* host = r.header("host");
  HttpResponse out;
  out.content_type = "application/json";
  out.body = r.method + " " + r.target + " auth=" + (auth ? *auth : "-") + " host=" + (host ? *host : "-") +
             " tls=" + (r.tls ? "yes" : "no") + " body=" + r.body;
  out.headers = {{"X-Answer", "42"}};
  return out;
}

// An HttpServer on its own thread; the client under test runs elsewhere (http_request_sync).
class Server {
 public:
  explicit Server(const std::string& url, std::shared_ptr<ssl::context> tls = nullptr) {
    server_ = std::make_unique<HttpServer>(io_, url, echo, std::move(tls));
    port_ = server_->local_endpoint().port;
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    asio::post(io_, [this] {
      server_.reset();
      guard_.reset();
    });
    thread_.join();
  }
  std::string url(const std::string& scheme, const std::string& host, const std::string& path) const {
    return scheme + "://" + host + ":" + std::to_string(port_) + path;
  }

 private:
  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  uint16_t port_ = 0;
};

HttpClientRequest get(std::string url) {
  HttpClientRequest r;
  r.url = std::move(url);
  return r;
}

void expect_error(const Outcome& o, const std::string& part) {
  ASSERT_FALSE(o.ok()) << "status " << o->status;
  EXPECT_NE(o.error().find(part), std::string::npos) << o.error();
}

TEST(HttpClient, GetAndPost) {
  Server s("http://127.0.0.1:0");
  auto r = http_request_sync(get(s.url("http", "127.0.0.1", "/a/b?x=1")));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /a/b?x=1 auth=- host=" + s.url("", "127.0.0.1", "").substr(3) + " tls=no body=");
  ASSERT_NE(r->header("x-answer"), nullptr);  // names lower-cased
  EXPECT_EQ(*r->header("x-answer"), "42");
  EXPECT_EQ(*r->header("content-type"), "application/json");
  EXPECT_EQ(r->header("X-Answer"), nullptr);

  HttpClientRequest post;
  post.method = "POST";
  post.url = s.url("http", "127.0.0.1", "/v1/credentials");
  post.headers = {{"Authorization", "Bearer t0k"}, {"Content-Type", "application/json"}};
  post.body = R"({"username":"u"})";
  r = http_request_sync(post);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_NE(r->body.find("POST /v1/credentials auth=Bearer t0k"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"(body={"username":"u"})"), std::string::npos) << r->body;

  // A query without a path still gets a "/".
  r = http_request_sync(get(s.url("http", "127.0.0.1", "?q=1")));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->body.substr(0, 9), "GET /?q=1");
}

TEST(HttpClient, AsyncOnTheCallersIoContext) {
  Server s("http://127.0.0.1:0");
  asio::io_context io;
  int calls = 0;
  std::string body;
  http_request(io, get(s.url("http", "localhost", "/x")), {}, [&](Outcome r) {
    ++calls;
    if (r) body = r->body;
  });
  http_request(io, get("ftp://nowhere/"), {}, [&](Outcome r) {
    ++calls;
    EXPECT_FALSE(r.ok());
  });
  EXPECT_EQ(calls, 0);  // never called from inside http_request, even for a bad URL
  io.run();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(body.substr(0, 6), "GET /x");
}

TEST(HttpClient, BadRequestsAreRefusedBeforeSending) {
  expect_error(http_request_sync(get("ftp://127.0.0.1/")), "expected http:// or https://");
  expect_error(http_request_sync(get("http://127.0.0.1:0/")), "port");
  expect_error(http_request_sync(get("http://127.0.0.1:99999/")), "port");
  expect_error(http_request_sync(get("http:///path")), "no host");
  expect_error(http_request_sync(get("http://::1/")), "brackets");
  expect_error(http_request_sync(get("http://user@127.0.0.1/")), "user information");
  expect_error(http_request_sync(get("http://127.0.0.1/a b")), "space");
  auto r = get("http://127.0.0.1:1/");
  r.headers = {{"X-Evil", "a\r\nSet-Cookie: x"}};
  expect_error(http_request_sync(r), "malformed header");
}

TEST(HttpClient, ConnectionRefused) {
  tcp::endpoint free_port;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    free_port = a.local_endpoint();
  }  // closed: nobody listens there now
  auto r = http_request_sync(get("http://127.0.0.1:" + std::to_string(free_port.port()) + "/"));
  expect_error(r, "HTTP request to 127.0.0.1 failed: cannot connect");
}

TEST(HttpClient, WholeExchangeTimeout) {
  // Accepts and never answers.
  asio::io_context sio;
  tcp::acceptor a(sio, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket peer(sio);
  a.async_accept(peer, [](const boost::system::error_code&) {});
  std::thread t([&] { sio.run(); });
  HttpClientOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto r = http_request_sync(get("http://127.0.0.1:" + std::to_string(a.local_endpoint().port()) + "/"), o);
  expect_error(r, "no answer within 200 ms");
  t.join();
}

TEST(HttpClient, BodyLimit) {
  Server s("http://127.0.0.1:0");
  HttpClientOptions o;
  o.max_body_bytes = 1000;
  expect_error(http_request_sync(get(s.url("http", "127.0.0.1", "/big")), o), "larger than 1000 bytes");
  o.max_body_bytes = 4000;
  auto r = http_request_sync(get(s.url("http", "127.0.0.1", "/big")), o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->body.size(), 4000u);
}

TEST(HttpClient, HttpsVerifiesTheServerByNameOrAddress) {
  base::TestTempDir t("webims-http-client");
  // The certificate names other.example and 127.0.0.1, not localhost.
  auto files = ensure_local_ca(t / "tls", {"other.example", "127.0.0.1"});
  Server s("https://127.0.0.1:0", make_server_tls_context(files.cert, files.key));
  HttpClientOptions o;
  o.tls = make_client_tls_context(files.ca_cert);

  auto r = http_request_sync(get(s.url("https", "127.0.0.1", "/s")), o);  // IP SAN
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_NE(r->body.find("tls=yes"), std::string::npos);

  r = http_request_sync(get(s.url("https", "localhost", "/s")), o);  // resolves fine, name not in the certificate
  expect_error(r, "TLS handshake failed");
  expect_error(r, "hostname mismatch");

  // Another CA's trust store, and the system's (which knows neither).
  auto other = ensure_local_ca(t / "other", {"127.0.0.1"});
  o.tls = make_client_tls_context(other.ca_cert);
  expect_error(http_request_sync(get(s.url("https", "127.0.0.1", "/s")), o), "TLS handshake failed");
  expect_error(http_request_sync(get(s.url("https", "127.0.0.1", "/s"))), "TLS handshake failed");

  // A context that does not ask for verification is verified all the same.
  o.tls = make_client_tls_context(other.ca_cert, false);
  expect_error(http_request_sync(get(s.url("https", "127.0.0.1", "/s")), o), "TLS handshake failed");
}

TEST(HttpClient, HttpsNameAndSni) {
  base::TestTempDir t("webims-http-client");
  auto files = ensure_local_ca(t / "tls", {"localhost"});
  Server s("https://127.0.0.1:0", make_server_tls_context(files.cert, files.key));
  HttpClientOptions o;
  o.tls = make_client_tls_context(files.ca_cert);
  auto r = http_request_sync(get(s.url("https", "localhost", "/n")), o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_NE(r->body.find("host=localhost:"), std::string::npos) << r->body;
  // The same server by address: its certificate has no IP SAN.
  expect_error(http_request_sync(get(s.url("https", "127.0.0.1", "/n")), o), "TLS handshake failed");
}

TEST(HttpClient, ClientCertificateIsPresented) {
  base::TestTempDir t("webims-http-client");
  auto files = ensure_local_ca(t / "tls", {"127.0.0.1"});  // serverAuth + clientAuth: serves as both
  auto server_ctx = make_server_tls_context(files.cert, files.key);
  server_ctx->load_verify_file(files.ca_cert);
  server_ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  Server s("https://127.0.0.1:0", server_ctx);

  HttpClientOptions o;
  o.tls = make_client_tls_context(files.ca_cert);
  // TLS 1.3 reports the server's refusal of a missing certificate only once the client reads.
  expect_error(http_request_sync(get(s.url("https", "127.0.0.1", "/m")), o), "failed");

  o.tls->use_certificate_chain_file(files.cert);
  o.tls->use_private_key_file(files.key, ssl::context::pem);
  auto r = http_request_sync(get(s.url("https", "127.0.0.1", "/m")), o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace net
