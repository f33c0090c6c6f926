// RFC test vectors, loaded from tests/vectors/ (provenance in each directory's README.md):
// RFC 5769 §2.1-§2.4 and RFC 8489 Appendix B.1 as corrected by verified erratum 6268.
// Each vector: parse, decode every attribute, verify MESSAGE-INTEGRITY(-SHA256) with the right key
// and not with a wrong one, verify FINGERPRINT, and rebuild it with Builder.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "crypto/hash.hpp"
#include "stun/message.hpp"
#include "stun/test_support.hpp"

namespace stun {
namespace {

using namespace stun::test;

const TransactionId kTid5769 = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
const TransactionId kTidLongTerm = {0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e};
constexpr std::string_view kShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";
// U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9, unchanged by SASLprep/OpaqueString.
constexpr std::string_view kMatrixUser = "\xE3\x83\x9E\xE3\x83\x88\xE3\x83\xAA\xE3\x83\x83\xE3\x82\xAF\xE3\x82\xB9";
constexpr std::string_view kRealm = "example.org";
// "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep/OpaqueString.
constexpr std::string_view kMatrixPassword = "TheMatrIX";

std::string long_term_input() { return std::string(kMatrixUser) + ":" + std::string(kRealm) + ":" + std::string(kMatrixPassword); }

Message must_parse(const Buf& wire) {
  auto m = parse(view(wire));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : to_string(m.error()));
  return m.ok() ? *m : Message{};
}

// The RFC 5769 vectors pad some attributes with 0x20. Our Builder pads with zeros, so rebuilt
// messages can only equal the vector once the padding bytes are made the same; MESSAGE-INTEGRITY
// and FINGERPRINT (which cover the padding) necessarily differ. This compares everything else
// byte for byte: rebuilt[i] == vector[i] for every i outside the MAC/CRC values, after setting
// rebuilt's padding to the vector's padding.
void expect_equal_modulo_padding(const Buf& rebuilt, const Buf& vec) {
  ASSERT_EQ(rebuilt.size(), vec.size());
  auto rm = must_parse(rebuilt);
  auto vm = must_parse(vec);
  ASSERT_EQ(rm.attributes().size(), vm.attributes().size());
  Buf patched = rebuilt;
  size_t pos = kHeaderSize;
  while (pos < vec.size()) {
    uint16_t type = base::load_be16(&vec[pos]);
    size_t len = base::load_be16(&vec[pos + 2]);
    size_t padded = (len + 3) & ~size_t(3);
    for (size_t i = pos + 4 + len; i < pos + 4 + padded; ++i) {
      EXPECT_EQ(rebuilt[i], 0) << "our padding is zero";
      patched[i] = vec[i];
    }
    bool mac = type == attr::MessageIntegrity || type == attr::MessageIntegritySha256 || type == attr::Fingerprint;
    if (mac) std::copy(vec.begin() + long(pos + 4), vec.begin() + long(pos + 4 + len), patched.begin() + long(pos + 4));
    pos += 4 + padded;
  }
  EXPECT_EQ(patched, vec);
  for (size_t i = 0; i < rm.attributes().size(); ++i) {
    EXPECT_EQ(rm.attributes()[i].type, vm.attributes()[i].type);
    EXPECT_EQ(rm.attributes()[i].offset, vm.attributes()[i].offset);
    if (rm.attributes()[i].type != attr::MessageIntegrity) {
      EXPECT_EQ(copy(rm.attributes()[i].value), copy(vm.attributes()[i].value));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 5769 §2.1 Sample Request

TEST(Rfc5769, SampleRequest) {
  Buf vec = load_hex_vector("rfc5769/sample_request.hex");
  ASSERT_EQ(vec.size(), 108u);
  Message m = must_parse(vec);
  EXPECT_EQ(m.method(), Method::Binding);
  EXPECT_EQ(m.cls(), Class::Request);
  EXPECT_EQ(m.transaction_id(), kTid5769);
  ASSERT_EQ(m.attributes().size(), 5u);  // FINGERPRINT is checked, not listed
  EXPECT_EQ(m.string(attr::Software), "STUN test client");
  EXPECT_EQ(m.u32(attr::Priority), 0x6e0001ffu);
  ASSERT_TRUE(m.has(attr::IceControlled));
  EXPECT_EQ(copy(m.find(attr::IceControlled)->value), bytes({0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36}));
  EXPECT_EQ(m.string(attr::Username), "evtj:h6vY");
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_TRUE(verify_message_integrity(m, base::as_bytes(kShortTermPassword)));
  EXPECT_FALSE(verify_message_integrity(m, base::as_bytes("VOkJxbRl1RmTxUk/WvJxBT")));
  EXPECT_FALSE(verify_message_integrity_sha256(m, base::as_bytes(kShortTermPassword)));
  std::array<uint16_t, 4> known = {attr::Username, attr::Priority, attr::MessageIntegrity, attr::Software};
  std::array<uint16_t, 4> out{};
  EXPECT_EQ(m.unknown_required(known, out), 0u);
}

TEST(Rfc5769, SampleRequestRebuilt) {
  Buf vec = load_hex_vector("rfc5769/sample_request.hex");
  std::array<uint8_t, 256> buf{};
  Builder b(buf, Method::Binding, Class::Request, kTid5769);
  b.add(attr::Software, "STUN test client");
  b.add_u32(attr::Priority, 0x6e0001ff);
  b.add(attr::IceControlled, view(bytes({0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36})));
  b.add(attr::Username, "evtj:h6vY");
  b.add_message_integrity(base::as_bytes(kShortTermPassword));
  b.add_fingerprint();
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  Buf rebuilt = copy(*out);
  // USERNAME is padded with 0x20 in the RFC: byte-exact equality cannot hold (the MAC covers it).
  EXPECT_NE(rebuilt, vec);
  expect_equal_modulo_padding(rebuilt, vec);
  Message m = must_parse(rebuilt);
  EXPECT_TRUE(verify_message_integrity(m, base::as_bytes(kShortTermPassword)));
}

TEST(Rfc5769, SampleRequestPaddingIsIgnored) {
  // RFC 8489 §14: padding may hold any value and is ignored on receipt. Cut the vector after
  // USERNAME (so no MAC or CRC covers the padding) and try several padding values.
  Buf vec = load_hex_vector("rfc5769/sample_request.hex");
  Message m = must_parse(vec);
  size_t user = m.find(attr::Username)->offset;
  EXPECT_EQ(vec[user + 4 + 9], 0x20);
  Buf cut(vec.begin(), vec.begin() + long(user + 4 + 12));
  base::store_be16(&cut[2], uint16_t(cut.size() - kHeaderSize));
  for (uint8_t pad : {0x00, 0x20, 0xFF}) {
    for (size_t i = user + 4 + 9; i < cut.size(); ++i) cut[i] = pad;
    Message c = must_parse(cut);
    EXPECT_EQ(c.string(attr::Username), "evtj:h6vY") << int(pad);
    EXPECT_EQ(c.find(attr::Username)->value.size(), 9u);
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 5769 §2.2 / §2.3 Sample IPv4 / IPv6 Responses

void check_response(const char* file, std::string_view mapped, size_t size) {
  Buf vec = load_hex_vector(file);
  ASSERT_EQ(vec.size(), size);
  Message m = must_parse(vec);
  EXPECT_EQ(m.method(), Method::Binding);
  EXPECT_EQ(m.cls(), Class::SuccessResponse);
  EXPECT_EQ(m.transaction_id(), kTid5769);
  ASSERT_EQ(m.attributes().size(), 3u);
  EXPECT_EQ(m.string(attr::Software), "test vector");
  auto xma = m.xor_address(attr::XorMappedAddress);
  ASSERT_TRUE(xma.has_value());
  EXPECT_EQ(*xma, ep(mapped));
  EXPECT_EQ(xma->port, 32853);
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_TRUE(verify_message_integrity(m, base::as_bytes(kShortTermPassword)));
  EXPECT_FALSE(verify_message_integrity(m, base::as_bytes("wrong")));

  std::array<uint8_t, 256> buf{};
  Builder b(buf, Method::Binding, Class::SuccessResponse, kTid5769);
  b.add(attr::Software, "test vector");
  b.add_xor_address(attr::XorMappedAddress, ep(mapped));
  b.add_message_integrity(base::as_bytes(kShortTermPassword));
  b.add_fingerprint();
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  // SOFTWARE is padded with one 0x20 in the RFC: compare modulo padding.
  expect_equal_modulo_padding(copy(*out), vec);  // (takes its own copies)
  // The XOR-MAPPED-ADDRESS bytes themselves are reproduced exactly.
  Buf rebuilt = copy(*out);
  Message r = must_parse(rebuilt);
  EXPECT_EQ(copy(r.find(attr::XorMappedAddress)->value), copy(m.find(attr::XorMappedAddress)->value));
}

TEST(Rfc5769, SampleIpv4Response) {
  check_response("rfc5769/sample_ipv4_response.hex", "192.0.2.1:32853", 80);
}

TEST(Rfc5769, SampleIpv6Response) {
  check_response("rfc5769/sample_ipv6_response.hex", "[2001:db8:1234:5678:11:2233:4455:6677]:32853", 92);
}

// ---------------------------------------------------------------------------------------------
// RFC 5769 §2.4 Sample Request with Long-Term Authentication

TEST(Rfc5769, SampleRequestLongTerm) {
  Buf vec = load_hex_vector("rfc5769/sample_request_long_term.hex");
  ASSERT_EQ(vec.size(), 116u);
  Message m = must_parse(vec);
  EXPECT_EQ(m.method(), Method::Binding);
  EXPECT_EQ(m.cls(), Class::Request);
  EXPECT_EQ(m.transaction_id(), kTidLongTerm);
  ASSERT_EQ(m.attributes().size(), 4u);
  EXPECT_EQ(m.string(attr::Username), kMatrixUser);
  EXPECT_EQ(m.string(attr::Nonce), "f//499k954d6OL34oL9FSTvy64sA");
  EXPECT_EQ(m.string(attr::Realm), kRealm);
  EXPECT_FALSE(m.has_fingerprint());
  // key = MD5(username ":" realm ":" SASLprep(password)) (RFC 5389 §15.4)
  auto key = crypto::md5(crypto::view(long_term_input()));
  EXPECT_TRUE(verify_message_integrity(m, Bytes(key.data(), key.size())));
  // Wrong keys: the unprepared password, the short-term password, the SHA-256 derivation.
  std::string raw_pw = std::string(kMatrixUser) + ":example.org:The\xC2\xAD" "M\xC2\xAA" "tr\xE2\x85\xA8";
  auto unprepared = crypto::md5(crypto::view(raw_pw));
  EXPECT_FALSE(verify_message_integrity(m, Bytes(unprepared.data(), unprepared.size())));
  EXPECT_FALSE(verify_message_integrity(m, base::as_bytes(kMatrixPassword)));
  auto sha = crypto::sha256(crypto::view(long_term_input()));
  EXPECT_FALSE(verify_message_integrity(m, Bytes(sha.data(), sha.size())));
}

TEST(Rfc5769, SampleRequestLongTermRebuiltByteForByte) {
  Buf vec = load_hex_vector("rfc5769/sample_request_long_term.hex");
  auto key = crypto::md5(crypto::view(long_term_input()));
  std::array<uint8_t, 256> buf{};
  Builder b(buf, Method::Binding, Class::Request, kTidLongTerm);
  b.add(attr::Username, kMatrixUser);
  b.add(attr::Nonce, "f//499k954d6OL34oL9FSTvy64sA");
  b.add(attr::Realm, kRealm);
  b.add_message_integrity(Bytes(key.data(), key.size()));
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(copy(*out), vec);  // zero padding throughout: exact
}

// ---------------------------------------------------------------------------------------------
// RFC 8489 Appendix B.1, as corrected by erratum 6268

TEST(Rfc8489, B1LongTermSha256WithUserhash) {
  Buf vec = load_hex_vector("rfc8489/sample_request_long_term_sha256.hex");
  ASSERT_EQ(vec.size(), 164u);
  Message m = must_parse(vec);
  EXPECT_EQ(m.method(), Method::Binding);
  EXPECT_EQ(m.cls(), Class::Request);
  EXPECT_EQ(m.transaction_id(), kTidLongTerm);
  ASSERT_EQ(m.attributes().size(), 5u);
  // USERHASH = SHA-256(username ":" realm) (RFC 8489 §14.4)
  auto userhash = crypto::sha256(crypto::view(std::string(kMatrixUser) + ":" + std::string(kRealm)));
  ASSERT_TRUE(m.has(attr::Userhash));
  EXPECT_EQ(copy(m.find(attr::Userhash)->value), Buf(userhash.begin(), userhash.end()));
  EXPECT_FALSE(m.has(attr::Username));
  EXPECT_EQ(m.string(attr::Nonce), "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA");
  EXPECT_EQ(m.string(attr::Realm), kRealm);
  EXPECT_EQ(m.u32(attr::PasswordAlgorithm), uint32_t(password_algorithm::Sha256) << 16);
  EXPECT_EQ(m.message_integrity(), nullptr);
  ASSERT_NE(m.message_integrity_sha256(), nullptr);
  EXPECT_EQ(m.message_integrity_sha256()->value.size(), 32u);
  EXPECT_FALSE(m.has_fingerprint());
  // PASSWORD-ALGORITHM is SHA-256, so key = SHA-256(username ":" realm ":" password) (§9.2.2).
  auto key = crypto::sha256(crypto::view(long_term_input()));
  EXPECT_TRUE(verify_message_integrity_sha256(m, Bytes(key.data(), key.size())));
  // The MD5 key (the default algorithm) does not verify.
  auto md5 = crypto::md5(crypto::view(long_term_input()));
  EXPECT_FALSE(verify_message_integrity_sha256(m, Bytes(md5.data(), md5.size())));
  EXPECT_FALSE(verify_message_integrity(m, Bytes(key.data(), key.size())));
}

TEST(Rfc8489, B1RebuiltByteForByte) {
  Buf vec = load_hex_vector("rfc8489/sample_request_long_term_sha256.hex");
  auto userhash = crypto::sha256(crypto::view(std::string(kMatrixUser) + ":" + std::string(kRealm)));
  auto key = crypto::sha256(crypto::view(long_term_input()));
  std::array<uint8_t, 256> buf{};
  Builder b(buf, Method::Binding, Class::Request, kTidLongTerm);
  b.add(attr::Userhash, Bytes(userhash.data(), userhash.size()));
  b.add(attr::Nonce, "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA");
  b.add(attr::Realm, kRealm);
  b.add_password_algorithm(password_algorithm::Sha256);
  b.add_message_integrity_sha256(Bytes(key.data(), key.size()));
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(copy(*out), vec);
}

TEST(Rfc8489, B1AsPublishedIsRejected) {
  // Before erratum 6268 the length field counted the header: a conforming parser refuses it.
  Buf vec = load_hex_vector("rfc8489/sample_request_long_term_sha256_as_published.hex");
  ASSERT_EQ(vec.size(), 156u);
  EXPECT_EQ(base::load_be16(&vec[2]), 156);
  auto r = parse(view(vec));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::BadLength);
  // With the length corrected, the published MAC still does not verify with any key: it was
  // computed over the wrong length field (README.md).
  Buf fixed = vec;
  base::store_be16(&fixed[2], uint16_t(vec.size() - kHeaderSize));
  Message m = must_parse(fixed);
  auto sha = crypto::sha256(crypto::view(long_term_input()));
  auto md5 = crypto::md5(crypto::view(long_term_input()));
  EXPECT_FALSE(verify_message_integrity_sha256(m, Bytes(sha.data(), sha.size())));
  EXPECT_FALSE(verify_message_integrity_sha256(m, Bytes(md5.data(), md5.size())));
  // ...and it is exactly HMAC-SHA256 over the header as printed, which is how we know the key.
  const Attribute* mi = m.message_integrity_sha256();
  auto mac = crypto::hmac_sha256(Bytes(sha.data(), sha.size()), Bytes(vec.data(), mi->offset));
  EXPECT_EQ(Buf(mac.begin(), mac.end()), copy(mi->value));
}

}  // namespace
}  // namespace stun
