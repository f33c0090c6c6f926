// Secrets the WWSF checks: web passwords as Argon2id hashes (libsodium crypto_pwhash_str, RFC 9106),
// and, only while confirming an identity link (TR 33.871 Annex C M2), the subscriber's IMS Digest
// password against the HSS's HA1 (RFC 7616 §3.4.2). Both comparisons are constant-time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "store/store.hpp"

namespace wwsf {

// Argon2id cost. Production uses libsodium's "interactive" limits (about 64 MiB, a fraction of a
// second); tests may pass the minimum.
struct PwhashCost {
  uint64_t opslimit;
  size_t memlimit;
  static PwhashCost interactive();
  static PwhashCost minimum();
};

// The encoded Argon2id string ("$argon2id$v=19$m=...") for the password. Throws std::runtime_error
// when libsodium cannot (out of memory).
std::string hash_web_password(const std::string& password, PwhashCost cost);
// crypto_pwhash_str_verify: false on a wrong password or a malformed hash.
bool verify_web_password(const std::string& encoded_hash, const std::string& password);

// True when `password` is the subscriber's IMS Digest password: HA1 = H(impi ":" realm ":" password)
// compared in constant time with the stored ha1_md5 (or ha1_sha256 when no MD5 HA1 is stored).
bool ims_password_matches(const store::Subscriber& s, const std::string& password);

}  // namespace wwsf
