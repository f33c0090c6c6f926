// RFC 6455 framing for the server side of a WebSocket, without I/O: bytes in, events out.
//
// Why our own instead of Beast's websocket::stream: an idle connection of the eP-CSCF's WSS listener
// should hold almost nothing (docs/performance.md, "Memory per registered WIC"). Beast keeps about
// 2.6 kB of stream state per connection (its frame buffer inside) and a 1.5 kB string prepared before
// every read; this decoder is a few dozen bytes while no frame is in progress, and the session reads
// into a buffer shared by all connections.
//
// The decoder enforces what a server must (RFC 6455 §5): frames from a client are masked; no
// extensions were negotiated, so reserved bits are zero (1002); opcodes are known (1002); control
// frames carry at most 125 octets and are not fragmented (1002); continuation frames continue a
// message and data frames do not interrupt one (1002); lengths use the minimal encoding and the
// 64-bit form has its top bit clear (1002); a message longer than the limit is refused when its
// header arrives (1009); text messages and close reasons are UTF-8 (1007); a close payload is empty
// or a valid code (§7.4) with an optional reason (1002).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace net::ws {

enum class Opcode : uint8_t { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };

// RFC 6455 §7.4.1 codes the decoder produces or reports.
constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseNoStatus = 1005;      // a close frame without a code (never sent)
constexpr uint16_t kCloseInvalidData = 1007;
constexpr uint16_t kCloseTooBig = 1009;

struct Event {
  enum Kind : uint8_t {
    None,    // the bytes given were consumed; no event is complete yet
    Text,    // a complete text message (valid UTF-8) in `payload`
    Binary,  // a complete binary message in `payload`
    Ping,    // `payload`: the application data to echo in the pong
    Pong,
    Close,   // the peer's close: `code` (1005 when it sent none) and the reason in `payload`
    Fail,    // the peer broke the protocol: close with `code`; `why` says how. The decoder stays failed.
  } kind = None;
  uint16_t code = 0;
  std::string payload;
  const char* why = "";
};

// Whether `code` may appear in a close frame (RFC 6455 §7.4.1, §7.4.2 and the IANA registry):
// 1000-1003, 1007-1014, 3000-4999.
bool valid_close_code(uint16_t code);

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s);

class ServerDecoder {
 public:
  explicit ServerDecoder(size_t max_message_bytes) : max_(max_message_bytes) {}

  // Consumes bytes from [data, data + n) until one event is complete or the bytes run out, and
  // returns how many it consumed; call again with the rest. After Fail everything is consumed
  // and no further event comes.
  size_t feed(const char* data, size_t n, Event& ev);

  bool failed() const { return state_ == State::Failed; }
  // True between frames with no message in progress: nothing is buffered.
  bool idle() const { return state_ == State::Header && hdr_len_ == 0 && msg_op_ == 0; }

 private:
  enum class State : uint8_t { Header, Payload, Failed };
  void fail(Event& ev, uint16_t code, const char* why);
  // Validates the complete header in hdr_; on success the frame's fields are set.
  bool parse_header(Event& ev);
  void finish_frame(Event& ev);

  size_t max_;
  std::string msg_;   // the data message being assembled
  std::string ctl_;   // the control frame payload being assembled (at most 125 octets)
  uint64_t remaining_ = 0;  // payload octets of the current frame still to come
  State state_ = State::Header;
  uint8_t hdr_[14]{};
  uint8_t hdr_len_ = 0;
  uint8_t op_ = 0;      // opcode of the current frame
  bool fin_ = false;
  uint8_t msg_op_ = 0;  // opcode of the message in progress (Text or Binary), 0 if none
  uint8_t mask_[4]{};
  uint8_t mask_pos_ = 0;
};

// A server frame (FIN set, unmasked) carrying `payload`.
std::string encode_frame(Opcode op, std::string_view payload);
// A close frame: `code` then `reason` cut to fit 125 octets (not inside a UTF-8 sequence);
// code 0 or 1005 gives an empty close frame.
std::string encode_close(uint16_t code, std::string_view reason = {});
// A client frame, masked with `mask` (tests, fuzzing and clients).
std::string encode_masked_frame(Opcode op, std::string_view payload, uint32_t mask, bool fin = true,
                                uint8_t rsv = 0);

}  // namespace net::ws
