// MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6, incl. truncated
// MACs) and FINGERPRINT (§14.7): built by Builder, checked by parse()/verify_*, against keys
// computed independently here with crypto::hmac_*.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "crypto/hash.hpp"
#include "stun/message.hpp"
#include "stun/test_support.hpp"

namespace stun {
namespace {

using namespace stun::test;

const Buf kKey = str_bytes("secret-key");
const Buf kOtherKey = str_bytes("secret-kez");

template <class F>
Buf build(F&& add, Method m = Method::Refresh, Class c = Class::Request) {
  std::array<uint8_t, 1024> buf{};
  Builder b(buf, m, c, tid(7));
  add(b);
  auto out = b.finish();
  EXPECT_TRUE(out.ok());
  return out.ok() ? copy(*out) : Buf{};
}

Message parsed(const Buf& wire) {
  auto m = parse(view(wire));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : to_string(m.error()));
  return m.ok() ? *m : Message{};
}

TEST(MessageIntegrity, BuilderMatchesAnIndependentHmac) {
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "alice");
    b.add_u32(attr::Lifetime, 600);
    b.add_message_integrity(view(kKey));
  });
  // HMAC-SHA1 over everything before the attribute, with the header length already counting it.
  size_t mi = wire.size() - 24;
  Buf covered(wire.begin(), wire.begin() + long(mi));
  base::store_be16(&covered[2], uint16_t(mi + 24 - 20));
  auto mac = crypto::hmac_sha1(view(kKey), view(covered));
  EXPECT_EQ(copy(Bytes(wire).subspan(mi)), cat({bytes({0x00, 0x08, 0x00, 0x14}), Buf(mac.begin(), mac.end())}));
  Message m = parsed(wire);
  EXPECT_TRUE(verify_message_integrity(m, view(kKey)));
  EXPECT_FALSE(verify_message_integrity(m, view(kOtherKey)));
  EXPECT_FALSE(verify_message_integrity(m, Bytes{}));
  EXPECT_FALSE(verify_message_integrity_sha256(m, view(kKey))) << "absent attribute never verifies";
}

TEST(MessageIntegrity, KeysOfEveryShape) {
  // Empty, short, block-sized and longer-than-a-block keys (HMAC hashes the latter first).
  for (size_t n : {0u, 1u, 16u, 20u, 32u, 64u, 65u, 200u}) {
    Buf key(n, uint8_t(n));
    Buf wire = build([&](Builder& b) {
      b.add(attr::Username, "u");
      b.add_message_integrity(view(key));
      b.add_message_integrity_sha256(view(key));
    });
    Message m = parsed(wire);
    EXPECT_TRUE(verify_message_integrity(m, view(key))) << n;
    EXPECT_TRUE(verify_message_integrity_sha256(m, view(key))) << n;
    // (Appending a zero byte would not do: HMAC zero-pads short keys, so k and k||0 are the same key.)
    Buf other = key;
    if (other.empty()) other.push_back(1);
    else other.back() ^= 0x01;
    EXPECT_FALSE(verify_message_integrity(m, view(other))) << n;
    EXPECT_FALSE(verify_message_integrity_sha256(m, view(other))) << n;
  }
}

TEST(MessageIntegrity, WithFingerprintAfterIt) {
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "alice");
    b.add_message_integrity(view(kKey));
    b.add_fingerprint();
  });
  Message m = parsed(wire);
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_TRUE(verify_message_integrity(m, view(kKey)));
}

TEST(MessageIntegrity, EveryCoveredByteIsProtected) {
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "alice");
    b.add_xor_address(attr::XorPeerAddress, ep("192.0.2.44:4444"));
    b.add_message_integrity(view(kKey));
  });
  ASSERT_TRUE(verify_message_integrity(parsed(wire), view(kKey)));
  for (size_t i = 0; i < wire.size(); ++i) {
    Buf x = wire;
    x[i] ^= 0x01;
    auto m = parse(view(x));
    if (!m.ok()) continue;  // framing broken: also a rejection
    EXPECT_FALSE(verify_message_integrity(*m, view(kKey))) << "flip at " << i;
  }
}

