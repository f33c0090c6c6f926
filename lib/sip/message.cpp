#include "sip/message.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "sip/auth.hpp"
#include "sip/charset.hpp"

namespace sip {

using base::fail;
using namespace detail;

namespace {

constexpr size_t kArenaChunk = 1024;

// A value the application sets must read back as the same header: no CR or LF (that would
// inject a header) and no other CTL except HTAB unless it is a quoted-pair ("\<NUL>" in a
// quoted display name is legal, RFC 4475 §3.1.1.2, and make_response copies such values).
bool safe_value(std::string_view v) {
  for (size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c == '\r' || c == '\n') return false;
    if (((c < 0x20 && c != '\t') || c == 0x7F) && (i == 0 || v[i - 1] != '\\')) return false;
  }
  return true;
}

// Length of the UTF-8 sequence at p[0..n) (RFC 3629 §4), 0 when invalid.
size_t utf8_sequence(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c == 0xE0) len = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) len = 3;
  else if (c == 0xED) len = 3, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF) len = 3;
  else if (c == 0xF0) len = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) len = 4;
  else if (c == 0xF4) len = 4, hi = 0x8F;
  else return 0;
  if (n < len) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if (p[k] < 0x80 || p[k] > 0xBF) return 0;
  return len;
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, case-insensitive literal (RFC 3261 §7.1).
// 1: SIP/2.0; 0: well-formed other version; -1: malformed.
int check_version(std::string_view v) {
  if (v.size() < 7 || !iequals(v.substr(0, 4), "SIP/")) return -1;
  std::string_view num = v.substr(4);
  size_t dot = num.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == num.size()) return -1;
  for (size_t i = 0; i < num.size(); ++i)
    if (i != dot && !is_digit(num[i])) return -1;
  return num == "2.0" ? 1 : 0;
}

// Byte classes for the header scan: almost every byte is kPlain and is skipped by a tight loop.
enum : uint8_t { kPlain, kCr, kQuote, kBackslash, kHigh, kCtl };
constexpr std::array<uint8_t, 256> make_scan_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = (c < 0x20 || c == 0x7F) ? kCtl : c >= 0x80 ? kHigh : kPlain;
  t['\t'] = kPlain;
  t['\r'] = kCr;
  t['"'] = kQuote;
  t['\\'] = kBackslash;
  return t;
}
constexpr std::array<uint8_t, 256> kScan = make_scan_table();

// Eight octets at a time: true when none is a CTL (HTAB included, the slow path takes it),
// DEL, non-ASCII, '"', '\\' or CR. The "any byte less than n" / "any zero byte" tests are the
// exact ones of Bit Twiddling Hacks (valid for n <= 128).
constexpr uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
inline bool any_less(uint64_t x, uint8_t n) { return ((x - k01 * n) & ~x & k80) != 0; }
inline bool any_equal(uint64_t x, uint8_t b) { return any_less(x ^ (k01 * b), 1); }
inline bool plain8(const unsigned char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return !((x & k80) || any_less(x, 0x20) || any_equal(x, 0x7F) || any_equal(x, '"') || any_equal(x, '\\'));
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, size_t(r.ptr - buf));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Storage

std::string_view Message::view(Span s) const {
  const std::string& seg = s.seg == 0 ? text_ : arena_[s.seg - 1];
  return std::string_view(seg.data() + s.off, s.len);
}

Message::Message(const Message& other)
    : text_(other.text_),
      fields_(other.fields_),
      body_(other.body_),
      method_id_(other.method_id_),
      status_(other.status_),
      request_(other.request_),
      content_length_(other.content_length_),
      trailing_(other.trailing_),
      common_checked_(other.common_checked_) {
  std::copy(std::begin(other.start_), std::end(other.start_), std::begin(start_));
  arena_.reserve(other.arena_.size());
  for (const std::string& chunk : other.arena_) {
    // A plain copy could shrink a short chunk into the small-string buffer, which moves with
    // the vector; keep every chunk on the heap.
    arena_.emplace_back();
    arena_.back().reserve(std::max(kArenaChunk, chunk.size()));
    arena_.back().assign(chunk);
  }
}

