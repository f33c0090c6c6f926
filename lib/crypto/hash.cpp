#include "crypto/hash.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace crypto {
namespace {

// HMAC (RFC 2104) on OpenSSL's low-level SHA1/SHA256/MD5 functions. They are deprecated in
// OpenSSL 3 but still shipped, and their contexts are plain structs: a keyed HMAC state (the inner
// and outer hashes after the padded key block) is copied by assignment. EVP_MAC duplicated three
// provider contexts on the heap per MAC even with the key cached, which made HMAC a visible share
// of a SIP registration's allocations (Digest nonces, flow tokens) and of TURN's MESSAGE-INTEGRITY.
// The last few keys used stay keyed per thread; a miss keys the least recently filled slot.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
template <class Ctx, size_t N, int (*Init)(Ctx*), int (*Update)(Ctx*, const void*, size_t),
          int (*Final)(unsigned char*, Ctx*)>
struct RawHmac {
  static constexpr size_t kBlock = 64;  // SHA-1, SHA-256 and MD5
  static constexpr size_t kSlots = 4;
  static constexpr size_t kMaxKey = 64;  // longer keys are hashed first; cached by that hash
  struct Slot {
    uint8_t key[kMaxKey] = {};
    size_t len = 0;
    bool keyed = false;
    Ctx inner{}, outer{};
  };
  Slot slots[kSlots];
  size_t next = 0;

  const Slot& keyed(Bytes key) {
    std::array<uint8_t, N> hashed;
    if (key.size() > kBlock) {  // RFC 2104: a key longer than the block is replaced by its hash
      Ctx c;
      Init(&c);
      Update(&c, key.data(), key.size());
      Final(hashed.data(), &c);
      OPENSSL_cleanse(&c, sizeof c);
      key = Bytes(hashed.data(), N);
    }
    for (const Slot& s : slots)
      if (s.keyed && s.len == key.size() && (key.empty() || std::memcmp(s.key, key.data(), key.size()) == 0)) return s;
    Slot& s = slots[next];
    next = (next + 1) % kSlots;
    uint8_t pad[kBlock];
    for (int which = 0; which < 2; ++which) {
      std::memset(pad, which == 0 ? 0x36 : 0x5c, kBlock);
      for (size_t i = 0; i < key.size(); ++i) pad[i] ^= key[i];
      Ctx& c = which == 0 ? s.inner : s.outer;
      Init(&c);
      Update(&c, pad, kBlock);
    }
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(hashed.data(), hashed.size());
    if (!key.empty()) std::memcpy(s.key, key.data(), key.size());
    s.len = key.size();
    s.keyed = true;
    return s;
  }

  std::array<uint8_t, N> mac(Bytes key, std::initializer_list<Bytes> parts) {
    const Slot& s = keyed(key);
    std::array<uint8_t, N> out;
    Ctx c = s.inner;
    for (auto p : parts) Update(&c, p.data(), p.size());
    Final(out.data(), &c);
    c = s.outer;
    Update(&c, out.data(), N);
    Final(out.data(), &c);
    OPENSSL_cleanse(&c, sizeof c);
    return out;
  }

  ~RawHmac() { OPENSSL_cleanse(slots, sizeof slots); }
};
using HmacSha1 = RawHmac<SHA_CTX, 20, SHA1_Init, SHA1_Update, SHA1_Final>;
using HmacSha256 = RawHmac<SHA256_CTX, 32, SHA256_Init, SHA256_Update, SHA256_Final>;
using HmacMd5 = RawHmac<MD5_CTX, 16, MD5_Init, MD5_Update, MD5_Final>;
#pragma GCC diagnostic pop

// Fetched once per thread; OpenSSL objects are freed at thread exit.
struct Fetched {
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* md_ctx = EVP_MD_CTX_new();
  HmacSha1 hmac_sha1;
  HmacSha256 hmac_sha256;
  HmacMd5 hmac_md5;

  Fetched() {
    if (!md5 || !sha1 || !sha256 || !md_ctx) abort();
  }
  ~Fetched() {
    EVP_MD_CTX_free(md_ctx);
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

}  // namespace

Md5Digest md5(Bytes d) { return digest<16>(fetched().md5, {d}); }
Md5Digest md5(std::initializer_list<Bytes> parts) { return digest<16>(fetched().md5, parts); }
Sha1Digest sha1(Bytes d) { return digest<20>(fetched().sha1, {d}); }
Sha256Digest sha256(Bytes d) { return digest<32>(fetched().sha256, {d}); }
Sha256Digest sha256(std::initializer_list<Bytes> parts) { return digest<32>(fetched().sha256, parts); }
Sha1Digest hmac_sha1(Bytes key, Bytes d) { return hmac_sha1(key, {d}); }
Sha1Digest hmac_sha1(Bytes key, std::initializer_list<Bytes> parts) { return fetched().hmac_sha1.mac(key, parts); }
Sha256Digest hmac_sha256(Bytes key, Bytes d) { return hmac_sha256(key, {d}); }
Sha256Digest hmac_sha256(Bytes key, std::initializer_list<Bytes> parts) {
  return fetched().hmac_sha256.mac(key, parts);
}
Md5Digest hmac_md5(Bytes key, Bytes d) { return fetched().hmac_md5.mac(key, {d}); }

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
