#include "sip/validate.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "sip/test_support.hpp"

using namespace sip;
using sip::test::crlf;

namespace {

const char* kGood =
    "REGISTER sip:ims.example.org SIP/2.0\n"
    "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1\n"
    "Max-Forwards: 70\n"
    "From: <sip:alice@ims.example.org>;tag=1\n"
    "To: <sip:alice@ims.example.org>\n"
    "Call-ID: c1\n"
    "CSeq: 7 REGISTER\n"
    "Content-Length: 0\n";

Message msg(std::string_view headers) {
  auto m = parse_message(crlf(std::string(headers) + "\n"));
  EXPECT_TRUE(m) << (m ? "" : m.error().reason);
  return m ? std::move(*m) : Message();
}

// kGood with the line starting with `name` replaced by `line` (or removed when empty).
std::string with(std::string_view name, std::string_view line) {
  std::string out;
  std::string_view s = kGood;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view l = s.substr(0, nl + 1);
    s.remove_prefix(nl + 1);
    if (l.substr(0, name.size()) == name) {
      if (!line.empty()) out.append(line).append("\n");
    } else {
      out.append(l);
    }
  }
  return out;
}

}  // namespace

TEST(CheckRequest, AcceptsMinimalRegister) {
  EXPECT_TRUE(check_request(msg(kGood)));
  EXPECT_TRUE(validate(msg(kGood)));
  auto jssip = parse_message(test::kJsSipRegister);
  ASSERT_TRUE(jssip);
  EXPECT_TRUE(validate(*jssip));
}

TEST(CheckRequest, EachMandatoryHeader) {
  for (std::string_view h : {"Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards"}) {
    auto r = check_request(msg(with(h, "")));
    ASSERT_FALSE(r) << h;
    EXPECT_EQ(r.error().code, Error::MissingHeader);
    EXPECT_EQ(r.error().reason, "Missing header: " + std::string(h));
  }
  CheckOptions rfc2543;
  rfc2543.require_max_forwards = false;
  EXPECT_TRUE(check_request(msg(with("Max-Forwards", "")), rfc2543));
}

TEST(CheckRequest, PreciseErrors) {
  auto check = [](std::string_view name, std::string_view line) {
    auto r = check_request(msg(with(name, line)));
    return r ? Failure{} : r.error();
  };
  Failure f = check("CSeq", "CSeq: 7 INVITE");
  EXPECT_EQ(f.code, Error::MethodMismatch);
  EXPECT_EQ(f.reason, "CSeq method mismatch: CSeq method INVITE differs from request method REGISTER");
  EXPECT_EQ(check("CSeq", "CSeq: 2147483648 REGISTER").code, Error::BadCSeq);
  EXPECT_EQ(check("Max-Forwards", "Max-Forwards: 256").code, Error::BadValue);
  EXPECT_EQ(check("Max-Forwards", "Max-Forwards: 256").reason, "Bad header value: Max-Forwards (0-255)");
  EXPECT_EQ(check("Via", "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1, SIP/2.0/UDP").code, Error::BadVia);
  EXPECT_EQ(check("Via", "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1, SIP/2.0/UDP").reason, "Bad Via: Via");
  EXPECT_EQ(check("From", "From: Bell, Alexander <sip:a@b>").code, Error::BadNameAddr);
  EXPECT_EQ(check("To", "To: <sip:alice@ims.example.org").code, Error::BadNameAddr);
  EXPECT_EQ(check("Call-ID", "Call-ID: a b").code, Error::BadValue);
  EXPECT_EQ(check("Call-ID", "Call-ID: c1\nCall-ID: c2").code, Error::DuplicateHeader);
  EXPECT_EQ(check("To", "To: <sip:a@b>\nt: <sip:c@d>").reason, "Duplicate header: To");
  EXPECT_EQ(check("CSeq", "CSeq: 7 REGISTER\nExpires: 1\nExpires: 2").code, Error::DuplicateHeader);
  auto resp = check_request(msg("SIP/2.0 200 OK\n"));
  EXPECT_EQ(resp.error().code, Error::BadStartLine);
}

TEST(CheckResponse, MandatoryHeaders) {
  std::string r = "SIP/2.0 200 OK\n" + with("Max-Forwards", "").substr(std::string_view(kGood).find('\n') + 1);
  EXPECT_TRUE(check_response(msg(r)));
  EXPECT_EQ(check_response(msg("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h\n")).error().code, Error::MissingHeader);
  EXPECT_EQ(check_response(msg(kGood)).error().code, Error::BadStartLine);
}

