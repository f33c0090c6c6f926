// ProxyCore driven through whole SIP exchanges: fake UAs and two proxies on a fake network that
// serializes and re-parses every message (what goes between nodes is wire text), with a fake clock.
#include "sip/proxy.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>

#include "sip/test_support.hpp"

using namespace sip;
using sip::test::crlf;

namespace {

base::Endpoint ep(const char* s) { return *base::Endpoint::parse(s); }

struct Net;

struct Node {
  Node(Net& n, base::Endpoint e) : net(n), addr(e) {}
  virtual ~Node() = default;
  virtual void receive(const Hop& from, Message m) = 0;
  void send_to(const Hop& to, const Message& m);
  Net& net;
  base::Endpoint addr;
};

struct Packet {
  base::Endpoint from;
  Hop to;
  std::string bytes;
};

struct Net {
  std::deque<Packet> queue;
  std::map<base::Endpoint, Node*, bool (*)(const base::Endpoint&, const base::Endpoint&)> nodes{
      [](const base::Endpoint& a, const base::Endpoint& b) { return a.to_string() < b.to_string(); }};
  base::SteadyTime t0 = base::SteadyTime{} + std::chrono::hours(1);
  base::Now now{t0, 1'900'000'000};
  std::function<bool(const Packet&)> drop;  // true: lose this packet
  std::vector<Packet> log;
  std::vector<std::function<void()>> timers;  // proxies' on_timer
  std::vector<std::function<std::optional<base::SteadyTime>()>> next;

  void deliver() {
    while (!queue.empty()) {
      Packet p = std::move(queue.front());
      queue.pop_front();
      log.push_back(p);
      if (drop && drop(p)) continue;
      auto it = nodes.find(p.to.remote);
      ASSERT_NE(it, nodes.end()) << "nobody at " << p.to.remote.to_string();
      auto m = parse_message(std::string_view(p.bytes));
      ASSERT_TRUE(m) << p.bytes;
      it->second->receive(Hop{p.to.transport, p.from, p.to.flow}, std::move(*m));
    }
  }
  // Delivers, then runs timers in order until `d` has passed.
  void advance(base::Millis d) {
    deliver();
    auto end = now.steady + d;
    for (;;) {
      std::optional<base::SteadyTime> soonest;
      for (auto& n : next)
        if (auto t = n(); t && (!soonest || *t < *soonest)) soonest = t;
      if (!soonest || *soonest > end) break;
      if (*soonest > now.steady) {
        now.unix_s += std::chrono::duration_cast<std::chrono::seconds>(*soonest - now.steady).count();
        now.steady = *soonest;
      }
      for (auto& t : timers) t();
      deliver();
    }
    now.unix_s += std::chrono::duration_cast<std::chrono::seconds>(end - now.steady).count();
    now.steady = end;
    for (auto& t : timers) t();
    deliver();
  }
};

void Node::send_to(const Hop& to, const Message& m) { net.queue.push_back({addr, to, m.to_string()}); }

// A user agent the test scripts: it keeps what it receives.
struct Ua : Node {
  Ua(Net& n, const char* e) : Node(n, ep(e)) { n.nodes[addr] = this; }
  void receive(const Hop& from, Message m) override {
    inbox.push_back({from, std::move(m)});
    if (auto_answer && inbox.back().second.is_request()) auto_answer(inbox.back().first, inbox.back().second);
  }
  std::vector<const Message*> requests(std::string_view method) const {
    std::vector<const Message*> out;
    for (auto& [h, m] : inbox)
      if (m.is_request() && m.method() == method) out.push_back(&m);
    return out;
  }
  std::vector<int> statuses() const {
    std::vector<int> out;
    for (auto& [h, m] : inbox)
      if (m.is_response()) out.push_back(m.status());
    return out;
  }
  void answer(const Message& req, int status, std::string_view tag = "uas") {
    Message r = make_response(req, status, {}, tag);
    send_to(last_from(req), r);
  }
  Hop last_from(const Message& req) const {
    for (auto& [h, m] : inbox)
      if (&m == &req) return h;
    return {};
  }
  std::deque<std::pair<Hop, Message>> inbox;
  std::function<void(const Hop&, const Message&)> auto_answer;
};

// A proxy: on_message, then `route` decides for new requests (default: forward to `next`).
struct Proxy : Node, ProxyUser {
  Proxy(Net& n, const char* e, base::Random& r, ProxyConfig cfg = {})
      : Node(n, ep(e)), core(with_name(std::move(cfg), e), *this, r) {
    n.nodes[addr] = this;
    n.timers.push_back([this] { core.on_timer(net.now); });
    n.next.push_back([this] { return core.next_timer(); });
  }
  static ProxyConfig with_name(ProxyConfig c, const char* e) {
    c.default_sent_by = e;
    return c;
  }
  bool send(const Hop& to, const Message& m) override {
    if (unreachable && to.remote == *unreachable) return false;
    send_to(to, m);
    return true;
  }
  std::optional<base::Endpoint> unreachable;  // sends there fail at once, as with no route
  void on_response(const ForwardContext& ctx, Message& r) override {
    seen_responses.push_back(r.status());
    if (stamp) r.append("X-Seen-By", addr.to_string());
  }
  void receive(const Hop& from, Message m) override {
    if (core.on_message(from, m, net.now) != ProxyCore::Inbound::Request) return;
    ++new_requests;
    if (route) {
      route(from, m);
      return;
    }
    core.preprocess_route(m);
    core.forward(from, std::move(m), next, net.now);
  }
  ProxyCore core;
  Hop next;
  std::function<void(const Hop&, Message&)> route;
  std::vector<int> seen_responses;
  bool stamp = false;
  int new_requests = 0;
};

Message parse(const std::string& s) {
  auto m = parse_message(std::string_view(s));
  EXPECT_TRUE(m) << s;
  return m ? std::move(*m) : Message();
}

std::string request(std::string_view method, std::string_view branch, std::string_view extra = "",
                    std::string_view via_host = "10.0.0.1:5060", uint32_t cseq = 1) {
  return crlf(std::string(method) + " sip:bob@10.0.0.2:5060 SIP/2.0\n" + "Via: SIP/2.0/UDP " + std::string(via_host) +
              ";branch=" + std::string(branch) + "\n" +
              "Max-Forwards: 70\n"
              "From: <sip:alice@example.org>;tag=a1\n"
              "To: <sip:bob@example.org>\n"
              "Call-ID: call-1@10.0.0.1\n"
              "CSeq: " +
              std::to_string(cseq) + " " + std::string(method) + "\n" + std::string(extra) + "Content-Length: 0\n\n");
}

// UA A (10.0.0.1) -> P1 (10.0.0.10) -> P2 (10.0.0.20) -> UA B (10.0.0.2)
struct Chain : ::testing::Test {
  base::SeededRandom rnd{7};
  Net net;
  Ua a{net, "10.0.0.1:5060"};
  Ua b{net, "10.0.0.2:5060"};
  Proxy p1{net, "10.0.0.10:5060", rnd};
  Proxy p2{net, "10.0.0.20:5060", rnd};
  Chain() {
    p1.next = Hop{"UDP", ep("10.0.0.20:5060"), 0};
    p2.next = Hop{"UDP", ep("10.0.0.2:5060"), 0};
  }
  void a_sends(const std::string& text) {
    a.send_to(Hop{"UDP", ep("10.0.0.10:5060"), 0}, parse(text));
    net.deliver();
  }
};

TEST_F(Chain, RegisterAnsweredByTheSecondProxy) {
  p2.route = [&](const Hop& from, Message& m) { p2.core.respond(from, m, 200, {}, {{"Expires", "600"}}); };
  a_sends(request("REGISTER", "z9hG4bKreg1"));
  ASSERT_EQ(a.statuses(), std::vector<int>{200});
  const Message& r = a.inbox.back().second;
  EXPECT_EQ(r.count(HeaderId::Via), 1u);  // P1's Via popped, only A's left
  EXPECT_EQ(r.top_via()->branch, "z9hG4bKreg1");
  EXPECT_FALSE(r.to()->tag().empty());
  EXPECT_EQ(r.get("Expires"), "600");
  EXPECT_TRUE(b.inbox.empty());
  EXPECT_EQ(p1.seen_responses, std::vector<int>{200});
}

TEST_F(Chain, ViaStampsAndMaxForwards) {
  Message seen;
  p2.route = [&](const Hop& from, Message& m) {
    seen = m;
    p2.core.respond(from, m, 200);
  };
  // A says it is a.invalid and asks for rport (RFC 3581).
  a_sends(request("OPTIONS", "z9hG4bKopt1", "", "a.invalid;rport"));
  auto vias = seen.vias();
  ASSERT_TRUE(vias);
  ASSERT_EQ(vias->size(), 2u);
  EXPECT_EQ((*vias)[0].host, "10.0.0.10");  // P1's
  EXPECT_TRUE((*vias)[0].rfc3261_branch());
  EXPECT_EQ((*vias)[0].received, "");       // P1 sent from the address it put in Via
  EXPECT_EQ((*vias)[1].received, "10.0.0.1");
  EXPECT_EQ((*vias)[1].rport_value, 5060);
  EXPECT_EQ(seen.max_forwards().value(), 69u);
  ASSERT_EQ(a.statuses(), std::vector<int>{200});
  EXPECT_EQ(a.inbox.back().second.top_via()->received, "10.0.0.1");
}

TEST(ProxyHelpers, StampVia) {
  Message m = parse(request("MESSAGE", "z9hG4bKx", "", "10.0.0.1:5060;rport;foo=\"a b\""));
  ASSERT_TRUE(ProxyCore::stamp_via(m, ep("192.0.2.7:4000")));
  EXPECT_EQ(m.get(HeaderId::Via), "SIP/2.0/UDP 10.0.0.1:5060;foo=\"a b\";branch=z9hG4bKx;received=192.0.2.7;rport=4000");
  // Same address, no rport: untouched (RFC 3261 §18.2.1).
  Message n = parse(request("MESSAGE", "z9hG4bKy"));
  ASSERT_TRUE(ProxyCore::stamp_via(n, ep("10.0.0.1:7000")));
  EXPECT_EQ(n.get(HeaderId::Via), "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKy");
  // A forged received is replaced; later elements of the same field stay.
  Message o = parse(crlf("OPTIONS sip:x@y SIP/2.0\nVia: SIP/2.0/TCP h.example;received=1.1.1.1;branch=z9hG4bKz, "
                         "SIP/2.0/UDP other;branch=z9hG4bKw\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: c\n"
                         "CSeq: 1 OPTIONS\nMax-Forwards: 70\n\n"));
  ASSERT_TRUE(ProxyCore::stamp_via(o, ep("[2001:db8::1]:5060")));
  EXPECT_EQ(o.get(HeaderId::Via), "SIP/2.0/TCP h.example;branch=z9hG4bKz;received=2001:db8::1, SIP/2.0/UDP other;branch=z9hG4bKw");
}

TEST(ProxyHelpers, HopsFromUrisAndVias) {
  auto hop = [](const char* u) { return ProxyCore::hop_for_uri(*parse_uri(u)); };
  EXPECT_EQ(hop("sip:10.1.2.3")->to_string(), "UDP 10.1.2.3:5060");
  EXPECT_EQ(hop("sip:x@10.1.2.3:5070;transport=tcp;lr")->to_string(), "TCP 10.1.2.3:5070");
  EXPECT_EQ(hop("sips:[2001:db8::2]")->to_string(), "TLS [2001:db8::2]:5061");
  EXPECT_EQ(hop("sip:127.0.0.1;transport=ws")->to_string(), "WS 127.0.0.1:80");
  EXPECT_FALSE(hop("sip:pcscf.example.org"));
  EXPECT_FALSE(hop("tel:+123"));
  EXPECT_FALSE(hop("sip:1.2.3.4;transport=sctp"));
  auto via = parse_via("SIP/2.0/tcp h.invalid;branch=z9hG4bK1;received=192.0.2.1;rport=3456");
  EXPECT_EQ(ProxyCore::hop_for_via(*via)->to_string(), "TCP 192.0.2.1:3456");
  EXPECT_FALSE(ProxyCore::hop_for_via(*parse_via("SIP/2.0/UDP h.invalid;branch=z9hG4bK1")));
}

TEST(ProxyHelpers, LooseAndStrictRouting) {
  struct Sink : ProxyUser {
    bool send(const Hop&, const Message&) override { return true; }
  } sink;
  base::SeededRandom r(1);
  ProxyConfig cfg;
  cfg.sent_by = {{"TCP", "10.0.0.10:5060"}};
  cfg.local_names = {"core.example.org"};
  ProxyCore core(cfg, sink, r);
  EXPECT_TRUE(core.is_local(*parse_uri("sip:10.0.0.10;transport=tcp")));
  EXPECT_TRUE(core.is_local(*parse_uri("sip:orig@CORE.example.org:7777;lr")));
  EXPECT_FALSE(core.is_local(*parse_uri("sip:10.0.0.10:5070")));
  // Loose: our Route on top is popped, the next stays, the Request-URI is untouched.
  Message m = parse(request("BYE", "z9hG4bK1", "Route: <sip:orig@10.0.0.10:5060;lr>, <sip:10.0.0.30;lr>\n"));
  auto rc = core.preprocess_route(m);
  EXPECT_EQ(rc.popped, "sip:orig@10.0.0.10:5060;lr");
  EXPECT_FALSE(rc.strict_route_fixed);
  EXPECT_EQ(m.get(HeaderId::Route), "<sip:10.0.0.30;lr>");
  EXPECT_EQ(m.request_uri(), "sip:bob@10.0.0.2:5060");
  // Strict router upstream: Request-URI is our lr URI; the real one is the last Route.
  Message s = parse(crlf("BYE sip:10.0.0.10:5060;lr SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\n"
                         "Route: <sip:10.0.0.30;lr>\nRoute: <sip:bob@10.0.0.2>\nFrom: <sip:a@b>;tag=1\n"
                         "To: <sip:c@d>;tag=2\nCall-ID: c\nCSeq: 2 BYE\nMax-Forwards: 70\n\n"));
  rc = core.preprocess_route(s);
  EXPECT_TRUE(rc.strict_route_fixed);
  EXPECT_EQ(s.request_uri(), "sip:bob@10.0.0.2");
  EXPECT_EQ(s.values(HeaderId::Route), std::vector<std::string_view>{"<sip:10.0.0.30;lr>"});
  // Nothing of ours: unchanged.
  Message n = parse(request("BYE", "z9hG4bK3", "Route: <sip:10.0.0.30;lr>\n"));
  rc = core.preprocess_route(n);
  EXPECT_FALSE(rc.popped);
  EXPECT_EQ(n.count(HeaderId::Route), 1u);
  ASSERT_TRUE(ProxyCore::add_record_route(n, "sip:10.0.0.10;lr"));
  ASSERT_TRUE(ProxyCore::add_path(n, "sip:tok@10.0.0.10;lr"));
  EXPECT_EQ(n.get(HeaderId::RecordRoute), "<sip:10.0.0.10;lr>");
  EXPECT_EQ(n.get(HeaderId::Path), "<sip:tok@10.0.0.10;lr>");
  EXPECT_FALSE(ProxyCore::add_path(n, "sip:x\r\nEvil: 1"));
}

TEST_F(Chain, MessageEndToEndAndRetransmissionAbsorbed) {
  p1.stamp = true;
  b.auto_answer = [&](const Hop&, const Message& m) { b.answer(m, 200); };
  std::string msg = request("MESSAGE", "z9hG4bKm1");
  a_sends(msg);
  ASSERT_EQ(b.requests("MESSAGE").size(), 1u);
  EXPECT_EQ(b.requests("MESSAGE")[0]->count(HeaderId::Via), 3u);
  EXPECT_EQ(b.requests("MESSAGE")[0]->max_forwards().value(), 68u);
  ASSERT_EQ(a.statuses(), std::vector<int>{200});
  EXPECT_EQ(a.inbox.back().second.get("X-Seen-By"), "10.0.0.10:5060");  // the owner's hook edits it
  // A did not hear the 200 (say) and sends the MESSAGE again: P1 answers from its transaction.
  a_sends(msg);
  EXPECT_EQ(a.statuses(), (std::vector<int>{200, 200}));
  EXPECT_EQ(b.requests("MESSAGE").size(), 1u);
  EXPECT_EQ(p1.core.stats().retransmissions_absorbed, 1u);
  EXPECT_EQ(p1.new_requests, 1);
  // After Timer J (64*T1 over UDP) everything is gone.
  net.advance(std::chrono::seconds(40));
  EXPECT_EQ(p1.core.transaction_count(), 0u);
  EXPECT_EQ(p2.core.transaction_count(), 0u);
}

TEST_F(Chain, InviteRingingOkAck) {
  a_sends(request("INVITE", "z9hG4bKi1", "Contact: <sip:alice@10.0.0.1>\n"));
  ASSERT_EQ(a.statuses(), std::vector<int>{100});  // P1's 100 Trying; P2's stays between the proxies
  ASSERT_EQ(b.requests("INVITE").size(), 1u);
  const Message& inv = *b.requests("INVITE")[0];
  b.answer(inv, 180);
  net.deliver();
  b.answer(inv, 200);
  net.deliver();
  EXPECT_EQ(a.statuses(), (std::vector<int>{100, 180, 200}));
  // ACK for the 2xx: a new transaction, end to end.
  a_sends(request("ACK", "z9hG4bKack1"));
  ASSERT_EQ(b.requests("ACK").size(), 1u);
  EXPECT_EQ(b.requests("ACK")[0]->top_via()->host, "10.0.0.20");
  // The 200 again (the UAS retransmits it until the ACK): still relayed (RFC 6026).
  b.answer(inv, 200);
  net.deliver();
  EXPECT_EQ(a.statuses(), (std::vector<int>{100, 180, 200, 200}));
  // INVITE retransmissions after the 2xx are absorbed.
  a_sends(request("INVITE", "z9hG4bKi1", "Contact: <sip:alice@10.0.0.1>\n"));
  EXPECT_EQ(b.requests("INVITE").size(), 1u);
  net.advance(std::chrono::seconds(40));
  EXPECT_EQ(p1.core.transaction_count(), 0u);
  EXPECT_EQ(p2.core.transaction_count(), 0u);
  // After that, a stray 2xx is still relayed statelessly from the Vias.
  b.answer(inv, 200);
  net.deliver();
  EXPECT_EQ(a.statuses().size(), 5u);
}

TEST_F(Chain, InviteCancel487) {
  a_sends(request("INVITE", "z9hG4bKi2"));
  ASSERT_EQ(b.requests("INVITE").size(), 1u);
  const Message& inv = *b.requests("INVITE")[0];
  b.answer(inv, 180);
  net.deliver();
  // A cancels: P1 answers 200 to the CANCEL and cancels downstream on the same branch.
  a_sends(request("CANCEL", "z9hG4bKi2", "", "10.0.0.1:5060", 1));
  ASSERT_EQ(b.requests("CANCEL").size(), 1u);
  const Message& cancel = *b.requests("CANCEL")[0];
  EXPECT_EQ(cancel.top_via()->branch, inv.top_via()->branch);
  EXPECT_EQ(cancel.cseq()->number, 1u);
  b.answer(cancel, 200);
  b.answer(inv, 487);
  net.deliver();
  EXPECT_EQ(a.statuses(), (std::vector<int>{100, 180, 200, 487}));
  // B got the hop-by-hop ACK for its 487 from P2 on the INVITE's branch; P1's ACK stopped at P2.
  ASSERT_EQ(b.requests("ACK").size(), 1u);
  EXPECT_EQ(b.requests("ACK")[0]->top_via()->branch, inv.top_via()->branch);
  EXPECT_EQ(b.requests("ACK")[0]->to()->tag(), "uas");
  // A's ACK is absorbed at P1 and no response is retransmitted afterwards.
  a_sends(request("ACK", "z9hG4bKi2"));
  EXPECT_EQ(b.requests("ACK").size(), 1u);
  net.advance(std::chrono::seconds(40));
  EXPECT_EQ(a.statuses().size(), 4u);
  EXPECT_EQ(p1.core.transaction_count(), 0u);
  EXPECT_EQ(p2.core.transaction_count(), 0u);
  // CANCEL for something unknown: 481.
  a_sends(request("CANCEL", "z9hG4bKnothing"));
  EXPECT_EQ(a.statuses().back(), 481);
}

TEST_F(Chain, CancelBeforeProvisionalWaitsForIt) {
  a_sends(request("INVITE", "z9hG4bKi3"));
  const Message& inv = *b.requests("INVITE")[0];
  // P2 answered 100 to P1, so P1 may cancel at once; P2 has heard nothing from B yet.
  a_sends(request("CANCEL", "z9hG4bKi3"));
  EXPECT_EQ(b.requests("CANCEL").size(), 0u);  // RFC 3261 §9.1: not before a provisional
  b.answer(inv, 100);
  net.deliver();
  ASSERT_EQ(b.requests("CANCEL").size(), 1u);
}

TEST_F(Chain, NonInviteTimeoutAndUdpRetransmissions) {
  a_sends(request("MESSAGE", "z9hG4bKm2"));
  net.advance(std::chrono::seconds(31));
  size_t copies = b.requests("MESSAGE").size();
  // Timer E: 0, 0.5, 1.5, 3.5, 7.5, then every T2 = 4 s until Timer F (32 s).
  EXPECT_GE(copies, 10u);
  EXPECT_TRUE(a.statuses().empty());
  net.advance(std::chrono::seconds(2));
  ASSERT_EQ(a.statuses(), std::vector<int>{408});
  net.advance(std::chrono::seconds(40));
  EXPECT_EQ(p1.core.transaction_count(), 0u);
  EXPECT_EQ(p2.core.transaction_count(), 0u);
}

TEST_F(Chain, InviteTimerCCancelsAnd408) {
  a_sends(request("INVITE", "z9hG4bKi4"));
  const Message& inv = *b.requests("INVITE")[0];
  b.answer(inv, 180);
  net.deliver();
  net.advance(std::chrono::seconds(170));
  EXPECT_EQ(b.requests("INVITE").size(), 1u);  // no retransmission after the provisional
  EXPECT_TRUE(b.requests("CANCEL").empty());
  net.advance(std::chrono::seconds(15));
  ASSERT_GE(b.requests("CANCEL").size(), 1u);  // Timer C at P2; B does not answer, so it is retransmitted
  auto st = a.statuses();
  ASSERT_GE(st.size(), 3u);
  EXPECT_EQ(std::vector<int>(st.begin(), st.begin() + 3), (std::vector<int>{100, 180, 408}));
  // Once B answers the CANCEL, it is not sent again.
  b.answer(*b.requests("CANCEL")[0], 200);
  net.deliver();
  size_t cancels = b.requests("CANCEL").size();
  net.advance(std::chrono::seconds(10));
  EXPECT_EQ(b.requests("CANCEL").size(), cancels);
}

TEST_F(Chain, InviteNoAnswerTimerB) {
  net.drop = [](const Packet& p) { return p.to.remote == ep("10.0.0.2:5060"); };
  a_sends(request("INVITE", "z9hG4bKi5"));
  net.advance(std::chrono::seconds(33));
  auto st = a.statuses();
  ASSERT_GE(st.size(), 2u);
  EXPECT_EQ(st[0], 100);
  for (size_t i = 1; i < st.size(); ++i) EXPECT_EQ(st[i], 408);  // Timer G repeats it until the ACK
  // A's ACK for the 408 is absorbed by P1 (and P2 absorbed P1's), and stops the repeats.
  a_sends(request("ACK", "z9hG4bKi5"));
  EXPECT_EQ(p1.new_requests, 1);
  size_t n = a.statuses().size();
  net.advance(std::chrono::seconds(10));
  EXPECT_EQ(a.statuses().size(), n);
}

TEST_F(Chain, LocalErrorToInviteRetransmittedUntilAck) {
  p1.route = [&](const Hop& from, Message& m) { p1.core.respond(from, m, 404); };
  a_sends(request("INVITE", "z9hG4bKi6"));
  net.advance(std::chrono::milliseconds(1600));  // Timer G: 0.5 s, 1 s
  EXPECT_EQ(a.statuses(), (std::vector<int>{404, 404, 404}));
  a_sends(request("ACK", "z9hG4bKi6"));
  net.advance(std::chrono::seconds(10));
  EXPECT_EQ(a.statuses().size(), 3u);
  EXPECT_EQ(p1.new_requests, 1);  // the ACK never reached the owner
  EXPECT_EQ(p1.core.transaction_count(), 0u);
}

TEST_F(Chain, MaxForwards) {
  std::string one = request("OPTIONS", "z9hG4bKo1");
  one.replace(one.find("Max-Forwards: 70"), 16, "Max-Forwards: 1");
  a_sends(one);
  EXPECT_EQ(a.statuses(), std::vector<int>{483});  // P1 sends 0 on, P2 refuses
  EXPECT_TRUE(b.inbox.empty());
  std::string zero = request("OPTIONS", "z9hG4bKo2");
  zero.replace(zero.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  a_sends(zero);
  EXPECT_EQ(a.statuses(), (std::vector<int>{483, 483}));
  EXPECT_EQ(p2.new_requests, 1);
}

TEST_F(Chain, MalformedRequestGets400) {
  a_sends(crlf("MESSAGE sip:bob@10.0.0.2 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKbad\n"
               "To: <sip:bob@example.org>\nCall-ID: c\nCSeq: 1 MESSAGE\n\n"));  // no From
  ASSERT_EQ(a.statuses(), std::vector<int>{400});
  EXPECT_TRUE(a.inbox.back().second.get(HeaderId::Warning));
  EXPECT_EQ(p1.new_requests, 0);
}

TEST_F(Chain, ForkingBestResponseAndCancelOnSuccess) {
  Ua c(net, "10.0.0.3:5060");
  p2.route = [&](const Hop& from, Message& m) {
    std::vector<ProxyCore::Target> t;
    t.push_back({Hop{"UDP", ep("10.0.0.2:5060"), 0}, m});
    t.push_back({Hop{"UDP", ep("10.0.0.3:5060"), 0}, m});
    p2.core.forward(from, std::move(t), net.now);
  };
  // MESSAGE: 486 and 404 -> the first of the lowest class once both are in.
  a_sends(request("MESSAGE", "z9hG4bKf1"));
  b.answer(*b.requests("MESSAGE")[0], 486);
  net.deliver();
  EXPECT_TRUE(a.statuses().empty());
  c.answer(*c.requests("MESSAGE")[0], 503);
  net.deliver();
  EXPECT_EQ(a.statuses(), std::vector<int>{486});
  // INVITE: C rings, B accepts -> A gets the 200, C gets a CANCEL and its 487 is ACKed.
  a_sends(request("INVITE", "z9hG4bKf2", "", "10.0.0.1:5060", 2));
  c.answer(*c.requests("INVITE")[0], 180, "c");
  net.deliver();
  b.answer(*b.requests("INVITE")[0], 200, "b");
  net.deliver();
  ASSERT_EQ(c.requests("CANCEL").size(), 1u);
  c.answer(*c.requests("CANCEL")[0], 200, "c");
  c.answer(*c.requests("INVITE")[0], 487, "c");
  net.deliver();
  EXPECT_EQ(c.requests("ACK").size(), 1u);
  EXPECT_EQ(a.statuses(), (std::vector<int>{486, 100, 180, 200}));
  // Only 503s: relayed as 500 (§16.7 step 6).
  a_sends(request("OPTIONS", "z9hG4bKf3", "", "10.0.0.1:5060", 3));
  b.answer(*b.requests("OPTIONS")[0], 503);
  c.answer(*c.requests("OPTIONS")[0], 503);
  net.deliver();
  EXPECT_EQ(a.statuses().back(), 500);
}

TEST_F(Chain, SixXxCancelsOtherBranches) {
  Ua c(net, "10.0.0.3:5060");
  p2.route = [&](const Hop& from, Message& m) {
    std::vector<ProxyCore::Target> t;
    t.push_back({Hop{"UDP", ep("10.0.0.2:5060"), 0}, m});
    t.push_back({Hop{"UDP", ep("10.0.0.3:5060"), 0}, m});
    p2.core.forward(from, std::move(t), net.now);
  };
  a_sends(request("INVITE", "z9hG4bKf4"));
  b.answer(*b.requests("INVITE")[0], 180, "b");
  net.deliver();
  c.answer(*c.requests("INVITE")[0], 603, "c");
  net.deliver();
  ASSERT_EQ(b.requests("CANCEL").size(), 1u);
  b.answer(*b.requests("CANCEL")[0], 200, "b");
  b.answer(*b.requests("INVITE")[0], 487, "b");
  net.deliver();
  EXPECT_EQ(a.statuses(), (std::vector<int>{100, 180, 603}));
}

TEST_F(Chain, ResponsesFollowTheFlow) {
  // A reaches P1 over TCP on flow 42: every answer goes back on that flow.
  a.send_to(Hop{"TCP", ep("10.0.0.10:5060"), 42}, parse(request("MESSAGE", "z9hG4bKt1")));
  net.deliver();
  b.answer(*b.requests("MESSAGE")[0], 200);
  net.deliver();
  ASSERT_EQ(a.statuses(), std::vector<int>{200});
  EXPECT_EQ(a.inbox.back().first.flow, 42u);
  EXPECT_EQ(a.inbox.back().first.transport, "TCP");
  // Over TCP the server side ends at once (Timer J = 0); the UDP client side after Timer K (T4).
  net.advance(std::chrono::milliseconds(1));
  EXPECT_EQ(p1.core.transaction_count(), 1u);
  net.advance(std::chrono::seconds(6));
  EXPECT_EQ(p1.core.transaction_count(), 0u);
}

TEST_F(Chain, ClosedFlowFailsItsBranches) {
  p1.next = Hop{"TCP", ep("10.0.0.20:5060"), 9};
  a_sends(request("MESSAGE", "z9hG4bKc1"));
  p1.core.on_flow_closed(9, net.now);
  net.deliver();
  EXPECT_EQ(a.statuses(), std::vector<int>{500});  // 503 from the transport failure, relayed as 500
}

TEST_F(Chain, UnsendableRequestAnsweredAtOnce) {
  p1.unreachable = ep("10.0.0.20:5060");
  a_sends(request("MESSAGE", "z9hG4bKu1"));
  // No Timer F: the 503 of the failed send comes back now, relayed as 500 (RFC 3261 §16.7 step 6).
  EXPECT_EQ(a.statuses(), std::vector<int>{500});
  EXPECT_EQ(p1.core.transaction_count(), 1u);  // absorbing retransmissions until Timer J
  EXPECT_TRUE(b.inbox.empty());
  // Forking: the reachable target still gets it and its answer wins.
  p1.unreachable.reset();
  p1.route = [&](const Hop& from, Message& m) {
    std::vector<ProxyCore::Target> targets;
    targets.push_back({Hop{"UDP", ep("10.0.0.30:5060"), 0}, m});
    targets.push_back({Hop{"UDP", ep("10.0.0.20:5060"), 0}, m});
    p1.core.forward(from, std::move(targets), net.now);
  };
  p1.unreachable = ep("10.0.0.30:5060");
  a_sends(request("MESSAGE", "z9hG4bKu2", "", "10.0.0.1:5060", 2));
  ASSERT_EQ(b.requests("MESSAGE").size(), 1u);
  b.answer(*b.requests("MESSAGE")[0], 200);
  net.deliver();
  EXPECT_EQ(a.statuses(), (std::vector<int>{500, 200}));
}

TEST_F(Chain, UndeliveredRequestEndsItsBranch) {
  // P1's forward is queued by the transport, then handed back (its connection never came up).
  p1.next = Hop{"TCP", ep("10.0.0.20:5060"), 0};
  net.drop = [](const Packet& p) { return p.to.remote == ep("10.0.0.20:5060"); };
  a_sends(request("MESSAGE", "z9hG4bKd1"));
  std::optional<Message> forwarded;
  for (auto& p : net.log)
    if (p.to.remote == ep("10.0.0.20:5060")) forwarded = parse(p.bytes);
  ASSERT_TRUE(forwarded);
  EXPECT_TRUE(a.statuses().empty());
  p1.core.on_undelivered(*forwarded, net.now);
  net.deliver();
  EXPECT_EQ(a.statuses(), std::vector<int>{500});  // 503 at once, relayed as 500; no Timer F
  // Anything else handed back is ignored: the same one again, a branch not ours, a response.
  p1.core.on_undelivered(*forwarded, net.now);
  p1.core.on_undelivered(parse(request("MESSAGE", "z9hG4bKnotours")), net.now);
  p1.core.on_undelivered(make_response(*forwarded, 200), net.now);
  net.deliver();
  EXPECT_EQ(a.statuses(), std::vector<int>{500});
}

TEST_F(Chain, OverloadAnswers503) {
  ProxyConfig cfg;
  cfg.max_transactions = 1;
  Proxy p(net, "10.0.0.11:5060", rnd, cfg);
  p.next = Hop{"UDP", ep("10.0.0.2:5060"), 0};
  a.send_to(Hop{"UDP", ep("10.0.0.11:5060"), 0}, parse(request("MESSAGE", "z9hG4bKo1")));
  a.send_to(Hop{"UDP", ep("10.0.0.11:5060"), 0}, parse(request("MESSAGE", "z9hG4bKo2")));
  net.deliver();
  EXPECT_EQ(a.statuses(), std::vector<int>{503});
  EXPECT_EQ(p.core.stats().overload, 1u);
}

}  // namespace
