// IMS AKA over SIP Digest: the HSS/AuC side and a software ISIM (for `webims wic`).
//   TS 33.102 §6.3.2 (authentication vectors), §6.3.3 (USIM: MAC and SQN checks, AUTS),
//   §6.3.5 (resynchronisation), Annex C (SQN = SEQ ‖ IND, freshness window);
//   RFC 3310 §3 (Digest AKAv1-MD5: nonce = base64(RAND ‖ AUTN ‖ server data), password = RES,
//   `auts` parameter); RFC 4169 §3 (AKAv2-MD5 password); protocols.md "Scenario 1".
// MILENAGE (crypto/milenage.hpp) is the f1..f5* algorithm set. No I/O, no SIP parsing.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.hpp"
#include "crypto/error.hpp"
#include "crypto/milenage.hpp"
#include "crypto/secret.hpp"

namespace crypto {

using Autn = std::array<uint8_t, 16>;  // (SQN ⊕ AK) ‖ AMF ‖ MAC-A           (TS 33.102 §6.3.2)
using Auts = std::array<uint8_t, 14>;  // (SQN_MS ⊕ AK*) ‖ MAC-S              (TS 33.102 §6.3.3)

// SQN, 48 bits, structured as SEQ (43 bits) ‖ IND (5 bits) (TS 33.102 Annex C.1.1, C.3.2).
//
// Our choice of the Annex C profile, for the HSS and our ISIM alike: the HSS increments SEQ by one
// per vector and keeps the IND it was provisioned with (0 by default), i.e. SQN grows by 32; the
// ISIM keeps the array SEQ_MS(0..31) of C.2.2 and accepts SEQ > SEQ_MS(IND) within a window Δ of
// the highest accepted SEQ (C.2.2 with the optional Δ check, no age limit L). Real ISIMs accept
// these SQNs, and vectors used out of order (IND differs) work as Annex C intends.
struct Sqn {
  static constexpr unsigned kIndBits = 5;
  static constexpr unsigned kIndCount = 1u << kIndBits;
  static constexpr uint64_t kMax = (uint64_t(1) << 48) - 1;
  static constexpr uint64_t kMaxSeq = kMax >> kIndBits;

  uint64_t value = 0;  // only the low 48 bits are meaningful; functions reject more

  uint64_t seq() const { return value >> kIndBits; }
  unsigned ind() const { return unsigned(value & (kIndCount - 1)); }
  static Sqn from_seq_ind(uint64_t seq, unsigned ind) { return Sqn{seq << kIndBits | (ind & (kIndCount - 1))}; }
  std::array<uint8_t, 6> octets() const;
  static Sqn from_octets(SqnOctets o);
  friend auto operator<=>(const Sqn&, const Sqn&) = default;
};

// Δ of TS 33.102 Annex C.2.1: how far ahead of the highest accepted SEQ a new one may be (2^28 is
// the value C.2.1 gives as an example for the default).
constexpr uint64_t kDefaultSqnDelta = uint64_t(1) << 28;

// One authentication vector (quintet) for a challenge.
struct AuthVector {
  Rand rand;
  Autn autn;
  Res xres;
  Ck ck;
  Ik ik;
  Sqn sqn;  // the SQN in AUTN: the HSS's SQN_HE after issuing this vector
};

// ---- HSS / AuC ----

// The next SQN_HE: SEQ + 1, same IND (Annex C.1.1). SqnExhausted at the end of the SEQ space.
Result<Sqn> next_sqn(Sqn sqn_he);
// The vector for a given RAND and SQN (deterministic; generate_auth_vector() picks both).
// InvalidArgument if the SQN exceeds 48 bits.
Result<AuthVector> make_auth_vector(const Milenage& m, const Rand& rand, Sqn sqn, const Amf& amf);
// A fresh vector: RAND from `random`, SQN = next_sqn(sqn_he). On success sqn_he is advanced (the
// caller persists it before sending the challenge); on failure it is left unchanged.
Result<AuthVector> generate_auth_vector(const Milenage& m, Sqn& sqn_he, const Amf& amf, base::Random& random);
// Resynchronisation (TS 33.102 §6.3.5): recovers SQN_MS = (AUTS ⊕ AK*) and checks MAC-S =
// f1*(SQN_MS, RAND, AMF = 0). MacFailure if MAC-S does not verify (forged AUTS, wrong RAND).
// `rand` must be the RAND of the challenge the UE answered with AUTS.
Result<Sqn> recover_sqn_ms(const Milenage& m, const Rand& rand, const Auts& auts);
// The SQN_HE to continue from after a verified resynchronisation: unchanged if the next vector
// from `sqn_he` would already be accepted by a UE at `sqn_ms` (C.3.4), else SQN_MS's SEQ with the
// HSS's own IND, so that next_sqn() yields SEQ_MS + 1.
Sqn resynchronised_sqn_he(Sqn sqn_he, Sqn sqn_ms, uint64_t delta = kDefaultSqnDelta);

// ---- ISIM (UE side) ----

// The SQN state an ISIM keeps between authentications (persist it in the CLI's profile).
struct IsimSqnState {
  std::array<uint64_t, Sqn::kIndCount> seq_ms{};  // SEQ_MS(i), Annex C.2.2
};

struct IsimConfig {
  uint64_t delta = kDefaultSqnDelta;  // Annex C.2.1 Δ; 0 disables the "too far ahead" check
};

struct IsimAnswer {
  enum class Kind {
    Authenticated,  // network authentic and SQN fresh: res/ck/ik are set, SQN state advanced
    SyncFailure,    // network authentic but SQN not fresh: auts is set (send it in `auts`)
  };
  Kind kind = Kind::Authenticated;
  Res res;
  Ck ck;
  Ik ik;
  Auts auts{};
};

class Isim {
 public:
  explicit Isim(Milenage m, IsimSqnState state = {}, IsimConfig config = {})
      : m_(std::move(m)), state_(state), config_(config) {}

