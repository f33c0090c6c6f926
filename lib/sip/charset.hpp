// Character classes of the RFC 3261 §25.1 ABNF as one lookup table, plus the LWS helpers every
// parser in lib/sip shares. Internal to the library.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sip::detail {

enum : uint16_t {
  kAlnum = 1 << 0,
  kToken = 1 << 1,          // token (alphanum and -.!%*_+`'~)
  kUnreserved = 1 << 2,     // alphanum / mark
  kUserExtra = 1 << 3,      // user-unreserved: & = + $ , ; ? /
  kPasswordExtra = 1 << 4,  // & = + $ ,
  kParamExtra = 1 << 5,     // param-unreserved: [ ] / : & + $
  kHnvExtra = 1 << 6,       // hnv-unreserved: [ ] / ? : + $
  kWord = 1 << 7,           // word (Call-ID)
  kHex = 1 << 8,
  kHostname = 1 << 9,       // alphanum - . (and _ seen in the wild)
  kUric = 1 << 10,          // reserved / unreserved (absoluteURI), % handled by the caller
  kToken68 = 1 << 11,       // RFC 7235 token68 without the trailing '='
  kTelChar = 1 << 12,       // RFC 3966 number digits and visual separators
};

constexpr std::array<uint16_t, 256> make_table() {
  std::array<uint16_t, 256> t{};
  auto set = [&t](std::string_view chars, uint16_t f) {
    for (char c : chars) t[static_cast<uint8_t>(c)] |= f;
  };
  for (int c = '0'; c <= '9'; ++c) t[c] |= kAlnum | kHex;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kAlnum;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kAlnum;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHex;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHex;
  for (int c = 0; c < 256; ++c) {
    if (t[c] & kAlnum) t[c] |= kToken | kUnreserved | kWord | kHostname | kUric | kToken68 | kTelChar;
  }
  set("-.!%*_+`'~", kToken | kWord);
  set("-_.!~*'()", kUnreserved | kUric);
  set("&=+$,;?/", kUserExtra);
  set("&=+$,", kPasswordExtra);
  set("[]/:&+$", kParamExtra);
  set("[]/?:+$", kHnvExtra);
  set("()<>:\\\"/[]?{}", kWord);
  set("-._", kHostname);
  set(";/?:@&=+$,", kUric);
  set("-._~+/", kToken68);
  set("-.()*#+", kTelChar);
  return t;
}

inline constexpr std::array<uint16_t, 256> kChars = make_table();

inline bool is(char c, uint16_t f) { return (kChars[static_cast<uint8_t>(c)] & f) != 0; }
inline bool is_token_char(char c) { return is(c, kToken); }
inline bool is_wsp(char c) { return c == ' ' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

inline bool all_of(std::string_view s, uint16_t f) {
  for (char c : s)
    if (!is(c, f)) return false;
  return true;
}
inline bool is_token(std::string_view s) { return !s.empty() && all_of(s, kToken); }

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Header values reach the typed parsers already unfolded (message.cpp replaces each
// CRLF 1*WSP with SP, RFC 3261 §7.3.1), so LWS here is only SP / HTAB.
inline std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_wsp(s[b])) ++b;
  while (e > b && is_wsp(s[e - 1])) --e;
  return s.substr(b, e - b);
}
inline void skip_wsp(std::string_view s, size_t& i) {
  while (i < s.size() && is_wsp(s[i])) ++i;
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Checks `s` is made of characters of class `f` and well-formed %HH escapes.
inline bool escaped_all_of(std::string_view s, uint16_t f) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is(s[i + 1], kHex) || !is(s[i + 2], kHex)) return false;
      i += 2;
    } else if (!is(s[i], f)) {
      return false;
    }
  }
  return true;
}

// Parses a quoted-string starting at s[i] == '"'; on success i is past the closing quote and
// `inner` is the text between the quotes with quoted-pairs kept as written.
// quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F), RFC 3261 §25.1.
inline bool scan_quoted(std::string_view s, size_t& i, std::string_view& inner) {
  size_t start = ++i;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      inner = s.substr(start, i - start);
      ++i;
      return true;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) return false;
      unsigned char n = static_cast<unsigned char>(s[i + 1]);
      if (n == '\r' || n == '\n' || n > 0x7F) return false;
      i += 2;
      continue;
    }
    ++i;
  }
  return false;
}

// Removes the quoted-pair escapes of a quoted-string's inner text.
inline std::string unquote(std::string_view inner) {
  std::string out;
  out.reserve(inner.size());
  for (size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\' && i + 1 < inner.size()) ++i;
    out.push_back(inner[i]);
  }
  return out;
}

// host [ COLON port ] at s[i..] (RFC 3261 §25.1 hostport; sent-by in Via allows LWS around
// the colon). Stops at the first character that cannot continue it. Defined in uri.cpp.
bool parse_hostport(std::string_view s, size_t& i, std::string_view& host, uint8_t& host_type,
                    bool& has_port, uint16_t& port, bool lws_around_colon);

}  // namespace sip::detail
