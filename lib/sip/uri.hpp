// URIs in SIP: SIP-URI and SIPS-URI (RFC 3261 §19.1, §25.1), tel URIs (RFC 3966) and any other
// absoluteURI kept opaque (RFC 3261 §25.1 allows it in Request-URI, To, From, Contact).
//
//   sip:user:password@host:port;uri-parameters?headers
//   sips:alice@[2001:db8::1]:5061;transport=tcp
//   tel:+1-201-555-0123;phone-context=example.com
//
// Every field is a view into the text given to parse_uri(): the caller keeps that text alive
// (normally the Message the URI came from). User, password, parameters and headers stay escaped
// as received; uri_unescape() decodes them when a comparison needs the characters (RFC 3261
// §19.1.4: escaped and unescaped forms of a character are equivalent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "sip/error.hpp"

namespace sip {

// A parameter of a URI (";lr", ";transport=ws") or of a header (";tag=x", ";q=0.5",
// ";+sip.instance=\"<urn:uuid:...>\""). A quoted value is given without its quotes and with
// its quoted-pairs as written.
struct Param {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
  bool quoted = false;
};

// A view of a ";name[=value]" sequence, validated when the owning URI or header was parsed.
// Lookups compare names case-insensitively and allocate nothing.
class ParamList {
 public:
  enum class Kind : uint8_t { Uri, Header };
  ParamList() = default;
  // `raw` starts at the first ';' (or is empty).
  ParamList(std::string_view raw, Kind kind) : raw_(raw), kind_(kind) {}

  // Checks every parameter of `raw`; BadParam on an empty or malformed one.
  static base::Result<ParamList, Error> parse(std::string_view raw, Kind kind);

  std::optional<Param> find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name).has_value(); }
  // Value of `name`, "" when present without a value; nullopt when absent.
  std::optional<std::string_view> value(std::string_view name) const;
  size_t size() const;
  bool empty() const { return raw_.empty(); }
  std::string_view raw() const { return raw_; }

  // Calls f(const Param&) for each parameter in order; stops early when f returns false.
  template <class F>
  void for_each(F&& f) const {
    size_t pos = 0;
    Param p;
    while (next(pos, p) > 0)
      if (!f(p)) return;
  }

 private:
  // 1: a parameter was read; 0: end; -1: malformed (never on a list made by parse()).
  int next(size_t& pos, Param& out) const;
  std::string_view raw_;
  Kind kind_ = Kind::Header;
};

enum class Scheme : uint8_t { Sip, Sips, Tel, Other };
enum class HostType : uint8_t { None, Hostname, IPv4, IPv6 };

struct Uri {
  Scheme scheme = Scheme::Other;
  std::string_view text;         // the whole URI as parsed
  std::string_view scheme_text;  // "sip", "SIPS", "urn" ... as written
  std::string_view user;         // sip/sips: escaped userinfo user part; tel: the number
  std::string_view password;
  bool has_user = false;         // "@" present (sip/sips) or a number (tel)
  bool has_password = false;
  std::string_view host;         // IPv6 references keep their brackets
  HostType host_type = HostType::None;
  std::optional<uint16_t> port;
  ParamList params;              // uri-parameters (sip/sips) or tel parameters
  std::string_view headers;      // after '?', without it ("" when none)
  std::string_view opaque;       // Scheme::Other: everything after "scheme:"

  bool is_sip() const { return scheme == Scheme::Sip || scheme == Scheme::Sips; }
  std::optional<std::string_view> param(std::string_view name) const { return params.value(name); }
  std::string_view transport() const { return params.value("transport").value_or(std::string_view{}); }
  bool lr() const { return params.has("lr"); }
  // The host without IPv6 brackets.
  std::string_view host_address() const;
  // User part with %HH escapes decoded (may contain NUL, RFC 4475 §3.1.1.4).
  std::string user_unescaped() const;
  // "sip:user@host[:port]" with scheme and host in lower case and the user unescaped: the
  // canonical form used as a registration key (RFC 3261 §10.3 step 5).
  std::string address_of_record() const;
};

// Parses any URI allowed in a SIP message. BadUri on a syntax error.
base::Result<Uri, Error> parse_uri(std::string_view text);

// Decodes %HH escapes; a '%' not followed by two hex digits is kept as is.
std::string uri_unescape(std::string_view s);

}  // namespace sip
