// libFuzzer target for lib/net/ws_frame (the server's RFC 6455 frame decoder).
// The first two octets choose the message size limit and where the rest is cut into reads; the rest
// is the byte stream a client sent. Invariants (a violation traps, so the fuzzer reports it):
//  - the decoder gives the same events whether the stream arrives at once or in two reads;
//  - it never consumes more than it was given, and takes everything when it gives no event;
//  - messages respect the limit, text and close reasons are UTF-8, close codes are valid,
//    control payloads are at most 125 octets, a failure is 1002, 1007 or 1009 and is the last event;
//  - every complete message re-encoded as masked client frames decodes to the same events.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/ws_frame.hpp"

namespace {

using net::ws::Event;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

std::vector<Event> run(std::string_view in, size_t cut, size_t max) {
  net::ws::ServerDecoder d(max);
  std::vector<Event> out;
  size_t parts[2] = {std::min(cut, in.size()), in.size() - std::min(cut, in.size())};
  size_t at = 0;
  for (size_t n : parts) {
    size_t off = 0;
    while (off < n) {
      Event ev;
      size_t used = d.feed(in.data() + at + off, n - off, ev);
      require(used <= n - off);
      off += used;
      if (ev.kind == Event::None) {
        require(off == n);
      } else {
        require(!d.failed() || ev.kind == Event::Fail);
        out.push_back(std::move(ev));
      }
    }
    at += n;
  }
  return out;
}

bool same(const std::vector<Event>& a, const std::vector<Event>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].code != b[i].code || a[i].payload != b[i].payload) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t max = size_t(data[0]) * 64 + 1;
  size_t cut = data[1];
  std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);

  auto whole = run(in, in.size(), max);
  auto split = run(in, cut, max);
  require(same(whole, split));

  std::string again;
  uint32_t mask = 0x9e3779b9;
  for (size_t i = 0; i < whole.size(); ++i) {
    const Event& e = whole[i];
    switch (e.kind) {
      case Event::Text:
        require(net::ws::valid_utf8(e.payload));
        [[fallthrough]];
      case Event::Binary:
        require(e.payload.size() <= max);
        again += net::ws::encode_masked_frame(e.kind == Event::Text ? net::ws::Opcode::Text : net::ws::Opcode::Binary,
                                              e.payload, mask++);
        break;
      case Event::Ping:
      case Event::Pong:
        require(e.payload.size() <= 125);
        again += net::ws::encode_masked_frame(e.kind == Event::Ping ? net::ws::Opcode::Ping : net::ws::Opcode::Pong,
                                              e.payload, mask++);
        break;
      case Event::Close: {
        require(e.payload.size() <= 123 && net::ws::valid_utf8(e.payload));
        require(e.code == net::ws::kCloseNoStatus ? e.payload.empty() : net::ws::valid_close_code(e.code));
        std::string p;
        if (e.code != net::ws::kCloseNoStatus) {
          p.push_back(char(e.code >> 8));
          p.push_back(char(e.code & 0xFF));
          p += e.payload;
        }
        again += net::ws::encode_masked_frame(net::ws::Opcode::Close, p, mask++);
        break;
      }
      case Event::Fail:
        require(e.code == 1002 || e.code == 1007 || e.code == 1009);
        require(i + 1 == whole.size());
        break;
      case Event::None:
        require(false);
    }
  }
  auto re = run(again, again.size() / 2, max);
  std::vector<Event> expect;
  for (auto& e : whole)
    if (e.kind != Event::Fail) expect.push_back(e);
  require(same(re, expect));
  return 0;
}