Message& Message::operator=(const Message& other) {
  if (this != &other) *this = Message(other);
  return *this;
}

Message::Span Message::store(std::string_view s) {
  // Append into the last chunk only while it has room: a chunk never reallocates, so views
  // into it stay valid.
  if (arena_.empty() || arena_.back().capacity() - arena_.back().size() < s.size()) {
    arena_.emplace_back();
    arena_.back().reserve(std::max(kArenaChunk, s.size()));
  }
  std::string& chunk = arena_.back();
  Span span{uint32_t(chunk.size()), uint32_t(s.size()), uint32_t(arena_.size())};
  chunk.append(s);
  return span;
}

bool Message::make_field(std::string_view name, std::string_view value, Field& f) {
  if (!is_token(name) || !safe_value(value)) return false;
  f.id = header_id(name);
  f.name = store(name);
  f.value = store(trim(value));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Parsing

std::optional<Failure> Message::parse_head(const Limits& limits, size_t& body_start) {
  char* p = text_.data();
  const size_t n = text_.size();
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  if (n > limits.max_message_size) return make_failure(Error::TooLarge);

  // Start line: no folding, no CTL but HTAB (Reason-Phrase may hold it), UTF-8 (unreason).
  size_t i = 0;
  while (true) {
    while (i < n && (kScan[u[i]] == kPlain || kScan[u[i]] == kQuote || kScan[u[i]] == kBackslash)) ++i;
    if (i >= n) return make_failure(Error::Truncated, "start line not terminated by CRLF");
    if (i > limits.max_header_length) return make_failure(Error::HeaderTooLong, "start line");
    unsigned char c = u[i];
    if (c == '\r') break;
    if (c >= 0x80) {
      size_t len = utf8_sequence(u + i, n - i);
      if (len == 0 && limits.require_utf8) return make_failure(Error::BadCharacter, "invalid UTF-8 in start line");
      i += len ? len : 1;
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7F) return make_failure(Error::BadCharacter, "control character in start line");
    ++i;
  }
  if (i + 1 >= n) return make_failure(Error::Truncated, "start line not terminated by CRLF");
  if (p[i + 1] != '\n') return make_failure(Error::BadCharacter, "bare CR in start line");
  std::string_view line(p, i);
  size_t pos = i + 2;

  auto span_of = [p](std::string_view s) { return Span{uint32_t(s.data() - p), uint32_t(s.size()), 0}; };
  if (line.size() >= 4 && iequals(line.substr(0, 4), "SIP/")) {
    request_ = false;
    size_t sp = line.find(' ');
    std::string_view version = line.substr(0, sp);
    int v = check_version(version);
    if (v < 0) return make_failure(Error::BadStartLine, "malformed SIP-Version");
    if (v == 0) return make_failure(Error::BadVersion, version);
    if (sp == std::string_view::npos) return make_failure(Error::BadStartLine, "no Status-Code");
    std::string_view rest = line.substr(sp + 1);
    size_t sp2 = rest.find(' ');
    std::string_view code = rest.substr(0, sp2);
    // Status-Code = 3DIGIT (RFC 3261 §7.2); RFC 4475 §3.1.2.19 sends 4294967301.
    if (code.size() != 3 || !is_digit(code[1]) || !is_digit(code[2]) || code[0] < '1' || code[0] > '6')
      return make_failure(Error::BadStatusCode, code.substr(0, 16));
    status_ = uint16_t((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
    start_[0] = span_of(version);
    start_[1] = span_of(code);
    // "SIP/2.0 100 " has an empty Reason-Phrase (RFC 4475 §3.1.1.13); "SIP/2.0 100" without
    // the SP is accepted too, as no reading of it is ambiguous.
    start_[2] = sp2 == std::string_view::npos ? Span{uint32_t(code.data() + code.size() - p), 0, 0}
                                              : span_of(rest.substr(sp2 + 1));
  } else {
    request_ = true;
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return make_failure(Error::BadStartLine, "no Request-URI");
    std::string_view method = line.substr(0, sp1);
    if (!is_token(method)) return make_failure(Error::BadMethod, method.substr(0, 32));
    size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return make_failure(Error::BadStartLine, "no SIP-Version");
    std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    // Exactly one SP between the three parts and none after (RFC 4475 §3.1.2.8-10).
    if (uri.empty() || version.find(' ') != std::string_view::npos)
      return make_failure(Error::BadStartLine, "Request-Line elements must be separated by single SP");
    int v = check_version(version);
    if (v < 0) return make_failure(Error::BadStartLine, "malformed SIP-Version");
    if (v == 0) return make_failure(Error::BadVersion, version);
    auto parsed = parse_uri(uri);
    if (!parsed) return make_failure(Error::BadUri, "Request-URI");
    // Headers are not allowed in a Request-URI (RFC 3261 §19.1.1 table, RFC 4475 §3.1.2.11).
    if (parsed->is_sip() && !parsed->headers.empty())
      return make_failure(Error::BadUri, "headers in Request-URI");
    start_[0] = span_of(method);
    start_[1] = span_of(uri);
    start_[2] = span_of(version);
    method_id_ = sip::method_id(method);
  }

  if (pos < n && is_wsp(p[pos])) return make_failure(Error::BadHeader, "continuation line before any header");
  fields_.reserve(24);

  // Header fields up to the empty line.
  while (true) {
    if (pos + 1 < n && p[pos] == '\r' && p[pos + 1] == '\n') {
      body_start = pos + 2;
      return std::nullopt;
    }
    if (pos >= n) return make_failure(Error::Truncated, "header section not terminated by an empty line");
    if (fields_.size() >= limits.max_headers) return make_failure(Error::TooManyHeaders);

    // One field: physical lines joined while the next starts with SP/HTAB. Quotes are tracked
    // only so that a quoted-pair may carry a CTL ("\<NUL>", RFC 4475 §3.1.1.2).
    const size_t start = pos;
    size_t j = pos, line_end = 0;
    bool quote = false, folded = false;
    while (true) {
      while (j + 8 <= n && plain8(u + j)) j += 8;
      while (j < n && kScan[u[j]] == kPlain) ++j;
      if (j - start > limits.max_header_length) return make_failure(Error::HeaderTooLong);
      if (j >= n) return make_failure(Error::Truncated, "header section not terminated by an empty line");
      unsigned char c = u[j];
      switch (kScan[c]) {
        case kCr:
          if (j + 1 >= n) return make_failure(Error::Truncated, "header line not terminated by CRLF");
          if (p[j + 1] != '\n') return make_failure(Error::BadCharacter, "bare CR");
          if (j + 2 >= n) return make_failure(Error::Truncated, "header section not terminated by an empty line");
          if (is_wsp(p[j + 2])) {
            folded = true;
            j += 3;
            continue;
          }
          line_end = j;
          pos = j + 2;
          break;
        case kQuote:
          quote = !quote;
          ++j;
          continue;
        case kBackslash:
          ++j;
          // quoted-pair = "\\" (%x00-09 / %x0B-0C / %x0E-7F): the escaped octet is taken as is.
          if (quote && j < n && u[j] != '\r' && u[j] != '\n' && u[j] < 0x80) ++j;
          continue;
        case kHigh: {
          size_t len = utf8_sequence(u + j, n - j);
          if (len == 0 && limits.require_utf8) return make_failure(Error::BadCharacter, "invalid UTF-8 in header");
          j += len ? len : 1;
          continue;
        }
        default:
          return make_failure(Error::BadCharacter, c == '\n' ? "bare LF" : "control character in header");
      }
      break;
    }

    // field-name HCOLON value; HCOLON = *( SP / HTAB ) ":" SWS
    size_t k = start;
    while (k < line_end && is_token_char(p[k])) ++k;
    if (k == start) return make_failure(Error::BadHeader, "empty or invalid header name");
    Field f;
    f.name = Span{uint32_t(start), uint32_t(k - start), 0};
    std::string_view name(p + start, k - start);
    while (k < line_end && is_wsp(p[k])) ++k;
    if (k >= line_end || p[k] != ':') return make_failure(Error::BadHeader, name.substr(0, 64));
    size_t vb = k + 1, ve = line_end;
    if (folded) {
      // CRLF 1*WSP (with the WSP before it) is one SP (RFC 3261 §7.3.1); shrink in place.
      size_t w = vb;
      for (size_t r = vb; r < ve;) {
        if (p[r] == '\r') {
          while (w > vb && is_wsp(p[w - 1])) --w;
          p[w++] = ' ';
          r += 2;
          while (r < ve && is_wsp(p[r])) ++r;
        } else {
          p[w++] = p[r++];
        }
      }
      ve = w;
    }
    while (vb < ve && is_wsp(p[vb])) ++vb;
    while (ve > vb && is_wsp(p[ve - 1])) --ve;
    f.value = Span{uint32_t(vb), uint32_t(ve - vb), 0};
    f.id = header_id(name);
    if (f.id == HeaderId::ContentLength) {
      // Two Content-Length values leave the body length unknowable (RFC 4475 §3.3.9).
      if (content_length_) return make_failure(Error::BadContentLength, "more than one Content-Length");
      auto cl = parse_number(std::string_view(p + vb, ve - vb), 0xFFFFFFFFu);
      if (!cl) return make_failure(Error::BadContentLength, "not a non-negative integer");
      content_length_ = *cl;
    }
    fields_.push_back(f);
  }
}

base::Result<Message, Failure> parse_message(std::string&& text, const Limits& limits) {
  Message m;
  m.text_ = std::move(text);
  size_t body_start = 0;
  if (auto f = m.parse_head(limits, body_start)) return fail(std::move(*f));
  size_t avail = m.text_.size() - body_start;
  size_t len = avail;
  if (m.content_length_) {
    if (*m.content_length_ > avail) {
      std::string detail = "Content-Length ";
      append_number(detail, *m.content_length_);
      detail += " exceeds the ";
      append_number(detail, avail);
      detail += " octets received";
      return fail(make_failure(Error::Truncated, detail));
    }
    len = *m.content_length_;
  }
  m.body_ = Message::Span{uint32_t(body_start), uint32_t(len), 0};
  m.trailing_ = avail - len;
  return m;
}

base::Result<Message, Failure> parse_message(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_message_size) return fail(make_failure(Error::TooLarge));
  return parse_message(std::string(text), limits);
}

// ---------------------------------------------------------------------------------------------
// Construction and edits

Message Message::request(std::string_view method, std::string_view request_uri) {
  Message m;
  m.request_ = true;
  m.start_[0] = m.store(method);
  m.start_[1] = m.store(request_uri);
  m.start_[2] = m.store("SIP/2.0");
  m.method_id_ = sip::method_id(method);
  return m;
}

Message Message::response(int status, std::string_view reason) {
  Message m;
  m.set_status(status, reason);
  return m;
}

bool Message::set_request_uri(std::string_view uri) {
  common_checked_ = false;
  if (uri.empty()) return false;
  for (char c : uri)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  start_[1] = store(uri);
  return true;
}

void Message::set_status(int status, std::string_view reason) {
  common_checked_ = false;
  request_ = false;
  status_ = uint16_t(std::clamp(status, 100, 699));
  std::string code;
  append_number(code, status_);
  start_[0] = store("SIP/2.0");
  start_[1] = store(code);
  if (reason.empty() || !safe_value(reason)) reason = default_reason(status_);
  start_[2] = store(reason);
}

Message::Header Message::header(size_t i) const {
  if (i >= fields_.size()) return Header{HeaderId::Unknown, {}, {}};
  const Field& f = fields_[i];
  return Header{f.id, view(f.name), view(f.value)};
}

std::optional<std::string_view> Message::get(HeaderId id) const {
  for (const Field& f : fields_)
    if (f.id == id) return view(f.value);
  return std::nullopt;
}

std::optional<std::string_view> Message::get(std::string_view name) const {
  HeaderId id = header_id(name);
  if (id != HeaderId::Unknown) return get(id);
  for (const Field& f : fields_)
    if (f.id == HeaderId::Unknown && iequals(view(f.name), name)) return view(f.value);
  return std::nullopt;
}

size_t Message::count(HeaderId id) const {
  return size_t(std::count_if(fields_.begin(), fields_.end(), [id](const Field& f) { return f.id == id; }));
}

size_t Message::count(std::string_view name) const {
  HeaderId id = header_id(name);
  if (id != HeaderId::Unknown) return count(id);
  size_t n = 0;
  for (const Field& f : fields_)
    if (f.id == HeaderId::Unknown && iequals(view(f.name), name)) ++n;
  return n;
}

std::vector<std::string_view> Message::values(HeaderId id) const {
  std::vector<std::string_view> out;
  for (const Field& f : fields_)
    if (f.id == id) out.push_back(view(f.value));
  return out;
}

bool Message::elements(HeaderId id, std::vector<std::string_view>& out) const {
  for (const Field& f : fields_)
    if (f.id == id && !split_list(view(f.value), out)) return false;
  return true;
}

bool Message::append(HeaderId id, std::string_view value) { return append(header_name(id), value); }

bool Message::append(std::string_view name, std::string_view value) {
  common_checked_ = false;
  Field f;
  if (!make_field(name, value, f)) return false;
  size_t at = fields_.size();
  if (f.id != HeaderId::Unknown) {
    for (size_t i = fields_.size(); i-- > 0;)
      if (fields_[i].id == f.id) {
        at = i + 1;
        break;
      }
  }
  fields_.insert(fields_.begin() + ptrdiff_t(at), f);
  return true;
}

bool Message::prepend(HeaderId id, std::string_view value) {
  common_checked_ = false;
  Field f;
  if (!make_field(header_name(id), value, f)) return false;
  size_t at = 0;
  for (size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].id == id) {
      at = i;
      break;
    }
  fields_.insert(fields_.begin() + ptrdiff_t(at), f);
  return true;
}

bool Message::insert(size_t index, std::string_view name, std::string_view value) {
  common_checked_ = false;
  Field f;
  if (index > fields_.size() || !make_field(name, value, f)) return false;
  fields_.insert(fields_.begin() + ptrdiff_t(index), f);
  return true;
}

bool Message::set(HeaderId id, std::string_view value) {
  common_checked_ = false;
  if (!safe_value(value) || id == HeaderId::Unknown) return false;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].id != id) continue;
    fields_[i].value = store(trim(value));
    for (size_t j = fields_.size(); j-- > i + 1;)
      if (fields_[j].id == id) fields_.erase(fields_.begin() + ptrdiff_t(j));
    return true;
  }
  return append(id, value);
}

