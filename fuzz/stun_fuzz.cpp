// Fuzz target for the STUN/TURN codec (lib/stun): RFC 8489 messages, RFC 8656 ChannelData and the
// STUN/ChannelData stream framer. The same input is tried three ways:
//   1. as a STUN message: every accessor is called, integrity checked with a fixed key, and the
//      message is rebuilt from its visible attributes with Builder and re-parsed, which must
//      succeed and give back the same attributes (parse -> build -> parse is the identity);
//   2. as a ChannelData message: re-framed and re-parsed;
//   3. as a TCP/TLS byte stream: StreamFramer splits it into frames, each of which is parsed.
// Invariant violations trap, so libFuzzer (and the GCC corpus replay) report them as crashes.
//
// Seeds in corpus/stun/: the RFC 5769 and RFC 8489 B.1 vectors (tests/vectors/, as binaries; B.1
// both as corrected and as published) and TURN messages (Allocate with REQUESTED-TRANSPORT, 401
// with REALM/NONCE/PASSWORD-ALGORITHMS, authenticated Allocate, success responses, ChannelBind,
// CreatePermission, Refresh, Send/Data indications, 420, 300), ChannelData (UDP and stream-padded)
// and mixed/truncated TCP streams. Their MACs use kKey below.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "stun/channel_data.hpp"
#include "stun/message.hpp"

