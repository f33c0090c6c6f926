// Header text rules the HTTP client, the HTTP server and the WebSocket handshake share (RFC 9110
// §5.1, §5.5): field names compared case-insensitively and handed to callers lower-cased, and no
// field a caller supplies may smuggle a CR, LF or NUL into the message (header injection).
#pragma once

#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace net::detail {

// False when `s` holds a CR, LF or NUL: text that would end a field or the header early.
inline bool clean_header_text(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// ASCII lower case; other octets as they are (field names are tokens, RFC 9110 §5.1).
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

// A caller's header field we may write: a non-empty name without space, tab or colon, and neither
// name nor value with CR, LF or NUL.
inline bool writable_header_field(std::string_view name, std::string_view value) {
  return !name.empty() && clean_header_text(name) && clean_header_text(value) &&
         name.find_first_of(" \t:") == std::string_view::npos;
}

// The fields of a parsed Beast message as {lower-cased name, value}, in order.
template <class Fields>
std::vector<std::pair<std::string, std::string>> lowered_fields(const Fields& msg) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(size_t(std::distance(msg.begin(), msg.end())));
  for (const auto& f : msg) out.emplace_back(lower(f.name_string()), std::string(f.value()));
  return out;
}

}  // namespace net::detail
