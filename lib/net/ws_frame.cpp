#include "net/ws_frame.hpp"

#include <algorithm>

namespace net::ws {

bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

bool valid_utf8(std::string_view s) {
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  auto* end = p + s.size();
  while (p < end) {
    // ASCII runs 8 bytes at a time (SIP messages are nearly all ASCII).
    while (end - p >= 8) {
      uint64_t w;
      __builtin_memcpy(&w, p, 8);
      if (w & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p == end) break;
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte (RFC 3629 §4)
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;   // overlong
      if (c == 0xED) hi = 0x9F;   // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;   // overlong
      if (c == 0xF4) hi = 0x8F;   // above U+10FFFF
    } else {
      return false;
    }
    if (size_t(end - p) < len) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t i = 2; i < len; ++i)
      if ((p[i] & 0xC0) != 0x80) return false;
    p += len;
  }
  return true;
}

void ServerDecoder::fail(Event& ev, uint16_t code, const char* why) {
  state_ = State::Failed;
  msg_ = std::string();
  ctl_ = std::string();
  ev.kind = Event::Fail;
  ev.code = code;
  ev.why = why;
  ev.payload.clear();
}

bool ServerDecoder::parse_header(Event& ev) {
  uint8_t b0 = hdr_[0], b1 = hdr_[1];
  fin_ = b0 & 0x80;
  op_ = b0 & 0x0F;
  uint64_t len = b1 & 0x7F;
  size_t at = 2;
  if (len == 126) {
    len = (uint64_t(hdr_[2]) << 8) | hdr_[3];
    at = 4;
    if (len < 126) return fail(ev, kCloseProtocolError, "length not minimally encoded"), false;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | hdr_[2 + i];
    at = 10;
    if (len >> 63) return fail(ev, kCloseProtocolError, "64-bit length with the top bit set"), false;
    if (len <= 0xFFFF) return fail(ev, kCloseProtocolError, "length not minimally encoded"), false;
  }
  for (int i = 0; i < 4; ++i) mask_[i] = hdr_[at + i];
  mask_pos_ = 0;
  remaining_ = len;

  bool control = op_ & 0x08;
  if (control) {
    if (op_ != uint8_t(Opcode::Close) && op_ != uint8_t(Opcode::Ping) && op_ != uint8_t(Opcode::Pong))
      return fail(ev, kCloseProtocolError, "unknown control opcode"), false;
    if (!fin_) return fail(ev, kCloseProtocolError, "fragmented control frame"), false;
    if (len > 125) return fail(ev, kCloseProtocolError, "control frame over 125 octets"), false;
    ctl_.clear();
    return true;
  }
  if (op_ == uint8_t(Opcode::Continuation)) {
    if (!msg_op_) return fail(ev, kCloseProtocolError, "continuation without a message"), false;
  } else if (op_ == uint8_t(Opcode::Text) || op_ == uint8_t(Opcode::Binary)) {
    if (msg_op_) return fail(ev, kCloseProtocolError, "new message inside a fragmented one"), false;
    msg_op_ = op_;
  } else {
    return fail(ev, kCloseProtocolError, "unknown data opcode"), false;
  }
  if (len > max_ || msg_.size() > max_ - len) return fail(ev, kCloseTooBig, "message too big"), false;
  // One allocation for a message sent in one frame (the usual case).
  if (msg_.empty() && fin_ && len) msg_.reserve(size_t(len));
  return true;
}

void ServerDecoder::finish_frame(Event& ev) {
  state_ = State::Header;
  hdr_len_ = 0;
  if (op_ & 0x08) {
    ev.payload = std::move(ctl_);
    ctl_ = std::string();
    if (op_ == uint8_t(Opcode::Ping)) {
      ev.kind = Event::Ping;
    } else if (op_ == uint8_t(Opcode::Pong)) {
      ev.kind = Event::Pong;
    } else {
      // RFC 6455 §5.5.1: empty, or a 2-octet code and a UTF-8 reason.
      if (ev.payload.empty()) {
        ev.code = kCloseNoStatus;
      } else if (ev.payload.size() == 1) {
        fail(ev, kCloseProtocolError, "close payload of one octet");
        return;
      } else {
        uint16_t code = uint16_t((uint8_t(ev.payload[0]) << 8) | uint8_t(ev.payload[1]));
        if (!valid_close_code(code)) {
          fail(ev, kCloseProtocolError, "invalid close code");
          return;
        }
        if (!valid_utf8(std::string_view(ev.payload).substr(2))) {
          fail(ev, kCloseInvalidData, "close reason not UTF-8");
          return;
        }
        ev.code = code;
        ev.payload.erase(0, 2);
      }
      ev.kind = Event::Close;
    }
    return;
  }
  if (!fin_) return;  // more fragments to come
  if (msg_op_ == uint8_t(Opcode::Text) && !valid_utf8(msg_)) {
    fail(ev, kCloseInvalidData, "text message not UTF-8");
    return;
  }
  ev.kind = msg_op_ == uint8_t(Opcode::Text) ? Event::Text : Event::Binary;
  ev.payload = std::move(msg_);
  msg_ = std::string();
  msg_op_ = 0;
}

