// SIP over TCP/TLS (RFC 3261 §18.3): messages follow one another on the stream, each header
// section ends with an empty line and Content-Length (mandatory on streams) gives the body.
// Between messages a peer may send CRLF keep-alives (RFC 5626 §3.5.1): CRLFCRLF is a ping to be
// answered with CRLF, a lone CRLF is the pong.
//
// Beast-style and copy-free for the caller: the caller keeps the unconsumed bytes in its own
// buffer and passes all of them to feed() after every read; feed() says how many bytes to drop
// (`consumed`) and what they were. Until a message is complete nothing is consumed, and the
// search for the end of the header section resumes where it stopped, so a message delivered one
// byte at a time costs O(size), not O(size²).
//
// WebSocket (RFC 7118) needs no framer: one frame is one message, see parse_message().
#pragma once

#include <optional>
#include <string_view>

#include "sip/error.hpp"
#include "sip/message.hpp"

namespace sip {

class StreamFramer {
 public:
  enum class Event : uint8_t {
    NeedMore,  // read more and call again with all unconsumed bytes
    Message,   // take() the message
    Ping,      // CRLFCRLF: answer with CRLF (RFC 5626 §4.4.1)
    Pong,      // a single CRLF between messages
    Error,     // failure() says why; the stream cannot be resynchronised: close it
  };
  struct Result {
    size_t consumed = 0;
    Event event = Event::NeedMore;
  };

  explicit StreamFramer(const Limits& limits = {}) : limits_(limits) {}

  // `data` starts at the first unconsumed byte of the stream.
  Result feed(std::string_view data);
  // The message of the last Event::Message.
  Message take() { return std::move(ready_); }
  const Failure& failure() const { return failure_; }
  // Back to the initial state (a new connection).
  void reset();

 private:
  Result error(Failure f);

  Limits limits_;
  std::optional<Message> pending_;  // head parsed, waiting for the body
  size_t head_size_ = 0;
  size_t body_size_ = 0;
  size_t scanned_ = 0;              // bytes already searched for CRLFCRLF
  Message ready_;
  Failure failure_;
  bool failed_ = false;
};

}  // namespace sip