  // TS 33.102 §6.3.3: AK = f5(RAND), SQN = (SQN ⊕ AK) ⊕ AK, check MAC-A = f1(SQN, RAND, AMF)
  // (MacFailure: the challenge is not from our home network, answer without credentials), then
  // the SQN freshness (SyncFailure with AUTS = (SQN_MS ⊕ f5*) ‖ f1*(SQN_MS, RAND, AMF = 0)).
  Result<IsimAnswer> authenticate(const Rand& rand, const Autn& autn);

  const IsimSqnState& sqn_state() const { return state_; }
  // SQN_MS: the highest accepted SEQ with its IND (Annex C.2.2; 0 before any authentication).
  Sqn sqn_ms() const;

 private:
  Milenage m_;
  IsimSqnState state_;
  IsimConfig config_;
};

// ---- SIP Digest AKA (RFC 3310, RFC 4169) ----

enum class AkaVersion : uint8_t { V1 = 1, V2 = 2 };

// "AKAv1-MD5" or "AKAv2-MD5", case-insensitively; the Digest hash is MD5 in both. nullopt for
// anything else (including AKAv1-SHA-256 style tokens, which nobody deploys).
std::optional<AkaVersion> parse_aka_algorithm(std::string_view token);
std::string_view to_string(AkaVersion v);

// nonce = base64(RAND ‖ AUTN ‖ server data) (RFC 3310 §3.2; standard alphabet with padding).
std::string encode_aka_nonce(const Rand& rand, const Autn& autn, base::Bytes server_data = {});
struct AkaNonce {
  Rand rand;
  Autn autn;
  std::vector<uint8_t> server_data;  // opaque to the client; empty when the server sent none
};
// BadEncoding unless valid base64 of at least 32 octets.
Result<AkaNonce> decode_aka_nonce(std::string_view nonce);

// The `auts` Digest parameter (RFC 3310 §3.4): base64 of the 14 AUTS octets. With it, the client
// computes `response` with an empty password (RFC 3310 §3.4) since it has no RES.
std::string encode_auts(const Auts& auts);
Result<Auts> decode_auts(std::string_view text);  // BadEncoding unless base64 of exactly 14 octets

// The Digest password that replaces the user's password in HA1:
//   AKAv1 (RFC 3310 §3.3): the RES octets themselves (XRES on the server side);
//   AKAv2 (RFC 4169 §3):  base64(PRF(RES ‖ IK ‖ CK, "http-digest-akav2-password")), PRF = HMAC-MD5
//                          keyed with RES ‖ IK ‖ CK over the 26-octet string.
// On the wire only the resulting HA1/response appears. See aka.cpp for the AKAv2 ambiguity.
SecretString aka_digest_password(AkaVersion v, const Res& res, const Ik& ik, const Ck& ck);

}  // namespace crypto
