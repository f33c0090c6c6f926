// libFuzzer target for lib/sip (RFC 3261 parser, serializer, typed headers, framer).
// One input is used three ways:
//  1. as a datagram / WebSocket frame: parse_message, every typed accessor and validate();
//     a parsed message must serialize to text that parses again and is then a fixed point;
//     a request that passes check_request must give a response that passes check_response;
//     digest/auth values that parse must format to text that parses again;
//  2. as a TCP/TLS byte stream: the StreamFramer must report the same events whether the bytes
//     arrive at once or in two reads split where the first byte says (Beast's parsegrind).
// Invariant violations trap, so the fuzzer reports them like crashes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sip/auth.hpp"
#include "sip/message.hpp"
#include "sip/stream_framer.hpp"
#include "sip/validate.hpp"

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

void exercise_auth(std::string_view value) {
  auto a = sip::parse_auth(value);
  if (!a) return;
  require(sip::parse_auth(sip::format_auth(*a)).ok());
  (void)sip::bearer_token(*a);
  if (auto c = sip::to_digest_credentials(*a)) require(sip::parse_digest_credentials(sip::format(*c)).ok());
  if (auto c = sip::to_digest_challenge(*a)) require(sip::parse_digest_challenge(sip::format(*c)).ok());
}

void exercise(const sip::Message& m) {
  (void)m.parse_request_uri();
  if (auto u = m.parse_request_uri()) (void)u->address_of_record();
  if (auto f = m.from()) (void)f->display_name_text();
  if (auto t = m.to()) (void)t->uri.user_unescaped();
  (void)m.vias();
  (void)m.top_via();
  (void)m.call_id();
  (void)m.cseq();
  (void)m.max_forwards();
  (void)m.expires();
  (void)m.content_length();
  (void)m.content_type();
  if (auto c = m.contacts())
    for (const auto& na : *c) {
      (void)na.expires();
      (void)na.q();
    }
  (void)m.routes();
  (void)m.record_routes();
  for (size_t i = 0; i < m.header_count(); ++i) {
    auto h = m.header(i);
    if (h.id == sip::HeaderId::Authorization || h.id == sip::HeaderId::ProxyAuthorization ||
        h.id == sip::HeaderId::WWWAuthenticate || h.id == sip::HeaderId::ProxyAuthenticate)
      exercise_auth(h.value);
  }
  (void)sip::validate(m);

  if (m.is_request() && sip::check_request(m)) {
    sip::Message r = sip::make_response(m, 400, {}, "fuzz");
    require(r.append(sip::HeaderId::Warning, sip::format_warning(399, "fuzz.invalid", m.request_uri())));
    auto parsed = sip::parse_message(r.to_string());
    require(parsed.ok());
    require(sip::check_response(*parsed).ok());
  }
}

struct Step {
  sip::StreamFramer::Event event;
  size_t consumed;
  std::string text;
};

std::vector<Step> frame(std::string_view stream, size_t cut) {
  sip::StreamFramer f;
  std::string buffer(stream.substr(0, cut));
  std::vector<Step> steps;
  bool more = cut < stream.size();
  while (true) {
    auto r = f.feed(buffer);
    if (r.event == sip::StreamFramer::Event::NeedMore) {
      if (!more) break;
      buffer.append(stream.substr(cut));
      more = false;
      continue;
    }
    steps.push_back({r.event, r.consumed, {}});
    if (r.event == sip::StreamFramer::Event::Error) {
      steps.back().text = f.failure().reason;
      break;
    }
    if (r.event == sip::StreamFramer::Event::Message) {
      sip::Message m = f.take();
      steps.back().text = m.to_string();
      exercise(m);
    }
    require(r.consumed > 0 && r.consumed <= buffer.size());
    buffer.erase(0, r.consumed);
  }
  return steps;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto m = sip::parse_message(in)) {
    exercise(*m);
    // Serializing may lengthen a field by the SP after the colon and add Content-Length.
    sip::Limits roomy;
    roomy.max_message_size *= 2;
    roomy.max_header_length *= 2;
    std::string once = m->to_string();
    auto again = sip::parse_message(once, roomy);
    require(again.ok());
    require(again->to_string() == once);
    // The only field serializing adds is a missing Content-Length.
    require(again->header_count() == m->header_count() + (m->count(sip::HeaderId::ContentLength) ? 0 : 1));
  }

  size_t cut = size == 0 ? 0 : size_t(data[0]) * size / 256;
  auto whole = frame(in, size);
  auto split = frame(in, cut);
  require(whole.size() == split.size());
  for (size_t i = 0; i < whole.size(); ++i)
    require(whole[i].event == split[i].event && whole[i].consumed == split[i].consumed &&
            whole[i].text == split[i].text);
  return 0;
}
