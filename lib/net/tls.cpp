#include "net/tls.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "base/ip.hpp"
#include "base/log.hpp"

namespace net {
namespace {

namespace fs = std::filesystem;
namespace ssl = boost::asio::ssl;

// TLS 1.2 suites: ECDHE + AEAD only (Mozilla "intermediate" v5.7 without DHE). TLS 1.3 suites are
// OpenSSL's defaults, all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The reason of the most recent OpenSSL error, and the queue cleared so it cannot leak into the
// next unrelated call.
std::string openssl_error(unsigned long* code = nullptr) {
  unsigned long last = 0, e;
  while ((e = ERR_get_error()) != 0) last = e;
  if (code) *code = last;
  if (last == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

void check_readable(const std::string& file, const char* what) {
  if (::access(file.c_str(), R_OK) != 0)
    throw std::runtime_error(std::string("cannot read ") + what + " '" + file + "': " + std::strerror(errno));
}

void apply_common_policy(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  SSL_CTX* c = ctx.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
  // An idle connection holds no record buffers (about 34 kB each otherwise): thousands of WICs sit
  // on mostly idle WebSockets between their registration refreshes.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1)
    throw std::runtime_error("cannot set the TLS cipher list: " + openssl_error());
}

// ---- OpenSSL object ownership ----------------------------------------------------------------------

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct BioFree { void operator()(BIO* p) const { BIO_free(p); } };
struct BnFree { void operator()(BIGNUM* p) const { BN_free(p); } };
struct NamesFree { void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Bio = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + openssl_error()); }

// nullptr when the file is missing or not PEM of the right kind.
Cert load_cert(const std::string& file) {
  Bio b(BIO_new_file(file.c_str(), "r"));
  if (!b) return (ERR_clear_error(), nullptr);
  Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return c;
}

Pkey load_key(const std::string& file) {
  Bio b(BIO_new_file(file.c_str(), "r"));
  if (!b) return (ERR_clear_error(), nullptr);
  Pkey k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return k;
}

Pkey generate_p256() {
  Pkey k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!k) fail("cannot generate an ECDSA P-256 key");
  return k;
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, size_t(n));
}

// Writes via a temporary file and rename, so a reader (or a crash) never sees half a file.
void write_file_atomically(const fs::path& file, const std::string& content, mode_t mode) {
  std::string tmp = file.string() + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create '" + tmp + "': " + std::strerror(errno));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write '" + tmp + "': " + std::strerror(err));
    }
    off += size_t(n);
  }
  ::fchmod(fd, mode);  // O_CREAT's mode is reduced by the umask; keys must be exactly 0600
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + file.string() + "': " + std::strerror(err));
  }
}

void write_key(const fs::path& file, EVP_PKEY* key) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("cannot encode private key for '" + file.string() + "'");
  write_file_atomically(file, bio_text(b.get()), 0600);
}

void write_cert(const fs::path& file, X509* cert) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), cert) != 1) fail("cannot encode certificate for '" + file.string() + "'");
  write_file_atomically(file, bio_text(b.get()), 0644);
}

void add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (!ext) fail(std::string("cannot build certificate extension ") + OBJ_nid2sn(nid));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) fail(std::string("cannot add certificate extension ") + OBJ_nid2sn(nid));
}

bool valid_dns_name(const std::string& n) {
  if (n.empty() || n.size() > 253) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*')) return false;
  return true;
}

std::string strip_brackets(const std::string& n) {
  return n.size() > 2 && n.front() == '[' && n.back() == ']' ? n.substr(1, n.size() - 2) : n;
}

std::unique_ptr<GENERAL_NAMES, NamesFree> subject_alt_names(const std::vector<std::string>& names) {
  std::unique_ptr<GENERAL_NAMES, NamesFree> gens(sk_GENERAL_NAME_new_null());
  for (const auto& raw : names) {
    std::string n = strip_brackets(raw);
    GENERAL_NAME* g = GENERAL_NAME_new();
    if (auto ip = base::IpAddress::parse(n)) {
      ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
      ASN1_OCTET_STRING_set(os, ip->data(), int(ip->size()));
      GENERAL_NAME_set0_value(g, GEN_IPADD, os);
    } else {
      if (!valid_dns_name(n)) {
        GENERAL_NAME_free(g);
        throw std::runtime_error("'" + raw + "' is neither an IP address nor a DNS name");
      }
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, n.data(), int(n.size()));
      GENERAL_NAME_set0_value(g, GEN_DNS, s);
    }
    sk_GENERAL_NAME_push(gens.get(), g);
  }
  return gens;
}

