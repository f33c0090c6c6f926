#include "turn/logic/credentials.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"
#include "stun/constants.hpp"

namespace turn {

std::string_view to_string(CredentialStatus s) {
  switch (s) {
    case CredentialStatus::Ok: return "ok";
    case CredentialStatus::UnknownUser: return "unknown_user";
    case CredentialStatus::Expired: return "expired_credential";
    case CredentialStatus::Revoked: return "revoked_credential";
  }
  return "unknown";
}

Credential::Key long_term_key(uint16_t algorithm, std::string_view username, std::string_view realm,
                              std::string_view password) {
  // Realm and password should be OpaqueString-prepared (RFC 8265); ASCII input passes unchanged,
  // which is what every deployed client sends for these credentials.
  Credential::Key key{};
  auto colon = base::as_bytes(":");
  if (algorithm == stun::password_algorithm::Sha256) {
    auto d = crypto::sha256({base::as_bytes(username), colon, base::as_bytes(realm), colon, base::as_bytes(password)});
    std::memcpy(key.bytes.data(), d.data(), d.size());
    key.len = 32;
  } else {
    auto d = crypto::md5({base::as_bytes(username), colon, base::as_bytes(realm), colon, base::as_bytes(password)});
    std::memcpy(key.bytes.data(), d.data(), d.size());
    key.len = 16;
  }
  return key;
}

Credentials::Credentials(std::string realm, std::vector<SecretConfig> secrets)
    : realm_(std::move(realm)),
      users_(std::make_shared<Users>()),
      secrets_(std::make_shared<std::vector<SecretConfig>>(std::move(secrets))),
      revocations_(std::make_shared<Revocations>()),
      oauth_keys_(std::make_shared<std::vector<token::OAuthKey>>()) {}

std::shared_ptr<const Credentials::Users> Credentials::users() const {
  std::lock_guard lk(mu_);
  return users_;
}

std::shared_ptr<const std::vector<SecretConfig>> Credentials::secrets() const {
  std::lock_guard lk(mu_);
  return secrets_;
}

void Credentials::set_static_users(std::vector<StaticUser> list) {
  auto u = std::make_shared<Users>();
  for (auto& s : list) {
    auto h = crypto::sha256({base::as_bytes(s.username), base::as_bytes(":"), base::as_bytes(realm_)});
    u->by_hash.emplace(std::string(reinterpret_cast<const char*>(h.data()), h.size()), s.username);
    u->by_name.emplace(s.username, std::move(s));
  }
  std::lock_guard lk(mu_);
  users_ = std::move(u);
}

void Credentials::put_static_user(StaticUser user) {
  // Copy-on-write: readers keep the snapshot they hold.
  std::lock_guard lk(mu_);
  auto u = std::make_shared<Users>(*users_);
  auto h = crypto::sha256({base::as_bytes(user.username), base::as_bytes(":"), base::as_bytes(realm_)});
  u->by_hash[std::string(reinterpret_cast<const char*>(h.data()), h.size())] = user.username;
  u->by_name[user.username] = std::move(user);
  users_ = std::move(u);
}

void Credentials::set_revocations(Revocations r) {
  auto p = std::make_shared<Revocations>(std::move(r));
  std::lock_guard lk(mu_);
  revocations_ = std::move(p);
}

void Credentials::add_revocation(const std::string& username, int64_t until_unix) {
  std::lock_guard lk(mu_);
  auto r = std::make_shared<Revocations>(*revocations_);
  int64_t& until = (*r)[username];
  until = std::max(until, until_unix);
  revocations_ = std::move(r);
}

std::shared_ptr<const Credentials::Revocations> Credentials::revocations() const {
  std::lock_guard lk(mu_);
  return revocations_;
}

bool Credentials::revoked(const Revocations& r, std::string_view username, int64_t now_unix) {
  if (r.empty()) return false;
  auto it = r.find(std::string(username));
  return it != r.end() && it->second > now_unix;
}

void Credentials::set_oauth_keys(std::vector<token::OAuthKey> keys) {
  auto p = std::make_shared<std::vector<token::OAuthKey>>(std::move(keys));
  std::lock_guard lk(mu_);
  oauth_keys_ = std::move(p);
}

std::optional<token::OAuthKey> Credentials::oauth_key(std::string_view kid) const {
  std::shared_ptr<const std::vector<token::OAuthKey>> keys;
  {
    std::lock_guard lk(mu_);
    keys = oauth_keys_;
  }
  for (auto& k : *keys)
    if (k.kid == kid) return k;
  return std::nullopt;
}

bool Credentials::oauth_enabled() const {
  std::lock_guard lk(mu_);
  return !oauth_keys_->empty();
}

void Credentials::set_secrets(std::vector<SecretConfig> s) {
  auto p = std::make_shared<std::vector<SecretConfig>>(std::move(s));
  std::lock_guard lk(mu_);
  secrets_ = std::move(p);
}

size_t Credentials::static_user_count() const { return users()->by_name.size(); }

std::optional<std::string> Credentials::username_for_userhash(base::Bytes userhash) const {
  auto u = users();
  auto it = u->by_hash.find(std::string(base::as_string_view(userhash)));
  if (it == u->by_hash.end()) return std::nullopt;
  return it->second;
}

CredentialStatus Credentials::resolve(std::string_view username, uint16_t algorithm, int64_t now_unix,
                                      Credential& out) const {
  out.count = 0;
  out.expires_unix = 0;
  out.ephemeral = false;
  // A revocation refuses the USERNAME whatever kind of credential it is.
  if (revoked(*revocations(), username, now_unix)) return CredentialStatus::Revoked;
  {
    auto u = users();
    auto it = u->by_name.find(std::string(username));
    if (it != u->by_name.end()) {
      if (it->second.expires_unix != 0 && it->second.expires_unix <= now_unix) return CredentialStatus::Expired;
      out.expires_unix = it->second.expires_unix;
      auto& key = out.keys[out.count++];
      if (algorithm == stun::password_algorithm::Sha256) {
        std::memcpy(key.bytes.data(), it->second.key_sha256.data(), 32);
        key.len = 32;
      } else {
        std::memcpy(key.bytes.data(), it->second.key_md5.data(), 16);
        key.len = 16;
      }
      return CredentialStatus::Ok;
    }
  }
  auto texp = ephemeral_expiry(username);
  auto keys = secrets();
  if (!texp || keys->empty()) return CredentialStatus::UnknownUser;
  // Expired credentials are refused before any HMAC is computed (X.5.2 step 7).
  if (*texp < now_unix) return CredentialStatus::Expired;
  for (auto& k : *keys) {
    if (out.count == Credential::kMaxKeys) break;
    out.keys[out.count++] = long_term_key(algorithm, username, realm_, ephemeral_password(k, username));
  }
  out.expires_unix = *texp;
  out.ephemeral = true;
  return CredentialStatus::Ok;
}

}  // namespace turn
