// The RFC 7635 self-contained access token (TURN credentials, Solution 2, protocols.md; TR 33.872
// 6.3.2): the WAF (authorization server) mints it, the TURN server (resource server) opens it. Both
// share an AS-RS key identified by `kid`. Wire form (RFC 7635 §6.2, byte for byte as coturn's
// encode_oauth_token/decode_oauth_token, so tokens interoperate with `turnutils_oauth` and `turnserver`):
//
//   uint16 nonce_length | nonce (12) | AEAD(key, nonce, aad = server name,
//                                          uint16 key_length | mac_key | uint64 timestamp | uint32 lifetime)
//                                    | tag (16)
//
// AEAD is AES-128-GCM or AES-256-GCM (RFC 5116 AEAD_AES_*_GCM, hence a 12-byte nonce). The
// timestamp is 48 bits of Unix seconds and 16 bits of fraction; the lifetime is in seconds. The
// client proves possession of mac_key: it keys MESSAGE-INTEGRITY with it (20 bytes for HMAC-SHA1,
// 32 for MESSAGE-INTEGRITY-SHA256), and sends the token in ACCESS-TOKEN with USERNAME = kid.
// Sans-I/O; OpenSSL EVP for the cipher.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/random.hpp"
#include "base/result.hpp"

namespace token {

enum class OAuthAlg : uint8_t { A128GCM, A256GCM };
std::optional<OAuthAlg> parse_oauth_alg(std::string_view name);  // "A128GCM" / "A256GCM"
std::string_view name(OAuthAlg a);
size_t key_size(OAuthAlg a);  // 16 or 32

// An AS-RS key. Ids are logged, key bytes never.
struct OAuthKey {
  std::string kid;
  std::vector<uint8_t> key;  // exactly key_size(alg) bytes
  OAuthAlg alg = OAuthAlg::A256GCM;
};

// The encrypted block.
struct OAuthToken {
  std::vector<uint8_t> mac_key;
  uint64_t timestamp = 0;  // 48.16 fixed point: Unix seconds << 16 | fraction (1/65536 s)
  uint32_t lifetime = 0;   // seconds; 0 = no lifetime check (coturn's reading)

  int64_t seconds() const { return int64_t(timestamp >> 16); }
  // The last second the token is valid in; nullopt when it has no lifetime.
  std::optional<int64_t> expires_unix() const {
    if (lifetime == 0) return std::nullopt;
    return seconds() + int64_t(lifetime);
  }
};

enum class OAuthError : uint8_t {
  Truncated,       // shorter than its own lengths say, or than nonce + tag
  BadNonceLength,  // not 12 (RFC 5116 GCM)
  BadKey,          // key size does not match the algorithm (a configuration error)
  Integrity,       // tag check failed: tampered, wrong key or wrong server name
  BadBlock,        // decrypted block's lengths are inconsistent
  BadMacKey,       // mac_key empty or longer than 64 bytes
};
std::string_view to_string(OAuthError e);

constexpr size_t kOAuthNonceSize = 12;
constexpr size_t kOAuthTagSize = 16;
constexpr size_t kOAuthMaxMacKey = 64;

// `nonce` must be kOAuthNonceSize bytes (fresh for every token under the same key).
base::Result<std::vector<uint8_t>, OAuthError> encode_oauth_token(const OAuthKey& key, std::string_view server_name,
                                                                 const OAuthToken& t, base::Bytes nonce);
// Same, with a nonce from `random`.
base::Result<std::vector<uint8_t>, OAuthError> encode_oauth_token(const OAuthKey& key, std::string_view server_name,
                                                                 const OAuthToken& t, base::Random& random);
base::Result<OAuthToken, OAuthError> decode_oauth_token(const OAuthKey& key, std::string_view server_name,
                                                       base::Bytes token);

// What the WAF hands a client (protocols.md): {access_token, token_type:"pop", kid, key, expires_in}.
struct TurnOAuthGrant {
  std::string access_token;     // base64 of the encoded token
  std::string kid;
  std::vector<uint8_t> mac_key;  // the session key; "key" in JSON, base64
  int64_t expires_in = 0;

  std::string key_base64() const;
  std::string to_json() const;
};

// A fresh mac_key (20 bytes: HMAC-SHA1 MESSAGE-INTEGRITY, what coturn checks; 32 for
// MESSAGE-INTEGRITY-SHA256), timestamp = now, lifetime = `lifetime_s`.
TurnOAuthGrant mint_oauth_grant(const OAuthKey& key, std::string_view server_name, int64_t now_unix,
                                uint32_t lifetime_s, base::Random& random, size_t mac_key_size = 20);

// A grant as the WAF's JSON (or coturn's `turnutils_oauth -e` output): access_token, kid, key
// (base64), expires_in (optional). Error: one sentence.
base::Result<TurnOAuthGrant, std::string> parse_oauth_grant_json(std::string_view json);

}  // namespace token
