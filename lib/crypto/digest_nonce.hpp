// Server-side Digest nonces (RFC 7616 §3.3 and §5.4–5.5, RFC 2617 §3.2.1): stateless, and replay
// protection by nonce count.
//
// DigestNonceManager issues nonces that carry their issue time, encrypted and MACed with a key
// derived from a server secret: any node holding the secret verifies them without shared state, and
// the nonce reveals nothing (not even the time) to anyone else. Verification tells a fresh nonce
// from an expired but authentic one (answer with `stale=true`) and from a forged one.
//
// NonceCountTracker remembers, in bounded memory, the highest nc accepted per nonce, so that a
// replayed Authorization (same nonce, same nc) is refused and nc must increase.
//
// Time and randomness are inputs (base::Now, base::Random). Neither class is thread-safe: each
// io_context owns its own, or the caller serialises.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/bytes.hpp"
#include "base/clock.hpp"
#include "base/random.hpp"
#include "crypto/error.hpp"
#include "crypto/secret.hpp"

namespace crypto {

struct DigestNonceConfig {
  // How long a nonce is accepted; after that it is Stale. Default 300 s: long enough for a SIP
  // REGISTER round trip with user interaction, short enough to bound replays of a stolen nonce.
  std::chrono::seconds lifetime{300};
  // How far in the future a nonce's issue time may lie (clock skew between the nodes sharing the
  // secret). Default 30 s. Beyond that the nonce is Invalid.
  std::chrono::seconds max_clock_skew{30};

  Result<void> validate() const;  // InvalidArgument unless lifetime > 0 and skew >= 0
};

enum class NonceStatus {
  Ok,       // authentic and within its lifetime
  Stale,    // authentic but expired: if the response verifies, challenge again with stale=true
  Invalid,  // not issued with our secret (or for another context), or malformed: plain 401
};

struct NonceCheck {
  NonceStatus status = NonceStatus::Invalid;
  int64_t issued_unix_s = 0;  // meaningful unless Invalid; pass it to NonceCountTracker::use()
};

class DigestNonceManager {
 public:
  // `secret` (>= 16 octets) issues and verifies; `previous` secrets only verify, for rotation.
  static Result<DigestNonceManager> create(base::Bytes secret, DigestNonceConfig config = {},
                                           const std::vector<base::Bytes>& previous = {});

  // A fresh nonce: 48 base64url characters (no padding), safe in a quoted-string. `context` binds
  // the nonce to something the verifier will see again (e.g. the realm); empty binds nothing.
  std::string issue(const base::Now& now, base::Random& random, base::Bytes context = {}) const;
  NonceCheck verify(std::string_view nonce, const base::Now& now, base::Bytes context = {}) const;

  const DigestNonceConfig& config() const { return config_; }

 private:
  struct Keys {
    SecretBytes<32, struct NonceEncTag> enc;  // masks the issue time
    SecretBytes<32, struct NonceMacTag> mac;  // authenticates salt, masked time and context
  };
  DigestNonceManager(std::vector<Keys> keys, DigestNonceConfig config)
      : keys_(std::move(keys)), config_(config) {}
  std::vector<Keys> keys_;  // keys_[0] issues
  DigestNonceConfig config_;
};

struct NonceCountConfig {
  // Most nonces remembered at once; beyond it the oldest-issued are forgotten (see Forgotten).
  // Default 100000: about 20 MB (a few hundred octets per record), more live nonces than one
  // registrar node needs.
  size_t max_nonces = 100000;
  // Should equal DigestNonceConfig::lifetime: records of expired nonces are dropped, since such
  // nonces fail verification as Stale anyway.
  std::chrono::seconds lifetime{300};

  Result<void> validate() const;  // InvalidArgument unless max_nonces > 0 and lifetime > 0
};

enum class NcStatus {
  Ok,         // nc is higher than any accepted before with this nonce; now recorded
  Replay,     // nc is not higher than one already accepted (a replay, or out of order): refuse
  Forgotten,  // this nonce's record may have been evicted, so a replay cannot be ruled out:
              // refuse with stale=true, and the client retries with a fresh nonce at no cost
};

class NonceCountTracker {
 public:
  explicit NonceCountTracker(NonceCountConfig config = {}) : config_(config) {}

  // Call only after the nonce verified (Ok) and the response verified: otherwise anyone who saw
  // a nonce could burn its counts. For RFC 2069 requests (no qop, no nc) pass nc = 1, which makes
  // the nonce single-use.
  NcStatus use(std::string_view nonce, int64_t issued_unix_s, uint32_t nc, const base::Now& now);

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint32_t max_nc;
    int64_t issued;
  };
  void purge_expired(int64_t now_unix_s);
  void evict_oldest();

  NonceCountConfig config_;
  std::unordered_map<std::string, Entry> entries_;
  // Ordered by issue time; the pointers are keys of entries_ (stable: node-based container).
  std::set<std::pair<int64_t, const std::string*>> by_issue_;
  // Issue time of the newest nonce evicted for room: an unknown nonce issued at or before it may
  // have been used already.
  std::optional<int64_t> horizon_;
};

// nc-value (RFC 7616 §3.4): exactly 8 hex digits, not zero. nullopt otherwise.
std::optional<uint32_t> parse_nonce_count(std::string_view nc);

}  // namespace crypto
