#include "crypto/aka.hpp"

#include <gtest/gtest.h>

#include "base/encoding.hpp"
#include "crypto/digest.hpp"
#include "crypto/milenage_test_sets.hpp"

using namespace crypto;
using base::hex_encode;

namespace {

Milenage milenage_for(const TestSet& s) {
  auto m = Milenage::create(*K::from(unhex(s.at("k"))), *Opc::from(unhex(s.at("opc"))));
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

// A subscription with test set 1's K and OPc, for round trips.
struct Subscriber {
  TestSet s = load_milenage_test_sets().at(0);
  Amf amf = {0x80, 0x00};
  Milenage hss = milenage_for(s);
  Isim isim{milenage_for(s)};
  Sqn sqn_he{};
  base::SeededRandom random{42};
};

TEST(Sqn, SeqIndAndOctets) {
  Sqn s = Sqn::from_seq_ind(0x123456789, 7);
  EXPECT_EQ(s.seq(), 0x123456789u);
  EXPECT_EQ(s.ind(), 7u);
  EXPECT_EQ(s.value, uint64_t(0x123456789) << 5 | 7);
  auto o = s.octets();
  EXPECT_EQ(Sqn::from_octets(o), s);
  EXPECT_EQ(hex_encode(Sqn{0xff9bb4d0b607}.octets()), "ff9bb4d0b607");
  EXPECT_EQ(Sqn::from_seq_ind(Sqn::kMaxSeq, 31).value, Sqn::kMax);
}

TEST(Sqn, NextIncrementsSeqKeepsInd) {
  auto n = next_sqn(Sqn::from_seq_ind(41, 3));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Sqn::from_seq_ind(42, 3));
  EXPECT_EQ(next_sqn(Sqn{}).value(), Sqn::from_seq_ind(1, 0));  // SQN grows by 32 (IND bits)
  auto end = next_sqn(Sqn::from_seq_ind(Sqn::kMaxSeq, 0));
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error(), Error::SqnExhausted);
  EXPECT_EQ(next_sqn(Sqn{Sqn::kMax + 1}).error(), Error::InvalidArgument);
}

// AUTN = (SQN ⊕ AK) ‖ AMF ‖ MAC-A from the TS 35.208 values of every test set, and the AUTN values
// an independent HSS test suite publishes for sets 1 and 3-7 (see tests/vectors/ts35208/README.md).
TEST(AuthVector, MatchesTs35208ForEveryTestSet) {
  const std::map<std::string, std::string> published_autn = {
      {"1", "55f328b43577b9b94a9ffac354dfafb3"}, {"3", "ae4a3a9b4c97725c9cabc3e99baf7281"},
      {"4", "fbd98a0b3c869e0974a58220cba84c49"}, {"5", "d961bbd511ae9f0749e785dd12626ef2"},
      {"6", "04fb6eb891ed4464078adfb488241a57"}, {"7", "1592c1cb8e175f67bd07d3003b9e5cc3"}};
  for (const auto& s : load_milenage_test_sets()) {
    SCOPED_TRACE("test set " + s.at("set"));
    auto m = milenage_for(s);
    auto sqn = unhex(s.at("sqn"));
    auto v = make_auth_vector(m, to_array<16>(s.at("rand")), Sqn::from_octets(SqnOctets(sqn.data(), 6)),
                              to_array<2>(s.at("amf")));
    ASSERT_TRUE(v.ok());
    auto ak = unhex(s.at("f5"));
    std::string concealed;
    for (size_t i = 0; i < 6; ++i) concealed += hex_encode(std::array<uint8_t, 1>{uint8_t(sqn[i] ^ ak[i])});
    EXPECT_EQ(hex_encode(v->autn), concealed + s.at("amf") + s.at("f1"));
    if (auto p = published_autn.find(s.at("set")); p != published_autn.end()) {
      EXPECT_EQ(hex_encode(v->autn), p->second);
    }
    EXPECT_EQ(hex_encode(v->xres.bytes()), s.at("f2"));
    EXPECT_EQ(hex_encode(v->ck.bytes()), s.at("f3"));
    EXPECT_EQ(hex_encode(v->ik.bytes()), s.at("f4"));

    // The ISIM accepts it (Δ check off: test-set SQNs are arbitrary 48-bit values).
    Isim isim(milenage_for(s), {}, IsimConfig{0});
    auto a = isim.authenticate(v->rand, v->autn);
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(a->kind, IsimAnswer::Kind::Authenticated);
    EXPECT_TRUE(a->res == v->xres);
    EXPECT_TRUE(a->ck == v->ck);
    EXPECT_TRUE(a->ik == v->ik);
    EXPECT_EQ(isim.sqn_ms(), v->sqn);
  }
}

