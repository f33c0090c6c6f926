// The TURN Allocate client against a scripted server: the long-term credential exchange of
// RFC 8489 §9.2 with MESSAGE-INTEGRITY checked here independently, retransmission timing, 401 for
// a refused (e.g. expired) credential, 438 retry, and the LIFETIME 0 release.
#include "wic/turn_client.hpp"

#include <gtest/gtest.h>

#include "crypto/hash.hpp"
#include "stun/message.hpp"

namespace wic {
namespace {

using namespace std::chrono_literals;

base::SteadyTime at_ms(int64_t ms) { return base::SteadyTime(std::chrono::milliseconds(1000000 + ms)); }

struct Server {
  std::string realm = "ims.example.org";
  std::string nonce = "nonce-1";
  std::vector<uint8_t> key(const std::string& user, const std::string& pw) const {
    auto k = crypto::md5(crypto::view(user + ":" + realm + ":" + pw));
    return {k.begin(), k.end()};
  }
  static stun::Message parse(const std::vector<uint8_t>& d) {
    auto m = stun::parse(d);
    EXPECT_TRUE(m.ok());
    return m.ok() ? *m : stun::Message{};
  }
  template <class F>
  std::vector<uint8_t> respond(const stun::Message& req, stun::Class cls, F&& add) {
    std::vector<uint8_t> buf(1500);
    stun::Builder b(buf, req.method(), cls, req.transaction_id());
    add(b);
    auto r = b.finish();
    EXPECT_TRUE(r.ok());
    return {r->begin(), r->end()};
  }
  std::vector<uint8_t> challenge(const stun::Message& req, int code = 401) {
    return respond(req, stun::Class::ErrorResponse, [&](stun::Builder& b) {
      b.add_error_code(code);
      b.add(stun::attr::Realm, realm);
      b.add(stun::attr::Nonce, nonce);
    });
  }
};

TurnClientConfig config() {
  TurnClientConfig c;
  c.username = "q3X7pd0YF8c1b2gH0aZ_4w:1700086400";
  c.password = "kq0Jc6CN2Hc0yYt+vFrR/AbCd1E=";
  return c;
}

TEST(TurnAllocateClient, LongTermCredentialExchangeAndRelease) {
  base::SeededRandom rnd(3);
  Server srv;
  TurnAllocateClient c(config(), rnd);
  auto first_bytes = c.start(at_ms(0));
  auto first = Server::parse(first_bytes);
  EXPECT_EQ(first.method(), stun::Method::Allocate);
  EXPECT_EQ(first.cls(), stun::Class::Request);
  EXPECT_TRUE(first.has(stun::attr::RequestedTransport));
  EXPECT_FALSE(first.message_integrity());
  EXPECT_FALSE(first.has(stun::attr::Username));

  auto second_bytes = c.on_datagram(srv.challenge(first), at_ms(10));
  ASSERT_FALSE(second_bytes.empty());
  auto second = Server::parse(second_bytes);
  EXPECT_NE(second.transaction_id(), first.transaction_id());
  EXPECT_EQ(second.string(stun::attr::Username).value_or(""), config().username);
  EXPECT_EQ(second.string(stun::attr::Realm).value_or(""), srv.realm);
  EXPECT_EQ(second.string(stun::attr::Nonce).value_or(""), srv.nonce);
  auto key = srv.key(config().username, config().password);
  EXPECT_TRUE(stun::verify_message_integrity(second, key));
  EXPECT_TRUE(second.has_fingerprint());

  base::Endpoint relayed = *base::Endpoint::parse("192.0.2.10:49170");
  base::Endpoint mapped = *base::Endpoint::parse("203.0.113.5:40000");
  auto ok = srv.respond(second, stun::Class::SuccessResponse, [&](stun::Builder& b) {
    b.add_xor_address(stun::attr::XorRelayedAddress, relayed);
    b.add_xor_address(stun::attr::XorMappedAddress, mapped);
    b.add_u32(stun::attr::Lifetime, 600);
    b.add_message_integrity(key);
  });
  // A success with a wrong MESSAGE-INTEGRITY is ignored (RFC 8489 §9.2.5).
  auto forged = srv.respond(second, stun::Class::SuccessResponse, [&](stun::Builder& b) {
    b.add_xor_address(stun::attr::XorRelayedAddress, relayed);
    b.add_message_integrity(srv.key("mallory", "x"));
  });
  EXPECT_TRUE(c.on_datagram(forged, at_ms(15)).empty());
  EXPECT_EQ(c.state(), TurnAllocateClient::State::Allocating);
  EXPECT_TRUE(c.on_datagram(ok, at_ms(20)).empty());
  EXPECT_EQ(c.state(), TurnAllocateClient::State::Allocated);
  EXPECT_EQ(c.relayed(), relayed);
  EXPECT_EQ(c.mapped(), mapped);
  EXPECT_EQ(c.lifetime(), 600u);
  EXPECT_FALSE(c.next_deadline());

  auto refresh_bytes = c.release(at_ms(30));
  auto refresh = Server::parse(refresh_bytes);
  EXPECT_EQ(refresh.method(), stun::Method::Refresh);
  EXPECT_EQ(refresh.u32(stun::attr::Lifetime).value_or(99), 0u);
  EXPECT_TRUE(stun::verify_message_integrity(refresh, key));
  // 438: the release is retried with the new nonce.
  srv.nonce = "nonce-2";
  auto again_bytes = c.on_datagram(srv.challenge(refresh, 438), at_ms(40));
  auto again = Server::parse(again_bytes);
  EXPECT_EQ(again.string(stun::attr::Nonce).value_or(""), "nonce-2");
  c.on_datagram(srv.respond(again, stun::Class::SuccessResponse, [&](stun::Builder& b) { b.add_message_integrity(key); }),
                at_ms(50));
  EXPECT_EQ(c.state(), TurnAllocateClient::State::Released);
}

TEST(TurnAllocateClient, OAuthTokenSentWithKidAndKeyedWithMacKey) {
  base::SeededRandom rnd(4);
  Server srv;
  TurnClientConfig cfg;
  cfg.username = "north";  // the kid
  cfg.access_token = {0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xAB, 0xCD};
  cfg.mac_key = std::vector<uint8_t>(20, 0x5A);
  TurnAllocateClient c(cfg, rnd);
  auto first_bytes = c.start(at_ms(0));  // (a Message points into its bytes: keep them)
  auto first = Server::parse(first_bytes);
  EXPECT_FALSE(first.has(stun::attr::AccessToken));  // not before the server asked for credentials
  auto second_bytes = c.on_datagram(srv.challenge(first), at_ms(10));
  auto second = Server::parse(second_bytes);
  EXPECT_EQ(second.string(stun::attr::Username).value_or(""), "north");
  const stun::Attribute* tok = second.find(stun::attr::AccessToken);
  ASSERT_TRUE(tok);
  EXPECT_EQ(std::vector<uint8_t>(tok->value.begin(), tok->value.end()), cfg.access_token);
  EXPECT_TRUE(stun::verify_message_integrity(second, cfg.mac_key));
  EXPECT_FALSE(stun::verify_message_integrity(second, srv.key("north", "")));
  c.on_datagram(srv.respond(second, stun::Class::SuccessResponse, [&](stun::Builder& b) {
    b.add_xor_address(stun::attr::XorRelayedAddress, *base::Endpoint::parse("192.0.2.10:49170"));
    b.add_message_integrity(cfg.mac_key);
  }), at_ms(20));
  EXPECT_EQ(c.state(), TurnAllocateClient::State::Allocated);
  auto refresh_bytes = c.release(at_ms(30));
  auto refresh = Server::parse(refresh_bytes);
  EXPECT_TRUE(refresh.has(stun::attr::AccessToken));
  EXPECT_TRUE(stun::verify_message_integrity(refresh, cfg.mac_key));
}

TEST(TurnAllocateClient, RefusedCredentialIs401) {
  base::SeededRandom rnd(4);
  Server srv;
  TurnAllocateClient c(config(), rnd);
  auto first_bytes = c.start(at_ms(0));
  auto first = Server::parse(first_bytes);
  auto second_bytes = c.on_datagram(srv.challenge(first), at_ms(1));
  auto second = Server::parse(second_bytes);
  EXPECT_TRUE(c.on_datagram(srv.challenge(second), at_ms(2)).empty());  // e.g. Texp in the past
  EXPECT_EQ(c.state(), TurnAllocateClient::State::Failed);
  EXPECT_EQ(c.error_code(), 401);
  EXPECT_TRUE(c.done());
}

TEST(TurnAllocateClient, OtherErrorsFailWithTheirCode) {
  base::SeededRandom rnd(5);
  Server srv;
  TurnAllocateClient c(config(), rnd);
  auto first_bytes = c.start(at_ms(0));
  auto first = Server::parse(first_bytes);
  auto second_bytes = c.on_datagram(srv.challenge(first), at_ms(1));
  auto second = Server::parse(second_bytes);
  c.on_datagram(srv.respond(second, stun::Class::ErrorResponse, [](stun::Builder& b) { b.add_error_code(486); }), at_ms(2));
  EXPECT_EQ(c.error_code(), 486);
  EXPECT_FALSE(c.error_reason().empty());
}

TEST(TurnAllocateClient, RetransmitsThenGivesUp) {
  base::SeededRandom rnd(6);
  TurnAllocateClient c(config(), rnd);
  auto first = c.start(at_ms(0));
  // RFC 8489 §6.2.1: 0, 500, 1500, 3500, 7500, 15500, 31500 ms; failure at 39500 ms.
  int64_t expected[] = {500, 1500, 3500, 7500, 15500, 31500};
  for (int64_t t : expected) {
    ASSERT_TRUE(c.next_deadline());
    EXPECT_EQ(*c.next_deadline(), at_ms(t));
    EXPECT_TRUE(c.on_timer(at_ms(t - 1)).empty());
    EXPECT_EQ(c.on_timer(at_ms(t)), first);
  }
  EXPECT_EQ(*c.next_deadline(), at_ms(39500));
  EXPECT_TRUE(c.on_timer(at_ms(39500)).empty());
  EXPECT_EQ(c.state(), TurnAllocateClient::State::Failed);
  EXPECT_EQ(c.error_code(), 0);
}

TEST(TurnAllocateClient, IgnoresUnrelatedDatagrams) {
  base::SeededRandom rnd(7);
  Server srv;
  TurnAllocateClient c(config(), rnd);
  c.start(at_ms(0));
  std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_TRUE(c.on_datagram(junk, at_ms(1)).empty());
  std::vector<uint8_t> buf(100);
  stun::TransactionId other{};
  stun::Builder b(buf, stun::Method::Allocate, stun::Class::ErrorResponse, other);
  b.add_error_code(401);
  auto wrong = b.finish();
  EXPECT_TRUE(c.on_datagram(*wrong, at_ms(2)).empty());
  EXPECT_EQ(c.state(), TurnAllocateClient::State::Allocating);
}

}  // namespace
}  // namespace wic