// A v3 certificate with a random 127-bit serial, valid from an hour ago (clock skew) for `days`.
Cert new_cert(EVP_PKEY* subject_key, const std::string& cn, int days) {
  Cert c(X509_new());
  if (!c) fail("cannot allocate a certificate");
  X509_set_version(c.get(), X509_VERSION_3);
  std::unique_ptr<BIGNUM, BnFree> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(c.get())))
    fail("cannot make a certificate serial number");
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_time_adj_ex(X509_getm_notAfter(c.get()), days, 0, nullptr);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("webims"), -1, -1, 0);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()),
                                 -1, -1, 0) != 1)
    fail("cannot set certificate name '" + cn + "'");
  X509_set_pubkey(c.get(), subject_key);
  return c;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

void create_ca(const fs::path& cert_file, const fs::path& key_file, int days) {
  Pkey key = generate_p256();
  Cert c = new_cert(key.get(), "webims local CA " + host_name(), days);
  X509_set_issuer_name(c.get(), X509_get_subject_name(c.get()));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, c.get(), c.get(), nullptr, nullptr, 0);
  add_ext(c.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(c.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(c.get(), &ctx, NID_subject_key_identifier, "hash");
  add_ext(c.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(c.get(), key.get(), EVP_sha256()) <= 0) fail("cannot sign the local CA certificate");
  write_key(key_file, key.get());
  write_cert(cert_file, c.get());
  LOG_INFO("tls") << "created local CA " << cert_file.string();
}

void issue_server_cert(X509* ca, EVP_PKEY* ca_key, const std::vector<std::string>& names,
                       const fs::path& cert_file, const fs::path& key_file, int days) {
  Pkey key = generate_p256();
  Cert c = new_cert(key.get(), names.empty() ? "localhost" : strip_brackets(names.front()), days);
  // Never outlive the CA: a chain is only as valid as its shortest link.
  if (ASN1_TIME_compare(X509_get0_notAfter(ca), X509_get0_notAfter(c.get())) < 0)
    X509_set1_notAfter(c.get(), X509_get0_notAfter(ca));
  X509_set_issuer_name(c.get(), X509_get_subject_name(ca));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca, c.get(), nullptr, nullptr, 0);
  add_ext(c.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
  add_ext(c.get(), &ctx, NID_key_usage, "critical,digitalSignature");
  add_ext(c.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
  add_ext(c.get(), &ctx, NID_subject_key_identifier, "hash");
  add_ext(c.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  auto sans = subject_alt_names(names);
  if (sk_GENERAL_NAME_num(sans.get()) > 0 &&
      X509_add1_ext_i2d(c.get(), NID_subject_alt_name, sans.get(), 0, X509V3_ADD_DEFAULT) != 1)
    fail("cannot add subjectAltName");
  if (X509_sign(c.get(), ca_key, EVP_sha256()) <= 0) fail("cannot sign the server certificate");
  write_key(key_file, key.get());
  write_cert(cert_file, c.get());
}

// Why the existing server certificate must be replaced, or empty when it is still good.
std::string reissue_reason(X509* ca, const fs::path& cert_file, const fs::path& key_file,
                           const std::vector<std::string>& names, int renew_days) {
  Cert cert = load_cert(cert_file);
  if (!cert) return "missing or unreadable";
  Pkey key = load_key(key_file);
  if (!key) return "key missing or unreadable";
  if (X509_check_private_key(cert.get(), key.get()) != 1) return (ERR_clear_error(), "key does not match");
  EVP_PKEY* ca_pub = X509_get0_pubkey(ca);
  if (!ca_pub || X509_verify(cert.get(), ca_pub) != 1 ||
      X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca)) != 0)
    return (ERR_clear_error(), "not issued by the local CA");
  time_t horizon = ::time(nullptr) + time_t(renew_days) * 86400;
  if (X509_cmp_time(X509_get0_notAfter(cert.get()), &horizon) <= 0) return "expires soon";
  for (const auto& raw : names) {
    std::string n = strip_brackets(raw);
    bool covered = base::IpAddress::parse(n)
                       ? X509_check_ip_asc(cert.get(), n.c_str(), 0) == 1
                       : X509_check_host(cert.get(), n.data(), n.size(), X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                                         nullptr) == 1;
    if (!covered) return "does not cover '" + raw + "'";
  }
  return {};
}

// flock() on dir/.lock for the duration: two processes starting at once issue one certificate.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    auto file = (dir / ".lock").string();
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open lock file '" + file + "': " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) throw std::runtime_error("cannot lock '" + file + "': " + std::strerror(errno));
  }
  ~DirLock() { ::close(fd_); }  // closing releases the lock

 private:
  int fd_ = -1;
};

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& cert_file, const std::string& key_file) {
  check_readable(cert_file, "TLS certificate file");
  check_readable(key_file, "TLS key file");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  apply_common_policy(*ctx);
  SSL_CTX* c = ctx->native_handle();
  if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1)
    throw std::runtime_error("cannot load TLS certificate chain from '" + cert_file + "': " + openssl_error());
  if (SSL_CTX_use_PrivateKey_file(c, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    unsigned long code = 0;
    std::string err = openssl_error(&code);
    if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH)
      throw std::runtime_error("TLS private key '" + key_file + "' does not match certificate '" + cert_file + "'");
    throw std::runtime_error("cannot load TLS private key from '" + key_file + "': " + err);
  }
  if (SSL_CTX_check_private_key(c) != 1)
    throw std::runtime_error("TLS private key '" + key_file + "' does not match certificate '" + cert_file +
                             "': " + openssl_error());
  return ctx;
}

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& ca_file, bool verify) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  apply_common_policy(*ctx);
  SSL_CTX* c = ctx->native_handle();
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(c) != 1)
      throw std::runtime_error("cannot load the system's trusted CA certificates: " + openssl_error());
  } else {
    check_readable(ca_file, "CA file");
    if (SSL_CTX_load_verify_locations(c, ca_file.c_str(), nullptr) != 1)
      throw std::runtime_error("cannot load CA certificates from '" + ca_file + "': " + openssl_error());
  }
  ctx->set_verify_mode(verify ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

void request_client_certificates(ssl::context& ctx) {
  SSL_CTX_set_verify(ctx.native_handle(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  // With SSL_VERIFY_PEER OpenSSL refuses to resume a session whose server context has no session id
  // context (SSL_R_SESSION_ID_CONTEXT_UNINITIALIZED, an internal_error alert): browsers resume on
  // their second connection, so page loads failed at random (Chromium: ERR_SSL_PROTOCOL_ERROR).
  // A resumed session keeps the certificate of its full handshake, so the RFC 8705 hash still holds.
  static constexpr unsigned char kSessionIdContext[] = "webims-client-cert";
  if (SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionIdContext, sizeof kSessionIdContext - 1) != 1)
    throw std::runtime_error("cannot set the TLS session id context: " + openssl_error());
}

std::string cert_sha256_hex(const std::string& pem_file) {
  check_readable(pem_file, "certificate file");
  Cert c = load_cert(pem_file);
  if (!c) throw std::runtime_error("'" + pem_file + "' holds no PEM certificate");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(c.get(), EVP_sha256(), md, &n) != 1) fail("cannot hash the certificate of '" + pem_file + "'");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

void set_tls_peer_name(SSL* ssl, const std::string& raw_host) {
  std::string host = strip_brackets(raw_host);
  if (base::IpAddress::parse(host)) {
    // RFC 6066 §3: no IP literals in SNI; match the certificate's IP SAN instead.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1)
      throw std::runtime_error("cannot set TLS peer address '" + host + "': " + openssl_error());
    return;
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1)
    throw std::runtime_error("cannot set TLS peer name '" + host + "': " + openssl_error());
}

LocalCaFiles ensure_local_ca(const std::string& dir, const std::vector<std::string>& names) {
  return ensure_local_ca(dir, names, LocalCaOptions{});
}

LocalCaFiles ensure_local_ca(const std::string& dir_text, const std::vector<std::string>& names,
                             const LocalCaOptions& opt) {
  fs::path dir(dir_text);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create directory '" + dir_text + "': " + ec.message());
    ::chmod(dir.c_str(), 0700);  // only a directory we created: never change the mode of the user's own
  }
  DirLock lock(dir);
  LocalCaFiles f{(dir / "ca.pem").string(), (dir / "ca.key").string(), (dir / "server.pem").string(),
                 (dir / "server.key").string()};

  bool have_cert = fs::exists(f.ca_cert), have_key = fs::exists(f.ca_key);
  if (have_cert != have_key)
    throw std::runtime_error("local CA in '" + dir_text + "' is incomplete (" + (have_cert ? f.ca_key : f.ca_cert) +
                             " is missing); restore it, or remove " + (have_cert ? f.ca_cert : f.ca_key) +
                             " to create a new CA");
  if (!have_cert) create_ca(f.ca_cert, f.ca_key, opt.ca_days);

  Cert ca = load_cert(f.ca_cert);
  if (!ca) throw std::runtime_error("cannot read local CA certificate '" + f.ca_cert + "'");
  Pkey ca_key = load_key(f.ca_key);
  if (!ca_key) throw std::runtime_error("cannot read local CA key '" + f.ca_key + "'");
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("local CA key '" + f.ca_key + "' does not match '" + f.ca_cert + "'");
  }

  std::string why = reissue_reason(ca.get(), f.cert, f.key, names, opt.renew_days);
  if (!why.empty()) {
    issue_server_cert(ca.get(), ca_key.get(), names, f.cert, f.key, opt.server_days);
    LOG_INFO("tls") << "issued server certificate " << f.cert << " (previous one: " << why << ")";
    time_t horizon = ::time(nullptr) + time_t(opt.renew_days) * 86400;
    if (X509_cmp_time(X509_get0_notAfter(ca.get()), &horizon) <= 0) {
      LOG_WARN("tls") << "local CA " << f.ca_cert << " expires within " << opt.renew_days
                      << " days; remove " << dir_text << " to create a new CA";
    }
  }
  return f;
}

}  // namespace net
