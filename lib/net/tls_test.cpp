#include "net/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/test_temp_dir.hpp"

namespace net {
namespace {

namespace fs = std::filesystem;

// A fresh directory for the test's files, removed afterwards.
struct TempDir : base::TestTempDir {
  TempDir() : base::TestTempDir("webims-tls") {}
};

std::string read(const std::string& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const std::string& file) {
  struct stat st;
  if (stat(file.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

X509* load(const std::string& file) {
  FILE* f = fopen(file.c_str(), "r");
  if (!f) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  fclose(f);
  return x;
}

// The chain verifies for TLS server use, the way a TLS client would check it.
bool verifies(const LocalCaFiles& f) {
  X509* ca = load(f.ca_cert);
  X509* leaf = load(f.cert);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  bool ok = X509_verify_cert(ctx) == 1;
  if (!ok) ADD_FAILURE() << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(leaf);
  X509_free(ca);
  return ok;
}

bool covers(const std::string& cert_file, const std::string& name, bool ip) {
  X509* x = load(cert_file);
  bool ok = ip ? X509_check_ip_asc(x, name.c_str(), 0) == 1
               : X509_check_host(x, name.data(), name.size(), X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr) == 1;
  X509_free(x);
  return ok;
}

std::string subject_cn(const std::string& cert_file) {
  X509* x = load(cert_file);
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
  X509_free(x);
  return buf;
}

int days_left(const std::string& cert_file) {
  X509* x = load(cert_file);
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(x));
  X509_free(x);
  return days;
}

TEST(LocalCa, CreatesVerifiableCaAndServerCertificate) {
  TempDir t;
  std::string dir = t / "tls";
  auto f = ensure_local_ca(dir, {"localhost", "127.0.0.1", "::1", "node1.example"});
  EXPECT_EQ(f.ca_cert, dir + "/ca.pem");
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(f.ca_key), 0600u);
  EXPECT_EQ(mode_of(f.key), 0600u);
  EXPECT_TRUE(verifies(f));
  EXPECT_TRUE(covers(f.cert, "localhost", false));
  EXPECT_TRUE(covers(f.cert, "node1.example", false));
  EXPECT_TRUE(covers(f.cert, "127.0.0.1", true));
  EXPECT_TRUE(covers(f.cert, "::1", true));
  EXPECT_FALSE(covers(f.cert, "other.example", false));
  EXPECT_EQ(subject_cn(f.cert), "localhost");
  EXPECT_EQ(subject_cn(f.ca_cert).rfind("webims local CA ", 0), 0u);
  EXPECT_NEAR(days_left(f.cert), 825, 1);
  EXPECT_NEAR(days_left(f.ca_cert), 3650, 1);
  EXPECT_NO_THROW(make_server_tls_context(f.cert, f.key));
}

TEST(LocalCa, SecondCallKeepsEverything) {
  TempDir t;
  auto f = ensure_local_ca(t / "tls", {"localhost", "127.0.0.1"});
  std::string ca = read(f.ca_cert), ca_key = read(f.ca_key), cert = read(f.cert), key = read(f.key);
  auto g = ensure_local_ca(t / "tls", {"127.0.0.1", "localhost"});  // order does not matter
  EXPECT_EQ(read(g.ca_cert), ca);
  EXPECT_EQ(read(g.ca_key), ca_key);
  EXPECT_EQ(read(g.cert), cert);
  EXPECT_EQ(read(g.key), key);
  ensure_local_ca(t / "tls", {"localhost"});  // a subset is covered too
  EXPECT_EQ(read(f.cert), cert);
}

TEST(LocalCa, MissingNameReissuesServerCertificateUnderSameCa) {
  TempDir t;
  auto f = ensure_local_ca(t / "tls", {"localhost"});
  std::string ca = read(f.ca_cert), cert = read(f.cert), key = read(f.key);
  ensure_local_ca(t / "tls", {"localhost", "192.0.2.7"});
  EXPECT_EQ(read(f.ca_cert), ca);
  EXPECT_NE(read(f.cert), cert);
  EXPECT_NE(read(f.key), key);
  EXPECT_TRUE(covers(f.cert, "192.0.2.7", true));
  EXPECT_TRUE(covers(f.cert, "localhost", false));
  EXPECT_TRUE(verifies(f));
}

TEST(LocalCa, ExpiringOrDamagedServerCertificateIsReissued) {
  TempDir t;
  LocalCaOptions short_lived;
  short_lived.server_days = 10;
  auto f = ensure_local_ca(t / "tls", {"localhost"}, short_lived);
  EXPECT_NEAR(days_left(f.cert), 10, 1);
  ensure_local_ca(t / "tls", {"localhost"});  // within 30 days of expiry
  EXPECT_NEAR(days_left(f.cert), 825, 1);

  std::ofstream(f.cert) << "not a certificate";
  ensure_local_ca(t / "tls", {"localhost"});
  EXPECT_TRUE(verifies(f));

  fs::remove(f.key);  // cert without its key
  ensure_local_ca(t / "tls", {"localhost"});
  EXPECT_NO_THROW(make_server_tls_context(f.cert, f.key));
}

TEST(LocalCa, ServerCertificateFromAnotherCaIsReplaced) {
  TempDir t;
  auto a = ensure_local_ca(t / "a", {"localhost"});
  auto b = ensure_local_ca(t / "b", {"localhost"});
  fs::copy_file(a.cert, b.cert, fs::copy_options::overwrite_existing);
  fs::copy_file(a.key, b.key, fs::copy_options::overwrite_existing);
  ensure_local_ca(t / "b", {"localhost"});
  EXPECT_TRUE(verifies(b));
}

TEST(LocalCa, IncompleteCaIsAnErrorNotARegeneration) {
  TempDir t;
  auto f = ensure_local_ca(t / "tls", {"localhost"});
  fs::remove(f.ca_key);
  try {
    ensure_local_ca(t / "tls", {"localhost"});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ca.key"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ensure_local_ca(t / "x", {"bad name!"}), std::runtime_error);
}

// RFC 8705 §3.1: the hash of the DER certificate, computed here independently (i2d + SHA-256).
TEST(CertSha256, IsTheHashOfTheDerCertificate) {
  TempDir t;
  auto f = ensure_local_ca(t / "tls", {"localhost"});
  X509* x = load(f.cert);
  unsigned char* der = nullptr;
  int n = i2d_X509(x, &der);
  X509_free(x);
  ASSERT_GT(n, 0);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(der, size_t(n), md);
  OPENSSL_free(der);
  std::string want;
  char buf[3];
  for (unsigned char b : md) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    want += buf;
  }
  EXPECT_EQ(cert_sha256_hex(f.cert), want);
  EXPECT_NE(cert_sha256_hex(f.ca_cert), want);
  EXPECT_THROW(cert_sha256_hex(f.key), std::runtime_error);                  // a key, no certificate
  EXPECT_THROW(cert_sha256_hex(t / "missing.pem"), std::runtime_error);
}

TEST(TlsContext, ErrorsNameTheFile) {
  TempDir t;
  auto f = ensure_local_ca(t / "tls", {"localhost"});
  auto other = ensure_local_ca(t / "other", {"localhost"});
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  std::string missing = t / "missing.pem";
  EXPECT_NE(message([&] { make_server_tls_context(missing, f.key); }).find(missing), std::string::npos);
  std::string junk = t / "junk.pem";
  std::ofstream(junk) << "junk";
  EXPECT_NE(message([&] { make_server_tls_context(junk, f.key); }).find(junk), std::string::npos);
  EXPECT_NE(message([&] { make_server_tls_context(f.cert, junk); }).find(junk), std::string::npos);
  auto mismatch = message([&] { make_server_tls_context(f.cert, other.key); });
  EXPECT_NE(mismatch.find("does not match"), std::string::npos) << mismatch;
  EXPECT_NE(message([&] { make_client_tls_context(missing); }).find(missing), std::string::npos);
  EXPECT_NO_THROW(make_client_tls_context(f.ca_cert));
  EXPECT_NO_THROW(make_client_tls_context(""));
}

// A handshake between two SSL objects over an in-memory BIO pair, in this thread; then one
// application byte server -> client, so a TLS 1.3 client has read the server's session ticket.
bool handshake_and_byte(SSL* client, SSL* server) {
  BIO* cb = nullptr;
  BIO* sb = nullptr;
  if (BIO_new_bio_pair(&cb, 0, &sb, 0) != 1) return false;
  SSL_set_bio(client, cb, cb);
  SSL_set_bio(server, sb, sb);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  auto pending = [](SSL* s, int r) {
    int e = SSL_get_error(s, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
  };
  bool c_done = false, s_done = false;
  for (int i = 0; i < 50 && !(c_done && s_done); ++i) {
    if (!c_done) {
      int r = SSL_do_handshake(client);
      if (r == 1) c_done = true;
      else if (!pending(client, r)) return false;
    }
    if (!s_done) {
      int r = SSL_do_handshake(server);
      if (r == 1) s_done = true;
      else if (!pending(server, r)) return false;
    }
  }
  if (!c_done || !s_done || SSL_write(server, "x", 1) != 1) return false;
  char b = 0;
  return SSL_read(client, &b, 1) == 1 && b == 'x';
}

// Browsers resume TLS sessions on their next connections; a listener that asks for client
// certificates (the WWSF+WAF listener of webims all) must let them, and keep the certificate hash.
TEST(TlsContext, ClientCertificateRequestLetsSessionsResume) {
  TempDir t;
  auto f = ensure_local_ca(t / "tls", {"localhost"});
  auto server_ctx = make_server_tls_context(f.cert, f.key);
  request_client_certificates(*server_ctx);
  auto client_ctx = make_client_tls_context(f.ca_cert);
  // TLS 1.3 sessions come with the server's tickets after the handshake: keep the last one, as
  // browsers (and openssl s_client -sess_out) do.
  static SSL_SESSION* kept = nullptr;
  SSL_CTX_set_session_cache_mode(client_ctx->native_handle(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(client_ctx->native_handle(), [](SSL*, SSL_SESSION* s) {
    if (kept) SSL_SESSION_free(kept);
    kept = s;
    return 1;  // we hold the reference
  });

  auto connect = [&](SSL_SESSION* resume) {
    SSL* c = SSL_new(client_ctx->native_handle());
    SSL* s = SSL_new(server_ctx->native_handle());
    set_tls_peer_name(c, "localhost");
    if (resume) SSL_set_session(c, resume);
    bool ok = handshake_and_byte(c, s);
    bool reused = ok && SSL_session_reused(c) == 1;
    // A connection freed without a shutdown has its session removed (not resumable): close cleanly.
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c);
    SSL_free(s);
    return std::make_pair(ok, reused);
  };
  auto first = connect(nullptr);
  ASSERT_TRUE(first.first);
  ASSERT_NE(kept, nullptr) << "no session ticket";
  EXPECT_FALSE(first.second);
  SSL_SESSION* session = kept;
  kept = nullptr;
  auto second = connect(session);
  SSL_SESSION_free(session);
  if (kept) SSL_SESSION_free(kept);
  kept = nullptr;
  EXPECT_TRUE(second.first) << "a resuming client was refused";
  EXPECT_TRUE(second.second) << "the session was not resumed";
}

}  // namespace
}  // namespace net