bool Message::set_value(size_t index, std::string_view value) {
  common_checked_ = false;
  if (index >= fields_.size() || !safe_value(value)) return false;
  fields_[index].value = store(trim(value));
  return true;
}

size_t Message::remove(HeaderId id) {
  common_checked_ = false;
  size_t before = fields_.size();
  std::erase_if(fields_, [id](const Field& f) { return f.id == id; });
  return before - fields_.size();
}

size_t Message::remove(std::string_view name) {
  common_checked_ = false;
  HeaderId id = header_id(name);
  if (id != HeaderId::Unknown) return remove(id);
  size_t before = fields_.size();
  std::erase_if(fields_, [&](const Field& f) { return f.id == HeaderId::Unknown && iequals(view(f.name), name); });
  return before - fields_.size();
}

void Message::remove_at(size_t index) {
  common_checked_ = false;
  if (index < fields_.size()) fields_.erase(fields_.begin() + ptrdiff_t(index));
}

bool Message::pop_first_element(HeaderId id) {
  common_checked_ = false;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].id != id) continue;
    std::string_view v = view(fields_[i].value);
    size_t end = detail::element_end(v, 0);
    if (end == std::string_view::npos || end == v.size()) {
      remove_at(i);
    } else {
      std::string_view rest = trim(v.substr(end + 1));
      Span s = fields_[i].value;
      // The remainder is a suffix of the same storage: point at it instead of copying.
      s.off += uint32_t(rest.data() - v.data());
      s.len = uint32_t(rest.size());
      fields_[i].value = s;
      if (rest.empty()) remove_at(i);
    }
    return true;
  }
  return false;
}

