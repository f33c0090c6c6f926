// STUN message codec: type encoding (RFC 8489 §5), every Builder adder round-tripped through parse()
// and the typed accessors, the parse rules of §6/§14 (negative cases, ignored attributes,
// duplicates, UNKNOWN-ATTRIBUTES), and Builder overflow.
#include "stun/message.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "crypto/hash.hpp"
#include "stun/test_support.hpp"

namespace stun {
namespace {

using namespace stun::test;

constexpr std::array kMethods = {Method::Binding, Method::Allocate, Method::Refresh, Method::Send,
                                 Method::Data, Method::CreatePermission, Method::ChannelBind};
constexpr std::array kClasses = {Class::Request, Class::Indication, Class::SuccessResponse, Class::ErrorResponse};

// ---------------------------------------------------------------------------------------------
// Message type: method and class bits interleaved (RFC 8489 §5, Figure 3).

TEST(MessageType, KnownWireValues) {
  EXPECT_EQ(message_type(Method::Binding, Class::Request), 0x0001);
  EXPECT_EQ(message_type(Method::Binding, Class::Indication), 0x0011);
  EXPECT_EQ(message_type(Method::Binding, Class::SuccessResponse), 0x0101);
  EXPECT_EQ(message_type(Method::Binding, Class::ErrorResponse), 0x0111);
  // RFC 8656 §17: TURN methods.
  EXPECT_EQ(message_type(Method::Allocate, Class::Request), 0x0003);
  EXPECT_EQ(message_type(Method::Allocate, Class::SuccessResponse), 0x0103);
  EXPECT_EQ(message_type(Method::Allocate, Class::ErrorResponse), 0x0113);
  EXPECT_EQ(message_type(Method::Refresh, Class::Request), 0x0004);
  EXPECT_EQ(message_type(Method::Refresh, Class::SuccessResponse), 0x0104);
  EXPECT_EQ(message_type(Method::Send, Class::Indication), 0x0016);
  EXPECT_EQ(message_type(Method::Data, Class::Indication), 0x0017);
  EXPECT_EQ(message_type(Method::CreatePermission, Class::Request), 0x0008);
  EXPECT_EQ(message_type(Method::CreatePermission, Class::SuccessResponse), 0x0108);
  EXPECT_EQ(message_type(Method::CreatePermission, Class::ErrorResponse), 0x0118);
  EXPECT_EQ(message_type(Method::ChannelBind, Class::Request), 0x0009);
  EXPECT_EQ(message_type(Method::ChannelBind, Class::SuccessResponse), 0x0109);
  EXPECT_EQ(message_type(Method::ChannelBind, Class::ErrorResponse), 0x0119);
}

TEST(MessageType, EveryTurnMethodAndClassRoundTrips) {
  for (Method m : kMethods)
    for (Class c : kClasses) {
      uint16_t t = message_type(m, c);
      EXPECT_EQ(t & 0xC000, 0) << "top two bits must be zero";
      EXPECT_EQ(method_of(t), m);
      EXPECT_EQ(class_of(t), c);
    }
}

TEST(MessageType, Every12BitMethodRoundTrips) {
  // Methods are 12 bits (0x000-0xFFF); the encoding must be a bijection with the 14-bit type.
  std::vector<bool> seen(0x4000, false);
  for (uint16_t mv = 0; mv <= 0xFFF; ++mv)
    for (Class c : kClasses) {
      uint16_t t = message_type(Method(mv), c);
      ASSERT_LT(t, 0x4000);
      ASSERT_FALSE(seen[t]) << std::hex << t;
      seen[t] = true;
      ASSERT_EQ(uint16_t(method_of(t)), mv);
      ASSERT_EQ(class_of(t), c);
    }
}

TEST(MessageType, BuiltAndParsedMessagesCarryMethodAndClass) {
  for (Method m : kMethods)
    for (Class c : kClasses) {
      uint8_t buf[64];
      Builder b(buf, m, c, tid());
      auto out = b.finish();
      ASSERT_TRUE(out.ok());
      auto msg = parse(*out);
      ASSERT_TRUE(msg.ok());
      EXPECT_EQ(msg->method(), m);
      EXPECT_EQ(msg->cls(), c);
      EXPECT_EQ(msg->type(), message_type(m, c));
      EXPECT_EQ(msg->transaction_id(), tid());
      EXPECT_TRUE(msg->attributes().empty());
    }
}

TEST(MessageType, BuilderMasksTopBits) {
  uint8_t buf[32];
  Builder b(buf, uint16_t(0xC001), tid());
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0], 0x00);
  EXPECT_EQ((*out)[1], 0x01);
}

TEST(MessageType, Names) {
  EXPECT_EQ(method_name(Method::Binding), "Binding");
  EXPECT_EQ(method_name(Method::Allocate), "Allocate");
  EXPECT_EQ(method_name(Method::Refresh), "Refresh");
  EXPECT_EQ(method_name(Method::Send), "Send");
  EXPECT_EQ(method_name(Method::Data), "Data");
  EXPECT_EQ(method_name(Method::CreatePermission), "CreatePermission");
  EXPECT_EQ(method_name(Method::ChannelBind), "ChannelBind");
  EXPECT_EQ(method_name(Method(0x00A)), "Unknown");
  EXPECT_EQ(reason_phrase(code::Unauthorized), "Unauthorized");
  EXPECT_EQ(reason_phrase(code::AllocationMismatch), "Allocation Mismatch");
  EXPECT_EQ(reason_phrase(code::InsufficientCapacity), "Insufficient Capacity");
  EXPECT_EQ(reason_phrase(499), "Error");
  for (Error e : {Error::TooShort, Error::NotStun, Error::BadMagicCookie, Error::BadLength, Error::TruncatedAttribute,
                  Error::TooManyAttributes, Error::AttributeAfterFingerprint, Error::BadFingerprint,
                  Error::BadAttribute, Error::BufferTooSmall})
    EXPECT_FALSE(to_string(e).empty());
}

