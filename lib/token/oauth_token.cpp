#include "token/oauth_token.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <vector>
#include <memory>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include "base/encoding.hpp"

namespace token {

namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const EVP_CIPHER* cipher(OAuthAlg a) { return a == OAuthAlg::A128GCM ? EVP_aes_128_gcm() : EVP_aes_256_gcm(); }

// The block before encryption: key_length | mac_key | timestamp | lifetime.
constexpr size_t kBlockFixed = 2 + 8 + 4;

// A TURN server opens every token under the same few AS-RS keys: a decryption context keyed once
// per thread and key, so only the nonce changes per token. A fresh context and AES key schedule
// per token were 70 % of an RFC 7635 Allocate check (bench/token_compare.sh). The cached key bytes
// are cleansed when the key changes and when the thread ends.
struct KeyedDecryptor {
  CipherCtx ctx{nullptr, EVP_CIPHER_CTX_free};
  std::vector<uint8_t> key;
  OAuthAlg alg = OAuthAlg::A256GCM;

  ~KeyedDecryptor() { OPENSSL_cleanse(key.data(), key.size()); }
  // A context ready for `nonce` under `k`, or nullptr.
  EVP_CIPHER_CTX* ready(const OAuthKey& k, const uint8_t* nonce) {
    if (!ctx || alg != k.alg || key != k.key) {
      OPENSSL_cleanse(key.data(), key.size());
      key.clear();
      ctx.reset(EVP_CIPHER_CTX_new());
      if (!ctx || EVP_DecryptInit_ex(ctx.get(), cipher(k.alg), nullptr, nullptr, nullptr) != 1 ||
          EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(kOAuthNonceSize), nullptr) != 1 ||
          EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, k.key.data(), nullptr) != 1) {
        ctx.reset();
        return nullptr;
      }
      key = k.key;
      alg = k.alg;
    }
    if (EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, nonce) != 1) {
      ctx.reset();
      return nullptr;
    }
    return ctx.get();
  }
};
thread_local KeyedDecryptor t_decryptor;

}  // namespace

std::optional<OAuthAlg> parse_oauth_alg(std::string_view n) {
  if (n == "A128GCM") return OAuthAlg::A128GCM;
  if (n == "A256GCM") return OAuthAlg::A256GCM;
  return std::nullopt;
}

std::string_view name(OAuthAlg a) { return a == OAuthAlg::A128GCM ? "A128GCM" : "A256GCM"; }

size_t key_size(OAuthAlg a) { return a == OAuthAlg::A128GCM ? 16 : 32; }

std::string_view to_string(OAuthError e) {
  switch (e) {
    case OAuthError::Truncated: return "token truncated";
    case OAuthError::BadNonceLength: return "token nonce is not 12 bytes";
    case OAuthError::BadKey: return "AS-RS key size does not match its algorithm";
    case OAuthError::Integrity: return "token integrity check failed (tampered, or another key or server name)";
    case OAuthError::BadBlock: return "token block lengths are inconsistent";
    case OAuthError::BadMacKey: return "token mac_key is empty or longer than 64 bytes";
  }
  return "unknown";
}

base::Result<std::vector<uint8_t>, OAuthError> encode_oauth_token(const OAuthKey& key, std::string_view server_name,
                                                                 const OAuthToken& t, base::Bytes nonce) {
  if (key.key.size() != key_size(key.alg)) return base::fail(OAuthError::BadKey);
  if (nonce.size() != kOAuthNonceSize) return base::fail(OAuthError::BadNonceLength);
  if (t.mac_key.empty() || t.mac_key.size() > kOAuthMaxMacKey) return base::fail(OAuthError::BadMacKey);

  std::vector<uint8_t> block(kBlockFixed + t.mac_key.size());
  base::store_be16(block.data(), uint16_t(t.mac_key.size()));
  std::memcpy(block.data() + 2, t.mac_key.data(), t.mac_key.size());
  base::store_be64(block.data() + 2 + t.mac_key.size(), t.timestamp);
  base::store_be32(block.data() + 10 + t.mac_key.size(), t.lifetime);

  std::vector<uint8_t> out(2 + kOAuthNonceSize + block.size() + kOAuthTagSize);
  base::store_be16(out.data(), uint16_t(kOAuthNonceSize));
  std::memcpy(out.data() + 2, nonce.data(), kOAuthNonceSize);
  uint8_t* ct = out.data() + 2 + kOAuthNonceSize;

  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0, fin = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), cipher(key.alg), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(kOAuthNonceSize), nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.key.data(), nonce.data()) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const uint8_t*>(server_name.data()),
                              int(server_name.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), ct, &n, block.data(), int(block.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), ct + n, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(kOAuthTagSize), ct + block.size()) == 1;
  OPENSSL_cleanse(block.data(), block.size());
  if (!ok) return base::fail(OAuthError::BadKey);  // only a broken crypto library gets here
  return out;
}

