#include "base/encoding.hpp"

#include <array>

namespace base {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(Bytes d, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((d.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= d.size(); i += 3) {
    uint32_t v = uint32_t(d[i]) << 16 | uint32_t(d[i + 1]) << 8 | d[i + 2];
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
    out += alphabet[v & 63];
  }
  size_t rest = d.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t(d[i]) << 16;
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t v = uint32_t(d[i]) << 16 | uint32_t(d[i + 1]) << 8;
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
    if (pad) out += '=';
  }
  return out;
}

std::optional<std::vector<uint8_t>> decode(std::string_view t, const char* alphabet, bool padding_required) {
  std::array<int8_t, 256> rev;
  rev.fill(-1);
  for (int i = 0; i < 64; ++i) rev[uint8_t(alphabet[i])] = int8_t(i);
  size_t pad = 0;
  while (!t.empty() && t.back() == '=' && pad < 2) { t.remove_suffix(1); ++pad; }
  if (padding_required && (t.size() + pad) % 4 != 0) return std::nullopt;
  if (pad && (t.size() + pad) % 4 != 0) return std::nullopt;
  if (t.size() % 4 == 1) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(t.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : t) {
    int v = rev[uint8_t(c)];
    if (v < 0) return std::nullopt;
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t(acc >> bits));
    }
  }
  // Leftover bits must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string base64_encode(Bytes data) { return encode(data, kStd, true); }
std::string base64url_encode(Bytes data) { return encode(data, kUrl, false); }
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) { return decode(text, kStd, true); }
std::optional<std::vector<uint8_t>> base64url_decode(std::string_view text) { return decode(text, kUrl, false); }

std::string hex_encode(Bytes data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::optional<std::vector<uint8_t>> hex_decode(std::string_view text) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2) return std::nullopt;
  std::vector<uint8_t> out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nib(text[2 * i]), lo = nib(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = uint8_t(hi << 4 | lo);
  }
  return out;
}

}  // namespace base
