// TLS contexts for every listener and client (HTTPS W1/W4, WSS W2, TURN over TLS) and the local CA
// that `webims all` uses when no certificate is configured (architecture.md "self-signed certificates
// generated on first start").
//
// Policy: TLS 1.2 and 1.3 only; TLS 1.2 limited to ECDHE with AEAD ciphers (the Mozilla
// "intermediate" list without DHE); no compression, no renegotiation.
// All functions here run at start-up and throw std::runtime_error with one clear sentence.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

namespace net {

// Server context from PEM files: `cert_file` holds the certificate followed by its chain, `key_file`
// the private key. Throws with the file name when a file is missing, unreadable or they do not match.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file);

// Client context trusting `ca_file` (PEM, may hold several certificates), or the system store when
// empty. With `verify`, the peer's chain must verify; the peer's name is checked per connection with
// set_tls_peer_name().
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file, bool verify = true);

// For one client connection (pass stream.native_handle()): sends `host` as SNI when it is a DNS name
// and requires the peer certificate to match it (DNS name or IP address, RFC 6125). Throws on failure.
void set_tls_peer_name(SSL* ssl, const std::string& host);

// Makes a server context ask clients for a certificate without requiring one and without verifying
// its chain: OAuth clients are pinned by the certificate's SHA-256 (RFC 8705 §2.2, the WAF's W4
// clients), and browsers may send none. The hash reaches handlers as HttpRequest::peer_cert_sha256_hex.
void request_client_certificates(boost::asio::ssl::context& ctx);

// RFC 8705 §3.1 (x5t#S256) in lower-case hex: the SHA-256 of the DER encoding of the first PEM
// certificate in `pem_file`. Throws std::runtime_error naming the file when it holds none.
std::string cert_sha256_hex(const std::string& pem_file);

// The files of a local CA, as absolute or `dir`-relative paths as given.
struct LocalCaFiles {
  std::string ca_cert, ca_key, cert, key;
};

struct LocalCaOptions {
  int ca_days = 3650;      // 10 years
  int server_days = 825;   // the longest lifetime Apple platforms accept for a TLS server certificate
  int renew_days = 30;     // re-issue the server certificate when it expires within this many days
};

// Creates, only where missing, in `dir` (created with mode 0700; keys 0600):
//   ca.pem / ca.key         a local CA: ECDSA P-256, 10 years, CN "webims local CA <host name>"
//   server.pem / server.key a server certificate signed by it: ECDSA P-256, 825 days, CN = names[0],
//                           SAN = `names` (entries that parse as IP addresses become IP SANs,
//                           the others DNS names), serverAuth + clientAuth.
// Re-issues the server certificate (new key) when it is missing, unreadable, not signed by the CA,
// does not cover every name asked for, or expires within 30 days. Never replaces an existing CA: if
// only one of ca.pem / ca.key exists, or either is unreadable, throws rather than orphaning the
// certificates already trusted. Idempotent; concurrent callers are serialised by a lock file.
LocalCaFiles ensure_local_ca(const std::string& dir, const std::vector<std::string>& names);
LocalCaFiles ensure_local_ca(const std::string& dir, const std::vector<std::string>& names,
                             const LocalCaOptions& options);

}  // namespace net