base::Result<std::vector<uint8_t>, OAuthError> encode_oauth_token(const OAuthKey& key, std::string_view server_name,
                                                                 const OAuthToken& t, base::Random& random) {
  uint8_t nonce[kOAuthNonceSize];
  random.fill(nonce);
  return encode_oauth_token(key, server_name, t, base::Bytes(nonce, sizeof nonce));
}

base::Result<OAuthToken, OAuthError> decode_oauth_token(const OAuthKey& key, std::string_view server_name,
                                                       base::Bytes token) {
  if (key.key.size() != key_size(key.alg)) return base::fail(OAuthError::BadKey);
  base::ByteReader r(token);
  uint16_t nonce_len = 0;
  base::Bytes nonce;
  if (!r.u16(nonce_len)) return base::fail(OAuthError::Truncated);
  // RFC 5116: the GCM AEADs take 12-byte nonces only (coturn never makes other sizes).
  if (nonce_len != kOAuthNonceSize) return base::fail(OAuthError::BadNonceLength);
  if (!r.bytes(nonce_len, nonce)) return base::fail(OAuthError::Truncated);
  if (r.remaining() < kBlockFixed + 1 + kOAuthTagSize) return base::fail(OAuthError::Truncated);
  size_t ct_len = r.remaining() - kOAuthTagSize;
  base::Bytes ct, tag;
  (void)r.bytes(ct_len, ct);
  (void)r.bytes(kOAuthTagSize, tag);

  std::vector<uint8_t> block(ct_len + 16);
  EVP_CIPHER_CTX* ctx = t_decryptor.ready(key, nonce.data());
  int n = 0, fin = 0;
  bool ok = ctx &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, int(kOAuthTagSize), const_cast<uint8_t*>(tag.data())) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &n, reinterpret_cast<const uint8_t*>(server_name.data()),
                              int(server_name.size())) == 1 &&
            EVP_DecryptUpdate(ctx, block.data(), &n, ct.data(), int(ct.size())) == 1;
  // Nothing decrypted is looked at before the tag is checked.
  ok = ok && EVP_DecryptFinal_ex(ctx, block.data() + n, &fin) == 1;
  if (!ok) {
    OPENSSL_cleanse(block.data(), block.size());
    return base::fail(OAuthError::Integrity);
  }

  base::ByteReader b(base::Bytes(block.data(), ct_len));
  uint16_t key_len = 0;
  base::Bytes mac;
  OAuthToken t;
  bool consistent = b.u16(key_len) && key_len + kBlockFixed == ct_len && b.bytes(key_len, mac) &&
                    b.u64(t.timestamp) && b.u32(t.lifetime);
  if (consistent && (key_len == 0 || key_len > kOAuthMaxMacKey)) {
    OPENSSL_cleanse(block.data(), block.size());
    return base::fail(OAuthError::BadMacKey);
  }
  if (consistent) t.mac_key.assign(mac.begin(), mac.end());
  OPENSSL_cleanse(block.data(), block.size());
  if (!consistent) return base::fail(OAuthError::BadBlock);
  return t;
}

std::string TurnOAuthGrant::key_base64() const { return base::base64_encode(mac_key); }

std::string TurnOAuthGrant::to_json() const {
  nlohmann::json j;
  j["access_token"] = access_token;
  j["token_type"] = "pop";
  j["kid"] = kid;
  j["key"] = key_base64();
  j["expires_in"] = expires_in;
  return j.dump();
}

TurnOAuthGrant mint_oauth_grant(const OAuthKey& key, std::string_view server_name, int64_t now_unix,
                                uint32_t lifetime_s, base::Random& random, size_t mac_key_size) {
  OAuthToken t;
  t.mac_key.resize(mac_key_size);
  random.fill(t.mac_key);
  t.timestamp = uint64_t(now_unix) << 16;
  t.lifetime = lifetime_s;
  auto enc = encode_oauth_token(key, server_name, t, random);
  if (!enc) throw std::invalid_argument("cannot mint an RFC 7635 token: " + std::string(to_string(enc.error())));
  TurnOAuthGrant g;
  g.access_token = base::base64_encode(*enc);
  g.kid = key.kid;
  g.mac_key = std::move(t.mac_key);
  g.expires_in = lifetime_s;
  return g;
}

base::Result<TurnOAuthGrant, std::string> parse_oauth_grant_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return base::fail(std::string("the TURN token response is not a JSON object"));
  TurnOAuthGrant g;
  for (const char* k : {"access_token", "kid", "key"})
    if (!j.contains(k) || !j[k].is_string())
      return base::fail("the TURN token response has no \"" + std::string(k) + "\" string");
  g.access_token = j["access_token"].get<std::string>();
  g.kid = j["kid"].get<std::string>();
  auto mac = base::base64_decode(j["key"].get<std::string>());
  if (!mac || mac->empty()) return base::fail(std::string("the TURN token response's \"key\" is not base64"));
  g.mac_key = std::move(*mac);
  if (!base::base64_decode(g.access_token))
    return base::fail(std::string("the TURN token response's \"access_token\" is not base64"));
  if (j.contains("expires_in") && j["expires_in"].is_number_integer()) g.expires_in = j["expires_in"].get<int64_t>();
  return g;
}

}  // namespace token