TEST(MessageType, HeaderWireBytes) {
  uint8_t buf[32];
  TransactionId t = tid(0xA0);
  Builder b(buf, Method::Allocate, Class::Request, t);
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  Buf want = {0x00, 0x03, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
  want.insert(want.end(), t.begin(), t.end());
  EXPECT_EQ(copy(*out), want);
  EXPECT_TRUE(looks_like_stun(*out));
}

// ---------------------------------------------------------------------------------------------
// Builder adders, each round-tripped through parse() and the typed accessors.

template <class F>
Buf build(F&& add, Method m = Method::Allocate, Class c = Class::Request, const TransactionId& t = tid()) {
  std::array<uint8_t, 2048> buf{};
  Builder b(buf, m, c, t);
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

TEST(Builder, RawAndStringAttributes) {
  Buf v = bytes({1, 2, 3, 4, 5});
  Buf wire = build([&](Builder& b) {
    b.add(attr::Username, "alice");
    b.add(attr::Data, view(v));
    b.add(attr::Software, "webims");
    b.add_empty(attr::DontFragment);
  });
  // USERNAME "alice" is 5 bytes, padded with three zero bytes (RFC 8489 §14).
  Buf want_username = cat({bytes({0x00, 0x06, 0x00, 0x05}), str_bytes("alice"), bytes({0, 0, 0})});
  EXPECT_TRUE(std::equal(want_username.begin(), want_username.end(), wire.begin() + 20));
  Message m = parsed(wire);
  ASSERT_EQ(m.attributes().size(), 4u);
  EXPECT_EQ(m.string(attr::Username), "alice");
  EXPECT_EQ(m.string(attr::Software), "webims");
  ASSERT_TRUE(m.has(attr::Data));
  EXPECT_EQ(copy(m.find(attr::Data)->value), v);
  ASSERT_TRUE(m.has(attr::DontFragment));
  EXPECT_TRUE(m.find(attr::DontFragment)->value.empty());
  EXPECT_FALSE(m.has(attr::Realm));
  EXPECT_EQ(m.string(attr::Realm), std::nullopt);
  // Offsets point at attribute headers, in wire order.
  EXPECT_EQ(m.attributes()[0].offset, 20);
  EXPECT_EQ(m.attributes()[1].offset, 32);
  EXPECT_EQ(m.attributes()[2].offset, 44);
  EXPECT_EQ(m.attributes()[3].offset, 56);
  EXPECT_EQ(wire.size(), 60u);
}

TEST(Builder, PaddingForEveryValueLength) {
  for (size_t n = 0; n <= 9; ++n) {
    Buf v(n, 0xEE);
    Buf wire = build([&](Builder& b) {
      b.add(attr::Data, view(v));
      b.add_u32(attr::Lifetime, 7);
    });
    size_t padded = (n + 3) / 4 * 4;
    ASSERT_EQ(wire.size(), 20 + 4 + padded + 8) << n;
    for (size_t i = 24 + n; i < 24 + padded; ++i) EXPECT_EQ(wire[i], 0) << "padding must be zero";
    Message m = parsed(wire);
    EXPECT_EQ(copy(m.find(attr::Data)->value), v);
    EXPECT_EQ(m.u32(attr::Lifetime), 7u);
  }
}

TEST(Builder, Lifetime) {
  Buf wire = build([](Builder& b) { b.add_u32(attr::Lifetime, 600); }, Method::Refresh);
  EXPECT_EQ(copy(Bytes(wire).subspan(20)), bytes({0x00, 0x0D, 0x00, 0x04, 0x00, 0x00, 0x02, 0x58}));
  EXPECT_EQ(parsed(wire).u32(attr::Lifetime), 600u);
  Buf max = build([](Builder& b) { b.add_u32(attr::Lifetime, 0xFFFFFFFF); }, Method::Refresh);
  EXPECT_EQ(parsed(max).u32(attr::Lifetime), 0xFFFFFFFFu);
}

TEST(Builder, XorAddressV4AndV6) {
  TransactionId t = tid(0x40);
  for (uint16_t type : {attr::XorMappedAddress, attr::XorPeerAddress, attr::XorRelayedAddress}) {
    for (auto text : {"192.0.2.1:32853", "0.0.0.0:0", "255.255.255.255:65535", "[2001:db8::1]:3478",
                      "[::]:1", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[::ffff:10.0.0.1]:9"}) {
      base::Endpoint e = ep(text);
      Buf wire = build([&](Builder& b) { b.add_xor_address(type, e); }, Method::Allocate, Class::SuccessResponse, t);
      Message m = parsed(wire);
      auto got = m.xor_address(type);
      ASSERT_TRUE(got.has_value()) << text;
      EXPECT_EQ(*got, e) << text;
      // The wire form is really XORed (RFC 8489 §14.2): the port with the cookie's top 16 bits.
      const Attribute* a = m.find(type);
      EXPECT_EQ(a->value.size(), e.addr.is_v4() ? 8u : 20u);
      EXPECT_EQ(a->value[0], 0);
      EXPECT_EQ(a->value[1], e.addr.is_v4() ? kFamilyV4 : kFamilyV6);
      EXPECT_EQ(base::load_be16(&a->value[2]), uint16_t(e.port ^ 0x2112));
      // Reading it as a plain address gives the XORed (different) value.
      EXPECT_NE(m.address(type), std::optional<base::Endpoint>(e));
    }
  }
}

TEST(Builder, XorAddressV6UsesTransactionId) {
  base::Endpoint e = ep("[2001:db8::1]:5000");
  Buf a = build([&](Builder& b) { b.add_xor_address(attr::XorPeerAddress, e); }, Method::Send, Class::Indication, tid(1));
  Buf b2 = build([&](Builder& b) { b.add_xor_address(attr::XorPeerAddress, e); }, Method::Send, Class::Indication, tid(2));
  EXPECT_NE(copy(parsed(a).find(attr::XorPeerAddress)->value), copy(parsed(b2).find(attr::XorPeerAddress)->value));
  EXPECT_EQ(parsed(a).xor_address(attr::XorPeerAddress), e);
  EXPECT_EQ(parsed(b2).xor_address(attr::XorPeerAddress), e);
}

TEST(Builder, PlainAddressV4AndV6) {
  for (uint16_t type : {attr::MappedAddress, attr::AlternateServer, attr::ResponseOrigin, attr::OtherAddress}) {
    for (auto text : {"198.51.100.7:3478", "[2001:db8:1234:5678:11:2233:4455:6677]:32853"}) {
      base::Endpoint e = ep(text);
      Buf wire = build([&](Builder& b) { b.add_address(type, e); });
      Message m = parsed(wire);
      EXPECT_EQ(m.address(type), e) << text;
      const Attribute* a = m.find(type);
      EXPECT_EQ(base::load_be16(&a->value[2]), e.port);
      EXPECT_TRUE(std::equal(a->value.begin() + 4, a->value.end(), e.addr.data()));
    }
  }
  Buf v4 = build([](Builder& b) { b.add_address(attr::MappedAddress, ep("192.0.2.1:32853")); });
  EXPECT_EQ(copy(Bytes(v4).subspan(20)), bytes({0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x80, 0x55, 192, 0, 2, 1}));
}

TEST(Builder, ErrorCodeWithDefaultAndCustomReason) {
  for (int c : {code::TryAlternate, code::BadRequest, code::Unauthorized, code::Forbidden, code::MobilityForbidden,
                code::UnknownAttribute, code::AllocationMismatch, code::StaleNonce, code::AddressFamilyNotSupported,
                code::WrongCredentials, code::UnsupportedTransportProtocol, code::PeerAddressFamilyMismatch,
                code::AllocationQuotaReached, code::ServerError, code::InsufficientCapacity}) {
    Buf wire = build([&](Builder& b) { b.add_error_code(c); }, Method::Allocate, Class::ErrorResponse);
    auto ec = parsed(wire).error_code();
    ASSERT_TRUE(ec.has_value()) << c;
    EXPECT_EQ(ec->code, c);
    EXPECT_EQ(ec->reason, reason_phrase(c));
    EXPECT_NE(ec->reason, "Error") << c << " has no registered reason phrase";
  }
  Buf wire = build([](Builder& b) { b.add_error_code(438, "Nonce expired"); }, Method::Refresh, Class::ErrorResponse);
  // |  Reserved, should be 0   |Class|  Number  | reason...  (RFC 8489 §14.8)
  EXPECT_EQ(copy(Bytes(wire).subspan(20, 8)), bytes({0x00, 0x09, 0x00, 0x11, 0x00, 0x00, 0x04, 38}));
  auto ec = parsed(wire).error_code();
  ASSERT_TRUE(ec.has_value());
  EXPECT_EQ(ec->code, 438);
  EXPECT_EQ(ec->reason, "Nonce expired");
}

TEST(Builder, ErrorCodeReasonIsCappedAt763Bytes) {
  std::string long_reason(1000, 'x');
  Buf wire = build([&](Builder& b) { b.add_error_code(500, long_reason); });
  auto ec = parsed(wire).error_code();
  ASSERT_TRUE(ec.has_value());
  EXPECT_EQ(ec->reason.size(), 763u);
}

TEST(Builder, UnknownAttributes) {
  for (size_t n : {0u, 1u, 2u, 3u, 5u}) {
    std::vector<uint16_t> types;
    for (size_t i = 0; i < n; ++i) types.push_back(uint16_t(0x7000 + i));
    Buf wire = build([&](Builder& b) { b.add_unknown_attributes(types); }, Method::Binding, Class::ErrorResponse);
    Message m = parsed(wire);
    const Attribute* a = m.find(attr::UnknownAttributes);
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(a->value.size(), 2 * n);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(base::load_be16(&a->value[2 * i]), types[i]);
  }
}

TEST(Builder, ChannelNumber) {
  Buf wire = build([](Builder& b) { b.add_channel_number(0x4001); }, Method::ChannelBind);
  // |        Channel Number         |         RFFU = 0              |  (RFC 8656 §18.1)
  EXPECT_EQ(copy(Bytes(wire).subspan(20)), bytes({0x00, 0x0C, 0x00, 0x04, 0x40, 0x01, 0x00, 0x00}));
  auto v = parsed(wire).u32(attr::ChannelNumber);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v >> 16, 0x4001u);
  EXPECT_EQ(*v & 0xFFFF, 0u);
}

TEST(Builder, RequestedTransport) {
  Buf wire = build([](Builder& b) { b.add_requested_transport(kProtocolUdp); });
  // |    Protocol   |                    RFFU                       |  (RFC 8656 §18.7)
  EXPECT_EQ(copy(Bytes(wire).subspan(20)), bytes({0x00, 0x19, 0x00, 0x04, 17, 0x00, 0x00, 0x00}));
  EXPECT_EQ(parsed(wire).u32(attr::RequestedTransport), 17u << 24);
}

TEST(Builder, AddressFamilies) {
  for (uint16_t type : {attr::RequestedAddressFamily, attr::AdditionalAddressFamily})
    for (uint8_t fam : {kFamilyV4, kFamilyV6}) {
      Buf wire = build([&](Builder& b) { b.add_address_family(type, fam); });
      // |     Family    |            Reserved                           |  (RFC 8656 §18.8, §18.11)
      EXPECT_EQ(copy(Bytes(wire).subspan(20)),
                bytes({type >> 8, type & 0xFF, 0x00, 0x04, fam, 0x00, 0x00, 0x00}));
      EXPECT_EQ(parsed(wire).u32(type), uint32_t(fam) << 24);
    }
}

TEST(Builder, AddressErrorCode) {
  Buf wire = build([](Builder& b) { b.add_address_error_code(kFamilyV6, code::InsufficientCapacity); },
                   Method::Allocate, Class::SuccessResponse);
  Message m = parsed(wire);
  const Attribute* a = m.find(attr::AddressErrorCode);
  ASSERT_NE(a, nullptr);
  // |  Family       |    Reserved             |Class|     Number    |  (RFC 8656 §18.12)
  EXPECT_EQ(copy(a->value.first(4)), bytes({kFamilyV6, 0x00, 5, 8}));
  EXPECT_EQ(base::as_string_view(a->value.subspan(4)), "Insufficient Capacity");
  Buf custom = build([](Builder& b) { b.add_address_error_code(kFamilyV4, 440, "no v4"); });
  Message cm = parsed(custom);
  const Attribute* c = cm.find(attr::AddressErrorCode);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(copy(c->value), cat({bytes({kFamilyV4, 0, 4, 40}), str_bytes("no v4")}));
  // ERROR-CODE is a different attribute: error_code() does not read ADDRESS-ERROR-CODE.
  EXPECT_FALSE(cm.error_code().has_value());
}

TEST(Builder, EvenPortWithAndWithoutReserveBit) {
  Buf r = build([](Builder& b) { b.add_even_port(true); });
  // |R|    RFFU   |  one byte, padded to four (RFC 8656 §18.6)
  EXPECT_EQ(copy(Bytes(r).subspan(20)), bytes({0x00, 0x18, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00}));
  Message rm = parsed(r);
  const Attribute* a = rm.find(attr::EvenPort);
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->value.size(), 1u);
  EXPECT_EQ(a->value[0] & 0x80, 0x80);
  Buf nr = build([](Builder& b) { b.add_even_port(false); });
  Message nm = parsed(nr);
  const Attribute* n = nm.find(attr::EvenPort);
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(n->value.size(), 1u);
  EXPECT_EQ(n->value[0], 0x00);
}

TEST(Builder, PasswordAlgorithms) {
  std::array<uint16_t, 2> algs = {password_algorithm::Sha256, password_algorithm::Md5};
  Buf wire = build([&](Builder& b) {
    b.add_password_algorithms(algs);
    b.add_password_algorithm(password_algorithm::Sha256);
  }, Method::Allocate, Class::ErrorResponse);
  Message m = parsed(wire);
  const Attribute* list = m.find(attr::PasswordAlgorithms);
  ASSERT_NE(list, nullptr);
  // Each entry: | Algorithm | Algorithm Parameters Length | (no parameters)  (RFC 8489 §14.11)
  EXPECT_EQ(copy(list->value), bytes({0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
  const Attribute* one = m.find(attr::PasswordAlgorithm);
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(copy(one->value), bytes({0x00, 0x02, 0x00, 0x00}));
  EXPECT_EQ(m.u32(attr::PasswordAlgorithm), 0x00020000u);
}

TEST(Builder, EveryAdderInOneMessage) {
  TransactionId t = tid(9);
  std::array<uint16_t, 1> unknown = {0x7777};
  std::array<uint16_t, 2> algs = {password_algorithm::Md5, password_algorithm::Sha256};
  Buf wire = build([&](Builder& b) {
    b.add(attr::Username, "u");
    b.add_u32(attr::Lifetime, 3600);
    b.add_empty(attr::DontFragment);
    b.add_xor_address(attr::XorRelayedAddress, ep("203.0.113.5:49152"));
    b.add_xor_address(attr::XorMappedAddress, ep("[2001:db8::5]:1234"));
    b.add_address(attr::AlternateServer, ep("192.0.2.9:3478"));
    b.add_error_code(420);
    b.add_unknown_attributes(unknown);
    b.add_channel_number(0x4FFF);
    b.add_requested_transport(kProtocolUdp);
    b.add_address_family(attr::RequestedAddressFamily, kFamilyV6);
    b.add_address_error_code(kFamilyV4, 440);
    b.add_even_port(true);
    b.add_password_algorithms(algs);
    b.add_password_algorithm(password_algorithm::Md5);
  }, Method::Allocate, Class::ErrorResponse, t);
  Message m = parsed(wire);
  EXPECT_EQ(m.attributes().size(), 15u);
  EXPECT_EQ(m.string(attr::Username), "u");
  EXPECT_EQ(m.u32(attr::Lifetime), 3600u);
  EXPECT_TRUE(m.has(attr::DontFragment));
  EXPECT_EQ(m.xor_address(attr::XorRelayedAddress), ep("203.0.113.5:49152"));
  EXPECT_EQ(m.xor_address(attr::XorMappedAddress), ep("[2001:db8::5]:1234"));
  EXPECT_EQ(m.address(attr::AlternateServer), ep("192.0.2.9:3478"));
  ASSERT_TRUE(m.error_code().has_value());
  EXPECT_EQ(m.error_code()->code, 420);
  EXPECT_EQ(m.u32(attr::ChannelNumber), 0x4FFF0000u);
  EXPECT_EQ(m.u32(attr::RequestedTransport), 17u << 24);
  EXPECT_EQ(m.u32(attr::RequestedAddressFamily), uint32_t(kFamilyV6) << 24);
  EXPECT_TRUE(m.has(attr::AddressErrorCode));
  EXPECT_EQ(m.find(attr::EvenPort)->value[0], 0x80);
  EXPECT_EQ(m.find(attr::PasswordAlgorithms)->value.size(), 8u);
  EXPECT_EQ(m.u32(attr::PasswordAlgorithm), 0x00010000u);
}

// ---------------------------------------------------------------------------------------------
// Typed accessors on malformed values: nullopt, never a crash or a garbage value.

TEST(Accessors, RejectMalformedValues) {
  auto msg = [](uint16_t type, const Buf& value) { return raw_message(0x0001, raw_attr(type, value)); };
  // u32 wants exactly four bytes.
  for (size_t n : {0u, 3u, 5u, 8u}) EXPECT_FALSE(parsed(msg(attr::Lifetime, Buf(n, 1))).u32(attr::Lifetime)) << n;
  // Addresses: family 1 needs 8 bytes, family 2 needs 20, other families are unknown.
  EXPECT_FALSE(parsed(msg(attr::XorMappedAddress, bytes({0, 1, 0}))).xor_address(attr::XorMappedAddress));
  EXPECT_FALSE(parsed(msg(attr::XorMappedAddress, Buf{0, 1, 0, 0, 1, 2, 3})).xor_address(attr::XorMappedAddress));
  EXPECT_FALSE(parsed(msg(attr::XorMappedAddress, Buf(20, 0))).xor_address(attr::XorMappedAddress));  // family 0
  Buf v4_long = {0, kFamilyV4, 0, 0};
  v4_long.resize(20);
  EXPECT_FALSE(parsed(msg(attr::XorMappedAddress, v4_long)).xor_address(attr::XorMappedAddress));
  Buf v6_short = {0, kFamilyV6, 0, 0, 1, 2, 3, 4};
  EXPECT_FALSE(parsed(msg(attr::MappedAddress, v6_short)).address(attr::MappedAddress));
  Buf fam3 = {0, 3, 0, 0, 1, 2, 3, 4};
  EXPECT_FALSE(parsed(msg(attr::MappedAddress, fam3)).address(attr::MappedAddress));
  // ERROR-CODE: at least 4 bytes, class 3..6, number 0..99.
  EXPECT_FALSE(parsed(msg(attr::ErrorCode, bytes({0, 0, 4}))).error_code());
  EXPECT_FALSE(parsed(msg(attr::ErrorCode, bytes({0, 0, 2, 0}))).error_code());
  EXPECT_FALSE(parsed(msg(attr::ErrorCode, bytes({0, 0, 7, 0}))).error_code());
  EXPECT_FALSE(parsed(msg(attr::ErrorCode, bytes({0, 0, 4, 100}))).error_code());
  Buf reserved_bits = msg(attr::ErrorCode, bytes({0xFF, 0xFF, 0xF4, 1}));  // reserved bits ignored
  auto ok = parsed(reserved_bits).error_code();
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->code, 401);
  EXPECT_EQ(ok->reason, "");
}

// ---------------------------------------------------------------------------------------------
// parse() negative cases (RFC 8489 §6.3: malformed messages are discarded).

Buf valid_message() {
  return build([](Builder& b) {
    b.add(attr::Username, "bob");
    b.add_u32(attr::Lifetime, 60);
  });
}

TEST(ParseNegative, TruncatedHeader) {
  Buf m = valid_message();
  for (size_t n = 0; n < kHeaderSize; ++n) {
    auto r = parse(Bytes(m.data(), n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error(), Error::TooShort) << n;
  }
}

TEST(ParseNegative, EveryTruncationOfAValidMessageFails) {
  Buf m = valid_message();
  for (size_t n = 0; n < m.size(); ++n) EXPECT_FALSE(parse(Bytes(m.data(), n)).ok()) << n;
  EXPECT_TRUE(parse(view(m)).ok());
}

TEST(ParseNegative, FirstTwoBitsNotZero) {
  for (uint8_t top : {0x40, 0x80, 0xC0}) {
    Buf m = valid_message();
    m[0] |= top;
    auto r = parse(view(m));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::NotStun);
    EXPECT_FALSE(looks_like_stun(view(m)));
  }
}

TEST(ParseNegative, BadMagicCookie) {
  for (size_t i = 4; i < 8; ++i) {
    Buf m = valid_message();
    m[i] ^= 0x01;
    auto r = parse(view(m));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::BadMagicCookie);
    EXPECT_FALSE(looks_like_stun(view(m)));
  }
}

TEST(ParseNegative, LengthNotMultipleOfFour) {
  for (uint16_t delta : {1, 2, 3}) {
    Buf m = valid_message();
    m.resize(m.size() + delta, 0);
    base::store_be16(&m[2], uint16_t(m.size() - kHeaderSize));
    auto r = parse(view(m));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::BadLength);
  }
}

TEST(ParseNegative, LengthDoesNotMatchTheBytes) {
  Buf m = valid_message();
  uint16_t len = base::load_be16(&m[2]);
  for (int delta : {-8, -4, 4, 8, 0x7FFC}) {
    Buf x = m;
    base::store_be16(&x[2], uint16_t(len + delta));
    auto r = parse(view(x));
    ASSERT_FALSE(r.ok()) << delta;
    EXPECT_EQ(r.error(), Error::BadLength) << delta;
  }
  // Trailing bytes after the message (a UDP datagram must be exactly one message).
  Buf tail = m;
  tail.insert(tail.end(), 4, 0);
  EXPECT_EQ(parse(view(tail)).error(), Error::BadLength);
}

TEST(ParseNegative, TruncatedAttribute) {
  // The attribute claims 8 bytes of value but only 4 follow.
  Buf body = cat({bytes({0x00, 0x06, 0x00, 0x08}), bytes({'a', 'b', 'c', 'd'})});
  auto r = parse(view(raw_message(0x0001, body)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::TruncatedAttribute);
  // Padding counts: a 5-byte value needs 8 bytes on the wire.
  Buf body2 = cat({bytes({0x00, 0x06, 0x00, 0x05}), bytes({'a', 'b', 'c', 'd'})});
  EXPECT_EQ(parse(view(raw_message(0x0001, body2))).error(), Error::TruncatedAttribute);
  // Length 0xFFFF in a short message.
  Buf body3 = cat({bytes({0x80, 0x22, 0xFF, 0xFF}), Buf(4, 0)});
  EXPECT_EQ(parse(view(raw_message(0x0001, body3))).error(), Error::TruncatedAttribute);
}

TEST(ParseNegative, BadFingerprint) {
  Buf m = build([](Builder& b) {
    b.add(attr::Software, "x");
    b.add_fingerprint();
  });
  ASSERT_TRUE(parse(view(m)).ok());
  for (size_t i = m.size() - 4; i < m.size(); ++i) {
    Buf x = m;
    x[i] ^= 0x80;
    auto r = parse(view(x));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::BadFingerprint);
  }
  // Any change to the covered bytes that keeps the framing valid breaks the CRC too.
  Buf x = m;
  x[24] ^= 0x01;  // SOFTWARE value
  EXPECT_EQ(parse(view(x)).error(), Error::BadFingerprint);
  // A FINGERPRINT of the wrong size is malformed.
  Buf short_fp = raw_message(0x0001, raw_attr(attr::Fingerprint, bytes({1, 2})));
  EXPECT_EQ(parse(view(short_fp)).error(), Error::BadAttribute);
}

TEST(ParseNegative, AttributeAfterFingerprint) {
  std::array<uint8_t, 128> buf{};
  Builder b(buf, Method::Binding, Class::Request, tid());
  b.add_fingerprint();
  b.add(attr::Software, "late");
  auto out = b.finish();
  ASSERT_TRUE(out.ok());
  // The builder's FINGERPRINT covered a shorter length, but the parser must reject on position
  // (or on the CRC, which is checked first); either way the message is refused.
  EXPECT_FALSE(parse(*out).ok());

  // With a correct CRC: FINGERPRINT computed over the final length, then another attribute.
  Buf head = raw_message(0x0001, {});
  Buf late = raw_attr(attr::Software, str_bytes("late"));
  base::store_be16(&head[2], uint16_t(8 + late.size()));
  uint32_t crc = crypto::crc32(view(head)) ^ kFingerprintXor;
  Buf m = cat({head, raw_attr(attr::Fingerprint, bytes({int(crc >> 24), int(crc >> 16 & 0xFF), int(crc >> 8 & 0xFF),
                                                          int(crc & 0xFF)})),
               late});
  auto r = parse(view(m));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::AttributeAfterFingerprint);
}