TEST(Validate, DeepChecksOfOtherHeaders) {
  auto deep = [](std::string_view extra) {
    auto r = validate(msg(with("Content-Length", std::string(extra) + "\nContent-Length: 0")));
    return r ? Error{} : r.error().code;
  };
  EXPECT_EQ(deep("Contact: <sip:a@b>;expires=600;q=0.7, <sip:c@d>"), Error{});
  EXPECT_EQ(deep("Contact: *\nExpires: 0"), Error{});
  EXPECT_EQ(deep("Contact: *, <sip:c@d>"), Error::BadNameAddr);
  EXPECT_EQ(deep("Contact: *\nContact: <sip:c@d>"), Error::BadNameAddr);
  EXPECT_EQ(deep("Contact: <sip:a@b>;expires=-1"), Error::BadValue);
  EXPECT_EQ(deep("Contact: <sip:a@b>;q=2"), Error::BadValue);
  EXPECT_EQ(deep("Contact: sip:a@b?x=y"), Error::BadNameAddr);
  EXPECT_EQ(deep("Route: <sip:p1;lr>,<sip:p2;lr>\nRecord-Route: <sip:p3;lr>\nPath: <sip:p4;lr;ob>"), Error{});
  EXPECT_EQ(deep("Route: <sip:p1;lr>,,<sip:p2;lr>"), Error::BadNameAddr);
  EXPECT_EQ(deep("Service-Route: sip:a b"), Error::BadUri);
  EXPECT_EQ(deep("Expires: 4294967296"), Error::BadValue);
  EXPECT_EQ(deep("Min-Expires: x"), Error::BadValue);
  EXPECT_EQ(deep("Content-Type: application"), Error::BadValue);
  EXPECT_EQ(deep("Date: Sat, 13 Nov 2010 23:29:00 GMT"), Error{});
  EXPECT_EQ(deep("Date: Sat, 13 Nov 2010 23:29:00 PST"), Error::BadValue);
  EXPECT_EQ(deep("Retry-After: 18000;duration=3600"), Error{});
  EXPECT_EQ(deep("Retry-After: 120 (I'm in a meeting)"), Error{});
  EXPECT_EQ(deep("Retry-After: 949302838503028349304023988"), Error::BadValue);
  EXPECT_EQ(deep("Warning: 307 isi.edu \"Session parameter 'foo' not understood\""), Error{});
  EXPECT_EQ(deep("Warning: 1812 overture \"In Progress\""), Error::BadValue);
  EXPECT_EQ(deep("Authorization: Digest username=\"a\", realm=\"b\""), Error{});
  EXPECT_EQ(deep("Authorization: Digest username=\"a"), Error::BadQuotedString);
  EXPECT_EQ(deep("Supported: path, gruu, outbound\nRequire: 100rel\nSupported:"), Error{});
  EXPECT_EQ(deep("Require: a b"), Error::BadValue);
}

// A message that passed is not parsed again (the transport and the proxy core both check it),
// but every kind of edit makes the next check look at the new content.
TEST(CheckRequest, PassingIsRememberedUntilAnEdit) {
  Message m = msg(kGood);
  EXPECT_FALSE(m.common_checked());
  ASSERT_TRUE(check_request(m));
  EXPECT_TRUE(m.common_checked());
  ASSERT_TRUE(check_request(m));
  Message copy = m;
  EXPECT_TRUE(copy.common_checked());

  const std::vector<std::function<void(Message&)>> edits = {
      [](Message& x) { x.remove(HeaderId::From); },
      [](Message& x) { x.set(HeaderId::CSeq, "x REGISTER"); },
      [](Message& x) { x.append(HeaderId::To, "<sip:bob@ims.example.org>"); },
      [](Message& x) { x.prepend(HeaderId::Via, "SIP/2.0/TCP"); },
      [](Message& x) { x.insert(0, "Call-ID", "c2"); },
      [](Message& x) { x.set_value(0, "SIP/2.0/WSS"); },
      [](Message& x) { x.remove_at(0); },
      [](Message& x) { x.remove("From"); },
      [](Message& x) { x.pop_first_element(HeaderId::Via); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    Message e = m;
    edits[i](e);
    EXPECT_FALSE(e.common_checked()) << i;
    EXPECT_FALSE(check_request(e)) << i;
    EXPECT_FALSE(e.common_checked()) << i;
  }
  // The memo covers the common checks only: a bad Max-Forwards fails every time.
  Message mf = m;
  mf.set_value(1, "256");
  EXPECT_FALSE(check_request(mf));
  EXPECT_FALSE(check_request(mf));
  for (auto edit : {+[](Message& x) { x.set_body("v=0"); }, +[](Message& x) { x.set_request_uri("sip:b@c"); },
                    +[](Message& x) { x.set_status(200); }}) {
    Message e = m;
    edit(e);
    EXPECT_FALSE(e.common_checked());
  }
}

// The Via errors are the ones Message::vias() reports, without building its vectors.
TEST(CheckRequest, ViaErrorsMatchVias) {
  for (std::string_view via : {"Via: SIP/2.0/TCP", "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1, \"x",
                               "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1, ", "Via: nope"}) {
    Message m = msg(with("Via", via));
    auto r = check_request(m);
    auto v = m.vias();
    ASSERT_FALSE(v) << via;
    ASSERT_FALSE(r) << via;
    EXPECT_EQ(r.error().code, v.error()) << via;
  }
  // A bad element in the first field and an unsplittable second field: BadVia, as vias() says.
  Message m = msg(with("Via", "Via: SIP/2.0/TCP\nVia: SIP/2.0/UDP b.invalid, \"x"));
  auto r = check_request(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, m.vias().error());
  EXPECT_EQ(r.error().code, Error::BadVia);
}
