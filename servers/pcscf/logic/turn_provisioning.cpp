#include "pcscf/logic/turn_provisioning.hpp"

#include <algorithm>
#include <cctype>

namespace pcscf {

bool wants_turn_credential(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  static constexpr std::string_view kRequest = "request";
  return v.size() == kRequest.size() &&
         std::equal(v.begin(), v.end(), kRequest.begin(), [](char a, char b) { return std::tolower(uint8_t(a)) == b; });
}

IssuedTurnCredential issue_turn_credential(const token::TurnKey& key, const TurnCredentialPolicy& p, int64_t now_unix,
                                           int64_t registration_expires_unix, base::Random& random) {
  int64_t texp = now_unix + p.lifetime_s;
  if (registration_expires_unix > 0) texp = std::min(texp, registration_expires_unix + p.grace_s);
  IssuedTurnCredential out;
  out.credential = token::mint_ephemeral(key, texp, random, p.coturn_order);
  out.header_value = out.credential.username + ":" + out.credential.password;
  for (auto& u : p.uris) out.header_value += ";uri=\"" + u + "\"";
  return out;
}

}  // namespace pcscf
