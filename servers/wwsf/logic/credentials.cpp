#include "wwsf/logic/credentials.hpp"

#include <sodium.h>

#include <cctype>
#include <mutex>
#include <stdexcept>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace wwsf {

namespace {

void init_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  });
}

}  // namespace

PwhashCost PwhashCost::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PwhashCost PwhashCost::minimum() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

std::string hash_web_password(const std::string& password, PwhashCost cost) {
  init_sodium();
  char out[crypto_pwhash_STRBYTES];
  // crypto_pwhash_str is Argon2id in libsodium >= 1.0.15 (Debian 12 has 1.0.18).
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.opslimit, cost.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("Argon2id hashing failed (out of memory)");
  return std::string(out);
}

bool verify_web_password(const std::string& encoded_hash, const std::string& password) {
  init_sodium();
  if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  // libsodium wants a NUL-terminated string of at most STRBYTES.
  char h[crypto_pwhash_STRBYTES] = {};
  encoded_hash.copy(h, encoded_hash.size());
  return crypto_pwhash_str_verify(h, password.data(), password.size()) == 0;
}

bool ims_password_matches(const store::Subscriber& s, const std::string& password) {
  if (password.empty()) return false;
  std::string ha1;
  if (!s.ha1_md5.empty()) {
    auto d = crypto::md5({crypto::view(s.impi), crypto::view(":"), crypto::view(s.realm), crypto::view(":"),
                          crypto::view(password)});
    ha1 = base::hex_encode(crypto::view(d));
    std::string stored = s.ha1_md5;
    for (auto& c : stored) c = char(std::tolower(uint8_t(c)));
    return crypto::constant_time_equal(crypto::view(ha1), crypto::view(stored));
  }
  if (!s.ha1_sha256.empty()) {
    auto d = crypto::sha256({crypto::view(s.impi), crypto::view(":"), crypto::view(s.realm), crypto::view(":"),
                             crypto::view(password)});
    ha1 = base::hex_encode(crypto::view(d));
    std::string stored = s.ha1_sha256;
    for (auto& c : stored) c = char(std::tolower(uint8_t(c)));
    return crypto::constant_time_equal(crypto::view(ha1), crypto::view(stored));
  }
  return false;  // AKA-only subscription: no password to prove (see wwsf_logic.hpp)
}

}  // namespace wwsf
