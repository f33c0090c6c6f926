#include "sip/stream_framer.hpp"

#include <algorithm>

namespace sip {

void StreamFramer::reset() {
  pending_.reset();
  head_size_ = body_size_ = scanned_ = 0;
  ready_ = Message();
  failure_ = Failure();
  failed_ = false;
}

StreamFramer::Result StreamFramer::error(Failure f) {
  failure_ = std::move(f);
  failed_ = true;
  pending_.reset();
  return {0, Event::Error};
}

StreamFramer::Result StreamFramer::feed(std::string_view data) {
  if (failed_) return {0, Event::Error};
  if (!pending_) {
    if (data.empty()) return {0, Event::NeedMore};
    if (data[0] == '\r' || data[0] == '\n') {
      // Keep-alives only ever come as CRLF pairs between messages.
      static constexpr std::string_view kPing = "\r\n\r\n";
      size_t n = std::min(data.size(), kPing.size());
      if (data.substr(0, n) != kPing.substr(0, n))
        return (n >= 2 && data.substr(0, 2) == "\r\n") ? Result{2, Event::Pong}
                                                       : error(make_failure(Error::BadCharacter, "stray CR or LF between messages"));
      if (n < kPing.size()) return {0, Event::NeedMore};
      return {4, Event::Ping};
    }
    size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
    size_t end = data.find("\r\n\r\n", from);
    if (end == std::string_view::npos) {
      scanned_ = data.size();
      if (data.size() > limits_.max_message_size) return error(make_failure(Error::TooLarge, "header section"));
      return {0, Event::NeedMore};
    }
    size_t head = end + 4;
    if (head > limits_.max_message_size) return error(make_failure(Error::TooLarge, "header section"));
    Message m;
    m.text_.assign(data.substr(0, head));
    size_t body_start = 0;
    if (auto f = m.parse_head(limits_, body_start)) return error(std::move(*f));
    if (!m.content_length_)
      return error(make_failure(Error::BadContentLength, "Content-Length is required on a stream (RFC 3261 §18.3)"));
    if (head + size_t(*m.content_length_) > limits_.max_message_size) return error(make_failure(Error::TooLarge));
    head_size_ = head;
    body_size_ = *m.content_length_;
    scanned_ = 0;
    pending_ = std::move(m);
  }
  if (data.size() < head_size_ + body_size_) return {0, Event::NeedMore};
  Message& m = *pending_;
  m.text_.append(data.substr(head_size_, body_size_));
  m.body_ = Message::Span{uint32_t(head_size_), uint32_t(body_size_), 0};
  ready_ = std::move(m);
  pending_.reset();
  Result r{head_size_ + body_size_, Event::Message};
  head_size_ = body_size_ = 0;
  return r;
}

}  // namespace sip
