#include "sip/stream_framer.hpp"

#include <gtest/gtest.h>

#include "sip/test_support.hpp"

using namespace sip;
using sip::test::crlf;

namespace {

using Event = StreamFramer::Event;

struct Item {
  Event event;
  std::string text;  // serialized message for Event::Message
};

// Feeds `stream` to a framer in chunks cut at `cuts`, the way a socket reader would: append to
// a buffer, call feed() until NeedMore, drop the consumed bytes.
std::vector<Item> run(std::string_view stream, const std::vector<size_t>& cuts, const Limits& limits = {}) {
  StreamFramer f(limits);
  std::string buffer;
  std::vector<Item> out;
  size_t from = 0;
  auto pump = [&] {
    while (true) {
      auto r = f.feed(buffer);
      if (r.event == Event::NeedMore) return true;
      if (r.event == Event::Error) {
        out.push_back({Event::Error, f.failure().reason});
        return false;
      }
      EXPECT_GT(r.consumed, 0u);
      buffer.erase(0, r.consumed);
      out.push_back({r.event, r.event == Event::Message ? f.take().to_string() : std::string()});
    }
  };
  for (size_t cut : cuts) {
    buffer.append(stream.substr(from, cut - from));
    from = cut;
    if (!pump()) return out;
  }
  buffer.append(stream.substr(from));
  pump();
  return out;
}

const std::string kA = crlf("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nContent-Length: 5\n\nhello");
const std::string kB = crlf("SIP/2.0 200 OK\nt: <sip:x@y>\nl: 0\n\n");
// A body that looks like a keep-alive.
const std::string kC = crlf("MESSAGE sip:a@b SIP/2.0\nSubject: folded\n  line\nContent-Length: 4\n\n") + "\r\n\r\n";

}  // namespace

TEST(StreamFramer, SplitAtEveryOffset) {
  // Beast's "parsegrind": every split of the stream into two reads gives the same events.
  const std::string stream = "\r\n\r\n" + kA + "\r\n" + kB + kC + "\r\n\r\n";
  const std::vector<Item> want = {{Event::Ping, ""},
                                  {Event::Message, kA},
                                  {Event::Pong, ""},
                                  {Event::Message, kB},
                                  {Event::Message, crlf("MESSAGE sip:a@b SIP/2.0\nSubject: folded line\n"
                                                        "Content-Length: 4\n\n") + "\r\n\r\n"},
                                  {Event::Ping, ""}};
  auto same = [&](const std::vector<Item>& got) {
    if (got.size() != want.size()) return false;
    for (size_t i = 0; i < got.size(); ++i)
      if (got[i].event != want[i].event || got[i].text != want[i].text) return false;
    return true;
  };
  EXPECT_TRUE(same(run(stream, {})));
  for (size_t cut = 0; cut <= stream.size(); ++cut) EXPECT_TRUE(same(run(stream, {cut}))) << "cut at " << cut;
  for (size_t cut = 0; cut + 7 <= stream.size(); ++cut)
    EXPECT_TRUE(same(run(stream, {cut, cut + 7}))) << "cuts at " << cut << ", " << cut + 7;
  std::vector<size_t> bytes(stream.size());
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = i;
  EXPECT_TRUE(same(run(stream, bytes)));  // one byte at a time
}

TEST(StreamFramer, ContentLengthIsRequired) {
  auto got = run(crlf("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TCP h\n\n"), {});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, Event::Error);
  EXPECT_NE(got[0].text.find("Content-Length is required"), std::string::npos);
}

TEST(StreamFramer, ErrorsAreFinal) {
  StreamFramer f;
  EXPECT_EQ(f.feed(crlf("BAD LINE\n\n")).event, Event::Error);
  EXPECT_EQ(f.failure().code, Error::BadStartLine);
  EXPECT_EQ(f.feed(kA).event, Event::Error);
  f.reset();
  auto r = f.feed(kA);
  EXPECT_EQ(r.event, Event::Message);
  EXPECT_EQ(r.consumed, kA.size());
  EXPECT_EQ(f.take().body(), "hello");
}

TEST(StreamFramer, NegativeCases) {
  auto error_of = [](std::string_view s, const Limits& l = {}) {
    StreamFramer f(l);
    auto r = f.feed(s);
    return r.event == Event::Error ? f.failure().code : Error{};
  };
  EXPECT_EQ(error_of("\n\r\n"), Error::BadCharacter);
  EXPECT_EQ(error_of("\rX"), Error::BadCharacter);
  EXPECT_EQ(error_of(crlf("OPTIONS sip:a@b SIP/2.0\nContent-Length: -1\n\n")), Error::BadContentLength);
  EXPECT_EQ(error_of(crlf("OPTIONS sip:a@b SIP/2.0\nContent-Length: 1\nl: 1\n\n")), Error::BadContentLength);
  Limits l;
  l.max_message_size = 100;
  EXPECT_EQ(error_of(std::string(101, 'A'), l), Error::TooLarge);  // no end of header in sight
  EXPECT_EQ(error_of(crlf("OPTIONS sip:a@b SIP/2.0\nContent-Length: 60\n\n"), l), Error::TooLarge);
  EXPECT_EQ(error_of(std::string(99, 'A')), Error{});  // still waiting
}

TEST(StreamFramer, PipelinedMessagesInOneRead) {
  StreamFramer f;
  std::string buf = kB + kB + kA.substr(0, 10);
  auto r1 = f.feed(buf);
  ASSERT_EQ(r1.event, Event::Message);
  buf.erase(0, r1.consumed);
  auto r2 = f.feed(buf);
  ASSERT_EQ(r2.event, Event::Message);
  buf.erase(0, r2.consumed);
  EXPECT_EQ(f.feed(buf).event, Event::NeedMore);
  EXPECT_EQ(buf, kA.substr(0, 10));
}
