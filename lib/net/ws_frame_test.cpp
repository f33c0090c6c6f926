#include "net/ws_frame.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace net::ws {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(char(c));
  return s;
}

// Every event the decoder gives for `in`, fed in pieces of `chunk` octets (0: all at once).
std::vector<Event> decode(const std::string& in, size_t chunk = 0, size_t max = 1 << 20) {
  ServerDecoder d(max);
  std::vector<Event> out;
  size_t at = 0;
  while (at < in.size()) {
    size_t n = chunk ? std::min(chunk, in.size() - at) : in.size() - at;
    size_t off = 0;
    while (off < n) {
      Event ev;
      size_t used = d.feed(in.data() + at + off, n - off, ev);
      EXPECT_LE(used, n - off);
      off += used;
      if (ev.kind != Event::None) out.push_back(std::move(ev));
      else EXPECT_EQ(off, n);  // no event: everything was taken
    }
    at += n;
  }
  return out;
}

// The close code of the one Fail event that ends `in`, 0 if none.
uint16_t fail_code(const std::string& in, size_t max = 1 << 20) {
  auto evs = decode(in, 0, max);
  if (evs.empty() || evs.back().kind != Event::Fail) return 0;
  return evs.back().code;
}

const std::string kMaskedHello = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});

TEST(WsFrame, Rfc6455ExamplesEncode) {
  // RFC 6455 §5.7: server frames are unmasked.
  EXPECT_EQ(encode_frame(Opcode::Text, "Hello"), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encode_frame(Opcode::Ping, "Hello"), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  std::string f256 = encode_frame(Opcode::Binary, std::string(256, 'x'));
  EXPECT_EQ(f256.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(f256.size(), 260u);
  std::string f64k = encode_frame(Opcode::Binary, std::string(65536, 'x'));
  EXPECT_EQ(f64k.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(f64k.size(), 65546u);
  EXPECT_EQ(encode_masked_frame(Opcode::Text, "Hello", 0x37fa213d), kMaskedHello);
}

TEST(WsFrame, Rfc6455ExamplesDecode) {
  for (size_t chunk : {0, 1, 2, 3, 7}) {
    auto evs = decode(kMaskedHello, chunk);
    ASSERT_EQ(evs.size(), 1u) << chunk;
    EXPECT_EQ(evs[0].kind, Event::Text);
    EXPECT_EQ(evs[0].payload, "Hello");
  }
  // The masked pong of §5.7.
  auto pong = decode(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  ASSERT_EQ(pong.size(), 1u);
  EXPECT_EQ(pong[0].kind, Event::Pong);
  EXPECT_EQ(pong[0].payload, "Hello");
  // The fragmented "Hello" of §5.7, masked as a client must.
  std::string frag = encode_masked_frame(Opcode::Text, "Hel", 0x11223344, false) +
                     encode_masked_frame(Opcode::Continuation, "lo", 0x55667788, true);
  auto evs = decode(frag, 1);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].payload, "Hello");
  // 256 octets and 64 KiB, in one piece and in odd pieces.
  for (size_t len : {size_t(125), size_t(126), size_t(256), size_t(65535), size_t(65536)}) {
    std::string payload(len, 'a');
    for (size_t i = 0; i < len; ++i) payload[i] = char('a' + i % 26);
    for (size_t chunk : {0, 1000}) {
      auto e = decode(encode_masked_frame(Opcode::Binary, payload, 0xdeadbeef), chunk);
      ASSERT_EQ(e.size(), 1u);
      EXPECT_EQ(e[0].kind, Event::Binary);
      EXPECT_EQ(e[0].payload, payload);
    }
  }
}

TEST(WsFrame, ControlFramesBetweenFragmentsAndSeveralMessagesInOneRead) {
  std::string in = encode_masked_frame(Opcode::Text, "one ", 1, false) + encode_masked_frame(Opcode::Ping, "p", 2) +
                   encode_masked_frame(Opcode::Continuation, "", 3, false) +
                   encode_masked_frame(Opcode::Continuation, "two", 4, true) + encode_masked_frame(Opcode::Text, "", 5) +
                   encode_masked_frame(Opcode::Close, bytes({0x03, 0xe8}) + "bye", 6);
  for (size_t chunk : {0, 1, 5}) {
    auto evs = decode(in, chunk);
    ASSERT_EQ(evs.size(), 4u) << chunk;
    EXPECT_EQ(evs[0].kind, Event::Ping);
    EXPECT_EQ(evs[0].payload, "p");
    EXPECT_EQ(evs[1].kind, Event::Text);
    EXPECT_EQ(evs[1].payload, "one two");
    EXPECT_EQ(evs[2].kind, Event::Text);
    EXPECT_EQ(evs[2].payload, "");
    EXPECT_EQ(evs[3].kind, Event::Close);
    EXPECT_EQ(evs[3].code, 1000);
    EXPECT_EQ(evs[3].payload, "bye");
  }
}

TEST(WsFrame, IdleOnlyBetweenMessages) {
  ServerDecoder d(100);
  EXPECT_TRUE(d.idle());
  std::string f = encode_masked_frame(Opcode::Text, "abc", 9, false);
  Event ev;
  EXPECT_EQ(d.feed(f.data(), 3, ev), 3u);
  EXPECT_FALSE(d.idle());
  EXPECT_EQ(d.feed(f.data() + 3, f.size() - 3, ev), f.size() - 3);
  EXPECT_EQ(ev.kind, Event::None);
  EXPECT_FALSE(d.idle());  // a fragmented message is in progress
  std::string g = encode_masked_frame(Opcode::Continuation, "d", 9, true);
  EXPECT_EQ(d.feed(g.data(), g.size(), ev), g.size());
  EXPECT_EQ(ev.kind, Event::Text);
  EXPECT_EQ(ev.payload, "abcd");
  EXPECT_TRUE(d.idle());
}

TEST(WsFrame, ProtocolErrors1002) {
  EXPECT_EQ(fail_code(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})), 1002);  // not masked
  for (uint8_t rsv : {1, 2, 4}) EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Text, "x", 1, true, rsv)), 1002);
  for (int op : {3, 7, 0xB, 0xF}) EXPECT_EQ(fail_code(encode_masked_frame(Opcode(op), "x", 1)), 1002) << op;
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Ping, "x", 1, false)), 1002);             // fragmented control
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Ping, std::string(126, 'x'), 1)), 1002);  // control over 125
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Ping, std::string(125, 'x'), 1)), 0);
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Continuation, "x", 1)), 1002);  // nothing to continue
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Text, "a", 1, false) + encode_masked_frame(Opcode::Text, "b", 1)),
            1002);  // a new message inside a fragmented one
  // Lengths not minimally encoded, and the 64-bit length's top bit.
  EXPECT_EQ(fail_code(bytes({0x81, 0xFE, 0x00, 0x05, 1, 2, 3, 4})), 1002);
  EXPECT_EQ(fail_code(bytes({0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4})), 1002);
  EXPECT_EQ(fail_code(bytes({0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})), 1002);
  // Close payloads: one octet, codes never sent.
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Close, "x", 1)), 1002);
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
    EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Close, bytes({code >> 8, code & 0xFF}), 1)), 1002) << code;
}

