// RFC 4475 torture messages (tests/vectors/rfc4475, see its README): the §3.1.1 messages parse,
// pass validate() and keep the fields the RFC points at; the §3.1.2 messages (and the three
// §3.3 messages a parser can judge alone) are refused at the stage and with the error listed.
#include <gtest/gtest.h>

#include "sip/stream_framer.hpp"
#include "sip/test_support.hpp"
#include "sip/validate.hpp"

using namespace sip;

namespace {

std::string vector(const std::string& name) {
  std::string data = test::read_file(std::string(WEBIMS_VECTORS_DIR) + "/rfc4475/" + name + ".sip");
  EXPECT_FALSE(data.empty()) << name;
  return data;
}

Message valid(const std::string& name) {
  auto m = parse_message(vector(name));
  EXPECT_TRUE(m) << name << ": " << (m ? "" : m.error().reason);
  if (!m) return Message();
  auto v = validate(*m);
  EXPECT_TRUE(v) << name << ": " << (v ? "" : v.error().reason);
  return std::move(*m);
}

const char* const kValid[] = {"wsinv",   "intmeth",    "esc01",   "escnull",  "esc02",    "lwsdisp", "longreq",
                              "dblreq",  "semiuri",    "transports", "mpart01", "unreason", "noreason"};

enum class Stage { Parse, Check, Validate };
struct Invalid {
  const char* name;
  Stage stage;  // the first stage that refuses it
  Error error;
};
const Invalid kInvalid[] = {
    {"badinv01", Stage::Check, Error::BadVia},            // §3.1.2.1 ;;,;,, in Via
    {"clerr", Stage::Parse, Error::Truncated},            // §3.1.2.2 Content-Length 9999
    {"ncl", Stage::Parse, Error::BadContentLength},       // §3.1.2.3 Content-Length -999
    {"scalar02", Stage::Check, Error::BadCSeq},           // §3.1.2.4 CSeq 2**65
    {"scalarlg", Stage::Check, Error::BadCSeq},           // §3.1.2.5 response, CSeq 2**72
    {"quotbal", Stage::Check, Error::BadQuotedString},    // §3.1.2.6 unterminated quote in To
    {"ltgtruri", Stage::Parse, Error::BadUri},            // §3.1.2.7 <> around Request-URI
    {"lwsruri", Stage::Parse, Error::BadStartLine},       // §3.1.2.8 "; lr" in Request-URI
    {"lwsstart", Stage::Parse, Error::BadStartLine},      // §3.1.2.9 two SP in Request-Line
    {"trws", Stage::Parse, Error::BadStartLine},          // §3.1.2.10 SP before CRLF
    {"escruri", Stage::Parse, Error::BadUri},             // §3.1.2.11 ?Route= in Request-URI
    {"baddate", Stage::Validate, Error::BadValue},        // §3.1.2.12 Date in EST
    {"regbadct", Stage::Validate, Error::BadNameAddr},    // §3.1.2.13 Contact with ? and no <>
    {"badaspec", Stage::Check, Error::BadUri},            // §3.1.2.14 < sip:... > in To
    {"baddn", Stage::Check, Error::BadNameAddr},          // §3.1.2.15 "Bell, Alexander" unquoted
    {"badvers", Stage::Parse, Error::BadVersion},         // §3.1.2.16 SIP/7.0 (answer 505)
    {"mismatch01", Stage::Check, Error::MethodMismatch},  // §3.1.2.17
    {"mismatch02", Stage::Check, Error::MethodMismatch},  // §3.1.2.18
    {"bigcode", Stage::Parse, Error::BadStatusCode},      // §3.1.2.19 4294967301
    {"insuf", Stage::Check, Error::MissingHeader},        // §3.3.1
    {"mcl01", Stage::Parse, Error::BadContentLength},     // §3.3.9 two Content-Length
    {"multi01", Stage::Check, Error::DuplicateHeader},    // §3.3.8
};

}  // namespace

TEST(Rfc4475, ValidMessagesParseValidateAndRoundTrip) {
  for (const char* name : kValid) {
    Message m = valid(name);
    // Serializing normalises (unfolding, "name: value", one Content-Length); after that the
    // form is a fixed point and means the same thing.
    std::string once = m.to_string();
    auto again = parse_message(once);
    ASSERT_TRUE(again) << name << ": " << again.error().reason;
    EXPECT_EQ(again->to_string(), once) << name;
    EXPECT_TRUE(validate(*again)) << name;
    EXPECT_EQ(again->header_count(), m.header_count()) << name;
    EXPECT_EQ(again->body(), m.body()) << name;
  }
}