// AUTS for every test set: the ISIM holds the set's SQN as SQN_MS and is challenged with an older
// SQN. AUTS = (SQN_MS ⊕ f5*) ‖ f1*(SQN_MS, RAND, AMF = 0000); the HSS recovers SQN_MS from it.
TEST(Auts, EveryTestSetRoundTrip) {
  for (const auto& s : load_milenage_test_sets()) {
    SCOPED_TRACE("test set " + s.at("set"));
    auto m = milenage_for(s);
    Rand rand = to_array<16>(s.at("rand"));
    auto sqn_bytes = unhex(s.at("sqn"));
    Sqn sqn_ms = Sqn::from_octets(SqnOctets(sqn_bytes.data(), 6));
    if (sqn_ms.seq() == 0) continue;
    IsimSqnState st;
    st.seq_ms[sqn_ms.ind()] = sqn_ms.seq();
    Isim isim(milenage_for(s), st, IsimConfig{0});
    auto v = make_auth_vector(m, rand, Sqn::from_seq_ind(sqn_ms.seq() - 1, sqn_ms.ind()), to_array<2>(s.at("amf")));
    ASSERT_TRUE(v.ok());
    auto a = isim.authenticate(rand, v->autn);
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(a->kind, IsimAnswer::Kind::SyncFailure);

    auto ak_star = unhex(s.at("f5star"));
    std::array<uint8_t, 6> concealed;
    for (size_t i = 0; i < 6; ++i) concealed[i] = sqn_bytes[i] ^ ak_star[i];
    EXPECT_EQ(hex_encode(base::Bytes(a->auts.data(), 6)), hex_encode(concealed));
    Mac mac_s = m.f1_star(rand, SqnOctets(sqn_bytes.data(), 6), Amf{0, 0});
    EXPECT_EQ(hex_encode(base::Bytes(a->auts.data() + 6, 8)), hex_encode(mac_s));

    auto recovered = recover_sqn_ms(m, rand, a->auts);
    ASSERT_TRUE(recovered.ok());
    EXPECT_EQ(*recovered, sqn_ms);

    Auts bad = a->auts;
    bad[13] ^= 1;
    EXPECT_EQ(recover_sqn_ms(m, rand, bad).error(), Error::MacFailure);
    Rand other = rand;
    other[0] ^= 1;
    EXPECT_EQ(recover_sqn_ms(m, other, a->auts).error(), Error::MacFailure);
  }
}

TEST(Aka, HssIsimRoundTrips) {
  Subscriber sub;
  for (int i = 1; i <= 100; ++i) {
    auto v = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(sub.sqn_he, Sqn::from_seq_ind(uint64_t(i), 0));
    EXPECT_EQ(v->sqn, sub.sqn_he);
    auto a = sub.isim.authenticate(v->rand, v->autn);
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(a->kind, IsimAnswer::Kind::Authenticated) << "round " << i;
    EXPECT_TRUE(a->res == v->xres);
    EXPECT_TRUE(a->ck == v->ck);
    EXPECT_TRUE(a->ik == v->ik);
  }
  EXPECT_EQ(sub.isim.sqn_ms(), Sqn::from_seq_ind(100, 0));
}

TEST(Aka, ReplayedChallengeGivesSyncFailure) {
  Subscriber sub;
  auto v = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(sub.isim.authenticate(v->rand, v->autn)->kind, IsimAnswer::Kind::Authenticated);
  auto again = sub.isim.authenticate(v->rand, v->autn);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kind, IsimAnswer::Kind::SyncFailure);
  EXPECT_EQ(recover_sqn_ms(sub.hss, v->rand, again->auts).value(), v->sqn);
}

