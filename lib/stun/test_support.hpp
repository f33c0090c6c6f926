// Helpers shared by the STUN unit tests (not part of the library).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "stun/message.hpp"

namespace stun::test {

using Buf = std::vector<uint8_t>;

inline Buf bytes(std::initializer_list<int> v) {
  Buf b;
  for (int x : v) b.push_back(uint8_t(x));
  return b;
}

inline Buf str_bytes(std::string_view s) { return Buf(s.begin(), s.end()); }

inline Buf copy(Bytes b) { return Buf(b.begin(), b.end()); }

inline Bytes view(const Buf& b) { return Bytes(b.data(), b.size()); }

// Reads a vector file of tests/vectors/: whitespace-separated hex bytes, `#` to end of line is a
// comment. Fails the test (and returns empty) on a malformed file.
inline Buf load_hex_vector(const std::string& relative) {
#ifndef WEBIMS_VECTORS_DIR
#error "WEBIMS_VECTORS_DIR must point at tests/vectors"
#endif
  std::string path = std::string(WEBIMS_VECTORS_DIR) + "/" + relative;
  std::ifstream f(path);
  if (!f) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  Buf out;
  std::string line;
  while (std::getline(f, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      if (w.size() % 2 != 0) {
        ADD_FAILURE() << path << ": odd hex token " << w;
        return {};
      }
      for (size_t i = 0; i < w.size(); i += 2) {
        size_t used = 0;
        int v = std::stoi(w.substr(i, 2), &used, 16);
        if (used != 2) {
          ADD_FAILURE() << path << ": bad hex token " << w;
          return {};
        }
        out.push_back(uint8_t(v));
      }
    }
  }
  return out;
}

// A transaction id with a recognisable pattern.
inline TransactionId tid(uint8_t seed = 1) {
  TransactionId t;
  for (size_t i = 0; i < t.size(); ++i) t[i] = uint8_t(seed + i);
  return t;
}

inline base::Endpoint ep(std::string_view text) {
  auto e = base::Endpoint::parse(text);
  EXPECT_TRUE(e.has_value()) << text;
  return e.value_or(base::Endpoint{});
}

// A minimal STUN header + raw body, with the length field set to the body length, for hand-made
// (possibly malformed) messages.
inline Buf raw_message(uint16_t type, const Buf& body, const TransactionId& t = tid()) {
  Buf m(kHeaderSize + body.size());
  base::store_be16(&m[0], type);
  base::store_be16(&m[2], uint16_t(body.size()));
  base::store_be32(&m[4], kMagicCookie);
  std::copy(t.begin(), t.end(), m.begin() + 8);
  std::copy(body.begin(), body.end(), m.begin() + kHeaderSize);
  return m;
}

// One raw attribute TLV, padded with `pad` bytes.
inline Buf raw_attr(uint16_t type, const Buf& value, uint8_t pad = 0) {
  Buf a = {uint8_t(type >> 8), uint8_t(type), uint8_t(value.size() >> 8), uint8_t(value.size())};
  a.insert(a.end(), value.begin(), value.end());
  while (a.size() % 4) a.push_back(pad);
  return a;
}

inline Buf cat(std::initializer_list<Buf> parts) {
  Buf out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace stun::test