TEST(Rfc4475, InvalidMessagesAreRefusedWhereExpected) {
  for (const Invalid& t : kInvalid) {
    auto m = parse_message(vector(t.name));
    if (t.stage == Stage::Parse) {
      ASSERT_FALSE(m) << t.name;
      EXPECT_EQ(m.error().code, t.error) << t.name << ": " << m.error().reason;
      continue;
    }
    ASSERT_TRUE(m) << t.name << ": " << m.error().reason;
    auto c = m->is_request() ? check_request(*m) : check_response(*m);
    if (t.stage == Stage::Check) {
      ASSERT_FALSE(c) << t.name;
      EXPECT_EQ(c.error().code, t.error) << t.name << ": " << c.error().reason;
      continue;
    }
    // §3.1.2.12 and §3.1.2.13: a proxy that does not use Date / Contact may forward the
    // request (RFC 4475 says so for baddate); validate() is what refuses them.
    EXPECT_TRUE(c) << t.name;
    auto v = validate(*m);
    ASSERT_FALSE(v) << t.name;
    EXPECT_EQ(v.error().code, t.error) << t.name << ": " << v.error().reason;
  }
}

TEST(Rfc4475, NoMessageCrashesAnyPrefixOrTheFramer) {
  std::vector<std::string> names(std::begin(kValid), std::end(kValid));
  for (const Invalid& t : kInvalid) names.push_back(t.name);
  for (const auto& name : names) {
    std::string data = vector(name);
    for (size_t n = 0; n <= data.size(); ++n) {
      auto m = parse_message(std::string_view(data).substr(0, n));
      if (m) (void)m->to_string();
    }
    StreamFramer f;
    (void)f.feed(data);
  }
}

TEST(Rfc4475, Wsinv) {
  Message m = valid("wsinv");
  EXPECT_EQ(m.call_id().value(), "wsinv.ndaksdj@192.0.2.1");
  EXPECT_EQ(m.parse_request_uri()->param("unknownparam"), "");
  EXPECT_EQ(m.max_forwards().value(), 68u);
  EXPECT_EQ(m.cseq()->number, 9u);
  EXPECT_EQ(m.cseq()->method, "INVITE");
  EXPECT_EQ(m.to()->tag(), "1918181833n");
  EXPECT_EQ(m.from()->display_name_text(), "J Rosenberg \\\"");
  EXPECT_EQ(m.from()->tag(), "98asjd8");
  auto vias = m.vias();
  ASSERT_TRUE(vias);
  ASSERT_EQ(vias->size(), 3u);
  EXPECT_EQ((*vias)[0].host, "192.0.2.2");
  EXPECT_EQ((*vias)[0].branch, "390skdjuw");
  EXPECT_EQ((*vias)[1].transport, "TCP");
  EXPECT_EQ((*vias)[1].host, "spindle.example.com");
  EXPECT_EQ((*vias)[1].branch, "z9hG4bK9ikj8");
  EXPECT_EQ((*vias)[2].host, "192.168.255.111");
  EXPECT_EQ((*vias)[2].branch, "z9hG4bK30239");
  EXPECT_EQ(m.get(HeaderId::Subject), "");
  EXPECT_EQ(m.get("newfangledheader"), "newfangled value continued newfangled value");
  EXPECT_EQ(m.get("UnknownHeaderWithUnusualValue"), ";;,,;;,;");
  auto c = m.contacts();
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ(c->at(0).display_name_text(), "Quoted string \"\"");
  EXPECT_EQ(c->at(0).param("newparam"), "newvalue");
  EXPECT_EQ(c->at(0).param("secondparam"), "");
  EXPECT_EQ(c->at(0).q()->value(), 330);
  auto r = m.routes();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->at(0).uri.lr());
  EXPECT_EQ(r->at(0).uri.param("unknownwith"), "value");
  EXPECT_TRUE(r->at(0).uri.params.has("unknown-no-value"));
  EXPECT_EQ(m.body().size(), 150u);
}

