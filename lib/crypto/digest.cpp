// RFC 2617 §3.2.2, RFC 7616 §3.4, RFC 8760 §2.
#include "crypto/digest.hpp"

#include <openssl/crypto.h>

#include <array>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace crypto {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool is_sha256(DigestAlgorithm a) { return a == DigestAlgorithm::Sha256 || a == DigestAlgorithm::Sha256Sess; }

// H(part ":" part ":" ...) in lowercase hex. The intermediate binary digest is wiped: for HA1 it is
// password-equivalent.
std::string hex_h(DigestAlgorithm a, std::initializer_list<base::Bytes> parts) {
  std::string out;
  if (is_sha256(a)) {
    Sha256Digest d = sha256(parts);
    out = base::hex_encode(view(d));
    OPENSSL_cleanse(d.data(), d.size());
  } else {
    Md5Digest d = md5(parts);
    out = base::hex_encode(view(d));
    OPENSSL_cleanse(d.data(), d.size());
  }
  return out;
}

const base::Bytes kColon = base::as_bytes(":");

bool is_lhex8(std::string_view s) {
  if (s.size() != 8) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

// Checks the inputs and applies the -sess step; the HA1 to use in KD().
Result<SecretString> effective_ha1(const DigestInput& in, std::string_view ha1) {
  if (!in.qop.empty()) {
    if (iequals(in.qop, "auth-int")) return base::fail(Error::Unsupported);
    if (!iequals(in.qop, "auth")) return base::fail(Error::InvalidArgument);
    if (!is_lhex8(in.nc) || in.cnonce.empty()) return base::fail(Error::InvalidArgument);
  }
  if (is_session_algorithm(in.algorithm)) {
    if (in.cnonce.empty()) return base::fail(Error::InvalidArgument);
    return digest_session_ha1(in.algorithm, ha1, in.nonce, in.cnonce);
  }
  return SecretString(ha1);
}

// KD(HA1', nonce [":" nc ":" cnonce ":" qop] ":" HA2).
std::string kd(const DigestInput& in, const SecretString& ha1, const std::string& ha2) {
  using base::as_bytes;
  if (in.qop.empty())
    return hex_h(in.algorithm, {ha1.bytes(), kColon, as_bytes(in.nonce), kColon, as_bytes(ha2)});
  return hex_h(in.algorithm, {ha1.bytes(), kColon, as_bytes(in.nonce), kColon, as_bytes(in.nc), kColon,
                              as_bytes(in.cnonce), kColon, as_bytes(in.qop), kColon, as_bytes(ha2)});
}

}  // namespace

std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view t) {
  if (iequals(t, "MD5")) return DigestAlgorithm::Md5;
  if (iequals(t, "MD5-sess")) return DigestAlgorithm::Md5Sess;
  if (iequals(t, "SHA-256")) return DigestAlgorithm::Sha256;
  if (iequals(t, "SHA-256-sess")) return DigestAlgorithm::Sha256Sess;
  return std::nullopt;
}

std::string_view to_string(DigestAlgorithm a) {
  switch (a) {
    case DigestAlgorithm::Md5: return "MD5";
    case DigestAlgorithm::Md5Sess: return "MD5-sess";
    case DigestAlgorithm::Sha256: return "SHA-256";
    case DigestAlgorithm::Sha256Sess: return "SHA-256-sess";
  }
  return "MD5";
}

bool is_session_algorithm(DigestAlgorithm a) {
  return a == DigestAlgorithm::Md5Sess || a == DigestAlgorithm::Sha256Sess;
}

SecretString digest_ha1(DigestAlgorithm a, std::string_view username, std::string_view realm,
                        base::Bytes password) {
  using base::as_bytes;
  return SecretString(hex_h(a, {as_bytes(username), kColon, as_bytes(realm), kColon, password}));
}

SecretString digest_session_ha1(DigestAlgorithm a, std::string_view ha1, std::string_view nonce,
                                std::string_view cnonce) {
  using base::as_bytes;
  return SecretString(hex_h(a, {as_bytes(ha1), kColon, as_bytes(nonce), kColon, as_bytes(cnonce)}));
}

std::string digest_ha2(DigestAlgorithm a, std::string_view method, std::string_view uri) {
  return hex_h(a, {base::as_bytes(method), kColon, base::as_bytes(uri)});
}

Result<std::string> digest_response(const DigestInput& in, std::string_view ha1) {
  auto h = effective_ha1(in, ha1);
  if (!h) return base::fail(h.error());
  return kd(in, *h, digest_ha2(in.algorithm, in.method, in.uri));
}

Result<std::string> digest_response_for_password(const DigestInput& in, base::Bytes password) {
  SecretString ha1 = digest_ha1(in.algorithm, in.username, in.realm, password);
  return digest_response(in, ha1.view());
}

Result<std::string> digest_rspauth(const DigestInput& in, std::string_view ha1) {
  auto h = effective_ha1(in, ha1);
  if (!h) return base::fail(h.error());
  return kd(in, *h, digest_ha2(in.algorithm, "", in.uri));
}

Result<void> digest_verify(const DigestInput& in, std::string_view ha1, std::string_view response) {
  auto expected = digest_response(in, ha1);
  if (!expected) return base::fail(expected.error());
  std::string got(response);
  for (char& c : got)
    if (c >= 'A' && c <= 'F') c = char(c - 'A' + 'a');
  if (!constant_time_equal(base::as_bytes(*expected), base::as_bytes(got))) return base::fail(Error::MacFailure);
  return {};
}

}  // namespace crypto