TEST(ParseNegative, MoreThanFortyAttributes) {
  auto with = [](size_t n) {
    return build([n](Builder& b) {
      for (size_t i = 0; i < n; ++i) b.add_u32(uint16_t(0x8100 + i), uint32_t(i));
    });
  };
  Buf forty_wire = with(Message::kMaxAttributes);
  auto forty = parse(view(forty_wire));
  ASSERT_TRUE(forty.ok());
  EXPECT_EQ(forty->attributes().size(), Message::kMaxAttributes);
  EXPECT_EQ(forty->u32(0x8100 + 39), 39u);
  auto r = parse(view(with(Message::kMaxAttributes + 1)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::TooManyAttributes);
}

TEST(ParseNegative, WrongSizeMessageIntegrity) {
  for (size_t n : {0u, 16u, 19u, 21u, 24u, 32u}) {
    auto r = parse(view(raw_message(0x0001, raw_attr(attr::MessageIntegrity, Buf(n, 0xAB)))));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error(), Error::BadAttribute) << n;
  }
  EXPECT_TRUE(parse(view(raw_message(0x0001, raw_attr(attr::MessageIntegrity, Buf(20, 0xAB))))).ok());
}

TEST(ParseNegative, WrongSizeMessageIntegritySha256) {
  // RFC 8489 §14.6: at least 16 bytes, a multiple of four, at most 32.
  for (size_t n : {0u, 4u, 12u, 15u, 17u, 18u, 19u, 30u, 33u, 36u, 64u}) {
    auto r = parse(view(raw_message(0x0001, raw_attr(attr::MessageIntegritySha256, Buf(n, 0xAB)))));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error(), Error::BadAttribute) << n;
  }
  for (size_t n : {16u, 20u, 24u, 28u, 32u})
    EXPECT_TRUE(parse(view(raw_message(0x0001, raw_attr(attr::MessageIntegritySha256, Buf(n, 0xAB))))).ok()) << n;
}

