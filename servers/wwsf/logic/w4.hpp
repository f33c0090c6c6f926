// W4 (TR 33.871 6.1.2.2, 4.2.2): the WWSF asks the WAF for an IMS access token for one IMPI, as an
// OAuth 2.0 client_credentials request (RFC 6749 §4.4) authenticated by mutual TLS (RFC 8705):
//
//   POST <waf_token_url>
//   Content-Type: application/x-www-form-urlencoded
//   Accept: application/json
//
//   grant_type=client_credentials&scope=webrtc-ims-client-access-to-ims&sub=<IMPI>&pool=<true|false>
//
// `sub` names the subscription the token is for (scenario 2: an IMPI the web user linked;
// scenario 3: the pool IMPI lent to a guest, pool=true). The WAF answers RFC 6749 §5.1 JSON
// {access_token, token_type, expires_in[, impu]} or a §5.2 error {error, error_description}.
// Pure functions: the I/O shell sends the request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace wwsf {

inline constexpr std::string_view kImsScope = "webrtc-ims-client-access-to-ims";

// application/x-www-form-urlencoded encoding of one value (WHATWG URL "application/x-www-form-urlencoded
// serializer": unreserved kept, space as '+', the rest %XX).
std::string form_encode(std::string_view v);

// The request body above; `client_id` (RFC 8705 §2: the client names itself when it authenticates by
// its certificate) is appended as "&client_id=..." when not empty.
std::string w4_token_request_body(std::string_view impi, bool pool, std::string_view client_id = {});

struct W4Token {
  std::string access_token;
  std::string token_type;
  int64_t expires_in = 0;
  std::vector<std::string> impu;  // empty when the WAF did not list them
};

struct W4Error {
  int status = 0;           // the WAF's HTTP status; 0: the answer was not understood
  std::string error;        // RFC 6749 §5.2 error code, e.g. "access_denied"
  std::string description;  // error_description, or why the answer was not understood
};

// Reads the WAF's answer. Never returns the token in an error text.
base::Result<W4Token, W4Error> parse_w4_token_response(int status, std::string_view body);

}  // namespace wwsf
