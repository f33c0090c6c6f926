// Helpers shared by the eP-CSCF logic tests: a PcscfIo that records every action of the logic, and
// a fixture that plays the WICs (WebSocket connections) and the IMS core (SIP over TCP) around it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "pcscf/logic/pcscf_logic.hpp"
#include "sip/message.hpp"

namespace pcscf::test {

// Unix time at the start of every test.
inline constexpr int64_t kNow = 1'900'000'000;

struct Pushed {
  std::string username, password;
  int64_t expires;
};
struct Revoked {
  std::string username;
  int64_t until;
};

struct FakeIo : PcscfIo {
  bool ws_send(uint64_t c, std::string t) override {
    ws.push_back({c, std::move(t)});
    return true;
  }
  void ws_close(uint64_t c, uint16_t code, std::string_view reason) override {
    closed.push_back({c, code});
    close_reasons.emplace_back(reason);
  }
  bool sip_send(const sip::Hop& to, const sip::Message& m) override {
    if (core_down) return false;
    core.push_back({to, m.to_string()});
    return true;
  }
  bool core_down = false;  // sends toward the core fail at once
  void record_turn_credential(const TurnCredentialRecord& r) override { records.push_back(r); }
  void fetch_jwks() override { ++fetches; }
  void introspect(uint64_t request, const std::string& token) override { introspections.push_back({request, token}); }
  void push_turn_credential(const std::string& u, const std::string& p, int64_t e) override { pushed.push_back({u, p, e}); }
  void revoke_turn_credential(const std::string& u, int64_t until) override { revoked.push_back({u, until}); }

  std::deque<std::pair<uint64_t, std::string>> ws;
  std::deque<std::pair<sip::Hop, std::string>> core;
  std::vector<std::pair<uint64_t, uint16_t>> closed;
  std::vector<std::string> close_reasons;
  std::vector<TurnCredentialRecord> records;
  int fetches = 0;
  std::vector<std::pair<uint64_t, std::string>> introspections;
  std::vector<Pushed> pushed;
  std::vector<Revoked> revoked;
};

inline sip::Message parse(const std::string& s) {
  auto m = sip::parse_message(s);
  EXPECT_TRUE(m.ok()) << s;
  return std::move(*m);
}

// The settings every test shares (the core at 127.0.0.1:5060 over TCP, this eP-CSCF at
// 127.0.0.1:5070, TURN key k1), the logic once a test makes it, and the two sides it talks to.
class PcscfFixture : public ::testing::Test {
 protected:
  explicit PcscfFixture(uint64_t seed) : rnd(seed) {
    base::log::set_level(base::log::Level::Warn);
    settings.next_hop = {"TCP", *base::Endpoint::parse("127.0.0.1:5060"), 0};
    settings.sip_host_port = "127.0.0.1:5070";
    settings.turn_key = token::TurnKey{"k1", "shared-km", "sha1"};
    settings.flow_key[0] = 9;
  }

  // Steady time 1000 s and kNow, both moved on by `clock`.
  base::Now now() { return {base::SteadyTime{} + std::chrono::seconds(1000) + clock, kNow + clock.count()}; }
  void from_wic(uint64_t c, const std::string& text) { logic->on_ws_message(c, text, now()); }

  // The core's answer to the last request forwarded to it, with `extra` header lines.
  void core_answers(int status, const std::string& extra = "") {
    ASSERT_FALSE(io.core.empty());
    sip::Message req = parse(io.core.back().second);
    sip::Message resp = sip::make_response(req, status);
    resp.remove(sip::HeaderId::To);
    resp.append(sip::HeaderId::To, std::string(*req.get(sip::HeaderId::To)) + ";tag=core");
    std::string text = resp.to_string();
    text.insert(text.find("Content-Length"), extra);
    logic->on_sip_message(io.core.back().first, parse(text), now());
  }

  // The last message sent to WebSocket connection `c`.
  sip::Message last_to_wic(uint64_t c) {
    for (auto it = io.ws.rbegin(); it != io.ws.rend(); ++it)
      if (it->first == c) return parse(it->second);
    ADD_FAILURE() << "nothing sent to connection " << c;
    return sip::Message();
  }

  PcscfSettings settings;
  FakeIo io;
  base::SeededRandom rnd;
  std::unique_ptr<PcscfLogic> logic;
  std::chrono::seconds clock{0};
};

}  // namespace pcscf::test
