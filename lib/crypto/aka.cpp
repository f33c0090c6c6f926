// TS 33.102 §6.3 and Annex C; RFC 3310 §3; RFC 4169 §3.
#include "crypto/aka.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace crypto {
namespace {

constexpr Amf kResyncAmf = {0, 0};  // AMF* for MAC-S: "a dummy value of all zeros" (TS 33.102 §6.3.3)

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::array<uint8_t, 6> xor6(const std::array<uint8_t, 6>& a, const Ak& b) {
  std::array<uint8_t, 6> r;
  for (size_t i = 0; i < 6; ++i) r[i] = a[i] ^ b[i];
  return r;
}

}  // namespace

std::array<uint8_t, 6> Sqn::octets() const {
  std::array<uint8_t, 6> o;
  for (int i = 0; i < 6; ++i) o[size_t(i)] = uint8_t(value >> (8 * (5 - i)));
  return o;
}

Sqn Sqn::from_octets(SqnOctets o) {
  uint64_t v = 0;
  for (uint8_t b : o) v = v << 8 | b;
  return Sqn{v};
}

// ---- HSS / AuC ----

Result<Sqn> next_sqn(Sqn sqn_he) {
  if (sqn_he.value > Sqn::kMax) return base::fail(Error::InvalidArgument);
  if (sqn_he.seq() >= Sqn::kMaxSeq) return base::fail(Error::SqnExhausted);
  return Sqn::from_seq_ind(sqn_he.seq() + 1, sqn_he.ind());
}

// TS 33.102 §6.3.2: MAC = f1(SQN ‖ RAND ‖ AMF), XRES = f2, CK = f3, IK = f4, AK = f5,
// AUTN = SQN ⊕ AK ‖ AMF ‖ MAC.
Result<AuthVector> make_auth_vector(const Milenage& m, const Rand& rand, Sqn sqn, const Amf& amf) {
  if (sqn.value > Sqn::kMax) return base::fail(Error::InvalidArgument);
  auto sqn6 = sqn.octets();
  Mac mac = m.f1(rand, sqn6, amf);
  auto f = m.f2345(rand);
  auto concealed = xor6(sqn6, f.ak);
  AuthVector v{rand, {}, f.res, f.ck, f.ik, sqn};
  std::memcpy(&v.autn[0], concealed.data(), 6);
  std::memcpy(&v.autn[6], amf.data(), 2);
  std::memcpy(&v.autn[8], mac.data(), 8);
  return v;
}

Result<AuthVector> generate_auth_vector(const Milenage& m, Sqn& sqn_he, const Amf& amf, base::Random& random) {
  auto next = next_sqn(sqn_he);
  if (!next) return base::fail(next.error());
  Rand rand;
  random.fill(rand);
  auto v = make_auth_vector(m, rand, *next, amf);
  if (v) sqn_he = *next;
  return v;
}

Result<Sqn> recover_sqn_ms(const Milenage& m, const Rand& rand, const Auts& auts) {
  Ak ak_star = m.f5_star(rand);
  std::array<uint8_t, 6> concealed;
  std::memcpy(concealed.data(), auts.data(), 6);
  auto sqn_ms = xor6(concealed, ak_star);
  Mac expected = m.f1_star(rand, sqn_ms, kResyncAmf);
  if (!constant_time_equal(view(expected), base::Bytes(auts.data() + 6, 8))) return base::fail(Error::MacFailure);
  return Sqn::from_octets(sqn_ms);
}

Sqn resynchronised_sqn_he(Sqn sqn_he, Sqn sqn_ms, uint64_t delta) {
  uint64_t he = sqn_he.seq(), ms = sqn_ms.seq();
  // C.3.4: if the next vector (SEQ_HE + 1) would be accepted, keep SQN_HE so vectors already
  // handed out keep their order; otherwise continue from SEQ_MS.
  bool acceptable = he >= ms && (delta == 0 || he + 1 - ms <= delta);
  if (acceptable) return sqn_he;
  return Sqn::from_seq_ind(ms, sqn_he.ind());
}

// ---- ISIM ----

Sqn Isim::sqn_ms() const {
  auto it = std::max_element(state_.seq_ms.begin(), state_.seq_ms.end());
  return Sqn::from_seq_ind(*it, unsigned(it - state_.seq_ms.begin()));
}