// ---------------------------------------------------------------------------------------------
// Attributes after MESSAGE-INTEGRITY(-SHA256) are ignored (RFC 8489 §14.5, §14.6).

TEST(ParseIgnored, AttributesAfterMessageIntegrity) {
  uint8_t key[] = {'k'};
  Buf wire = build([&](Builder& b) {
    b.add(attr::Username, "bob");
    b.add_message_integrity(key);
    b.add(attr::Software, "injected");
    b.add_u32(attr::Lifetime, 1);
    b.add(attr::Username, "mallory");
    b.add_message_integrity_sha256(key);
    b.add(attr::Realm, "after-sha256");
    b.add_fingerprint();
  });
  Message m = parsed(wire);
  // Visible: USERNAME, MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256. FINGERPRINT is checked, not listed.
  ASSERT_EQ(m.attributes().size(), 3u);
  EXPECT_EQ(m.attributes()[0].type, attr::Username);
  EXPECT_EQ(m.attributes()[1].type, attr::MessageIntegrity);
  EXPECT_EQ(m.attributes()[2].type, attr::MessageIntegritySha256);
  EXPECT_FALSE(m.has(attr::Software));
  EXPECT_FALSE(m.has(attr::Lifetime));
  EXPECT_FALSE(m.has(attr::Realm));
  EXPECT_EQ(m.string(attr::Username), "bob");
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_NE(m.message_integrity(), nullptr);
  EXPECT_NE(m.message_integrity_sha256(), nullptr);
  EXPECT_TRUE(verify_message_integrity(m, key));
  EXPECT_TRUE(verify_message_integrity_sha256(m, key));
}

