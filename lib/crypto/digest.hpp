// HTTP/SIP Digest computations: RFC 2617 §3.2.2, RFC 7616 §3.4 (SHA-256 and the -sess variants),
// RFC 8760 (SHA-256 for SIP), and RFC 2069 compatibility (no qop). Only the math: parsing and
// building the Authorization/WWW-Authenticate headers is the SIP library's job. Nonces are in
// crypto/digest_nonce.hpp; the AKA password (RFC 3310/4169) in crypto/aka.hpp.
//
// All outputs are lowercase hex, as the RFCs require. qop=auth-int is not implemented (no SIP
// peer of ours uses it): it is reported as Error::Unsupported.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "crypto/error.hpp"
#include "crypto/secret.hpp"

namespace crypto {

enum class DigestAlgorithm : uint8_t { Md5, Md5Sess, Sha256, Sha256Sess };

// The `algorithm` token: "MD5", "MD5-sess", "SHA-256", "SHA-256-sess", case-insensitively. A
// challenge or response without the parameter means MD5 (RFC 7616 §3.3). nullopt otherwise
// (SHA-512-256, AKA tokens: see parse_aka_algorithm in crypto/aka.hpp).
std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view token);
std::string_view to_string(DigestAlgorithm a);
bool is_session_algorithm(DigestAlgorithm a);

// HA1 = H(username ":" realm ":" password). This is what a registrar may store instead of the
// password; it is password-equivalent, hence a SecretString. For -sess algorithms this is still the
// plain HA1: the session step needs nonce and cnonce and is applied by digest_response().
SecretString digest_ha1(DigestAlgorithm a, std::string_view username, std::string_view realm,
                        base::Bytes password);
// HA1 of a -sess algorithm: H(HA1 ":" nonce ":" cnonce), with HA1 in hex (RFC 7616 §3.4.2; the
// binary HA1 of RFC 2617's sample code is its erratum 1649).
SecretString digest_session_ha1(DigestAlgorithm a, std::string_view ha1, std::string_view nonce,
                                std::string_view cnonce);
// HA2 = H(method ":" uri) for qop=auth and for no qop.
std::string digest_ha2(DigestAlgorithm a, std::string_view method, std::string_view uri);

// The values of one Authorization that enter the computation, unquoted.
struct DigestInput {
  DigestAlgorithm algorithm = DigestAlgorithm::Md5;
  std::string_view username;
  std::string_view realm;
  std::string_view nonce;
  std::string_view uri;     // the `uri` parameter (digest-uri), not the Request-URI
  std::string_view method;  // REGISTER, INVITE, ... (GET in the HTTP examples)
  std::string_view qop;     // "auth", or empty for RFC 2069 compatibility
  std::string_view nc;      // 8 hex digits; required with qop
  std::string_view cnonce;  // required with qop and with -sess algorithms
};

// response = H(HA1' ":" nonce ":" nc ":" cnonce ":" qop ":" HA2), or H(HA1' ":" nonce ":" HA2)
// without qop; HA1' is `ha1` (from digest_ha1) after the -sess step when the algorithm has one.
// Errors: Unsupported for qop=auth-int, InvalidArgument for another qop, a malformed nc, or a
// missing cnonce.
Result<std::string> digest_response(const DigestInput& in, std::string_view ha1);
// The client side: HA1 from the password, then digest_response().
Result<std::string> digest_response_for_password(const DigestInput& in, base::Bytes password);
// rspauth of Authentication-Info (RFC 7616 §3.5, RFC 3310 §3.5): as the response, with HA2 from an
// empty method, i.e. H(":" uri).
Result<std::string> digest_rspauth(const DigestInput& in, std::string_view ha1);
// The server side: recomputes the response and compares it in constant time. The received value
// is compared case-insensitively (some clients send uppercase hex). MacFailure on mismatch,
// otherwise the errors of digest_response().
Result<void> digest_verify(const DigestInput& in, std::string_view ha1, std::string_view response);

}  // namespace crypto
