// application/x-www-form-urlencoded (WHATWG URL §5; RFC 6749 Appendix B): OAuth request parameters,
// in a query string or a POST body. Sans-I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace waf {

// Name -> value, '+' as space and %XX decoded. nullopt when a %-escape is malformed or a parameter
// appears twice (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
std::optional<std::map<std::string, std::string>> parse_form(std::string_view text);

// The encoding of one value: unreserved characters kept, the rest %XX (space as %20, fit for a
// redirect URI's query or fragment as well as a form body).
std::string form_escape(std::string_view v);

}  // namespace waf