void Message::set_body(std::string_view body) {
  common_checked_ = false;
  body_ = store(body);
}

// ---------------------------------------------------------------------------------------------
// Typed access

Parsed<Via> Message::top_via() const {
  auto v = get(HeaderId::Via);
  if (!v) return fail(Error::MissingHeader);
  size_t end = detail::element_end(*v, 0);
  if (end == std::string_view::npos) return fail(Error::BadVia);
  return parse_via(v->substr(0, end));
}

Parsed<std::vector<Via>> Message::vias() const {
  std::vector<std::string_view> elems;
  if (!elements(HeaderId::Via, elems)) return fail(Error::BadVia);
  if (elems.empty()) return fail(Error::MissingHeader);
  std::vector<Via> out;
  out.reserve(elems.size());
  for (auto e : elems) {
    auto v = parse_via(e);
    if (!v) return fail(v.error());
    out.push_back(*v);
  }
  return out;
}

Parsed<NameAddr> Message::single_name_addr(HeaderId id) const {
  auto v = get(id);
  if (!v) return fail(Error::MissingHeader);
  return parse_name_addr(*v);
}

Parsed<std::string_view> Message::call_id() const {
  auto v = get(HeaderId::CallId);
  if (!v) return fail(Error::MissingHeader);
  if (!valid_call_id(*v)) return fail(Error::BadValue);
  return *v;
}

