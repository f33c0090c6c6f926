// Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate and
// Authentication-Info values: RFC 3261 §22.4 and §25.1 (digest as in RFC 2617), RFC 7616 and
// RFC 8760 (SHA-256 algorithms, same syntax), RFC 3310 (AKA: auts), RFC 8898 and RFC 6750
// (Bearer), TS 24.229 / TS 33.203 Annex U (integrity-protected), draft-holmberg-sipcore-auth-id
// (authorization-entity), and the TS 24.371 A.3.2 form `Bearer access_token="..."`.
//
//   Digest realm="ims.example.org", nonce="dcd98b71...", algorithm=MD5, qop="auth,auth-int"
//   Digest username="alice@ims.example.org", realm="ims.example.org", uri="sip:ims.example.org",
//          nonce="", response="", integrity-protected="auth-done", authorization-entity="wwsf1"
//   Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln
//   Bearer access_token="eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
//
// Values come back unquoted (quoted-pairs removed), so a digest is computed over the exact
// characters; every parameter the library does not name is kept, in order, in `other`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sip/error.hpp"

namespace sip {

struct AuthParam {
  std::string name;   // as written
  std::string value;  // unquoted
  bool quoted = false;
};

// Any scheme: `scheme token68` or `scheme auth-param *(COMMA auth-param)`.
struct AuthValue {
  std::string scheme;  // "Digest", "Bearer", ... as written
  std::string token68;
  std::vector<AuthParam> params;

  bool is(std::string_view s) const;  // case-insensitive scheme compare
  const AuthParam* find(std::string_view name) const;
};
base::Result<AuthValue, Error> parse_auth(std::string_view value);
// Writes `scheme token68` or `scheme p1=v1, p2="v2"` (values re-quoted when `quoted`).
std::string format_auth(const AuthValue& v);

struct DigestChallenge {  // WWW-Authenticate / Proxy-Authenticate: Digest
  std::string realm, nonce, opaque, algorithm, domain;
  std::vector<std::string> qop;  // qop-options: "auth", "auth-int"
  bool stale = false;
  std::vector<AuthParam> other;
};
base::Result<DigestChallenge, Error> parse_digest_challenge(std::string_view value);
base::Result<DigestChallenge, Error> to_digest_challenge(const AuthValue& v);
std::string format(const DigestChallenge& c);

struct DigestCredentials {  // Authorization / Proxy-Authorization: Digest
  std::string username, realm, uri, nonce, response;  // always written by format(), in this order
  std::string algorithm, cnonce, opaque, qop, nc, auts;  // written when not empty
  std::vector<AuthParam> other;  // integrity-protected, authorization-entity, unknown params
  const AuthParam* find_other(std::string_view name) const;
  // Removes every `other` parameter called `name`; returns how many were removed.
  size_t remove_other(std::string_view name);
};
base::Result<DigestCredentials, Error> parse_digest_credentials(std::string_view value);
base::Result<DigestCredentials, Error> to_digest_credentials(const AuthValue& v);
std::string format(const DigestCredentials& c);

// The token of `Bearer <token68>` or `Bearer access_token="<token>"`; nullopt for other schemes
// or when neither form is present.
std::optional<std::string> bearer_token(const AuthValue& v);
std::optional<std::string> bearer_token(std::string_view authorization_value);

// quoted-string for `s`: '"' and '\' escaped; CR, LF and other CTLs other than HTAB dropped
// (they cannot be carried, and keeping them would let a value inject a header).
std::string quote(std::string_view s);

}  // namespace sip
