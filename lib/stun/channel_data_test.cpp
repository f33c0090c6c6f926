// ChannelData (RFC 8656 §12.4) and STUN/ChannelData stream framing (RFC 8656 §12.5): channel
// range, UDP padding, lengths, and StreamFramer fed every possible split of a mixed stream
// (Beast's "parsegrind").
#include "stun/channel_data.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "stun/test_support.hpp"

namespace stun {
namespace {

using namespace stun::test;
using Kind = StreamFramer::Kind;

Buf channel_data(uint16_t channel, const Buf& payload, bool pad) {
  Buf buf(4 + payload.size() + 3, 0xCC);
  std::copy(payload.begin(), payload.end(), buf.begin() + 4);
  Bytes framed = frame_channel_data(buf, channel, payload.size(), pad);
  return copy(framed);
}

Buf payload(size_t n, uint8_t seed = 0) {
  Buf p(n);
  for (size_t i = 0; i < n; ++i) p[i] = uint8_t(seed + i * 7 + 1);
  return p;
}

// ---------------------------------------------------------------------------------------------
// frame_channel_data / parse_channel_data

TEST(ChannelData, FrameWireBytes) {
  Buf unpadded = channel_data(0x4001, bytes({0xAA, 0xBB, 0xCC, 0xDD, 0xEE}), false);
  EXPECT_EQ(unpadded, bytes({0x40, 0x01, 0x00, 0x05, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE}));
  Buf padded = channel_data(0x4001, bytes({0xAA, 0xBB, 0xCC, 0xDD, 0xEE}), true);
  // Over streams: padded with zeros to a multiple of four; Length still says 5 (RFC 8656 §12.5).
  EXPECT_EQ(padded, bytes({0x40, 0x01, 0x00, 0x05, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0x00, 0x00, 0x00}));
}

TEST(ChannelData, RoundTripEveryLengthPaddedAndNot) {
  for (size_t n = 0; n <= 9; ++n)
    for (bool pad : {false, true}) {
      Buf p = payload(n);
      Buf wire = channel_data(0x4ABC, p, pad);
      EXPECT_EQ(wire.size(), pad ? (4 + n + 3) / 4 * 4 : 4 + n);
      EXPECT_TRUE(looks_like_channel_data(view(wire)));
      EXPECT_FALSE(looks_like_stun(view(wire)));
      auto cd = parse_channel_data(view(wire));
      ASSERT_TRUE(cd.ok()) << n;
      EXPECT_EQ(cd->channel, 0x4ABC);
      EXPECT_EQ(copy(cd->data), p);
    }
}

TEST(ChannelData, ValidChannelRange) {
  EXPECT_FALSE(valid_channel(0x0000));
  EXPECT_FALSE(valid_channel(0x3FFF));
  EXPECT_TRUE(valid_channel(0x4000));
  EXPECT_TRUE(valid_channel(0x4FFF));
  EXPECT_TRUE(valid_channel(0x5000));   // RFC 5766 range, still used by deployed clients
  EXPECT_TRUE(valid_channel(0x7FFE));
  EXPECT_TRUE(valid_channel(0x7FFF));  // coturn's uclient picks up to here
  EXPECT_FALSE(valid_channel(0x8000));
  EXPECT_FALSE(valid_channel(0xFFFF));
  for (uint16_t c : {0x4000, 0x4001, 0x4800, 0x4FFF}) {
    auto cd = parse_channel_data(view(channel_data(c, payload(3), false)));
    ASSERT_TRUE(cd.ok()) << std::hex << c;
    EXPECT_EQ(cd->channel, c);
  }
}

TEST(ChannelData, ReservedAndOutOfRangeChannelsRejected) {
  // Below 0x4000 is STUN's space; above 0x7FFF is not ChannelData at all.
  for (uint16_t c : {0x3FFF, 0x0001, 0x8000, 0xFFFF}) {
    auto cd = parse_channel_data(view(channel_data(c, payload(4), false)));
    ASSERT_FALSE(cd.ok()) << std::hex << c;
    EXPECT_EQ(cd.error(), Error::BadAttribute);
  }
}

TEST(ChannelData, UdpPaddingAfterLengthIgnored) {
  // Over UDP the datagram may be longer than 4 + Length (padding or junk): ignored (§12.4).
  Buf wire = cat({bytes({0x40, 0x00, 0x00, 0x03}), bytes({1, 2, 3}), bytes({0, 0, 0, 0, 0x55})});
  auto cd = parse_channel_data(view(wire));
  ASSERT_TRUE(cd.ok());
  EXPECT_EQ(copy(cd->data), bytes({1, 2, 3}));
}

TEST(ChannelData, LengthBeyondDataRejected) {
  Buf wire = bytes({0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4});
  auto cd = parse_channel_data(view(wire));
  ASSERT_FALSE(cd.ok());
  EXPECT_EQ(cd.error(), Error::BadLength);
  Buf huge = bytes({0x40, 0x00, 0xFF, 0xFF});
  EXPECT_EQ(parse_channel_data(view(huge)).error(), Error::BadLength);
}

TEST(ChannelData, TooShort) {
  Buf wire = bytes({0x40, 0x00, 0x00, 0x00});
  EXPECT_TRUE(parse_channel_data(view(wire)).ok());  // empty payload is legal
  for (size_t n = 0; n < 4; ++n) {
    auto cd = parse_channel_data(Bytes(wire.data(), n));
    ASSERT_FALSE(cd.ok());
    EXPECT_EQ(cd.error(), Error::TooShort);
    EXPECT_FALSE(looks_like_channel_data(Bytes(wire.data(), n)));
  }
}

TEST(ChannelData, Demultiplexing) {
  // RFC 7983 / RFC 8656 §12: first byte 0-3 STUN, 64-79 ChannelData (64-127 by top bits).
  std::array<uint8_t, 64> buf{};
  Builder b(buf, Method::Binding, Class::Request, tid());
  auto stun = b.finish();
  ASSERT_TRUE(stun.ok());
  EXPECT_TRUE(looks_like_stun(*stun));
  EXPECT_FALSE(looks_like_channel_data(*stun));
  Buf dtls = bytes({0x16, 0xFE, 0xFD, 0x00});
  EXPECT_FALSE(looks_like_channel_data(view(dtls)));
  Buf rtp = bytes({0x80, 0x00, 0x00, 0x01});
  EXPECT_FALSE(looks_like_channel_data(view(rtp)));
}

// ---------------------------------------------------------------------------------------------
// StreamFramer::next on single frames

Buf stun_message(size_t attrs = 1, uint8_t seed = 1) {
  std::array<uint8_t, 512> buf{};
  Builder b(buf, Method::Send, Class::Indication, tid(seed));
  for (size_t i = 0; i < attrs; ++i) b.add(attr::Data, view(payload(i * 3 + 1, seed)));
  b.add_fingerprint();
  auto out = b.finish();
  EXPECT_TRUE(out.ok());
  return copy(*out);
}

TEST(StreamFramer, StunFrame) {
  Buf m = stun_message(2);
  auto f = StreamFramer::next(view(m));
  EXPECT_EQ(f.kind, Kind::Stun);
  EXPECT_EQ(f.size, m.size());
  // Extra bytes behind it do not change the answer.
  Buf more = cat({m, stun_message(1)});
  f = StreamFramer::next(view(more));
  EXPECT_EQ(f.kind, Kind::Stun);
  EXPECT_EQ(f.size, m.size());
}

TEST(StreamFramer, ChannelDataFramesArePaddedOverStreams) {
  for (size_t n = 0; n <= 7; ++n) {
    Buf wire = channel_data(0x4123, payload(n), true);
    auto f = StreamFramer::next(view(wire));
    EXPECT_EQ(f.kind, Kind::ChannelData) << n;
    EXPECT_EQ(f.size, (4 + n + 3) / 4 * 4) << n;
    EXPECT_EQ(f.size, wire.size());
  }
}

TEST(StreamFramer, NeedMoreReportsTheRightTotal) {
  Buf m = stun_message(3);
  for (size_t have = 0; have < m.size(); ++have) {
    auto f = StreamFramer::next(Bytes(m.data(), have));
    ASSERT_EQ(f.kind, Kind::NeedMore) << have;
    size_t want = have < 4 ? 4 : have < kHeaderSize ? kHeaderSize : m.size();
    EXPECT_EQ(f.needed, want) << have;
    EXPECT_GT(f.needed, have);
  }
  Buf cd = channel_data(0x4000, payload(5), true);  // 12 bytes on the stream
  for (size_t have = 0; have < cd.size(); ++have) {
    auto f = StreamFramer::next(Bytes(cd.data(), have));
    ASSERT_EQ(f.kind, Kind::NeedMore) << have;
    EXPECT_EQ(f.needed, have < 4 ? 4u : cd.size()) << have;
  }
  // The padding is part of the frame: 9 bytes of a 5-byte payload frame is not enough.
  Buf unpadded = channel_data(0x4000, payload(5), false);
  auto f = StreamFramer::next(view(unpadded));
  EXPECT_EQ(f.kind, Kind::NeedMore);
  EXPECT_EQ(f.needed, 12u);
}

TEST(StreamFramer, InvalidForGarbage) {
  auto kind = [](const Buf& b) { return StreamFramer::next(view(b)).kind; };
  // Top bits 10 and 11 are neither STUN nor ChannelData (RTP, DTLS... do not belong on a TURN stream).
  EXPECT_EQ(kind(bytes({0x80, 0x00, 0x00, 0x00})), Kind::Invalid);
  EXPECT_EQ(kind(bytes({0xC0, 0x00, 0x00, 0x00})), Kind::Invalid);
  EXPECT_EQ(kind(bytes({0xFF, 0xFF, 0xFF, 0xFF})), Kind::Invalid);
  // 0x7FFF is the last RFC 5766 channel number: ChannelData, not garbage.
  EXPECT_NE(kind(bytes({0x7F, 0xFF, 0x00, 0x04})), Kind::Invalid);
  // STUN length not a multiple of four: known from the first four bytes.
  EXPECT_EQ(kind(bytes({0x00, 0x01, 0x00, 0x05})), Kind::Invalid);
  // STUN header with a bad magic cookie: known once 20 bytes are there.
  Buf bad_cookie = stun_message();
  bad_cookie[4] = 0x00;
  EXPECT_EQ(kind(bad_cookie), Kind::Invalid);
  EXPECT_EQ(kind(Buf(bad_cookie.begin(), bad_cookie.begin() + 19)), Kind::NeedMore);
  // HTTP text: "GET " is channel 0x4745 with length 0x5420, so it waits for that frame: only a
  // timeout or size cap stops it (caller policy: the server's idle timeout).
  auto get = StreamFramer::next(view(str_bytes("GET / HTTP/1.1\r\n")));
  EXPECT_EQ(get.kind, Kind::NeedMore);
  EXPECT_EQ(get.needed, (4u + 0x5420u + 3) / 4 * 4);
  // A TLS record header looks like a STUN header for four bytes; the cookie decides at 20.
  Buf tls = bytes({0x16, 0x03, 0x01, 0x00, 0xF4});
  EXPECT_EQ(kind(tls), Kind::NeedMore);
  EXPECT_EQ(StreamFramer::next(view(tls)).needed, kHeaderSize);
  tls.resize(kHeaderSize, 0x01);
  EXPECT_EQ(kind(tls), Kind::Invalid);
}

// ---------------------------------------------------------------------------------------------
// Split at every offset: a stream of mixed frames fed in two chunks (and byte by byte) must
// yield the same frames whatever the split (Boost.Beast's parsegrind).

struct Frame {
  Kind kind;
  Buf bytes;
  bool operator==(const Frame&) const = default;
};

// Consumes complete frames from the front of `buffered`, as a TCP reader would.
// Returns false on Invalid.
bool drain(Buf& buffered, std::vector<Frame>& out) {
  for (;;) {
    auto f = StreamFramer::next(view(buffered));
    if (f.kind == Kind::Invalid) return false;
    if (f.kind == Kind::NeedMore) {
      EXPECT_GT(f.needed, buffered.size());
      return true;
    }
    EXPECT_GT(f.size, 0u);
    EXPECT_LE(f.size, buffered.size());
    out.push_back({f.kind, Buf(buffered.begin(), buffered.begin() + long(f.size))});
    buffered.erase(buffered.begin(), buffered.begin() + long(f.size));
  }
}

struct MixedStream {
  Buf bytes;
  std::vector<Frame> frames;
  void add(Kind k, const Buf& b) {
    frames.push_back({k, b});
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
};

MixedStream mixed_stream() {
  MixedStream s;
  s.add(Kind::Stun, stun_message(2, 1));
  for (size_t n = 0; n <= 7; ++n) {
    s.add(Kind::ChannelData, channel_data(uint16_t(0x4000 + n), payload(n, uint8_t(n)), true));
    if (n % 3 == 2) s.add(Kind::Stun, stun_message(n % 4, uint8_t(n)));
  }
  s.add(Kind::ChannelData, channel_data(0x4FFF, payload(64, 9), true));
  s.add(Kind::Stun, stun_message(0, 3));  // header + FINGERPRINT only
  return s;
}

void check_frames(const std::vector<Frame>& got, const MixedStream& s) {
  ASSERT_EQ(got.size(), s.frames.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], s.frames[i]) << "frame " << i;
    if (got[i].kind == Kind::Stun) {
      ASSERT_TRUE(parse(view(got[i].bytes)).ok()) << i;
    } else {
      auto cd = parse_channel_data(view(got[i].bytes));
      ASSERT_TRUE(cd.ok()) << i;
    }
  }
}

TEST(StreamFramer, SplitAtEveryOffset) {
  MixedStream s = mixed_stream();
  ASSERT_GT(s.frames.size(), 10u);
  for (size_t split = 0; split <= s.bytes.size(); ++split) {
    std::vector<Frame> got;
    Buf buffered(s.bytes.begin(), s.bytes.begin() + long(split));
    ASSERT_TRUE(drain(buffered, got)) << split;
    buffered.insert(buffered.end(), s.bytes.begin() + long(split), s.bytes.end());
    ASSERT_TRUE(drain(buffered, got)) << split;
    EXPECT_TRUE(buffered.empty()) << split;
    check_frames(got, s);
    if (HasFatalFailure()) FAIL() << "split at " << split;
  }
}

TEST(StreamFramer, ByteByByteHonoursNeeded) {
  // Feed only what `needed` asks for each time: the reader never over-reads and never stalls.
  MixedStream s = mixed_stream();
  std::vector<Frame> got;
  Buf buffered;
  size_t fed = 0;
  while (fed < s.bytes.size()) {
    auto f = StreamFramer::next(view(buffered));
    ASSERT_NE(f.kind, Kind::Invalid);
    if (f.kind == Kind::NeedMore) {
      size_t add = f.needed - buffered.size();
      ASSERT_GT(add, 0u);
      ASSERT_LE(fed + add, s.bytes.size()) << "needed more than the stream holds";
      buffered.insert(buffered.end(), s.bytes.begin() + long(fed), s.bytes.begin() + long(fed + add));
      fed += add;
      continue;
    }
    got.push_back({f.kind, Buf(buffered.begin(), buffered.begin() + long(f.size))});
    buffered.erase(buffered.begin(), buffered.begin() + long(f.size));
  }
  ASSERT_TRUE(drain(buffered, got));
  EXPECT_TRUE(buffered.empty());
  check_frames(got, s);
}

TEST(StreamFramer, GarbageAfterValidFramesIsInvalidAtEverySplit) {
  MixedStream s = mixed_stream();
  Buf stream = cat({s.bytes, bytes({0x80, 0x01, 0x02, 0x03})});
  for (size_t split = 0; split <= stream.size(); ++split) {
    std::vector<Frame> got;
    Buf buffered(stream.begin(), stream.begin() + long(split));
    bool ok = drain(buffered, got);
    if (ok) {
      buffered.insert(buffered.end(), stream.begin() + long(split), stream.end());
      ok = drain(buffered, got);
    }
    EXPECT_FALSE(ok) << split;
    EXPECT_EQ(got.size(), s.frames.size()) << "every valid frame before the garbage is delivered";
  }
}

}  // namespace
}  // namespace stun
