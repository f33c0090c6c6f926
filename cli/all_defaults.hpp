// `webims all` with nothing configured: the values several components must agree on (the page
// origins the eP-CSCF admits, TR 33.871 6.1.1.2 NOTE 4; the WWSF's CSP and CORS; the WAF's issuer
// that the eP-CSCF checks in tokens, protocols.md "Token validation configuration"; the eP-CSCF URL
// the app is given) follow the listeners' ports and the names a browser may use for this host:
// localhost, 127.0.0.1, [::1] and the primary address. A key whose value differs from its default
// is the user's choice and is kept as set.
#pragma once

#include <string>
#include <vector>

#include "config.hpp"

namespace cli {

// What the derivation decided besides the changes to the Config.
struct AllDerived {
  bool w4_in_process = false;    // [wwsf] waf_token_url left at its default: W4 to this process's WAF, in memory
  bool jwks_in_process = false;  // [pcscf] token_jwks_url left at its default, no token_jwks_file: the WAF's keys in memory
  std::string open_url;          // the app as this host's browser opens it: [wwsf] origin + "/"
  std::string remote_url;        // the app from another machine (primary address); empty when unreachable
};

// `primary`: servers::primary_address() (a parameter for tests). Throws base::config::Error when a
// listen URL cannot be read.
AllDerived derive_all_defaults(Config& c, const std::string& primary);

// scheme://host[:port] without the port when it is the scheme's default (what a browser sends as
// Origin); IPv6 hosts are bracketed.
std::string origin_of(const std::string& scheme, const std::string& host, int port);

}  // namespace cli
