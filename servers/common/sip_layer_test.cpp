// The SIP transport layer in sip::Hop terms: what the proxies' logic gets for a message, a closed
// connection and an undelivered message, and that a Hop it was given routes the answer back.
#include "common/sip_layer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <vector>

#include "sip/test_support.hpp"

namespace {

using namespace std::chrono_literals;

// A REGISTER as JsSIP sends it, as transaction `cseq`.
sip::Message register_request(int cseq) {
  auto m = sip::parse_message(sip::test::kJsSipRegister);
  EXPECT_TRUE(m.ok());
  if (!m.ok()) return sip::Message();
  m->set(sip::HeaderId::CSeq, std::to_string(cseq) + " REGISTER");
  return std::move(m).value();
}

struct SipLayerTest : ::testing::Test {
  SipLayerTest() {
    layer = servers::open_sip_layer(
        io, {"tcp://127.0.0.1:0"},
        {[this](const sip::Hop& from, sip::Message m) { messages.push_back({from, std::move(m)}); },
         [this](uint64_t flow) { closed.push_back(flow); },
         [this](const sip::Message& m) { undelivered.push_back(m); }},
        nullptr, nullptr, false);
    listener = *layer->local_endpoint(net::SipTransport::Tcp);
  }
  // Runs the io_context until `done` or five seconds have passed.
  template <class F>
  bool run_until(F done) {
    auto end = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < end) io.run_one_for(50ms);
    return done();
  }

  boost::asio::io_context io;
  std::unique_ptr<net::SipTransportLayer> layer;
  base::Endpoint listener;
  std::vector<std::pair<sip::Hop, sip::Message>> messages;
  std::vector<uint64_t> closed;
  std::vector<sip::Message> undelivered;
};

TEST(SipLayer, TransportOfViaNames) {
  EXPECT_EQ(servers::transport_of("TCP"), net::SipTransport::Tcp);
  EXPECT_EQ(servers::transport_of("TLS"), net::SipTransport::Tls);
  EXPECT_EQ(servers::transport_of("UDP"), net::SipTransport::Udp);
  EXPECT_EQ(servers::transport_of("WSS"), net::SipTransport::Udp);
}

TEST(SipLayer, PeerOfAHop) {
  auto peer = servers::peer_of({"TLS", *base::Endpoint::parse("192.0.2.9:5061"), 7});
  EXPECT_EQ(peer.transport, net::SipTransport::Tls);
  EXPECT_EQ(peer.remote.to_string(), "192.0.2.9:5061");
  EXPECT_EQ(peer.connection, 7u);
}

TEST_F(SipLayerTest, MessageComesAsAHopTheAnswerGoesBackOnAndTheCloseNamesItsFlow) {
  std::vector<sip::Message> at_peer;
  std::vector<net::SipPeer> peer_closed;
  net::SipTransportLayer peer(
      io, {"tcp://127.0.0.1:0"}, [&](const net::SipPeer&, sip::Message m) { at_peer.push_back(std::move(m)); },
      [&](const net::SipPeer& p) { peer_closed.push_back(p); });
  ASSERT_TRUE(peer.send({net::SipTransport::Tcp, listener, {}, 0}, register_request(1)));
  ASSERT_TRUE(run_until([&] { return !messages.empty(); }));
  const sip::Hop& from = messages[0].first;
  EXPECT_EQ(from.transport, "TCP");
  EXPECT_EQ(from.remote.addr.to_string(), "127.0.0.1");
  EXPECT_NE(from.flow, 0u);
  EXPECT_EQ(messages[0].second.cseq()->number, 1u);

  ASSERT_TRUE(layer->send(servers::peer_of(from), sip::make_response(messages[0].second, 200)));
  ASSERT_TRUE(run_until([&] { return !at_peer.empty(); }));
  EXPECT_EQ(at_peer[0].status(), 200);

  peer.close();
  ASSERT_TRUE(run_until([&] { return !closed.empty(); }));
  EXPECT_EQ(closed, std::vector<uint64_t>{from.flow});
  EXPECT_TRUE(undelivered.empty());
}

TEST_F(SipLayerTest, MessagesForAConnectionThatNeverCameUpComeBackParsed) {
  // A port nobody listens on: bind one, note it, close it.
  uint16_t port;
  {
    boost::asio::ip::tcp::acceptor acc(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = acc.local_endpoint().port();
  }
  sip::Hop dead{"TCP", {*base::IpAddress::parse("127.0.0.1"), port}, 0};
  ASSERT_TRUE(layer->send(servers::peer_of(dead), register_request(1)));
  ASSERT_TRUE(layer->send(servers::peer_of(dead), register_request(2)));
  ASSERT_TRUE(run_until([&] { return undelivered.size() >= 2; }));
  ASSERT_EQ(undelivered.size(), 2u);
  EXPECT_EQ(undelivered[0].cseq()->number, 1u);
  EXPECT_EQ(undelivered[1].cseq()->number, 2u);
  EXPECT_TRUE(messages.empty());
}

}  // namespace