// The HSS lost SQN state (restored from a backup): its vectors are stale, the ISIM answers AUTS,
// the HSS resynchronises and its next vector is accepted.
TEST(Aka, ForcedResyncHssBehind) {
  Subscriber sub;
  for (int i = 0; i < 50; ++i) {
    auto v = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
    ASSERT_EQ(sub.isim.authenticate(v->rand, v->autn)->kind, IsimAnswer::Kind::Authenticated);
  }
  sub.sqn_he = Sqn::from_seq_ind(10, 0);  // the backup

  auto stale = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
  ASSERT_TRUE(stale.ok());
  auto a = sub.isim.authenticate(stale->rand, stale->autn);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->kind, IsimAnswer::Kind::SyncFailure);

  // Over the wire: auts="base64", then the S-CSCF hands RAND and AUTS to the HSS.
  auto auts = decode_auts(encode_auts(a->auts));
  ASSERT_TRUE(auts.ok());
  auto sqn_ms = recover_sqn_ms(sub.hss, stale->rand, *auts);
  ASSERT_TRUE(sqn_ms.ok());
  EXPECT_EQ(*sqn_ms, Sqn::from_seq_ind(50, 0));
  sub.sqn_he = resynchronised_sqn_he(sub.sqn_he, *sqn_ms);
  EXPECT_EQ(sub.sqn_he, Sqn::from_seq_ind(50, 0));

  auto fresh = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
  ASSERT_TRUE(fresh.ok());
  auto ok = sub.isim.authenticate(fresh->rand, fresh->autn);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->kind, IsimAnswer::Kind::Authenticated);
  EXPECT_TRUE(ok->res == fresh->xres);
}

// The HSS ran more than Δ ahead (e.g. vectors fetched and never used): the ISIM refuses, the HSS
// steps back to SEQ_MS.
TEST(Aka, ForcedResyncHssTooFarAhead) {
  Subscriber sub;
  sub.sqn_he = Sqn::from_seq_ind(kDefaultSqnDelta + 100, 0);
  auto v = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
  auto a = sub.isim.authenticate(v->rand, v->autn);
  ASSERT_EQ(a->kind, IsimAnswer::Kind::SyncFailure);
  auto sqn_ms = recover_sqn_ms(sub.hss, v->rand, a->auts);
  ASSERT_TRUE(sqn_ms.ok());
  EXPECT_EQ(*sqn_ms, Sqn{});
  sub.sqn_he = resynchronised_sqn_he(sub.sqn_he, *sqn_ms);
  auto fresh = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
  EXPECT_EQ(sub.isim.authenticate(fresh->rand, fresh->autn)->kind, IsimAnswer::Kind::Authenticated);
}

TEST(Aka, ResynchronisedSqnHeKeepsAcceptableState) {
  // Next vector already acceptable: keep SQN_HE (vectors handed out stay in order).
  EXPECT_EQ(resynchronised_sqn_he(Sqn::from_seq_ind(60, 2), Sqn::from_seq_ind(55, 0)), Sqn::from_seq_ind(60, 2));
  // Behind, or beyond Δ: continue from SEQ_MS with the HSS's IND.
  EXPECT_EQ(resynchronised_sqn_he(Sqn::from_seq_ind(40, 2), Sqn::from_seq_ind(55, 0)), Sqn::from_seq_ind(55, 2));
  EXPECT_EQ(resynchronised_sqn_he(Sqn::from_seq_ind(1000, 0), Sqn::from_seq_ind(55, 0), 100), Sqn::from_seq_ind(55, 0));
}

// Annex C.2.2: one SEQ_MS per IND, so vectors with different IND may be used out of order.
TEST(Aka, IndArrayAcceptsOutOfOrderAcrossInd) {
  Subscriber sub;
  auto v5 = make_auth_vector(sub.hss, Rand{1}, Sqn::from_seq_ind(5, 1), sub.amf);
  auto v4 = make_auth_vector(sub.hss, Rand{2}, Sqn::from_seq_ind(4, 2), sub.amf);
  auto v4same = make_auth_vector(sub.hss, Rand{3}, Sqn::from_seq_ind(4, 1), sub.amf);
  EXPECT_EQ(sub.isim.authenticate(v5->rand, v5->autn)->kind, IsimAnswer::Kind::Authenticated);
  EXPECT_EQ(sub.isim.authenticate(v4->rand, v4->autn)->kind, IsimAnswer::Kind::Authenticated);
  EXPECT_EQ(sub.isim.authenticate(v4same->rand, v4same->autn)->kind, IsimAnswer::Kind::SyncFailure);
  EXPECT_EQ(sub.isim.sqn_ms(), Sqn::from_seq_ind(5, 1));
  EXPECT_EQ(sub.isim.sqn_state().seq_ms[2], 4u);
}

