// The one error enum of the SIP library (style.md "Errors"): every parser, check and framer in
// lib/sip reports one of these values, and the message-level calls add a human-readable reason.
// A server maps them to a wire answer in one place: BadVersion -> 505, everything else that still
// left a parsable request -> 400 with the reason in a Warning (protocols.md W2), else close.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sip {

enum class Error : uint8_t {
  BadStartLine = 1,  // Request-Line / Status-Line does not match RFC 3261 §7.1, §7.2
  BadVersion,        // well-formed SIP-Version other than SIP/2.0 (answer 505, RFC 3261 §21.5.6)
  BadMethod,         // method is not a token (RFC 3261 §25.1 Method)
  BadStatusCode,     // Status-Code is not 3 digits in 100..699
  BadHeader,         // header line without HCOLON, bad field-name, folding before any header
  BadCharacter,      // NUL or another CTL outside a quoted-pair, bare CR or LF, invalid UTF-8
  BadUri,            // SIP/SIPS/tel URI or absoluteURI does not parse (RFC 3261 §19.1, RFC 3966)
  BadNameAddr,       // name-addr / addr-spec (display name, angle brackets)
  BadVia,            // Via element (sent-protocol, sent-by, via-params)
  BadCSeq,           // CSeq number >= 2**31 or method not a token (RFC 3261 §8.1.1.5)
  BadParam,          // empty or malformed generic-param / uri-parameter
  BadQuotedString,   // unterminated quoted-string or bad quoted-pair
  BadValue,          // a typed header value out of range or of the wrong syntax
  BadAuth,           // Authorization / WWW-Authenticate syntax (RFC 3261 §25.1, RFC 7235)
  MissingHeader,     // a mandatory header is absent (RFC 3261 §8.1.1)
  DuplicateHeader,   // a single-valued header appears more than once
  MethodMismatch,    // CSeq method differs from the request method (RFC 3261 §8.1.1.5)
  BadContentLength,  // malformed, negative, repeated, or missing on a stream (§18.3, §20.14)
  Truncated,         // header section not terminated, or body shorter than Content-Length
  TooLarge,          // message larger than Limits::max_message_size
  TooManyHeaders,    // more than Limits::max_headers header lines
  HeaderTooLong,     // a (folded) header line longer than Limits::max_header_length
};

// Short English phrase for `e`, usable as a Reason-Phrase ("Bad CSeq").
std::string_view describe(Error e);

// An error with the detail a peer needs to fix its message ("bad Via: missing sent-by").
struct Failure {
  Error code{};
  std::string reason;
};

// describe(e) + ": " + detail, the detail cut to 80 octets of printable ASCII ('?' elsewhere).
Failure make_failure(Error e, std::string_view detail = {});

}  // namespace sip
