// Text encodings used on the wire and in configuration: base64 (RFC 4648 §4), base64url (§5), hex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"

namespace base {

std::string base64_encode(Bytes data);
std::string base64url_encode(Bytes data);  // no padding (RFC 7515 style)
// Strict decoders: reject characters outside the alphabet and bad padding. base64 requires
// padding; base64url accepts it missing or present.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);
std::optional<std::vector<uint8_t>> base64url_decode(std::string_view text);
std::string hex_encode(Bytes data);
std::optional<std::vector<uint8_t>> hex_decode(std::string_view text);

}  // namespace base
