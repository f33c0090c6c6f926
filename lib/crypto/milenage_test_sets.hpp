// Test support (not part of webims_crypto): reads tests/vectors/ts35208/milenage_test_sets.txt.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/encoding.hpp"

#ifndef WEBIMS_VECTORS_DIR
#error "WEBIMS_VECTORS_DIR must point at tests/vectors"
#endif

namespace crypto {

using TestSet = std::map<std::string, std::string>;

// Blocks of `name = value` lines separated by blank lines; `#` starts a comment line.
inline std::vector<TestSet> load_milenage_test_sets() {
  std::ifstream in(std::string(WEBIMS_VECTORS_DIR) + "/ts35208/milenage_test_sets.txt");
  std::vector<TestSet> sets;
  TestSet cur;
  std::string line;
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
    return s;
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    line = trim(line);
    if (line.empty()) {
      if (!cur.empty()) sets.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    cur[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  if (!cur.empty()) sets.push_back(std::move(cur));
  return sets;
}

inline std::vector<uint8_t> unhex(const std::string& s) {
  auto v = base::hex_decode(s);
  EXPECT_TRUE(v.has_value()) << s;
  return v.value_or(std::vector<uint8_t>{});
}

template <size_t N>
std::array<uint8_t, N> to_array(const std::string& hex) {
  std::array<uint8_t, N> a{};
  auto v = unhex(hex);
  EXPECT_EQ(v.size(), N) << hex;
  if (v.size() == N) std::memcpy(a.data(), v.data(), N);
  return a;
}

}  // namespace crypto
