#include "crypto/hash.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace crypto {
namespace {

// HMAC contexts already keyed with the last few keys used for one digest. OpenSSL keeps the
// inner and outer padded-key states of a keyed context, and EVP_MAC_init without a key only
// copies them back, where keying hashes the key blocks again and goes through the provider's
// parameter handling: with the same keys used over and over (Digest nonces, flow tokens) that
// was most of the cost of a MAC over a short input. A miss keys the least recently filled slot.
struct KeyedMacs {
  static constexpr size_t kSlots = 4;
  static constexpr size_t kMaxKey = 64;  // longer keys are hashed by HMAC anyway; not cached
  struct Slot {
    EVP_MAC_CTX* ctx = nullptr;
    uint8_t key[kMaxKey] = {};
    size_t len = 0;
    bool keyed = false;
  };
  Slot slots[kSlots];
  size_t next = 0;

  // A context keyed with `key` and ready for EVP_MAC_update, or nullptr when the key is not cached.
  EVP_MAC_CTX* get(Bytes key) {
    if (key.empty() || key.size() > kMaxKey) return nullptr;
    for (Slot& s : slots)
      if (s.keyed && s.len == key.size() && std::memcmp(s.key, key.data(), key.size()) == 0) {
        if (!EVP_MAC_init(s.ctx, nullptr, 0, nullptr)) abort();
        return s.ctx;
      }
    Slot& s = slots[next];
    next = (next + 1) % kSlots;
    s.keyed = false;
    if (!EVP_MAC_init(s.ctx, key.data(), key.size(), nullptr)) abort();
    std::memcpy(s.key, key.data(), key.size());
    s.len = key.size();
    s.keyed = true;
    return s.ctx;
  }
  ~KeyedMacs() {
    for (Slot& s : slots) {
      EVP_MAC_CTX_free(s.ctx);
      OPENSSL_cleanse(s.key, sizeof s.key);
    }
  }
};

// Fetched once per thread; OpenSSL objects are freed at thread exit.
struct Fetched {
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MD_CTX* md_ctx = EVP_MD_CTX_new();
  EVP_MAC_CTX* mac_sha1 = nullptr;
  EVP_MAC_CTX* mac_sha256 = nullptr;
  EVP_MAC_CTX* mac_md5 = nullptr;
  KeyedMacs keyed_sha1, keyed_sha256, keyed_md5;

  Fetched() {
    if (!md5 || !sha1 || !sha256 || !hmac || !md_ctx) abort();
    mac_sha1 = make_mac("SHA1");
    mac_sha256 = make_mac("SHA256");
    mac_md5 = make_mac("MD5");
    for (auto* k : {&keyed_sha1, &keyed_sha256, &keyed_md5})
      for (auto& slot : k->slots) slot.ctx = make_mac(k == &keyed_sha1 ? "SHA1" : k == &keyed_sha256 ? "SHA256" : "MD5");
  }
  EVP_MAC_CTX* make_mac(const char* digest) {
    EVP_MAC_CTX* c = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
                           OSSL_PARAM_construct_end()};
    if (!c || !EVP_MAC_CTX_set_params(c, params)) abort();
    return c;
  }
  ~Fetched() {
    EVP_MAC_CTX_free(mac_sha1);
    EVP_MAC_CTX_free(mac_sha256);
    EVP_MAC_CTX_free(mac_md5);
    EVP_MD_CTX_free(md_ctx);
    EVP_MAC_free(hmac);
    EVP_MD_free(md5);
    EVP_MD_free(sha1);
    EVP_MD_free(sha256);
  }
};

Fetched& fetched() {
  thread_local Fetched f;
  return f;
}

template <size_t N>
std::array<uint8_t, N> digest(EVP_MD* md, std::initializer_list<Bytes> parts) {
  auto& f = fetched();
  std::array<uint8_t, N> out;
  unsigned len = 0;
  if (!EVP_DigestInit_ex2(f.md_ctx, md, nullptr)) abort();
  for (auto p : parts) EVP_DigestUpdate(f.md_ctx, p.data(), p.size());
  EVP_DigestFinal_ex(f.md_ctx, out.data(), &len);
  return out;
}

template <size_t N>
std::array<uint8_t, N> mac(EVP_MAC_CTX* plain, KeyedMacs& keyed, Bytes key, std::initializer_list<Bytes> parts) {
  std::array<uint8_t, N> out;
  size_t len = 0;
  EVP_MAC_CTX* ctx = keyed.get(key);
  if (!ctx) {
    ctx = plain;
    // An empty key is legal for HMAC but OpenSSL wants a non-null pointer.
    static const uint8_t zero = 0;
    if (!EVP_MAC_init(ctx, key.empty() ? &zero : key.data(), key.size(), nullptr)) abort();
  }
  for (auto p : parts) EVP_MAC_update(ctx, p.data(), p.size());
  EVP_MAC_final(ctx, out.data(), &len, N);
  return out;
}

}  // namespace

Md5Digest md5(Bytes d) { return digest<16>(fetched().md5, {d}); }
Md5Digest md5(std::initializer_list<Bytes> parts) { return digest<16>(fetched().md5, parts); }
Sha1Digest sha1(Bytes d) { return digest<20>(fetched().sha1, {d}); }
Sha256Digest sha256(Bytes d) { return digest<32>(fetched().sha256, {d}); }
Sha256Digest sha256(std::initializer_list<Bytes> parts) { return digest<32>(fetched().sha256, parts); }
Sha1Digest hmac_sha1(Bytes key, Bytes d) { return hmac_sha1(key, {d}); }
Sha1Digest hmac_sha1(Bytes key, std::initializer_list<Bytes> parts) {
  auto& f = fetched();
  return mac<20>(f.mac_sha1, f.keyed_sha1, key, parts);
}
Sha256Digest hmac_sha256(Bytes key, Bytes d) { return hmac_sha256(key, {d}); }
Sha256Digest hmac_sha256(Bytes key, std::initializer_list<Bytes> parts) {
  auto& f = fetched();
  return mac<32>(f.mac_sha256, f.keyed_sha256, key, parts);
}
Md5Digest hmac_md5(Bytes key, Bytes d) {
  auto& f = fetched();
  return mac<16>(f.mac_md5, f.keyed_md5, key, {d});
}

uint32_t crc32(Bytes data) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool constant_time_equal(Bytes a, Bytes b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void random_bytes(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), int(out.size())) != 1) abort();  // no safe way to continue without randomness
}

}  // namespace crypto
