// An error response for a request that did not parse (RFC 3261 §8.2 asks for 400 "when possible"):
// scans the raw text line by line for the request line and the headers a response must copy
// (Via, From, To, Call-ID, CSeq, also in compact form) and builds the response from them.
// nullopt when the text is not a request or any of them is missing or unusable.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sip {

std::optional<std::string> salvage_response(std::string_view raw, int status, std::string_view reason,
                                            std::string_view warning_agent, std::string_view warning_text);

}  // namespace sip
