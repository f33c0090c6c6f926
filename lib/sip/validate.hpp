// Whole-message checks a server runs after parse_message(): the mandatory header set of
// RFC 3261 §8.1.1 (Via, From, To, Call-ID, CSeq, Max-Forwards) with the CSeq method matching the
// request method (§8.1.1.5), single-valued headers given once (§7.3.1), and a deep validate()
// that also types every other header the library knows. Each failure says which header is wrong,
// for the Warning of a 400 (protocols.md W2).
#pragma once

#include "base/result.hpp"
#include "sip/error.hpp"
#include "sip/message.hpp"

namespace sip {

struct CheckOptions {
  // RFC 2543 elements omit Max-Forwards (RFC 4475 §3.4.1); a proxy may then assume 70.
  bool require_max_forwards = true;
};

using Check = base::Result<void, Failure>;

// Request: Via (every element parses), From, To, Call-ID, CSeq (number < 2**31, method equal to
// the request method), Max-Forwards (0-255); none of From/To/Call-ID/CSeq/Max-Forwards/
// Content-Type/Expires repeated.
Check check_request(const Message& m, const CheckOptions& options = {});
// Response: Via, From, To, Call-ID, CSeq, no repeats.
Check check_response(const Message& m);
// check_request / check_response, then Contact (incl. `*` alone), Route, Record-Route, Path,
// Service-Route and the other name-addr headers, Expires, Min-Expires, Content-Type, Date,
// Retry-After, Warning, the auth headers, and the option-tag lists.
Check validate(const Message& m, const CheckOptions& options = {});

}  // namespace sip
