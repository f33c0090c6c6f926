// Who may allocate: the long-term credential mechanism (RFC 8489 §9.2) fed by
//  - static users from the store (`webims admin turn-user add`), keys stored, never passwords;
//  - Solution 1 (TS 33.203 X.5.2, protocols.md): USERNAME "Tid:Texp" (or coturn's "Texp:Tid"),
//    password = base64(HMAC(Km, USERNAME)) re-derived here from every configured key Km;
//  - Approach 2: credentials pushed by the eP-CSCF (static users with an expiry) and revocations,
//    which refuse a USERNAME of any kind until a time;
//  - Solution 2 (RFC 7635): the AS-RS keys that open ACCESS-TOKENs, by kid.
// Thread-safe: all workers share one instance; snapshots are swapped on reload.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/bytes.hpp"
#include "base/random.hpp"
#include "token/oauth_token.hpp"
#include "token/turn_credential.hpp"
#include "turn/config.hpp"

namespace turn {

struct StaticUser {
  std::string username;
  std::array<uint8_t, 16> key_md5;
  std::array<uint8_t, 32> key_sha256;
  int64_t expires_unix = 0;  // 0: never (admin users); pushed credentials (Approach 2) expire
};

// The keys a USERNAME may have authenticated with; the request's MESSAGE-INTEGRITY decides which.
struct Credential {
  static constexpr size_t kMaxKeys = 8;
  struct Key {
    std::array<uint8_t, 32> bytes;
    uint8_t len;
  };
  std::array<Key, kMaxKeys> keys;
  size_t count = 0;
  int64_t expires_unix = 0;  // 0 = does not expire (static users)
  bool ephemeral = false;    // Solution 1
};

enum class CredentialStatus { Ok, UnknownUser, Expired, Revoked };
std::string_view to_string(CredentialStatus s);

// Solution 1 credentials are shared with the eP-CSCF: lib/token/turn_credential.hpp.
using token::EphemeralCredential;
using token::ephemeral_expiry;
using token::ephemeral_password;
using token::mint_ephemeral;

class Credentials {
 public:
  Credentials(std::string realm, std::vector<SecretConfig> secrets);

  // `algorithm` is the RFC 8489 password algorithm (1 = MD5, 2 = SHA-256).
  CredentialStatus resolve(std::string_view username, uint16_t algorithm, int64_t now_unix, Credential& out) const;
  // USERHASH (RFC 8489 §14.4) → USERNAME, static users only (ephemeral names cannot be inverted).
  std::optional<std::string> username_for_userhash(base::Bytes userhash) const;

  void set_static_users(std::vector<StaticUser> users);
  // Adds or replaces one user at once (a pushed credential), ahead of the next store reload.
  void put_static_user(StaticUser user);
  void set_secrets(std::vector<SecretConfig> secrets);
  size_t static_user_count() const;

  // Revocations: USERNAME -> refused until (Unix seconds). set_ replaces all, add_ merges one.
  using Revocations = std::unordered_map<std::string, int64_t>;
  void set_revocations(Revocations r);
  void add_revocation(const std::string& username, int64_t until_unix);
  // The current set, for checking many allocations under one lock (never null).
  std::shared_ptr<const Revocations> revocations() const;
  static bool revoked(const Revocations& r, std::string_view username, int64_t now_unix);

  void set_oauth_keys(std::vector<token::OAuthKey> keys);
  // The AS-RS key with that kid, if configured.
  std::optional<token::OAuthKey> oauth_key(std::string_view kid) const;
  bool oauth_enabled() const;

 private:
  struct Users {
    std::unordered_map<std::string, StaticUser> by_name;
    std::unordered_map<std::string, std::string> by_hash;  // raw 32-byte userhash → username
  };
  std::shared_ptr<const Users> users() const;
  std::shared_ptr<const std::vector<SecretConfig>> secrets() const;

  std::string realm_;
  mutable std::mutex mu_;
  std::shared_ptr<const Users> users_;
  std::shared_ptr<const std::vector<SecretConfig>> secrets_;
  std::shared_ptr<const Revocations> revocations_;
  std::shared_ptr<const std::vector<token::OAuthKey>> oauth_keys_;
};

// RFC 8489 §9.2.2: MD5 or SHA-256 of "username:realm:password".
Credential::Key long_term_key(uint16_t algorithm, std::string_view username, std::string_view realm,
                              std::string_view password);

}  // namespace turn