Result<IsimAnswer> Isim::authenticate(const Rand& rand, const Autn& autn) {
  auto f = m_.f2345(rand);
  std::array<uint8_t, 6> concealed;
  std::memcpy(concealed.data(), autn.data(), 6);
  auto sqn6 = xor6(concealed, f.ak);
  Amf amf = {autn[6], autn[7]};
  Mac xmac = m_.f1(rand, sqn6, amf);
  if (!constant_time_equal(view(xmac), base::Bytes(autn.data() + 8, 8))) return base::fail(Error::MacFailure);

  // Annex C.2.2: SEQ must exceed SEQ_MS(IND), and (Δ check) not run too far ahead of the
  // highest SEQ accepted so far.
  Sqn sqn = Sqn::from_octets(sqn6);
  uint64_t highest = sqn_ms().seq();
  bool fresh = sqn.seq() > state_.seq_ms[sqn.ind()] && (config_.delta == 0 || sqn.seq() <= highest ||
                                                        sqn.seq() - highest <= config_.delta);
  IsimAnswer a;
  if (!fresh) {
    a.kind = IsimAnswer::Kind::SyncFailure;
    Sqn ms = sqn_ms();
    auto ms6 = ms.octets();
    Ak ak_star = m_.f5_star(rand);
    Mac mac_s = m_.f1_star(rand, ms6, kResyncAmf);
    auto c = xor6(ms6, ak_star);
    std::memcpy(&a.auts[0], c.data(), 6);
    std::memcpy(&a.auts[6], mac_s.data(), 8);
    return a;
  }
  state_.seq_ms[sqn.ind()] = sqn.seq();
  a.kind = IsimAnswer::Kind::Authenticated;
  a.res = f.res;
  a.ck = f.ck;
  a.ik = f.ik;
  return a;
}

// ---- SIP Digest AKA ----

std::optional<AkaVersion> parse_aka_algorithm(std::string_view token) {
  if (iequals(token, "AKAv1-MD5")) return AkaVersion::V1;
  if (iequals(token, "AKAv2-MD5")) return AkaVersion::V2;
  return std::nullopt;
}

std::string_view to_string(AkaVersion v) { return v == AkaVersion::V2 ? "AKAv2-MD5" : "AKAv1-MD5"; }

std::string encode_aka_nonce(const Rand& rand, const Autn& autn, base::Bytes server_data) {
  std::vector<uint8_t> raw;
  raw.reserve(32 + server_data.size());
  raw.insert(raw.end(), rand.begin(), rand.end());
  raw.insert(raw.end(), autn.begin(), autn.end());
  raw.insert(raw.end(), server_data.begin(), server_data.end());
  return base::base64_encode(raw);
}

Result<AkaNonce> decode_aka_nonce(std::string_view nonce) {
  auto raw = base::base64_decode(nonce);
  if (!raw || raw->size() < 32) return base::fail(Error::BadEncoding);
  AkaNonce n;
  std::memcpy(n.rand.data(), raw->data(), 16);
  std::memcpy(n.autn.data(), raw->data() + 16, 16);
  n.server_data.assign(raw->begin() + 32, raw->end());
  return n;
}

std::string encode_auts(const Auts& auts) { return base::base64_encode(view(auts)); }

Result<Auts> decode_auts(std::string_view text) {
  auto raw = base::base64_decode(text);
  if (!raw || raw->size() != 14) return base::fail(Error::BadEncoding);
  Auts a;
  std::memcpy(a.data(), raw->data(), 14);
  return a;
}

// RFC 4169 §3 writes the AKAv2 password as base64 encoded PRF(RES||IK||CK, "http-digest-akav2-password")
// with PRF = HMAC-MD5 for "AKAv2-MD5". Ambiguities, and what we do (as protocols.md fixes):
//  - Argument order: PRF(key, data), so RES‖IK‖CK is the HMAC key and the 26-octet ASCII string
//    "http-digest-akav2-password" (no terminating NUL) the message. pjsip and Clearwater do the
//    same; some clients have shipped other variants (string as key, or plain concatenation without
//    HMAC), which then fail against us.
//  - RES is used at its full length (64 bits with MILENAGE), never truncated or padded.
//  - base64 is RFC 4648 §4 with padding: 16 octets give 24 characters ending in "==", and those
//    ASCII characters are the password in HA1 = MD5(username ":" realm ":" password).
SecretString aka_digest_password(AkaVersion v, const Res& res, const Ik& ik, const Ck& ck) {
  if (v == AkaVersion::V1) return SecretString(base::as_string_view(res.bytes()));
  std::array<uint8_t, 8 + 16 + 16> key;
  std::memcpy(&key[0], res.data(), 8);
  std::memcpy(&key[8], ik.data(), 16);
  std::memcpy(&key[24], ck.data(), 16);
  Md5Digest prf = hmac_md5(view(key), base::as_bytes("http-digest-akav2-password"));
  SecretString out(base::base64_encode(view(prf)));
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(prf.data(), prf.size());
  return out;
}

}  // namespace crypto