TEST(MessageIntegrity, BytesAfterItAreNotCoveredAndNotVisible) {
  // The appended attribute does not break the MAC, which is why RFC 8489 §14.5 says to ignore it.
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "alice");
    b.add_message_integrity(view(kKey));
    b.add_u32(attr::Lifetime, 0);
  });
  Message m = parsed(wire);
  EXPECT_TRUE(verify_message_integrity(m, view(kKey)));
  EXPECT_FALSE(m.has(attr::Lifetime));
}

TEST(MessageIntegritySha256, BuilderMatchesAnIndependentHmac) {
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "alice");
    b.add_message_integrity_sha256(view(kKey));
  });
  size_t at = wire.size() - 36;
  Buf covered(wire.begin(), wire.begin() + long(at));
  base::store_be16(&covered[2], uint16_t(at + 36 - 20));
  auto mac = crypto::hmac_sha256(view(kKey), view(covered));
  EXPECT_EQ(copy(Bytes(wire).subspan(at)), cat({bytes({0x00, 0x1C, 0x00, 0x20}), Buf(mac.begin(), mac.end())}));
  Message m = parsed(wire);
  EXPECT_TRUE(verify_message_integrity_sha256(m, view(kKey)));
  EXPECT_FALSE(verify_message_integrity_sha256(m, view(kOtherKey)));
  EXPECT_FALSE(verify_message_integrity(m, view(kKey)));
}

// A message whose MESSAGE-INTEGRITY-SHA256 is truncated to `n` bytes (allowed for n = 16..32 in
// steps of 4, RFC 8489 §14.6), computed independently of the library.
Buf truncated_sha256(size_t n, const Buf& key) {
  Buf body = raw_attr(attr::Username, str_bytes("alice"));
  Buf m = raw_message(message_type(Method::Allocate, Class::Request), body);
  base::store_be16(&m[2], uint16_t(body.size() + 4 + n));
  auto mac = crypto::hmac_sha256(view(key), view(m));
  return cat({m, raw_attr(attr::MessageIntegritySha256, Buf(mac.begin(), mac.begin() + long(n)))});
}

TEST(MessageIntegritySha256, TruncatedMacsVerify) {
  for (size_t n : {16u, 20u, 24u, 28u, 32u}) {
    Buf wire = truncated_sha256(n, kKey);
    Message m = parsed(wire);
    ASSERT_NE(m.message_integrity_sha256(), nullptr);
    EXPECT_EQ(m.message_integrity_sha256()->value.size(), n);
    EXPECT_TRUE(verify_message_integrity_sha256(m, view(kKey))) << n;
    EXPECT_FALSE(verify_message_integrity_sha256(m, view(kOtherKey))) << n;
    Buf x = wire;
    x.back() ^= 0x01;
    EXPECT_FALSE(verify_message_integrity_sha256(parsed(x), view(kKey))) << n;
  }
}

TEST(MessageIntegritySha256, EveryCoveredByteIsProtected) {
  Buf wire = truncated_sha256(16, kKey);
  for (size_t i = 0; i < wire.size(); ++i) {
    Buf x = wire;
    x[i] ^= 0x20;
    auto m = parse(view(x));
    if (!m.ok()) continue;
    EXPECT_FALSE(verify_message_integrity_sha256(*m, view(kKey))) << "flip at " << i;
  }
}

TEST(MessageIntegritySha256, BothMacsWhenSha1ComesFirst) {
  // RFC 8489 §14.6: MESSAGE-INTEGRITY then MESSAGE-INTEGRITY-SHA256 is allowed, each covering
  // what precedes it.
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "alice");
    b.add_message_integrity(view(kKey));
    b.add_message_integrity_sha256(view(kKey));
    b.add_fingerprint();
  });
  Message m = parsed(wire);
  EXPECT_TRUE(verify_message_integrity(m, view(kKey)));
  EXPECT_TRUE(verify_message_integrity_sha256(m, view(kKey)));
  // Tampering with the SHA-1 MAC breaks SHA-256 too (it is covered), but not the other way round.
  Buf x = wire;
  x[m.message_integrity()->offset + 4] ^= 1;
  base::store_be32(&x[x.size() - 4], crypto::crc32(Bytes(x.data(), x.size() - 8)) ^ kFingerprintXor);
  Message mx = parsed(x);
  EXPECT_FALSE(verify_message_integrity(mx, view(kKey)));
  EXPECT_FALSE(verify_message_integrity_sha256(mx, view(kKey)));
}