TEST(ParseIgnored, EverythingButFingerprintAfterMessageIntegritySha256) {
  uint8_t key[] = {'k'};
  Buf wire = build([&](Builder& b) {
    b.add(attr::Username, "bob");
    b.add_message_integrity_sha256(key);
    b.add_message_integrity(key);  // must be ignored after -SHA256 (§14.6)
    b.add(attr::Software, "x");
    b.add_fingerprint();
  });
  Message m = parsed(wire);
  ASSERT_EQ(m.attributes().size(), 2u);
  EXPECT_EQ(m.message_integrity(), nullptr);
  EXPECT_FALSE(verify_message_integrity(m, key));
  EXPECT_TRUE(verify_message_integrity_sha256(m, key));
  EXPECT_FALSE(m.has(attr::Software));
  EXPECT_TRUE(m.has_fingerprint());
}

TEST(ParseIgnored, IgnoredAttributesAreNotReportedAsUnknown) {
  uint8_t key[] = {'k'};
  Buf wire = build([&](Builder& b) {
    b.add_message_integrity(key);
    b.add_u32(0x7001, 0);
  });
  Message m = parsed(wire);
  std::array<uint16_t, 1> known = {attr::MessageIntegrity};
  std::array<uint16_t, 4> out{};
  EXPECT_EQ(m.unknown_required(known, out), 0u);
}

