// STUN message codec, sans-I/O (RFC 8489 §5, §6, §14): parse bytes into a zero-copy view, build
// messages into caller-owned buffers. Neither allocates, so the TURN server can run it per packet.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |0 0|     STUN Message Type     |         Message Length        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Magic Cookie                          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                     Transaction ID (96 bits)                  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "base/bytes.hpp"
#include "base/ip.hpp"
#include "base/result.hpp"
#include "stun/constants.hpp"

namespace stun {

using base::Bytes;
using base::MutableBytes;

// Every way a STUN message can be refused. What the server does with each is decided in one
// place (servers/turn/logic): most are dropped silently, as RFC 8489 §6.3 asks.
enum class Error {
  TooShort,                  // fewer than 20 bytes
  NotStun,                   // first two bits not zero
  BadMagicCookie,            // not an RFC 5389+ message
  BadLength,                 // length field not a multiple of 4 or not matching the bytes
  TruncatedAttribute,        // attribute runs past the end
  TooManyAttributes,         // more than Message::kMaxAttributes
  AttributeAfterFingerprint, // FINGERPRINT must be last (RFC 8489 §14.7)
  BadFingerprint,            // CRC mismatch
  BadAttribute,              // a known attribute with an invalid value (size, family...)
  BufferTooSmall,            // builder ran out of room
};
std::string_view to_string(Error e);

struct Attribute {
  uint16_t type = 0;
  // Of the attribute header within the message. 32 bits: over TCP a message reaches 65552 bytes,
  // so the last attributes can start past 65535.
  uint32_t offset = 0;
  Bytes value;
};

class Message {
 public:
  static constexpr size_t kMaxAttributes = 40;

  uint16_t type() const { return type_; }
  Method method() const { return method_of(type_); }
  Class cls() const { return class_of(type_); }
  const TransactionId& transaction_id() const { return tid_; }
  Bytes raw() const { return raw_; }

  // Attributes in wire order, excluding those RFC 8489 §14.5 says to ignore (after
  // MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT; after
  // MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT).
  std::span<const Attribute> attributes() const { return {attrs_.data(), count_}; }
  // The first attribute of a type (later duplicates are ignored, RFC 8489 §14).
  const Attribute* find(uint16_t type) const;
  bool has(uint16_t type) const { return find(type) != nullptr; }
  const Attribute* message_integrity() const { return idx(mi_); }
  const Attribute* message_integrity_sha256() const { return idx(mi256_); }
  bool has_fingerprint() const { return has_fp_; }

  // Typed accessors; nullopt if absent or malformed.
  std::optional<std::string_view> string(uint16_t type) const;
  std::optional<uint32_t> u32(uint16_t type) const;
  std::optional<base::Endpoint> xor_address(uint16_t type) const;  // XOR-MAPPED/PEER/RELAYED-ADDRESS
  std::optional<base::Endpoint> address(uint16_t type) const;      // MAPPED-ADDRESS and friends
  struct ErrorCodeValue {
    int code;
    std::string_view reason;
  };
  std::optional<ErrorCodeValue> error_code() const;

  // Comprehension-required attributes not in `known` (for 420 + UNKNOWN-ATTRIBUTES, RFC 8489 §6.3.1).
  // Writes at most out.size() types; returns how many.
  size_t unknown_required(std::span<const uint16_t> known, std::span<uint16_t> out) const;

 private:
  friend base::Result<Message, Error> parse(Bytes data);
  const Attribute* idx(int i) const { return i < 0 ? nullptr : &attrs_[size_t(i)]; }

  Bytes raw_;
  uint16_t type_ = 0;
  TransactionId tid_{};
  std::array<Attribute, kMaxAttributes> attrs_;
  size_t count_ = 0;
  int mi_ = -1, mi256_ = -1;
  bool has_fp_ = false;
};

// Decodes one XOR-*-ADDRESS attribute value (for attributes that may repeat, e.g. XOR-PEER-ADDRESS
// in CreatePermission, RFC 8656 §9.1).
std::optional<base::Endpoint> decode_xor_address(Bytes value, const TransactionId& tid);

// Parses one STUN message occupying all of `data` (a UDP datagram, or one frame from StreamFramer).
// Verifies FINGERPRINT when present. `data` must outlive the Message.
base::Result<Message, Error> parse(Bytes data);

// Cheap test used to demultiplex STUN from ChannelData and media (RFC 8489 §6, RFC 7983).
inline bool looks_like_stun(Bytes d) {
  return d.size() >= kHeaderSize && (d[0] & 0xC0) == 0 && base::load_be32(d.data() + 4) == kMagicCookie;
}

// MESSAGE-INTEGRITY (HMAC-SHA1) and MESSAGE-INTEGRITY-SHA256 checks, with the length field adjusted
// as RFC 8489 §14.5/§14.6 require. Constant-time comparison. False if the attribute is absent.
bool verify_message_integrity(const Message& m, Bytes key);
bool verify_message_integrity_sha256(const Message& m, Bytes key);

// Builds a message into `buf`. Attribute adders silently stop on overflow; finish() reports it.
class Builder {
 public:
  Builder(MutableBytes buf, uint16_t type, const TransactionId& tid);
  Builder(MutableBytes buf, Method m, Class c, const TransactionId& tid) : Builder(buf, message_type(m, c), tid) {}

  void add(uint16_t type, Bytes value);
  void add(uint16_t type, std::string_view value) { add(type, base::as_bytes(value)); }
  void add_u32(uint16_t type, uint32_t v);
  void add_empty(uint16_t type) { add(type, Bytes{}); }
  void add_xor_address(uint16_t type, const base::Endpoint& ep);
  void add_address(uint16_t type, const base::Endpoint& ep);
  void add_error_code(int code, std::string_view reason = {});  // reason defaults to reason_phrase(code)
  void add_unknown_attributes(std::span<const uint16_t> types);
  void add_channel_number(uint16_t channel);
  void add_requested_transport(uint8_t protocol);
  void add_address_family(uint16_t type, uint8_t family);  // REQUESTED-/ADDITIONAL-ADDRESS-FAMILY
  void add_address_error_code(uint8_t family, int code, std::string_view reason = {});
  void add_even_port(bool reserve);
  void add_password_algorithms(std::span<const uint16_t> algorithms);
  void add_password_algorithm(uint16_t algorithm);
  // Integrity and fingerprint come last, in this order (RFC 8489 §14.5–14.7).
  void add_message_integrity(Bytes key);
  void add_message_integrity_sha256(Bytes key);
  void add_fingerprint();

  // Writes the final length; the encoded message or BufferTooSmall.
  base::Result<Bytes, Error> finish();
  bool overflow() const { return w_.overflow(); }

 private:
  void begin_attr(uint16_t type, size_t len);
  void end_attr(size_t len);
  void set_length(size_t body);
  base::ByteWriter w_;
  TransactionId tid_;
};

// Fills a transaction id from a random source.
template <class Random>
TransactionId new_transaction_id(Random& r) {
  TransactionId t;
  r.fill(t);
  return t;
}

}  // namespace stun
