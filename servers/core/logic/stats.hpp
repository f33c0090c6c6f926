// Counters of the core logic, read by the metrics endpoint on the same thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace core {

enum class RegisterResult : uint8_t {
  Registered, Deregistered, Queried, Challenged, Forbidden, BadRequest, ServerError, Count
};
enum class AuthFailure : uint8_t {
  UnknownUser,     // no subscriber for the IMPI (403)
  ImpuNotOwned,    // the To IMPU is not one of the IMPI's (403)
  WrongPassword,   // Digest/AKA response did not verify (fresh 401)
  StaleNonce,      // authentic but expired nonce (401 stale=true)
  BadNonce,        // nonce not ours, or AKA challenge unknown/expired (fresh 401)
  Replay,          // nonce count not increasing (403)
  SyncFailure,     // AKA resynchronisation (AUTS verified, re-challenged)
  BadAuts,         // AUTS did not verify (403)
  TnaRefused,      // integrity-protected="auth-done" from an untrusted node, or refused by policy (403)
  BadCredentials,  // unsupported algorithm, malformed parameters
  Count
};

std::string_view name(RegisterResult r);
std::string_view name(AuthFailure f);

struct Stats {
  std::array<uint64_t, size_t(RegisterResult::Count)> register_results{};
  std::array<uint64_t, size_t(AuthFailure::Count)> auth_failures{};
  std::array<uint64_t, 16> routed{};    // requests routed, by sip::Method
  std::array<uint64_t, 7> responses{};  // responses sent (local and relayed), by class 1..6
  uint64_t aka_vectors = 0;             // AKA vectors generated
};

}  // namespace core