TEST(ParseIgnored, SecondMessageIntegrityIgnored) {
  Buf body = cat({raw_attr(attr::MessageIntegrity, Buf(20, 1)), raw_attr(attr::MessageIntegrity, Buf(7, 2))});
  Buf wire = raw_message(0x0001, body);
  Message m = parsed(wire);  // the second one's bad size does not matter
  ASSERT_EQ(m.attributes().size(), 1u);
  EXPECT_EQ(m.message_integrity()->value[0], 1);
}

// ---------------------------------------------------------------------------------------------
// Duplicates and unknown comprehension-required attributes.

TEST(ParseDuplicates, FirstWins) {
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "first");
    b.add_u32(attr::Lifetime, 1);
    b.add(attr::Username, "second");
    b.add_u32(attr::Lifetime, 2);
    b.add_xor_address(attr::XorPeerAddress, ep("192.0.2.1:1"));
    b.add_xor_address(attr::XorPeerAddress, ep("192.0.2.2:2"));
  });
  Message m = parsed(wire);
  EXPECT_EQ(m.string(attr::Username), "first");
  EXPECT_EQ(m.u32(attr::Lifetime), 1u);
  EXPECT_EQ(m.xor_address(attr::XorPeerAddress), ep("192.0.2.1:1"));
  EXPECT_EQ(m.find(attr::Username), &m.attributes()[0]);
  EXPECT_EQ(m.attributes().size(), 6u);  // all remain visible in wire order
}