Parsed<CSeq> Message::cseq() const {
  auto v = get(HeaderId::CSeq);
  if (!v) return fail(Error::MissingHeader);
  return parse_cseq(*v);
}

Parsed<uint32_t> Message::max_forwards() const {
  auto v = get(HeaderId::MaxForwards);
  if (!v) return fail(Error::MissingHeader);
  return parse_max_forwards(*v);
}

Parsed<uint32_t> Message::expires() const {
  auto v = get(HeaderId::Expires);
  if (!v) return fail(Error::MissingHeader);
  return parse_delta_seconds(*v);
}

Parsed<uint32_t> Message::content_length() const {
  auto v = get(HeaderId::ContentLength);
  if (!v) return fail(Error::MissingHeader);
  auto n = parse_delta_seconds(*v);
  if (!n) return fail(Error::BadContentLength);
  return n;
}

Parsed<MediaType> Message::content_type() const {
  auto v = get(HeaderId::ContentType);
  if (!v) return fail(Error::MissingHeader);
  return parse_media_type(*v);
}

Parsed<std::vector<NameAddr>> Message::name_addrs(HeaderId id) const {
  std::vector<std::string_view> elems;
  if (!elements(id, elems)) return fail(Error::BadNameAddr);
  std::vector<NameAddr> out;
  out.reserve(elems.size());
  const bool star = id == HeaderId::Contact;
  for (auto e : elems) {
    auto na = parse_name_addr(e, star);
    if (!na) return fail(na.error());
    out.push_back(*na);
  }
  // "*" is only valid as the sole Contact (RFC 3261 §10.2.2).
  if (star && out.size() > 1)
    for (const auto& na : out)
      if (na.star) return fail(Error::BadNameAddr);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Serialization

template <class Put>
void Message::write(Put&& put) const {
  char num[24];
  auto number = [&](uint64_t v) {
    auto r = std::to_chars(num, num + sizeof num, v);
    put(std::string_view(num, size_t(r.ptr - num)));
  };
  if (request_) {
    put(method());
    put(" ");
    put(request_uri());
    put(" SIP/2.0\r\n");
  } else {
    put("SIP/2.0 ");
    number(status_);
    put(" ");
    put(reason());
    put("\r\n");
  }
  bool length_written = false;
  for (const Field& f : fields_) {
    if (f.id == HeaderId::ContentLength) {
      if (length_written) continue;
      length_written = true;
      put(view(f.name));
      put(": ");
      number(body_.len);
      put("\r\n");
      continue;
    }
    put(view(f.name));
    put(": ");
    put(view(f.value));
    put("\r\n");
  }
  if (!length_written) {
    put("Content-Length: ");
    number(body_.len);
    put("\r\n");
  }
  put("\r\n");
  put(body());
}

void Message::serialize(std::string& out) const {
  // Enough for the received text plus every edit, without a sizing pass over the headers.
  size_t estimate = text_.size() + 16 + 4 * fields_.size();
  for (const auto& chunk : arena_) estimate += chunk.size();
  out.reserve(out.size() + estimate);
  write([&out](std::string_view s) { out.append(s); });
}

std::string Message::to_string() const {
  std::string out;
  serialize(out);
  return out;
}

size_t Message::serialized_size() const {
  size_t n = 0;
  write([&n](std::string_view s) { n += s.size(); });
  return n;
}

bool serialize(const Message& m, base::ByteWriter& w) {
  m.write([&w](std::string_view s) { w.bytes(s); });
  return !w.overflow();
}

// ---------------------------------------------------------------------------------------------
// Responses

Message make_response(const Message& request, int status, std::string_view reason, std::string_view to_tag) {
  Message r = Message::response(status, reason);
  for (size_t i = 0; i < request.header_count(); ++i) {
    Message::Header h = request.header(i);
    switch (h.id) {
      case HeaderId::Via:
      case HeaderId::From:
      case HeaderId::CallId:
      case HeaderId::CSeq:
        r.append(header_name(h.id), h.value);
        break;
      case HeaderId::Timestamp:
        if (status == 100) r.append(header_name(h.id), h.value);
        break;
      case HeaderId::To: {
        auto to = parse_name_addr(h.value);
        if (status != 100 && !to_tag.empty() && to && !to->params.has("tag")) {
          std::string v(h.value);
          v += ";tag=";
          v += to_tag;
          r.append(HeaderId::To, v);
        } else {
          r.append(HeaderId::To, h.value);
        }
        break;
      }
      default:
        break;
    }
  }
  return r;
}

std::string_view default_reason(int status) {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 200: return "OK";
    case 202: return "Accepted";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 305: return "Use Proxy";
    case 380: return "Alternative Service";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 420: return "Bad Extension";
    case 421: return "Extension Required";
    case 423: return "Interval Too Brief";
    case 430: return "Flow Failed";
    case 439: return "First Hop Lacks Outbound Support";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 484: return "Address Incomplete";
    case 485: return "Ambiguous";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 491: return "Request Pending";
    case 493: return "Undecipherable";
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    case 600: return "Busy Everywhere";
    case 603: return "Decline";
    case 604: return "Does Not Exist Anywhere";
    case 606: return "Not Acceptable";
    default: return "Unknown";
  }
}

std::string format_warning(int code, std::string_view agent, std::string_view text) {
  std::string out;
  append_number(out, uint64_t(std::clamp(code, 300, 399)));
  out += ' ';
  out += agent.empty() ? std::string_view("-") : agent;
  out += ' ';
  out += quote(text);
  return out;
}

}  // namespace sip
