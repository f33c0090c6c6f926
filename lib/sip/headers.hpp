// Typed views of the header values a proxy and a registrar read: list splitting (RFC 3261 §7.3.1),
// name-addr / addr-spec with header parameters (§20.10, §20.20, §20.39, §25.1), Via (§20.42,
// RFC 3581 rport), CSeq (§20.16), Content-Type (§20.15), numbers (Max-Forwards §20.22,
// Expires §20.19, Content-Length §20.14) and SIP-date (§20.17).
//
// The parsers take one element of an already unfolded header value (Message does the unfolding)
// and return views into it; nothing is allocated. They never throw and never read outside the
// given string_view.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sip/error.hpp"
#include "sip/uri.hpp"

namespace sip {

template <class T>
using Parsed = base::Result<T, Error>;

// RFC 3261 §7.1 methods plus the extension methods a proxy routes. Method names are
// case-sensitive: "invite" is an unknown method.
enum class Method : uint8_t {
  Unknown, Invite, Ack, Bye, Cancel, Options, Register, Prack, Subscribe, Notify, Publish, Info,
  Refer, Message, Update
};
Method method_id(std::string_view name);
std::string_view method_name(Method m);  // "" for Unknown

// Calls f(std::string_view element) for each comma-separated element of a list header value,
// respecting quoted-strings and <...>; elements are trimmed of LWS. Returns false (after
// reporting the elements before it) on an empty element or an unterminated quote/bracket.
bool split_list(std::string_view value, std::vector<std::string_view>& out);
template <class F>
bool for_each_element(std::string_view value, F&& f);

// name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route, Path,
// Service-Route, P-Asserted-Identity, Refer-To...
//   "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
//   <sip:x@abc.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:...>";expires=600
//   sip:bob@biloxi.example.com;tag=a6c85cf        (addr-spec: parameters belong to the header)
struct NameAddr {
  std::string_view display_name;  // quoted: inner text with quoted-pairs; else the tokens
  bool display_quoted = false;
  bool angle = false;             // the URI was in <...>
  Uri uri;
  ParamList params;               // header parameters
  bool star = false;              // Contact: * (RFC 3261 §10.2.2)

  std::string_view tag() const { return params.value("tag").value_or(std::string_view{}); }
  std::optional<std::string_view> param(std::string_view name) const { return params.value(name); }
  // Display name with quoted-pairs removed.
  std::string display_name_text() const;
  // Contact ;expires= (RFC 3261 §20.10), BadValue when present but not delta-seconds.
  std::optional<Parsed<uint32_t>> expires() const;
  // Contact ;q= as thousandths (q=0.33 -> 330), BadValue when malformed (RFC 3261 §20.10).
  std::optional<Parsed<uint16_t>> q() const;
};
Parsed<NameAddr> parse_name_addr(std::string_view element, bool allow_star = false);

// One via-parm: sent-protocol LWS sent-by *( SEMI via-params ).
//   SIP/2.0/WSS abc.invalid;branch=z9hG4bK56sdasks;rport
struct Via {
  std::string_view protocol_name;     // "SIP"
  std::string_view protocol_version;  // "2.0"
  std::string_view transport;         // "UDP", "TCP", "TLS", "WS", "WSS", ... as written
  std::string_view host;              // IPv6 with brackets
  HostType host_type = HostType::None;
  std::optional<uint16_t> port;
  ParamList params;
  std::string_view branch;            // "" when absent
  std::string_view received;          // "" when absent
  bool rport = false;                 // rport present, with or without a value (RFC 3581)
  std::optional<uint16_t> rport_value;

  std::optional<std::string_view> param(std::string_view name) const { return params.value(name); }
  // RFC 3261 §8.1.1.7 magic cookie: the branch was built by an RFC 3261 element.
  bool rfc3261_branch() const { return branch.size() > 7 && branch.substr(0, 7) == "z9hG4bK"; }
};
Parsed<Via> parse_via(std::string_view element);

struct CSeq {
  uint32_t number = 0;
  std::string_view method;
  Method method_id = Method::Unknown;
};
// CSeq = 1*DIGIT LWS Method; the number must be < 2**31 (RFC 3261 §8.1.1.5).
Parsed<CSeq> parse_cseq(std::string_view value);

// media-type = m-type SLASH m-subtype *( SEMI m-parameter )
struct MediaType {
  std::string_view type, subtype;
  ParamList params;
  bool is(std::string_view t, std::string_view s) const;
};
Parsed<MediaType> parse_media_type(std::string_view value);

// 1*DIGIT no larger than `max` (leading zeros allowed: "0068" is 68, RFC 4475 §3.1.1.1).
Parsed<uint32_t> parse_number(std::string_view value, uint32_t max);
inline Parsed<uint32_t> parse_delta_seconds(std::string_view v) { return parse_number(v, 0xFFFFFFFFu); }
inline Parsed<uint32_t> parse_max_forwards(std::string_view v) { return parse_number(v, 255); }

// Call-ID = word [ "@" word ] (RFC 3261 §25.1).
bool valid_call_id(std::string_view value);
// SIP-date = rfc1123-date with "GMT" (RFC 3261 §20.17, §25.1).
bool valid_sip_date(std::string_view value);

// ---- implementation of the template ----
namespace detail {
// Finds the end of the list element starting at `i`: the next ',' outside "..." and <...>.
// Returns npos on an unterminated quote or bracket.
size_t element_end(std::string_view v, size_t i);
std::string_view trim_lws(std::string_view s);
}  // namespace detail

template <class F>
bool for_each_element(std::string_view value, F&& f) {
  size_t i = 0;
  if (detail::trim_lws(value).empty()) return false;
  while (true) {
    size_t end = detail::element_end(value, i);
    if (end == std::string_view::npos) return false;
    std::string_view e = detail::trim_lws(value.substr(i, end - i));
    if (e.empty()) return false;
    f(e);
    if (end == value.size()) return true;
    i = end + 1;
  }
}

}  // namespace sip