namespace {

#define FUZZ_CHECK(cond)        \
  do {                          \
    if (!(cond)) __builtin_trap(); \
  } while (0)

// The key the seed corpus uses for its MESSAGE-INTEGRITY(-SHA256), so verification succeeds on
// seeds and mutations explore both outcomes.
constexpr std::string_view kKeyText = "webims-fuzz-key";
const stun::Bytes kKey = base::as_bytes(kKeyText);

// Enough for the largest message plus a MESSAGE-INTEGRITY-SHA256 grown from 16 to 32 bytes.
constexpr size_t kBuildBuffer = stun::kMaxMessageSize + 64;

bool is_mac(uint16_t type) {
  return type == stun::attr::MessageIntegrity || type == stun::attr::MessageIntegritySha256;
}

void touch_accessors(const stun::Message& m, stun::Bytes input) {
  volatile uint32_t sink = 0;
  sink = sink + m.type() + uint16_t(m.method()) + uint8_t(m.cls()) + m.transaction_id()[0];
  FUZZ_CHECK(m.raw().data() == input.data() && m.raw().size() == input.size());
  FUZZ_CHECK((m.type() & 0xC000) == 0);
  FUZZ_CHECK(m.attributes().size() <= stun::Message::kMaxAttributes);
  for (const stun::Attribute& a : m.attributes()) {
    // Values are views into the input, within bounds, right behind their header.
    FUZZ_CHECK(a.offset >= stun::kHeaderSize);
    FUZZ_CHECK(size_t(a.offset) + 4 + a.value.size() <= input.size());
    FUZZ_CHECK(a.value.data() == input.data() + a.offset + 4);
    FUZZ_CHECK(a.type != stun::attr::Fingerprint);
    const stun::Attribute* first = m.find(a.type);
    FUZZ_CHECK(first != nullptr && first->offset <= a.offset);
    FUZZ_CHECK(m.has(a.type));
    if (auto s = m.string(a.type)) sink = sink + uint32_t(s->size());
    if (auto v = m.u32(a.type)) sink = sink + *v;
    if (auto e = m.xor_address(a.type)) sink = sink + e->port + e->addr.data()[0];
    if (auto e = m.address(a.type)) sink = sink + e->port + uint32_t(e->addr.size());
  }
  if (auto ec = m.error_code()) {
    FUZZ_CHECK(ec->code >= 300 && ec->code <= 699);
    sink = sink + uint32_t(ec->reason.size());
  }
  if (const stun::Attribute* mi = m.message_integrity()) FUZZ_CHECK(mi->value.size() == 20);
  if (const stun::Attribute* mi = m.message_integrity_sha256()) {
    FUZZ_CHECK(mi->value.size() >= 16 && mi->value.size() <= 32 && mi->value.size() % 4 == 0);
  }
  if (m.message_integrity() && m.message_integrity_sha256())
    FUZZ_CHECK(m.message_integrity()->offset < m.message_integrity_sha256()->offset);
  sink = sink + m.has_fingerprint();

  static constexpr std::array<uint16_t, 6> kKnown = {stun::attr::Username, stun::attr::Realm, stun::attr::Nonce,
                                                     stun::attr::Lifetime, stun::attr::MessageIntegrity,
                                                     stun::attr::MessageIntegritySha256};
  std::array<uint16_t, stun::Message::kMaxAttributes> unknown{};
  size_t n = m.unknown_required(kKnown, unknown);
  FUZZ_CHECK(n <= m.attributes().size());
  for (size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(stun::attr::comprehension_required(unknown[i]));
    FUZZ_CHECK(m.has(unknown[i]));
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(unknown[i] != unknown[j]);
  }
  std::array<uint16_t, 1> one{};
  FUZZ_CHECK(m.unknown_required(kKnown, one) == (n > 0 ? 1u : 0u));

  sink = sink + stun::verify_message_integrity(m, kKey) + stun::verify_message_integrity_sha256(m, kKey);
  (void)sink;
}

// Rebuilds `m` from its visible attributes (MACs recomputed with kKey), into `buf`.
base::Result<stun::Bytes, stun::Error> rebuild(const stun::Message& m, std::vector<uint8_t>& buf) {
  stun::Builder b(buf, m.type(), m.transaction_id());
  for (const stun::Attribute& a : m.attributes()) {
    if (a.type == stun::attr::MessageIntegrity)
      b.add_message_integrity(kKey);
    else if (a.type == stun::attr::MessageIntegritySha256)
      b.add_message_integrity_sha256(kKey);
    else
      b.add(a.type, a.value);
  }
  if (m.has_fingerprint()) b.add_fingerprint();
  return b.finish();
}

void fuzz_message(stun::Bytes input) {
  auto parsed = stun::parse(input);
  if (!parsed.ok()) return;
  const stun::Message& m = *parsed;
  FUZZ_CHECK(stun::looks_like_stun(input));
  touch_accessors(m, input);

  std::vector<uint8_t> buf(kBuildBuffer);
  auto rebuilt = rebuild(m, buf);
  if (!rebuilt.ok()) {
    // Only a truncated MESSAGE-INTEGRITY-SHA256 growing back to 32 bytes can push a maximal
    // message over the 16-bit length.
    FUZZ_CHECK(rebuilt.error() == stun::Error::BufferTooSmall);
    FUZZ_CHECK(m.message_integrity_sha256() != nullptr && input.size() + 16 > stun::kMaxMessageSize);
    return;
  }
  auto again = stun::parse(*rebuilt);
  FUZZ_CHECK(again.ok());
  const stun::Message& r = *again;
  touch_accessors(r, *rebuilt);
  FUZZ_CHECK(r.type() == m.type());
  FUZZ_CHECK(r.transaction_id() == m.transaction_id());
  FUZZ_CHECK(r.has_fingerprint() == m.has_fingerprint());
  FUZZ_CHECK(r.attributes().size() == m.attributes().size());
  for (size_t i = 0; i < r.attributes().size(); ++i) {
    const stun::Attribute& x = m.attributes()[i];
    const stun::Attribute& y = r.attributes()[i];
    FUZZ_CHECK(x.type == y.type);
    if (!is_mac(x.type)) {
      FUZZ_CHECK(x.value.size() == y.value.size());
      FUZZ_CHECK(x.value.empty() || std::memcmp(x.value.data(), y.value.data(), x.value.size()) == 0);
    }
  }
  // Our own MACs verify; typed accessors agree between original and rebuilt.
  FUZZ_CHECK(!r.message_integrity() || stun::verify_message_integrity(r, kKey));
  FUZZ_CHECK(!r.message_integrity_sha256() || stun::verify_message_integrity_sha256(r, kKey));
  for (const stun::Attribute& a : m.attributes()) {
    if (is_mac(a.type)) continue;  // recomputed, so any reading of their bytes may differ
    FUZZ_CHECK(m.xor_address(a.type) == r.xor_address(a.type));
    FUZZ_CHECK(m.address(a.type) == r.address(a.type));
    FUZZ_CHECK(m.u32(a.type) == r.u32(a.type));
  }
  // Building is deterministic: rebuilding the rebuilt message gives the same bytes.
  std::vector<uint8_t> buf2(kBuildBuffer);
  auto twice = rebuild(r, buf2);
  FUZZ_CHECK(twice.ok() && twice->size() == rebuilt->size() &&
             std::memcmp(twice->data(), rebuilt->data(), rebuilt->size()) == 0);
}

void fuzz_channel_data(stun::Bytes input) {
  auto cd = stun::parse_channel_data(input);
  if (!cd.ok()) return;
  FUZZ_CHECK(stun::valid_channel(cd->channel));
  FUZZ_CHECK(stun::looks_like_channel_data(input));
  FUZZ_CHECK(cd->data.data() == input.data() + stun::kChannelDataHeader);
  FUZZ_CHECK(cd->data.size() + stun::kChannelDataHeader <= input.size());
  for (bool pad : {false, true}) {
    std::vector<uint8_t> buf(stun::kChannelDataHeader + cd->data.size() + 3);
    if (!cd->data.empty()) std::memcpy(buf.data() + stun::kChannelDataHeader, cd->data.data(), cd->data.size());
    stun::Bytes framed = stun::frame_channel_data(buf, cd->channel, cd->data.size(), pad);
    FUZZ_CHECK(framed.size() <= buf.size());
    FUZZ_CHECK(!pad || framed.size() % 4 == 0);
    auto again = stun::parse_channel_data(framed);
    FUZZ_CHECK(again.ok() && again->channel == cd->channel && again->data.size() == cd->data.size());
    FUZZ_CHECK(cd->data.empty() || std::memcmp(again->data.data(), cd->data.data(), cd->data.size()) == 0);
    auto f = stun::StreamFramer::next(framed);
    FUZZ_CHECK(pad ? (f.kind == stun::StreamFramer::Kind::ChannelData && f.size == framed.size())
                   : (f.kind != stun::StreamFramer::Kind::Invalid));
  }
}

void fuzz_stream(stun::Bytes input) {
  using Kind = stun::StreamFramer::Kind;
  stun::Bytes rest = input;
  while (!rest.empty()) {
    auto f = stun::StreamFramer::next(rest);
    if (f.kind == Kind::Invalid) return;
    if (f.kind == Kind::NeedMore) {
      FUZZ_CHECK(f.needed > rest.size() && f.needed <= stun::kMaxMessageSize);
      // Asking again with the same bytes gives the same answer; a prefix never asks for less data
      // than the whole would complete.
      auto g = stun::StreamFramer::next(rest);
      FUZZ_CHECK(g.kind == Kind::NeedMore && g.needed == f.needed);
      return;
    }
    FUZZ_CHECK(f.size > 0 && f.size <= rest.size());
    stun::Bytes frame = rest.first(f.size);
    // Every strict prefix of a frame is NeedMore (never a different frame or Invalid).
    auto p = stun::StreamFramer::next(frame.first(f.size - 1));
    FUZZ_CHECK(p.kind == Kind::NeedMore && p.needed <= f.size);
    if (f.kind == Kind::Stun) {
      FUZZ_CHECK(f.size >= stun::kHeaderSize && f.size % 4 == 0);
      FUZZ_CHECK(stun::looks_like_stun(frame));
      fuzz_message(frame);  // may still be refused (e.g. bad FINGERPRINT), never crash
    } else {
      FUZZ_CHECK(f.kind == Kind::ChannelData && f.size % 4 == 0);
      auto cd = stun::parse_channel_data(frame);
      FUZZ_CHECK(cd.ok());
      FUZZ_CHECK(f.size - stun::kChannelDataHeader - cd->data.size() < 4);
    }
    rest = rest.subspan(f.size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stun::Bytes input(data, size);
  fuzz_message(input);
  fuzz_channel_data(input);
  fuzz_stream(input);
  return 0;
}
