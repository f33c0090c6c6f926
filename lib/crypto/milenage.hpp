// MILENAGE, the example 3GPP authentication and key generation functions f1, f1*, f2, f3, f4, f5,
// f5* (TS 35.206 §4.1), with AES-128 (OpenSSL 3 EVP) as the kernel E_K (TS 35.206 §3).
// Verified against every test set of TS 35.208 §4.3 and TS 35.207 (tests/vectors/ts35208/).
//
// Inputs and outputs are the bit strings of TS 35.206; the AKA procedures that use them (AUTN,
// AUTS, SQN management) are in crypto/aka.hpp.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <span>

#include "crypto/error.hpp"
#include "crypto/secret.hpp"

namespace crypto {

using K = SecretBytes<16, struct KTag>;      // subscriber key
using Op = SecretBytes<16, struct OpTag>;    // operator variant algorithm configuration field
using Opc = SecretBytes<16, struct OpcTag>;  // OP_C = OP ⊕ E_K(OP)
using Ck = SecretBytes<16, struct CkTag>;    // cipher key (f3)
using Ik = SecretBytes<16, struct IkTag>;    // integrity key (f4)
using Res = SecretBytes<8, struct ResTag>;   // RES / XRES (f2); the AKAv1 Digest password
using Rand = std::array<uint8_t, 16>;        // RAND, the challenge
using Amf = std::array<uint8_t, 2>;          // authentication management field
using Mac = std::array<uint8_t, 8>;          // MAC-A (f1) or MAC-S (f1*)
using Ak = std::array<uint8_t, 6>;           // anonymity key, AK (f5) or AK* (f5*)
using SqnOctets = std::span<const uint8_t, 6>;

// One subscription's MILENAGE: an AES-128 context keyed with K once, reused for the six or seven
// kernel calls of an authentication. OPc is kept and wiped on destruction; the key schedule is
// wiped by EVP_CIPHER_CTX_free. Not thread-safe (the context is mutated even by const calls):
// make one per authentication or per thread.
class Milenage {
 public:
  static Result<Milenage> create(const K& k, const Opc& opc);
  // OPc = OP ⊕ E_K(OP) (TS 35.206 §4.1). Provision OPc in the HSS and the ISIM, never OP.
  static Result<Opc> compute_opc(const K& k, const Op& op);

  Milenage(Milenage&& o) noexcept;
  Milenage& operator=(Milenage&& o) noexcept;
  Milenage(const Milenage&) = delete;
  Milenage& operator=(const Milenage&) = delete;
  ~Milenage();

  Mac f1(const Rand& rand, SqnOctets sqn, const Amf& amf) const;       // MAC-A
  Mac f1_star(const Rand& rand, SqnOctets sqn, const Amf& amf) const;  // MAC-S (resynchronisation)
  struct F2345 {
    Res res;  // f2
    Ck ck;    // f3
    Ik ik;    // f4
    Ak ak;    // f5
  };
  F2345 f2345(const Rand& rand) const;  // TEMP once, OUT2..OUT4 in one cipher call
  Ak f5_star(const Rand& rand) const;   // AK for resynchronisation

 private:
  Milenage(EVP_CIPHER_CTX* ctx, const Opc& opc) : ctx_(ctx), opc_(opc) {}
  using Block = std::array<uint8_t, 16>;
  void encrypt(const uint8_t* in, uint8_t* out, size_t blocks) const;
  Block temp(const Rand& rand) const;
  Block out1(const Rand& rand, SqnOctets sqn, const Amf& amf) const;

  EVP_CIPHER_CTX* ctx_ = nullptr;
  Opc opc_;
};

}  // namespace crypto
