// TS 35.206 §4.1 (MILENAGE), with the notation of that clause: TEMP, IN1, OUT1..OUT5, r1..r5, c1..c5.
#include "crypto/milenage.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>

namespace crypto {
namespace {

using Block = std::array<uint8_t, 16>;

// Fetched once per process and never freed (shared read-only by all contexts and threads).
const EVP_CIPHER* aes_128_ecb() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  return cipher;
}

EVP_CIPHER_CTX* new_keyed_context(const K& k) {
  const EVP_CIPHER* cipher = aes_128_ecb();
  if (!cipher) return nullptr;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return nullptr;
  if (!EVP_EncryptInit_ex2(ctx, cipher, k.data(), nullptr, nullptr) || !EVP_CIPHER_CTX_set_padding(ctx, 0)) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// rot(x, r): x rotated by r bits towards the most significant bit; r is a multiple of 8 here.
Block rot(const Block& x, unsigned r_bits) {
  Block out;
  unsigned s = r_bits / 8;
  for (unsigned i = 0; i < 16; ++i) out[i] = x[(i + s) % 16];
  return out;
}

void xor_into(Block& a, const uint8_t* b) {
  for (unsigned i = 0; i < 16; ++i) a[i] ^= b[i];
}

// r2..r5 and c2..c5 of TS 35.206 §4.1 (c_n has a single 1 bit in its last octet).
constexpr unsigned kR2 = 0, kR3 = 32, kR4 = 64, kR5 = 96;
constexpr uint8_t kC2 = 1, kC3 = 2, kC4 = 4, kC5 = 8;
constexpr unsigned kR1 = 64;  // c1 = 0

}  // namespace

Result<Milenage> Milenage::create(const K& k, const Opc& opc) {
  EVP_CIPHER_CTX* ctx = new_keyed_context(k);
  if (!ctx) return base::fail(Error::Backend);
  return Milenage(ctx, opc);
}

Result<Opc> Milenage::compute_opc(const K& k, const Op& op) {
  EVP_CIPHER_CTX* ctx = new_keyed_context(k);
  if (!ctx) return base::fail(Error::Backend);
  Opc opc;
  int len = 0;
  bool ok = EVP_EncryptUpdate(ctx, opc.data(), &len, op.data(), 16) && len == 16;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return base::fail(Error::Backend);
  for (size_t i = 0; i < 16; ++i) opc.data()[i] ^= op.data()[i];
  return opc;
}

Milenage::Milenage(Milenage&& o) noexcept : ctx_(o.ctx_), opc_(o.opc_) {
  o.ctx_ = nullptr;
  o.opc_ = Opc();
}

Milenage& Milenage::operator=(Milenage&& o) noexcept {
  if (this != &o) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = o.ctx_;
    opc_ = o.opc_;
    o.ctx_ = nullptr;
    o.opc_ = Opc();
  }
  return *this;
}

Milenage::~Milenage() { EVP_CIPHER_CTX_free(ctx_); }

void Milenage::encrypt(const uint8_t* in, uint8_t* out, size_t blocks) const {
  // ECB without padding on whole blocks cannot fail once keyed; a failure is a broken invariant
  // (a moved-from object used, memory corruption), not something a peer can cause.
  int len = 0;
  if (!ctx_ || !EVP_EncryptUpdate(ctx_, out, &len, in, int(16 * blocks)) || size_t(len) != 16 * blocks) abort();
}

Milenage::Block Milenage::temp(const Rand& rand) const {
  Block x;
  for (unsigned i = 0; i < 16; ++i) x[i] = rand[i] ^ opc_.data()[i];
  Block t;
  encrypt(x.data(), t.data(), 1);
  OPENSSL_cleanse(x.data(), x.size());
  return t;
}

// OUT1 = E_K[TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1] ⊕ OPc, IN1 = SQN ‖ AMF ‖ SQN ‖ AMF.
Milenage::Block Milenage::out1(const Rand& rand, SqnOctets sqn, const Amf& amf) const {
  Block in1;
  std::memcpy(&in1[0], sqn.data(), 6);
  std::memcpy(&in1[6], amf.data(), 2);
  std::memcpy(&in1[8], sqn.data(), 6);
  std::memcpy(&in1[14], amf.data(), 2);
  xor_into(in1, opc_.data());
  Block x = rot(in1, kR1);
  OPENSSL_cleanse(in1.data(), in1.size());
  Block t = temp(rand);
  xor_into(x, t.data());
  Block out;
  encrypt(x.data(), out.data(), 1);
  xor_into(out, opc_.data());
  OPENSSL_cleanse(t.data(), t.size());
  OPENSSL_cleanse(x.data(), x.size());
  return out;
}

Mac Milenage::f1(const Rand& rand, SqnOctets sqn, const Amf& amf) const {
  Block o = out1(rand, sqn, amf);
  Mac m;
  std::memcpy(m.data(), &o[0], 8);
  return m;
}

Mac Milenage::f1_star(const Rand& rand, SqnOctets sqn, const Amf& amf) const {
  Block o = out1(rand, sqn, amf);
  Mac m;
  std::memcpy(m.data(), &o[8], 8);
  return m;
}

// OUTn = E_K[rot(TEMP ⊕ OPc, rn) ⊕ cn] ⊕ OPc for n = 2, 3, 4, encrypted as one three-block call.
Milenage::F2345 Milenage::f2345(const Rand& rand) const {
  Block t = temp(rand);
  xor_into(t, opc_.data());
  std::array<uint8_t, 48> in, out;
  const unsigned r[3] = {kR2, kR3, kR4};
  const uint8_t c[3] = {kC2, kC3, kC4};
  for (unsigned n = 0; n < 3; ++n) {
    Block b = rot(t, r[n]);
    b[15] ^= c[n];
    std::memcpy(&in[16 * n], b.data(), 16);
  }
  encrypt(in.data(), out.data(), 3);
  for (unsigned i = 0; i < 48; ++i) out[i] ^= opc_.data()[i % 16];

  F2345 f;
  std::memcpy(f.res.data(), &out[8], 8);    // f2: OUT2[64..127]
  std::memcpy(f.ak.data(), &out[0], 6);     // f5: OUT2[0..47]
  std::memcpy(f.ck.data(), &out[16], 16);   // f3: OUT3
  std::memcpy(f.ik.data(), &out[32], 16);   // f4: OUT4
  OPENSSL_cleanse(t.data(), t.size());
  OPENSSL_cleanse(in.data(), in.size());
  OPENSSL_cleanse(out.data(), out.size());
  return f;
}

// f5*: OUT5[0..47], OUT5 = E_K[rot(TEMP ⊕ OPc, r5) ⊕ c5] ⊕ OPc.
Ak Milenage::f5_star(const Rand& rand) const {
  Block t = temp(rand);
  xor_into(t, opc_.data());
  Block x = rot(t, kR5);
  x[15] ^= kC5;
  Block out;
  encrypt(x.data(), out.data(), 1);
  xor_into(out, opc_.data());
  Ak ak;
  std::memcpy(ak.data(), out.data(), 6);
  OPENSSL_cleanse(t.data(), t.size());
  OPENSSL_cleanse(out.data(), out.size());
  return ak;
}

}  // namespace crypto