TEST(Rfc4475, Intmeth) {
  Message m = valid("intmeth");
  EXPECT_EQ(m.method(), "!interesting-Method0123456789_*+`.%indeed'~");
  EXPECT_EQ(m.method_id(), Method::Unknown);
  auto u = m.parse_request_uri();
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(u->password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  EXPECT_EQ(m.to()->display_name_text(), std::string("BEL:\x07 NUL:\0 DEL:\x7F", 17));
  EXPECT_EQ(m.from()->display_name, "token1~` token2'+_ token3*%!.-");
  EXPECT_EQ(m.from()->param("fromParam''~+*_!.-%"), "работающий");
  EXPECT_EQ(m.from()->tag(), "_token~1'+`*%!-.");
  EXPECT_EQ(m.call_id().value(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  EXPECT_EQ(m.top_via()->branch, "z9hG4bK-.!%66*_+`'~");
  EXPECT_EQ(m.get("extensionHeader-!.%*+_`'~"), "\xEF\xBB\xBF大停電");
  EXPECT_EQ(m.max_forwards().value(), 255u);
  // A response keeps the To with its quoted NUL.
  Message r = make_response(m, 501, {}, "x");
  EXPECT_EQ(r.to()->display_name_text(), std::string("BEL:\x07 NUL:\0 DEL:\x7F", 17));
  EXPECT_EQ(r.to()->tag(), "x");
  EXPECT_TRUE(check_response(*parse_message(r.to_string())));
}

TEST(Rfc4475, EscapedUris) {
  Message e1 = valid("esc01");
  EXPECT_EQ(e1.parse_request_uri()->user_unescaped(), "sips:user@example.com");
  EXPECT_EQ(e1.to()->uri.user_unescaped(), "user");
  EXPECT_EQ(e1.from()->uri.user_unescaped(), "I have spaces");
  EXPECT_EQ(e1.call_id().value(), "esc01.239409asdfakjkn23onasd0-3234");
  EXPECT_TRUE(e1.content_type()->is("application", "sdp"));  // "C:" compact form
  auto c = e1.contacts()->at(0);
  EXPECT_EQ(c.uri.user_unescaped(), "caller");
  EXPECT_TRUE(c.uri.params.has("%6C%72"));
  EXPECT_EQ(uri_unescape(*c.uri.param("n%61me")), "value%41");  // not decoded twice

  Message null = valid("escnull");
  EXPECT_EQ(null.to()->uri.user_unescaped(), std::string("null-\0-null", 11));
  auto contacts = null.contacts();
  ASSERT_EQ(contacts->size(), 2u);
  EXPECT_EQ(contacts->at(0).uri.address_of_record(), std::string("sip:\0@host5.example.com", 23));
  EXPECT_EQ(contacts->at(1).uri.address_of_record(), std::string("sip:\0\0@host5.example.com", 24));

  Message e2 = valid("esc02");
  EXPECT_EQ(e2.method(), "RE%47IST%45R");
  EXPECT_EQ(e2.method_id(), Method::Unknown);
  EXPECT_EQ(e2.to()->display_name, "%Z%45");
  EXPECT_EQ(e2.top_via()->branch, "z9hG4bK209%fzsnel234");
  EXPECT_EQ(e2.contacts()->size(), 2u);
  EXPECT_EQ(e2.get("C%6Fntact"), "<sip:alias2@host2.example.com>");
}

TEST(Rfc4475, OtherValidMessages) {
  EXPECT_EQ(valid("lwsdisp").from()->display_name, "caller");

  Message lr = valid("longreq");
  EXPECT_EQ(lr.to()->uri.port, 6000);
  EXPECT_EQ(lr.to()->display_name.size(), 103u);
  EXPECT_EQ(lr.from()->tag().size(), 155u);
  EXPECT_EQ(lr.from()->uri.user.size(), 115u);
  auto vias = lr.vias();
  ASSERT_EQ(vias->size(), 34u);
  EXPECT_EQ(vias->back().received, "192.0.2.5");
  EXPECT_EQ(vias->back().branch.size(), 215u);

  Message dbl = valid("dblreq");
  EXPECT_EQ(dbl.method_id(), Method::Register);
  EXPECT_EQ(dbl.call_id().value(), "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
  EXPECT_EQ(dbl.body(), "");
  EXPECT_GT(dbl.trailing_bytes(), 300u);  // the INVITE octets are not a second message

  Message semi = valid("semiuri");
  EXPECT_EQ(semi.parse_request_uri()->user, "user;par=u%40example.net");
  EXPECT_TRUE(semi.parse_request_uri()->params.empty());
  std::vector<std::string_view> accept;
  ASSERT_TRUE(semi.elements(HeaderId::Accept, accept));
  EXPECT_EQ(accept.size(), 6u);
  EXPECT_EQ(accept.back(), "message/sipfrag");

  Message tr = valid("transports");
  EXPECT_EQ(tr.call_id().value(), "transports.kijh4akdnaqjkwendsasfdj");
  std::vector<std::string_view> transports;
  auto tr_vias = tr.vias();
  ASSERT_TRUE(tr_vias);
  for (const auto& v : *tr_vias) transports.push_back(v.transport);
  EXPECT_EQ(transports, (std::vector<std::string_view>{"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"}));

  Message mp = valid("mpart01");
  EXPECT_EQ(mp.body().size(), 553u);
  EXPECT_EQ(mp.content_type()->params.value("boundary"), "7a9cbec02ceef655");
  EXPECT_TRUE(mp.top_via()->rport);
  EXPECT_EQ(mp.top_via()->port, 5070);
  EXPECT_EQ(mp.routes()->at(0).uri.port, 5080);

  Message un = valid("unreason");
  EXPECT_EQ(un.status(), 200);
  EXPECT_EQ(un.reason(), "= 2**3 * 5**2 но сто девяносто девять - простое");

  Message no = valid("noreason");
  EXPECT_EQ(no.status(), 100);
  EXPECT_EQ(no.reason(), "");
}