TEST(WsFrame, CloseFrames) {
  auto evs = decode(encode_masked_frame(Opcode::Close, "", 1));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, Event::Close);
  EXPECT_EQ(evs[0].code, kCloseNoStatus);
  for (int code : {1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4321, 4999}) {
    auto e = decode(encode_masked_frame(Opcode::Close, bytes({code >> 8, code & 0xFF}), 1));
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].kind, Event::Close) << code;
    EXPECT_EQ(e[0].code, code);
  }
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Close, bytes({0x03, 0xe8, 0xc3}), 1)), 1007);  // reason not UTF-8
  // Server close frames: code then reason, cut to 125 octets outside a UTF-8 sequence.
  EXPECT_EQ(encode_close(1008, "forbidden"), bytes({0x88, 11, 0x03, 0xf0}) + "forbidden");
  EXPECT_EQ(encode_close(0), bytes({0x88, 0}));
  EXPECT_EQ(encode_close(kCloseNoStatus), bytes({0x88, 0}));
  std::string euro;  // 3-octet characters: 123 is a multiple of 3, so 41 fit whole
  for (int i = 0; i < 50; ++i) euro += "\xe2\x82\xac";
  std::string c = encode_close(1000, "x" + euro);
  EXPECT_LE(c.size(), 127u);
  EXPECT_TRUE(valid_utf8(c.substr(4)));
  EXPECT_EQ(c.size(), 2u + 2u + 1u + 120u);
}

TEST(WsFrame, MessageSizeLimit1009) {
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Text, std::string(100, 'a'), 1), 100), 0);
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Text, std::string(101, 'a'), 1), 100), 1009);
  // Across fragments, refused at the header of the fragment that goes over.
  std::string two = encode_masked_frame(Opcode::Text, std::string(60, 'a'), 1, false) +
                    encode_masked_frame(Opcode::Continuation, std::string(41, 'a'), 1);
  EXPECT_EQ(fail_code(two, 100), 1009);
  // A huge announced length fails at once, before any payload.
  EXPECT_EQ(fail_code(bytes({0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4}), 1 << 20), 1009);
  // Control frames do not count against it.
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Ping, std::string(125, 'a'), 1), 10), 0);
}

TEST(WsFrame, TextMustBeUtf8_1007) {
  EXPECT_EQ(fail_code(encode_masked_frame(Opcode::Text, "caf\xc3", 1)), 1007);
  // A character split over two fragments is fine.
  auto evs = decode(encode_masked_frame(Opcode::Text, "caf\xc3", 1, false) +
                    encode_masked_frame(Opcode::Continuation, "\xa9", 2));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].payload, "caf\xc3\xa9");
  // Binary messages are not checked.
  auto bin = decode(encode_masked_frame(Opcode::Binary, "\xff\xfe", 1));
  ASSERT_EQ(bin.size(), 1u);
  EXPECT_EQ(bin[0].kind, Event::Binary);
}

TEST(WsFrame, NothingAfterFail) {
  ServerDecoder d(100);
  std::string in = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}) + kMaskedHello;
  Event ev;
  EXPECT_EQ(d.feed(in.data(), in.size(), ev), in.size());
  EXPECT_EQ(ev.kind, Event::Fail);
  EXPECT_TRUE(d.failed());
  EXPECT_EQ(d.feed(kMaskedHello.data(), kMaskedHello.size(), ev), kMaskedHello.size());
  EXPECT_EQ(ev.kind, Event::None);
}

TEST(WsFrame, Utf8Validation) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ASCII text that is longer than eight octets"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xed\x9f\xbf"));
  for (const char* bad : {"\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
                          "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",
                          "\xc3", "\xe2\x82", "\xe2\x28\xa1", "abcdefgh\xc3\x28"})
    EXPECT_FALSE(valid_utf8(bad)) << bad;
}

}  // namespace
}  // namespace net::ws
