// The WWSF's request handling with attacker-controlled input (W1 is the open Internet): the static
// path mapping, the Cookie header, JSON bodies of every API, and the WAF's answer over W4.
// Input: "METHOD\nPATH\nname: value\n...\n\nBODY"; a body after "\n\nWAF\n" is also the WAF's answer.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wwsf/logic/static_files.hpp"
#include "wwsf/logic/w4.hpp"
#include "wwsf/logic/wwsf_logic.hpp"

namespace {

struct ImmediateWaf final : wwsf::WafCaller {
  std::string answer;
  void post_token_request(std::string, Done done) override { done(Answer{200, answer}); }
};

struct World {
  World() : store(store::Store::open("sqlite::memory:")), random(1) {
    wwsf::WwsfSettings s;
    s.wwsf_id = "wwsf.example";
    s.origin = "https://wwsf.example";
    s.pwhash = wwsf::PwhashCost::minimum();
    s.open_registration = true;
    logic = std::make_unique<wwsf::WwsfLogic>(s, *store, random, waf, wwsf::StaticFiles("/nonexistent-webims-root"));
    auto sub = store::make_subscriber("alice@ims.example.org", "ims.example.org", "pw", {"sip:alice@ims.example.org"}, 0);
    sub.allowed_wwsf = {"wwsf.example"};
    store->put_subscriber(sub);
    auto g = store::make_subscriber("g@socialnet.example", "ims.example.org", "pw", {"sip:g@socialnet.example"}, 0);
    g.pool_owner = "wwsf.example";
    store->put_subscriber(g);
    (void)logic->add_account("alice", "password1", 0);
  }
  std::unique_ptr<store::Store> store;
  base::SeededRandom random;
  ImmediateWaf waf;
  std::unique_ptr<wwsf::WwsfLogic> logic;
};

std::string_view next_line(std::string_view& in) {
  auto nl = in.find('\n');
  auto line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)wwsf::safe_relative_path(in);
  (void)wwsf::parse_w4_token_response(200, in);

  net::HttpRequest req;
  req.method = std::string(next_line(in));
  req.target = req.path = std::string(next_line(in));
  while (!in.empty()) {
    auto line = next_line(in);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = char(std::tolower(uint8_t(c)));
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.headers.emplace_back(name, std::string(value));
  }
  auto waf_at = in.find("\n\nWAF\n");
  req.body = std::string(in.substr(0, waf_at));
  w.waf.answer = waf_at == std::string_view::npos ? std::string() : std::string(in.substr(waf_at + 6));
  (void)wwsf::cookie_value(req, wwsf::kSessionCookie);
  req.remote = *base::Endpoint::parse("192.0.2.1:1000");
  base::Now now{base::SteadyTime{} + std::chrono::hours(1), 1'800'000'000};
  bool answered = false;
  w.logic->handle(req, now, [&](net::HttpResponse r) {
    answered = true;
    if (r.status < 200 || r.status > 599) __builtin_trap();
  });
  if (!answered) __builtin_trap();  // the immediate WAF answers at once: every request gets a response
  w.logic->on_timer(now);
  return 0;
}