TEST(Fingerprint, MatchesAnIndependentCrc) {
  Buf wire = build([](Builder& b) {
    b.add(attr::Software, "webims");
    b.add_fingerprint();
  });
  Buf covered(wire.begin(), wire.end() - 8);
  uint32_t want = crypto::crc32(view(covered)) ^ 0x5354554E;
  EXPECT_EQ(base::load_be32(&wire[wire.size() - 4]), want);
  EXPECT_EQ(base::load_be16(&wire[wire.size() - 8]), attr::Fingerprint);
  EXPECT_TRUE(parsed(wire).has_fingerprint());
}

TEST(Fingerprint, AbsentIsFine) {
  Buf wire = build([](Builder& b) { b.add(attr::Software, "webims"); });
  EXPECT_FALSE(parsed(wire).has_fingerprint());
}

TEST(Fingerprint, EverySingleByteChangeIsRejected) {
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "alice");
    b.add_message_integrity(view(kKey));
    b.add_fingerprint();
  });
  ASSERT_TRUE(parse(view(wire)).ok());
  const size_t fp = wire.size() - 8;
  for (size_t i = 0; i < wire.size(); ++i)
    for (uint8_t flip : {0x01, 0x10, 0x80, 0xFF}) {
      Buf x = wire;
      x[i] ^= flip;
      auto m = parse(view(x));
      if (i == fp || i == fp + 1) {
        // Changing FINGERPRINT's own type turns it into an unknown attribute after
        // MESSAGE-INTEGRITY, which §14.5 says to ignore: the message parses, without a
        // fingerprint. Usages that require FINGERPRINT (ICE, RFC 8445 §7.2.2) check has_fingerprint().
        if (m.ok()) {
          EXPECT_FALSE(m->has_fingerprint()) << "byte " << i << " ^ " << int(flip);
        }
        continue;
      }
      EXPECT_FALSE(m.ok()) << "byte " << i << " ^ " << int(flip);
    }
}

TEST(Fingerprint, AloneOnAnEmptyMessage) {
  Buf wire = build([](Builder& b) { b.add_fingerprint(); }, Method::Binding, Class::Indication);
  ASSERT_EQ(wire.size(), 28u);
  EXPECT_EQ(base::load_be16(&wire[2]), 8);
  EXPECT_TRUE(parsed(wire).has_fingerprint());
}

TEST(MessageIntegrity, AtTheEndOfTheLargestMessage) {
  // Body of exactly 65532 bytes ending in MESSAGE-INTEGRITY, -SHA256 and FINGERPRINT: the length
  // adjustments and attribute offsets near the 16-bit limit.
  std::vector<uint8_t> mem(kMaxMessageSize);
  std::vector<uint8_t> data(65532 - 4 - 24 - 36 - 8, 0x33);
  Builder b(mem, Method::Send, Class::Indication, tid());
  b.add(attr::Data, Bytes(data));
  b.add_message_integrity(view(kKey));
  b.add_message_integrity_sha256(view(kKey));
  b.add_fingerprint();
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), kHeaderSize + 65532);
  auto m = parse(*out);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->has_fingerprint());
  EXPECT_EQ(m->message_integrity_sha256()->offset, kHeaderSize + 65532 - 8 - 36);
  EXPECT_TRUE(verify_message_integrity(*m, view(kKey)));
  EXPECT_TRUE(verify_message_integrity_sha256(*m, view(kKey)));
}

// Long-term credentials (RFC 8489 §9.2.2): the MD5 key is 16 bytes, the SHA-256 key 32; both
// work with both MAC attributes.
TEST(LongTermKey, Md5AndSha256Keys) {
  std::string s = "user:realm:pass";
  auto md5 = crypto::md5(crypto::view(s));
  auto sha = crypto::sha256(crypto::view(s));
  for (Bytes key : {Bytes(md5.data(), md5.size()), Bytes(sha.data(), sha.size())}) {
    Buf wire = build([&](Builder& b) {
      b.add(attr::Username, "user");
      b.add(attr::Realm, "realm");
      b.add(attr::Nonce, "nonce");
      b.add_message_integrity(key);
      b.add_message_integrity_sha256(key);
    });
    Message m = parsed(wire);
    EXPECT_TRUE(verify_message_integrity(m, key));
    EXPECT_TRUE(verify_message_integrity_sha256(m, key));
  }
}

}  // namespace
}  // namespace stun
