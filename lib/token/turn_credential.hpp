// TURN credentials minted from a shared key (TS 33.203 X.5.2 Solution 1, protocols.md): the eP-CSCF
// mints them for WICs, the TURN server re-derives the password from the USERNAME. Both sides
// use these functions, so they cannot disagree.
//   USERNAME = "Tid:Texp" (webims) or "Texp:Tid" (coturn's REST-API order)
//   password = base64(HMAC-SHA1(Km, USERNAME)), HMAC-SHA-256 only when configured (webims to webims)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/random.hpp"

namespace token {

// A key Km with its id (ids are logged, keys never).
struct TurnKey {
  std::string id;
  std::string secret;
  std::string hmac = "sha1";  // "sha1" (coturn/Kamailio compatible) or "sha256"
};

// "Tid:Texp" or "Texp:Tid" -> Texp; nullopt when neither part is a decimal timestamp.
std::optional<int64_t> ephemeral_expiry(std::string_view username);

std::string ephemeral_password(const TurnKey& key, std::string_view username);

// Tid = 128 random bits as 22 base64url characters, never all digits (coturn tells the two parts
// of a USERNAME apart by "all digits").
struct EphemeralCredential {
  std::string tid;
  int64_t texp;
  std::string username;
  std::string password;
};
EphemeralCredential mint_ephemeral(const TurnKey& key, int64_t texp, base::Random& random, bool coturn_order = false);

}  // namespace token
