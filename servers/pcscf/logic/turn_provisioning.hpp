// Solution 1 TURN credential provisioning at the eP-CSCF (TS 33.203 X.5.2, protocols.md):
//   request:  3gpp-ext-turn-cred: request                     (REGISTER, or OPTIONS once bound)
//   answer:   3gpp-ext-turn-cred: <Tid>:<Texp>:<Tpwd>;uri="turn:host:3478?transport=udp";...
// only after the request is authenticated/authorised (never on 401/403). USERNAME = Tid:Texp
// (or Texp:Tid), Tpwd = base64(HMAC(Km, USERNAME)), Km shared with the TURN server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.hpp"
#include "token/turn_credential.hpp"

namespace pcscf {

constexpr std::string_view kTurnCredHeader = "3gpp-ext-turn-cred";

// Whether a request asks for a credential (the header's value is `request`, case-insensitive).
bool wants_turn_credential(std::string_view header_value);

struct TurnCredentialPolicy {
  int64_t lifetime_s = 86400;
  int64_t grace_s = 3600;
  bool coturn_order = false;
  std::vector<std::string> uris;
};

struct IssuedTurnCredential {
  token::EphemeralCredential credential;
  std::string header_value;
};

// Texp = now + lifetime, but never beyond registration_expires + grace (registration_expires = 0:
// no registration bound, lifetime only).
IssuedTurnCredential issue_turn_credential(const token::TurnKey& key, const TurnCredentialPolicy& p, int64_t now_unix,
                                           int64_t registration_expires_unix, base::Random& random);

}  // namespace pcscf
