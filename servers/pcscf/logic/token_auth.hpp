// Token-based registration at the eP-CSCF (TR 33.871 6.1.2 / 6.1.3, protocols.md "Scenarios 2 and
// 3"), the checks that come after the token itself is verified (lib/token/jwt.hpp) and the Trusted
// Node Authentication REGISTER toward the core (TS 24.292 6.2 / TS 33.203 Annex U):
//   - RFC 7662 introspection answers for opaque tokens, checked like a JWT's claims;
//   - the WWSF named by the token is known and not blocked (REQ 2.2, 2.3);
//   - the To-URI is among the token's IMPUs (REQ 2.4);
//   - a pool identity's IMPI matches its WWSF's pool pattern (NOTE 6, "*@socialnet.example").
// Sans-I/O: the WWSF table and the clock are passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "token/jwt.hpp"

namespace pcscf {

// A WWSF as the store knows it (store::Wwsf without the bookkeeping).
struct WwsfInfo {
  std::string id;
  std::string pool_pattern;  // empty: the WWSF has no pool
  bool blocked = false;
};
using WwsfTable = std::unordered_map<std::string, WwsfInfo>;

// Whether the token has the JWS compact form (three base64url parts); anything else is a handle
// for introspection.
bool looks_like_jwt(std::string_view token);

// The 403 reason phrase for a refused token: names the check, never the token.
std::string_view refusal_reason(token::TokenCheck check);

// An RFC 7662 §2.2 introspection response (the JSON body) → the token's claims, with the checks
// verify_ims_token applies to a JWT after its signature: active, exp/iat (skew), iss, aud, scope,
// then the claims protocols.md needs (sub, impu, wwsf) present and well typed.
base::Result<token::ImsAccessToken, token::TokenFailure> check_introspection(std::string_view json_body,
                                                                              const token::TokenPolicy& policy,
                                                                              int64_t now_unix);

// `*` matches any run of characters (also none), `?` one; everything else itself, case-sensitively
// (an IMPI is case-sensitive; failing closed is the safe side of a doubt).
bool pool_pattern_matches(std::string_view pattern, std::string_view impi);

// The checks after the token: WWSF known and not blocked, To ∈ impu, pool IMPI pattern. Returns the
// 403 reason phrase of the first that fails, or nullopt. `to_aor` is the To-URI's canonical AOR.
std::optional<std::string> check_token_authorization(const token::ImsAccessToken& t, const WwsfTable& wwsfs,
                                                     std::string_view to_aor);

// The TNA Authorization value the eP-CSCF puts in the REGISTER toward the S-CSCF (protocols.md):
//   Digest username="<IMPI>", realm="<home>", uri="sip:<home>", nonce="", response="",
//          integrity-protected="auth-done", authorization-entity="<wwsf>"
std::string tna_authorization(std::string_view impi, std::string_view home_domain, std::string_view wwsf);

// application/x-www-form-urlencoded body of an introspection request (RFC 7662 §2.1).
std::string introspection_request_body(std::string_view token);

}  // namespace pcscf