TEST(Aka, MacFailureOnAnyAlteredAutnOrWrongKey) {
  Subscriber sub;
  auto v = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
  ASSERT_TRUE(v.ok());
  IsimSqnState before = sub.isim.sqn_state();
  for (size_t bit = 0; bit < 128; ++bit) {
    Autn bad = v->autn;
    bad[bit / 8] ^= uint8_t(0x80 >> (bit % 8));
    auto a = sub.isim.authenticate(v->rand, bad);
    ASSERT_FALSE(a.ok()) << "bit " << bit;
    EXPECT_EQ(a.error(), Error::MacFailure);
  }
  Rand other = v->rand;
  other[5] ^= 0x10;
  EXPECT_EQ(sub.isim.authenticate(other, v->autn).error(), Error::MacFailure);
  EXPECT_EQ(sub.isim.sqn_state().seq_ms, before.seq_ms);  // nothing learnt from forged challenges

  auto k2 = unhex(sub.s.at("k"));
  k2[0] ^= 1;
  auto wrong = Milenage::create(*K::from(k2), *Opc::from(unhex(sub.s.at("opc"))));
  Isim other_isim(std::move(*wrong));
  EXPECT_EQ(other_isim.authenticate(v->rand, v->autn).error(), Error::MacFailure);
  EXPECT_EQ(sub.isim.authenticate(v->rand, v->autn)->kind, IsimAnswer::Kind::Authenticated);
}

TEST(Aka, GenerateFailsCleanlyAtEndOfSqnSpace) {
  Subscriber sub;
  sub.sqn_he = Sqn::from_seq_ind(Sqn::kMaxSeq, 0);
  auto v = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error(), Error::SqnExhausted);
  EXPECT_EQ(sub.sqn_he, Sqn::from_seq_ind(Sqn::kMaxSeq, 0));
  EXPECT_EQ(make_auth_vector(sub.hss, Rand{}, Sqn{Sqn::kMax + 1}, sub.amf).error(), Error::InvalidArgument);
}

TEST(AkaNonce, EncodeDecode) {
  Rand rand = to_array<16>("23553cbe9637a89d218ae64dae47bf35");
  Autn autn = to_array<16>("55f328b43577b9b94a9ffac354dfafb3");
  std::string n = encode_aka_nonce(rand, autn);
  EXPECT_EQ(n, "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");  // Python base64 of the same octets
  auto d = decode_aka_nonce(n);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->rand, rand);
  EXPECT_EQ(d->autn, autn);
  EXPECT_TRUE(d->server_data.empty());

  const std::string server = "node-7";
  auto with = decode_aka_nonce(encode_aka_nonce(rand, autn, base::as_bytes(server)));
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(std::string(with->server_data.begin(), with->server_data.end()), server);

  EXPECT_EQ(decode_aka_nonce("").error(), Error::BadEncoding);
  EXPECT_EQ(decode_aka_nonce("not base64!").error(), Error::BadEncoding);
  EXPECT_EQ(decode_aka_nonce(base::base64_encode(base::Bytes(rand.data(), 16))).error(), Error::BadEncoding);
  EXPECT_EQ(decode_aka_nonce(n.substr(0, n.size() - 1)).error(), Error::BadEncoding);
}

TEST(AkaNonce, AutsEncoding) {
  Auts a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = uint8_t(i * 17);
  auto d = decode_auts(encode_auts(a));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, a);
  EXPECT_EQ(decode_auts(base::base64_encode(base::Bytes(a.data(), 13))).error(), Error::BadEncoding);
  EXPECT_EQ(decode_auts("%%%").error(), Error::BadEncoding);
}