size_t ServerDecoder::feed(const char* data, size_t n, Event& ev) {
  ev.kind = Event::None;
  ev.code = 0;
  ev.why = "";
  ev.payload.clear();
  auto* p = reinterpret_cast<const uint8_t*>(data);
  size_t used = 0;
  while (used < n) {
    if (state_ == State::Failed) return n;
    if (state_ == State::Header) {
      if (hdr_len_ < 2) {
        hdr_[hdr_len_++] = p[used++];
        if (hdr_len_ == 1) {
          // Checked on the first octet, before the rest arrives.
          if (hdr_[0] & 0x70) return fail(ev, kCloseProtocolError, "reserved bits set"), n;
        }
        if (hdr_len_ == 2 && !(hdr_[1] & 0x80))
          return fail(ev, kCloseProtocolError, "client frame not masked"), n;
        continue;
      }
      uint8_t l7 = hdr_[1] & 0x7F;
      size_t need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + 4;
      size_t take = std::min(need - hdr_len_, n - used);
      std::copy(p + used, p + used + take, hdr_ + hdr_len_);
      hdr_len_ = uint8_t(hdr_len_ + take);
      used += take;
      if (hdr_len_ < need) break;
      if (!parse_header(ev)) return n;
      state_ = State::Payload;
      if (remaining_ == 0) {
        finish_frame(ev);
        if (ev.kind != Event::None) return ev.kind == Event::Fail ? n : used;
      }
      continue;
    }
    // Payload: unmask into the message or the control payload.
    size_t take = size_t(std::min<uint64_t>(remaining_, n - used));
    std::string& dst = (op_ & 0x08) ? ctl_ : msg_;
    size_t at = dst.size();
    dst.resize(at + take);
    char* out = dst.data() + at;
    for (size_t i = 0; i < take; ++i) out[i] = char(p[used + i] ^ mask_[(mask_pos_ + i) & 3]);
    mask_pos_ = uint8_t((mask_pos_ + take) & 3);
    used += take;
    remaining_ -= take;
    if (remaining_ == 0) {
      finish_frame(ev);
      if (ev.kind != Event::None) return ev.kind == Event::Fail ? n : used;
    }
  }
  return used;
}

namespace {

void put_header(std::string& out, uint8_t b0, size_t len, bool masked) {
  uint8_t m = masked ? 0x80 : 0;
  out.push_back(char(b0));
  if (len < 126) {
    out.push_back(char(m | len));
  } else if (len <= 0xFFFF) {
    out.push_back(char(m | 126));
    out.push_back(char(len >> 8));
    out.push_back(char(len & 0xFF));
  } else {
    out.push_back(char(m | 127));
    for (int i = 7; i >= 0; --i) out.push_back(char((uint64_t(len) >> (8 * i)) & 0xFF));
  }
}

}  // namespace

std::string encode_frame(Opcode op, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  put_header(out, uint8_t(0x80 | uint8_t(op)), payload.size(), false);
  out.append(payload);
  return out;
}

std::string encode_close(uint16_t code, std::string_view reason) {
  if (code == 0 || code == kCloseNoStatus) return encode_frame(Opcode::Close, {});
  size_t keep = std::min<size_t>(reason.size(), 123);
  // Do not cut inside a UTF-8 sequence: back off over continuation octets.
  if (keep < reason.size())
    while (keep > 0 && (uint8_t(reason[keep]) & 0xC0) == 0x80) --keep;
  std::string payload;
  payload.push_back(char(code >> 8));
  payload.push_back(char(code & 0xFF));
  payload.append(reason.substr(0, keep));
  return encode_frame(Opcode::Close, payload);
}

std::string encode_masked_frame(Opcode op, std::string_view payload, uint32_t mask, bool fin, uint8_t rsv) {
  std::string out;
  out.reserve(payload.size() + 14);
  put_header(out, uint8_t((fin ? 0x80 : 0) | ((rsv & 7) << 4) | uint8_t(op)), payload.size(), true);
  uint8_t k[4] = {uint8_t(mask >> 24), uint8_t(mask >> 16), uint8_t(mask >> 8), uint8_t(mask)};
  for (uint8_t b : k) out.push_back(char(b));
  for (size_t i = 0; i < payload.size(); ++i) out.push_back(char(uint8_t(payload[i]) ^ k[i & 3]));
  return out;
}

}  // namespace net::ws
