// ChannelData messages (RFC 8656 §12.4) and the framing of STUN + ChannelData on a byte stream
// (TCP/TLS, RFC 8656 §12.5: ChannelData padded to a multiple of four bytes over streams).
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |         Channel Number        |            Length             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  /                       Application Data                        /
#pragma once

#include "base/bytes.hpp"
#include "base/result.hpp"
#include "stun/message.hpp"

namespace stun {

constexpr uint16_t kMinChannel = 0x4000;
constexpr uint16_t kMaxChannel = 0x4FFF;        // RFC 8656 §12: what clients should pick
constexpr uint16_t kMaxLegacyChannel = 0x7FFF;  // RFC 5766 §11: 0x4000 through 0x7FFF
constexpr size_t kChannelDataHeader = 4;

// RFC 8656 reserves 0x5000-0x7FFF, but RFC 5766 clients still in the field (coturn's own
// turnutils_uclient among them) pick numbers there. Nothing else is assigned in that range and
// RFC 7983 demultiplexing is unaffected (the first byte stays within 0x40-0x7F), so a server
// interoperates by accepting the RFC 5766 range while our clients pick from the RFC 8656 one.
inline bool valid_channel(uint16_t c) { return c >= kMinChannel && c <= kMaxLegacyChannel; }
inline bool looks_like_channel_data(Bytes d) { return d.size() >= kChannelDataHeader && (d[0] & 0xC0) == 0x40; }

struct ChannelData {
  uint16_t channel;
  Bytes data;
};

// Parses a ChannelData message. Over UDP the datagram may carry padding after `Length`; it is
// ignored. Channels outside 0x4000-0x7FFF are BadAttribute (the server drops them).
base::Result<ChannelData, Error> parse_channel_data(Bytes d);

// Writes the 4-byte header in front of a payload already placed at buf[4..]; returns the whole
// message, padded with zeros to a multiple of 4 when `pad` (stream transports).
// The caller guarantees buf has room for 4 + payload + 3 bytes.
Bytes frame_channel_data(MutableBytes buf, uint16_t channel, size_t payload_len, bool pad);

// Splits a TCP/TLS byte stream into STUN messages and ChannelData messages.
// feed() looks at buffered bytes and says how long the next frame is (Beast-style
// "consumed / need more"), so the caller can read into its own buffer without copies.
class StreamFramer {
 public:
  enum class Kind { NeedMore, Stun, ChannelData, Invalid };
  struct Frame {
    Kind kind;
    size_t size;      // total bytes to consume (incl. padding) when Stun/ChannelData
    size_t needed;    // when NeedMore: minimum total bytes buffered before calling again
  };
  // `d` = the unconsumed bytes at the front of the stream.
  static Frame next(Bytes d);
};

}  // namespace stun
