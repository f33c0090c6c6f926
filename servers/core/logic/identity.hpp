// Identities as the core compares them: IMPU canonical forms (RFC 3261 §19.1.4, RFC 3966 §5.1.1),
// the IMPI derived from an IMPU (protocols.md "Scenario 1", TR 33.871 NOTE 5), and hops kept as text
// in the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sip/proxy.hpp"
#include "sip/uri.hpp"

namespace core {

// "sip:user@host" (scheme and host in lower case, user unescaped, port and parameters dropped) or
// "tel:+number" without visual separators. nullopt for other URIs and SIP URIs without a user.
std::optional<std::string> canonical_impu(const sip::Uri& uri);
std::optional<std::string> canonical_impu(std::string_view uri_text);

// NOTE 5: without a Digest username the IMPI is the IMPU without its scheme:
// sip:alice@ims.example.org -> alice@ims.example.org. nullopt for tel URIs.
std::optional<std::string> impi_from_impu(const sip::Uri& uri);

// sip::Hop::to_string() read back ("TCP 127.0.0.1:5070 flow 3").
std::optional<sip::Hop> parse_hop(std::string_view text);

}  // namespace core