TEST(AkaNonce, AlgorithmTokens) {
  EXPECT_EQ(parse_aka_algorithm("AKAv1-MD5"), AkaVersion::V1);
  EXPECT_EQ(parse_aka_algorithm("akav2-md5"), AkaVersion::V2);
  EXPECT_FALSE(parse_aka_algorithm("MD5"));
  EXPECT_FALSE(parse_aka_algorithm("AKAv2-SHA-256"));
  EXPECT_EQ(to_string(AkaVersion::V2), "AKAv2-MD5");
  EXPECT_EQ(parse_aka_algorithm(to_string(AkaVersion::V1)), AkaVersion::V1);
}

// No published AKAv2 password vector exists (RFC 4169 has no example). Hand check: Python's
// hmac/hashlib/base64 on test set 1's RES, IK and CK give this password, and with it the HA1 and
// response of a REGISTER; the library must agree on both sides.
TEST(AkaDigest, PasswordsAndResponses) {
  auto s = load_milenage_test_sets().at(0);
  Res res = *Res::from(unhex(s.at("f2")));
  Ik ik = *Ik::from(unhex(s.at("f4")));
  Ck ck = *Ck::from(unhex(s.at("f3")));
  SecretString v1 = aka_digest_password(AkaVersion::V1, res, ik, ck);
  EXPECT_EQ(hex_encode(v1.bytes()), s.at("f2"));  // AKAv1: the RES octets
  SecretString v2 = aka_digest_password(AkaVersion::V2, res, ik, ck);
  EXPECT_EQ(v2.view(), "shzt3q8CWaZnCAWqs3WmEQ==");

  DigestInput in;
  in.algorithm = DigestAlgorithm::Md5;
  in.username = "alice@ims.example.org";
  in.realm = "ims.example.org";
  in.nonce = "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
  in.uri = "sip:ims.example.org";
  in.method = "REGISTER";
  in.qop = "auth";
  in.nc = "00000001";
  in.cnonce = "0a4f113b";
  EXPECT_EQ(digest_ha1(in.algorithm, in.username, in.realm, v1.bytes()).view(), "56052326b612997df8036a26c4f9bfd3");
  EXPECT_EQ(digest_response_for_password(in, v1.bytes()).value(), "0d3075ebcd81e6c41100fdb8a166a40e");
  EXPECT_EQ(digest_ha1(in.algorithm, in.username, in.realm, v2.bytes()).view(), "7ac0c2976629189ea930a8289f0a1420");
  EXPECT_EQ(digest_response_for_password(in, v2.bytes()).value(), "32d5e44c1b4d64029dc7a34f17f6f692");
}

// The whole scenario-1 exchange: S-CSCF/HSS challenge, ISIM answer, S-CSCF verification.
TEST(AkaDigest, EndToEndAkaV2Register) {
  Subscriber sub;
  auto v = generate_auth_vector(sub.hss, sub.sqn_he, sub.amf, sub.random);
  ASSERT_TRUE(v.ok());
  std::string nonce = encode_aka_nonce(v->rand, v->autn);

  // UE: decode the nonce, run the ISIM, derive the password, compute the response.
  auto n = decode_aka_nonce(nonce);
  ASSERT_TRUE(n.ok());
  auto a = sub.isim.authenticate(n->rand, n->autn);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->kind, IsimAnswer::Kind::Authenticated);
  DigestInput in;
  in.username = "alice@ims.example.org";
  in.realm = "ims.example.org";
  in.nonce = nonce;
  in.uri = "sip:ims.example.org";
  in.method = "REGISTER";
  in.qop = "auth";
  in.nc = "00000001";
  in.cnonce = "c1";
  auto ue_pw = aka_digest_password(AkaVersion::V2, a->res, a->ik, a->ck);
  auto response = digest_response_for_password(in, ue_pw.bytes());
  ASSERT_TRUE(response.ok());

  // S-CSCF: HA1 from XRES/IK/CK of the vector.
  auto net_pw = aka_digest_password(AkaVersion::V2, v->xres, v->ik, v->ck);
  SecretString ha1 = digest_ha1(in.algorithm, in.username, in.realm, net_pw.bytes());
  EXPECT_TRUE(digest_verify(in, ha1.view(), *response).ok());
  // An AKAv1 answer does not pass as AKAv2.
  auto v1_pw = aka_digest_password(AkaVersion::V1, a->res, a->ik, a->ck);
  EXPECT_EQ(digest_verify(in, ha1.view(), digest_response_for_password(in, v1_pw.bytes()).value()).error(),
            Error::MacFailure);
}

}  // namespace