TEST(ParseDuplicates, SecondMessageIntegritySha256Ignored) {
  Buf body = cat({raw_attr(attr::MessageIntegritySha256, Buf(32, 1)), raw_attr(attr::MessageIntegritySha256, Buf(16, 2))});
  Buf wire = raw_message(0x0001, body);
  Message m = parsed(wire);
  ASSERT_EQ(m.attributes().size(), 1u);
  EXPECT_EQ(m.message_integrity_sha256()->value.size(), 32u);
}

TEST(UnknownRequired, ReportsEachUnknownComprehensionRequiredTypeOnce) {
  Buf wire = build([](Builder& b) {
    b.add(attr::Username, "u");
    b.add_u32(0x7001, 1);
    b.add_u32(0xC001, 1);  // comprehension-optional: never reported
    b.add_u32(0x7002, 1);
    b.add_u32(0x7001, 2);  // duplicate
    b.add_u32(attr::Lifetime, 1);
    b.add_u32(0x0000, 1);  // reserved type 0 is comprehension-required and unknown
  });
  Message m = parsed(wire);
  std::array<uint16_t, 2> known = {attr::Username, attr::Lifetime};
  std::array<uint16_t, 8> out{};
  size_t n = m.unknown_required(known, out);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(out[0], 0x7001);
  EXPECT_EQ(out[1], 0x7002);
  EXPECT_EQ(out[2], 0x0000);
  // Output capacity bounds the count.
  std::array<uint16_t, 1> small{};
  EXPECT_EQ(m.unknown_required(known, small), 1u);
  EXPECT_EQ(small[0], 0x7001);
  EXPECT_EQ(m.unknown_required(known, std::span<uint16_t>{}), 0u);
  // Nothing unknown.
  std::array<uint16_t, 5> all = {attr::Username, attr::Lifetime, 0x7001, 0x7002, 0x0000};
  EXPECT_EQ(m.unknown_required(all, out), 0u);
}

