// SIP messages: parsing (RFC 3261 §7, §7.3.1 folding, §7.4.1 Content-Length, §18.3 framing of
// datagrams), header access and edits in wire order, serialization with a Content-Length that
// matches the body, and responses built from requests (§8.2.6).
//
//   generic-message = start-line *message-header CRLF [ message-body ]
//   start-line      = Request-Line / Status-Line
//   Request-Line    = Method SP Request-URI SP SIP-Version CRLF
//   Status-Line     = SIP-Version SP Status-Code SP Reason-Phrase CRLF
//
// A Message owns one copy of the received bytes and keeps every start-line part, header name,
// header value and the body as offsets into it, so parsing allocates only the vector of header
// entries. Folded values are unfolded in place (CRLF 1*WSP becomes one SP). Values set by the
// application go to an append-only arena that never moves what it holds.
//
// Lifetimes: the string_views a Message hands out (header values, typed views such as Via or
// NameAddr) stay valid until the Message is destroyed or moved from; edits do not invalidate them,
// even for the header they replace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/result.hpp"
#include "sip/error.hpp"
#include "sip/header_id.hpp"
#include "sip/headers.hpp"

namespace sip {

// Safe defaults for untrusted peers; servers may raise them in configuration.
struct Limits {
  size_t max_message_size = 65536;  // start line + headers + body; matches the 64 KiB WebSocket
                                    // frame limit of protocols.md W2
  size_t max_headers = 256;         // header fields (a folded field counts once)
  size_t max_header_length = 8192;  // one field including its continuation lines; also the start line
  bool require_utf8 = true;         // RFC 3261 §7.3.1: header text is UTF-8; the body is never checked
};

class StreamFramer;

class Message {
 public:
  struct Header {
    HeaderId id;
    std::string_view name;   // as received ("v", "MaX-fOrWaRdS") or as added
    std::string_view value;  // unfolded, without leading/trailing LWS
  };

  Message() = default;
  Message(const Message& other);
  Message& operator=(const Message& other);
  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;
  // New request with `SIP/2.0`; false-y fields are the caller's business (check_request tells).
  static Message request(std::string_view method, std::string_view request_uri);
  static Message response(int status, std::string_view reason = {});

  bool is_request() const { return request_; }
  bool is_response() const { return !request_; }

  // Request line.
  std::string_view method() const { return view(start_[0]); }
  Method method_id() const { return method_id_; }
  std::string_view request_uri() const { return view(start_[1]); }
  Parsed<Uri> parse_request_uri() const { return parse_uri(request_uri()); }
  // Replaces the Request-URI (a proxy retargeting); false when it contains SP, HTAB or a CTL.
  bool set_request_uri(std::string_view uri);

  // Status line.
  int status() const { return status_; }
  std::string_view reason() const { return view(start_[2]); }
  void set_status(int status, std::string_view reason = {});

  // Headers in wire order.
  size_t header_count() const { return fields_.size(); }
  Header header(size_t i) const;  // {Unknown, "", ""} when i >= header_count()
  std::optional<std::string_view> get(HeaderId id) const;  // first field with that id
  std::optional<std::string_view> get(std::string_view name) const;
  size_t count(HeaderId id) const;
  size_t count(std::string_view name) const;
  // Every field with that id, in order.
  std::vector<std::string_view> values(HeaderId id) const;
  // The comma-separated elements of every field with that id (RFC 3261 §7.3.1); false on a
  // malformed list. Elements are appended to `out`.
  bool elements(HeaderId id, std::vector<std::string_view>& out) const;

  // Edits. Names must be tokens; values must not contain CR or LF (header injection) nor any
  // other control character except HTAB outside a quoted-pair: these return false and change
  // nothing otherwise.
  bool append(HeaderId id, std::string_view value);  // after the last `id` field, else at the end
  bool append(std::string_view name, std::string_view value);
  bool prepend(HeaderId id, std::string_view value);  // before the first `id` field, else first
  bool insert(size_t index, std::string_view name, std::string_view value);
  bool set(HeaderId id, std::string_view value);      // first `id` field gets `value`, others go
  bool set_value(size_t index, std::string_view value);
  size_t remove(HeaderId id);
  size_t remove(std::string_view name);
  void remove_at(size_t index);
  // Removes the first list element of the first `id` field ("Via: a, b" -> "Via: b"; a field
  // left empty is removed): popping the top Via or Route. False when there is none.
  bool pop_first_element(HeaderId id);

  std::string_view body() const { return view(body_); }
  // Sets the body; Content-Length follows it when serializing. Content-Type is the caller's.
  void set_body(std::string_view body);
  // Octets of a datagram after the Content-Length body (RFC 4475 §3.1.1.8), ignored.
  size_t trailing_bytes() const { return trailing_; }

