#include "stun/attributes.hpp"

#include <gtest/gtest.h>

using namespace stun;

namespace {
// Builds a message with the given adders and returns the value of `type` after a parse.
struct Built {
  std::vector<uint8_t> buf = std::vector<uint8_t>(512);
  std::optional<Message> msg;
  Bytes value(uint16_t type) { return msg->find(type)->value; }
};
template <class F>
Built build(F&& f) {
  Built b;
  TransactionId tid{1, 2, 3};
  Builder bl(b.buf, Method::Allocate, Class::Request, tid);
  f(bl);
  auto out = bl.finish();
  EXPECT_TRUE(out.ok());
  auto m = parse(*out);
  EXPECT_TRUE(m.ok());
  b.msg = *m;
  return b;
}
}  // namespace

TEST(Attributes, TurnNumbersRoundTrip) {
  auto b = build([](Builder& x) {
    x.add_channel_number(0x4ABC);
    x.add_requested_transport(kProtocolUdp);
    x.add_address_family(attr::RequestedAddressFamily, kFamilyV6);
    x.add_even_port(true);
    uint8_t t[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    x.add(attr::ReservationToken, Bytes(t, 8));
  });
  EXPECT_EQ(decode_channel_number(b.value(attr::ChannelNumber)), 0x4ABC);
  EXPECT_EQ(decode_requested_transport(b.value(attr::RequestedTransport)), 17);
  EXPECT_EQ(decode_address_family(b.value(attr::RequestedAddressFamily)), kFamilyV6);
  EXPECT_EQ(decode_even_port(b.value(attr::EvenPort)), true);
  EXPECT_EQ(decode_reservation_token(b.value(attr::ReservationToken)), 0x0102030405060708ull);
}

TEST(Attributes, MalformedNumbers) {
  uint8_t three[3] = {};
  EXPECT_FALSE(decode_channel_number(Bytes(three, 3)));
  EXPECT_FALSE(decode_requested_transport(Bytes(three, 3)));
  EXPECT_FALSE(decode_address_family(Bytes(three, 3)));
  EXPECT_FALSE(decode_even_port(Bytes(three, 3)));
  EXPECT_FALSE(decode_even_port(Bytes()));
  EXPECT_FALSE(decode_reservation_token(Bytes(three, 3)));
}

TEST(Attributes, AddressErrorCode) {
  auto b = build([](Builder& x) { x.add_address_error_code(kFamilyV6, 440); });
  auto e = decode_address_error_code(b.value(attr::AddressErrorCode));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->family, kFamilyV6);
  EXPECT_EQ(e->code, 440);
  EXPECT_EQ(e->reason, "Address Family not Supported");
  uint8_t bad[4] = {2, 0, 7, 0};  // class 7
  EXPECT_FALSE(decode_address_error_code(Bytes(bad, 4)));
}

TEST(Attributes, Icmp) {
  auto b = build([](Builder& x) { add_icmp(x, {3, 4, 1280}); });
  auto i = decode_icmp(b.value(attr::Icmp));
  ASSERT_TRUE(i);
  EXPECT_EQ(i->type, 3);
  EXPECT_EQ(i->code, 4);
  EXPECT_EQ(i->error_data, 1280u);
}

TEST(Attributes, PasswordAlgorithms) {
  auto b = build([](Builder& x) {
    uint16_t algs[] = {password_algorithm::Md5, password_algorithm::Sha256};
    x.add_password_algorithms(algs);
    x.add_password_algorithm(password_algorithm::Sha256);
  });
  auto list = decode_password_algorithms(b.value(attr::PasswordAlgorithms));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].algorithm, password_algorithm::Sha256);
  EXPECT_TRUE((*list)[1].parameters.empty());
  EXPECT_EQ(decode_password_algorithm(b.value(attr::PasswordAlgorithm))->algorithm, password_algorithm::Sha256);
  // With parameters (padded to four), and truncated.
  uint8_t with[12] = {0, 9, 0, 3, 'a', 'b', 'c', 0, 0, 1, 0, 0};
  auto p = decode_password_algorithms(Bytes(with, 12));
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ(base::as_string_view((*p)[0].parameters), "abc");
  EXPECT_EQ((*p)[1].algorithm, 1);
  uint8_t trunc[6] = {0, 1, 0, 8, 1, 2};
  EXPECT_FALSE(decode_password_algorithms(Bytes(trunc, 6)));
  EXPECT_FALSE(decode_password_algorithm(Bytes(trunc, 6)));
  EXPECT_FALSE(decode_password_algorithms(Bytes(trunc, 3)));
}

TEST(Attributes, AccessToken) {
  uint8_t nonce[12] = {0xAA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  uint8_t block[40];
  for (int i = 0; i < 40; ++i) block[i] = uint8_t(i);
  auto b = build([&](Builder& x) { add_access_token(x, Bytes(nonce, 12), Bytes(block, 40)); });
  auto t = decode_access_token(b.value(attr::AccessToken));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->nonce.size(), 12u);
  EXPECT_EQ(t->nonce[0], 0xAA);
  EXPECT_EQ(t->encrypted_block.size(), 40u);
  EXPECT_EQ(t->encrypted_block[39], 39);
  uint8_t bad[4] = {0, 9, 1, 2};  // nonce longer than the value
  EXPECT_FALSE(decode_access_token(Bytes(bad, 4)));
  EXPECT_FALSE(decode_access_token(Bytes(bad, 1)));
}

TEST(Attributes, ThirdPartyAuthorizationIsAServerName) {
  auto b = build([](Builder& x) { x.add(attr::ThirdPartyAuthorization, "https://waf.example.org"); });
  EXPECT_EQ(b.msg->string(attr::ThirdPartyAuthorization), "https://waf.example.org");
}