TEST(UnknownRequired, FeedsAnUnknownAttributesResponse) {
  Buf req = build([](Builder& b) {
    b.add_u32(0x7001, 1);
    b.add_u32(0x7002, 1);
  });
  Message m = parsed(req);
  std::array<uint16_t, 8> out{};
  size_t n = m.unknown_required({}, out);
  Buf resp = build([&](Builder& b) {
    b.add_error_code(code::UnknownAttribute);
    b.add_unknown_attributes(std::span<const uint16_t>(out.data(), n));
  }, Method::Binding, Class::ErrorResponse, m.transaction_id());
  Message r = parsed(resp);
  EXPECT_EQ(r.error_code()->code, 420);
  EXPECT_EQ(copy(r.find(attr::UnknownAttributes)->value), bytes({0x70, 0x01, 0x70, 0x02}));
}

// ---------------------------------------------------------------------------------------------
// Builder overflow: BufferTooSmall, never a write past the buffer.

TEST(BuilderOverflow, EveryShortBufferFailsWithoutWritingPastIt) {
  uint8_t key[] = {1, 2, 3};
  auto fill = [&](Builder& b) {
    b.add(attr::Username, "overflow-user");
    b.add_xor_address(attr::XorPeerAddress, ep("[2001:db8::7]:7"));
    b.add_error_code(401);
    b.add_even_port(true);
    b.add_message_integrity(key);
    b.add_message_integrity_sha256(key);
    b.add_fingerprint();
  };
  std::array<uint8_t, 512> full{};
  Builder fb(full, Method::Allocate, Class::ErrorResponse, tid());
  fill(fb);
  auto want = fb.finish();
  ASSERT_TRUE(want.ok());
  const size_t n = want->size();

  constexpr uint8_t kCanary = 0xA5;
  for (size_t cap = 0; cap < n; ++cap) {
    std::vector<uint8_t> mem(cap + 64, kCanary);
    Builder b(MutableBytes(mem.data(), cap), Method::Allocate, Class::ErrorResponse, tid());
    fill(b);
    EXPECT_TRUE(b.overflow()) << cap;
    auto r = b.finish();
    ASSERT_FALSE(r.ok()) << cap;
    EXPECT_EQ(r.error(), Error::BufferTooSmall);
    for (size_t i = cap; i < mem.size(); ++i) ASSERT_EQ(mem[i], kCanary) << "wrote past " << cap << " at " << i;
  }
  std::vector<uint8_t> exact(n);
  Builder b(exact, Method::Allocate, Class::ErrorResponse, tid());
  fill(b);
  auto r = b.finish();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(b.overflow());
  EXPECT_EQ(copy(*r), copy(*want));
}

TEST(BuilderOverflow, AttributeLongerThan65535) {
  std::vector<uint8_t> mem(70000 + 64);
  std::vector<uint8_t> big(70000, 'x');
  Builder b(mem, Method::Send, Class::Indication, tid());
  b.add(attr::Data, Bytes(big));
  auto r = b.finish();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::BufferTooSmall);
}

TEST(BuilderOverflow, MessageBodyLongerThan65535) {
  // Each attribute fits its 16-bit length, but the message length field cannot hold the sum.
  std::vector<uint8_t> mem(140000);
  std::vector<uint8_t> v(40000, 'x');
  Builder b(mem, Method::Send, Class::Indication, tid());
  b.add(attr::Data, Bytes(v));
  b.add(attr::Data, Bytes(v));
  auto r = b.finish();
  ASSERT_FALSE(r.ok()) << "a message whose length field would wrap must not be produced";
  EXPECT_EQ(r.error(), Error::BufferTooSmall);
}

TEST(BuilderOverflow, LargestMessageRoundTrips) {
  // Body of 65532 bytes (the largest multiple of four): one DATA attribute of 65528 bytes.
  std::vector<uint8_t> mem(kMaxMessageSize);
  std::vector<uint8_t> v(65528, 0x5A);
  Builder b(mem, Method::Send, Class::Indication, tid());
  b.add(attr::Data, Bytes(v));
  auto r = b.finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 20u + 65532u);
  auto m = parse(*r);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->find(attr::Data)->value.size(), 65528u);
}

TEST(BuilderOverflow, AttributeOffsetsPast65535) {
  // Over TCP a message reaches 65552 bytes: an attribute can start past offset 65535 (found by
  // fuzz_stun: the offset used to be 16 bits and wrapped).
  std::vector<uint8_t> mem(kMaxMessageSize);
  std::vector<uint8_t> v(65516, 0x11);
  Builder b(mem, Method::Send, Class::Indication, tid());
  b.add(attr::Data, Bytes(v));
  b.add_u32(attr::Lifetime, 77);
  auto r = b.finish();
  ASSERT_TRUE(r.ok());
  auto m = parse(*r);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->attributes().size(), 2u);
  const Attribute& last = m->attributes()[1];
  EXPECT_EQ(last.offset, 65540u);
  EXPECT_EQ(last.value.data(), r->data() + last.offset + 4);
  EXPECT_EQ(m->u32(attr::Lifetime), 77u);
}

}  // namespace
}  // namespace stun