  // Typed access. MissingHeader when absent; the first field is used when a single-valued
  // header is repeated (check_request() reports that).
  Parsed<Via> top_via() const;
  Parsed<std::vector<Via>> vias() const;
  Parsed<NameAddr> from() const { return single_name_addr(HeaderId::From); }
  Parsed<NameAddr> to() const { return single_name_addr(HeaderId::To); }
  Parsed<std::string_view> call_id() const;
  Parsed<CSeq> cseq() const;
  Parsed<uint32_t> max_forwards() const;
  Parsed<uint32_t> expires() const;
  Parsed<uint32_t> content_length() const;  // the header as received, not body().size()
  Parsed<MediaType> content_type() const;
  // Contact (with `*`), Route, Record-Route, Path, Service-Route, P-Asserted-Identity ...:
  // every element of every field with that id.
  Parsed<std::vector<NameAddr>> name_addrs(HeaderId id) const;
  Parsed<std::vector<NameAddr>> contacts() const { return name_addrs(HeaderId::Contact); }
  Parsed<std::vector<NameAddr>> routes() const { return name_addrs(HeaderId::Route); }
  Parsed<std::vector<NameAddr>> record_routes() const { return name_addrs(HeaderId::RecordRoute); }

  // Wire form: start line, headers in order as "name: value", exactly one Content-Length with
  // the body size (at the place of the first one received, else last), blank line, body.
  void serialize(std::string& out) const;  // appends
  std::string to_string() const;
  size_t serialized_size() const;

  // Memo for sip::check_request / check_response: the checks common to requests and responses
  // (single headers not repeated, Via, From, To, Call-ID, CSeq) passed on the current content, so
  // a message checked by the transport and again by the proxy core is parsed once. Every edit
  // clears it; copies keep it.
  bool common_checked() const { return common_checked_; }
  void set_common_checked() const { common_checked_ = true; }

 private:
  friend base::Result<Message, Failure> parse_message(std::string&& text, const Limits& limits);
  friend class StreamFramer;
  friend bool serialize(const Message& m, base::ByteWriter& w);

  struct Span {
    uint32_t off = 0;
    uint32_t len = 0;
    uint32_t seg = 0;  // 0: text_, k: arena_[k - 1]
  };
  struct Field {
    Span name;
    Span value;
    HeaderId id;
  };

  std::string_view view(Span s) const;
  Span store(std::string_view s);
  bool make_field(std::string_view name, std::string_view value, Field& f);
  Parsed<NameAddr> single_name_addr(HeaderId id) const;
  template <class Put>
  void write(Put&& put) const;

  // Parses start line and headers of text_ (which ends right after the blank line, or holds
  // the whole datagram). Sets body_start and content_length_; no body handling.
  std::optional<Failure> parse_head(const Limits& limits, size_t& body_start);

  std::string text_;
  // Chunks for values the application sets. Each reserves at least kArenaChunk octets, so its
  // buffer is on the heap and keeps its address when the vector grows or moves.
  std::vector<std::string> arena_;
  std::vector<Field> fields_;
  Span start_[3];  // method, Request-URI, version | version, status, reason
  Span body_;
  Method method_id_ = Method::Unknown;
  uint16_t status_ = 0;
  bool request_ = true;
  std::optional<uint32_t> content_length_;  // as parsed, for the framers
  size_t trailing_ = 0;
  mutable bool common_checked_ = false;
};

// Parses one SIP message carried whole by a datagram or a WebSocket frame (RFC 7118 §5: one
// message per frame). With Content-Length the body is that many octets and any octets after
// it are ignored; without it the body is the rest of the data (RFC 3261 §18.3).
base::Result<Message, Failure> parse_message(std::string_view text, const Limits& limits = {});
base::Result<Message, Failure> parse_message(std::string&& text, const Limits& limits = {});
inline base::Result<Message, Failure> parse_message(const char* text, const Limits& limits = {}) {
  return parse_message(std::string_view(text), limits);
}

// Writes the wire form; false when `w` is too small (w.overflow() is then set).
bool serialize(const Message& m, base::ByteWriter& w);

// A response to `request` per RFC 3261 §8.2.6.2: same Via fields in order, From, To, Call-ID,
// CSeq; `to_tag` is added to To when it has none and the status is not 100. A 100 also copies
// Timestamp (§8.2.6.1). The reason defaults to default_reason(status).
Message make_response(const Message& request, int status, std::string_view reason = {},
                      std::string_view to_tag = {});
// The RFC 3261 §21 reason phrase ("Bad Request"), or "Unknown".
std::string_view default_reason(int status);
// warning-value = warn-code SP warn-agent SP warn-text (RFC 3261 §20.43), e.g. for a 400 that
// says what was wrong: format_warning(399, "pcscf.example.org", failure.reason).
std::string format_warning(int code, std::string_view agent, std::string_view text);

}  // namespace sip
