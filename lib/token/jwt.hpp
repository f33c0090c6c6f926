// The IMS access token (protocols.md "Scenarios 2 and 3"): a JWT (RFC 7519, RFC 9068 profile)
// signed by the WAF with ES256 (RFC 7518 §3.4), `kid` in the header, keys published as a JWKS
// (RFC 7517). JWS and JWK handling is Debian's libcjose; this file pins what we accept on top of it:
// the algorithm is ES256 and nothing else, chosen by us and never by the token's header (no `none`,
// no HS256 keyed with the public key: the "alg confusion" class), and the claims of protocols.md.
//
// The WAF signs (SigningKey), the eP-CSCF verifies (VerifyKeys + verify_ims_token). Sans-I/O:
// fetching the JWKS is the caller's business.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace token {

inline constexpr std::string_view kImsScope = "webrtc-ims-client-access-to-ims";

// An EC P-256 private key with its kid. Copyable (shares the key); thread-safe to use.
class SigningKey {
 public:
  // A fresh key. Throws std::runtime_error only when the crypto library fails.
  static SigningKey generate(std::string kid);
  // A fresh key whose kid is its RFC 7638 thumbprint (what the WAF uses).
  static SigningKey generate();
  // From the private JWK JSON made by private_jwk() (EC P-256 with "d"; no "kid": the thumbprint).
  // Throws std::runtime_error with a sentence.
  static SigningKey from_private_jwk(std::string_view json);
  const std::string& kid() const;
  // The public half as a JWK object: {"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"alg":"ES256","use":"sig"}.
  nlohmann::json public_jwk() const;
  // The private JWK JSON text (a secret: store it, never log it).
  std::string private_jwk() const;
  // Compact JWS of `claims` with header {"alg":"ES256","typ":"at+jwt","kid":kid}.
  std::string sign(const nlohmann::json& claims) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// Public keys by kid, from a JWKS document. Only EC P-256 keys (ES256) are kept; others are skipped.
class VerifyKeys {
 public:
  VerifyKeys();
  // Error: a sentence naming what is wrong with the document.
  static base::Result<VerifyKeys, std::string> from_jwks(std::string_view json);
  size_t size() const;
  bool has(std::string_view kid) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

// A JWKS document {"keys":[...]} of public keys.
std::string jwks_json(const std::vector<SigningKey>& keys);

// RFC 7638 JWK thumbprint of an EC public key: base64url(SHA-256('{"crv":..,"kty":"EC","x":..,"y":..}')).
// Throws std::invalid_argument when crv/kty/x/y are missing or not strings.
std::string jwk_thumbprint(const nlohmann::json& ec_jwk);

// Larger compact tokens are refused before any decoding (ours are well under 2 kB).
inline constexpr size_t kMaxTokenBytes = 8192;

// The claims of protocols.md.
struct ImsAccessToken {
  std::string iss, aud, sub, wwsf, scope, jti;
  std::vector<std::string> impu;
  bool pool = false;
  int64_t exp = 0, iat = 0;
};

// Which check refused a token, in the order the eP-CSCF applies them (protocols.md).
enum class TokenCheck {
  Malformed,     // not a compact JWS / not JSON / a claim missing or of the wrong type
  Algorithm,     // header alg is not ES256 (none, HS256, ...)
  UnknownKey,    // kid absent or not among the keys
  Signature,     // signature does not verify
  Issuer,        // iss not accepted
  Expired,       // exp + skew <= now
  NotYetValid,   // iat - skew > now
  Audience,      // aud (string or array) lacks the home domain
  Scope,         // scope lacks kImsScope
};
std::string_view to_string(TokenCheck c);

struct TokenFailure {
  TokenCheck check;
  std::string reason;  // one short sentence, fit for a 403 reason phrase; never contains the token
};

struct TokenPolicy {
  std::vector<std::string> issuers;  // accepted `iss`; empty: any
  std::string audience;              // the home domain
  int64_t max_skew_seconds = 60;
};

// The JWS layer alone (no claims): compact form, header alg pinned to ES256 (checked before cjose sees
// the token), signature by the key named by `kid`. A header without `kid` is accepted only when `keys`
// holds exactly one key (RFC 7515 A.3 style); verify_ims_token always requires `kid`.
struct VerifiedJws {
  nlohmann::json header, payload;
};
base::Result<VerifiedJws, TokenFailure> verify_es256_jws(std::string_view compact, const VerifyKeys& keys);

// Every check of TokenCheck, in that order. Besides the JWS layer: header `typ` must be "at+jwt"
// (RFC 9068 §4, so an ID token or other JWT signed by the same key is not taken for an access token);
// `pool` may be absent (false); a missing `scope` is a Scope failure; any other claim missing or of the
// wrong type (exp/iat must be integers) is Malformed.
base::Result<ImsAccessToken, TokenFailure> verify_ims_token(std::string_view compact, const VerifyKeys& keys,
                                                             const TokenPolicy& policy, int64_t now_unix);

// The claims as JSON, for the WAF to sign.
nlohmann::json to_claims(const ImsAccessToken& t);

}  // namespace token
