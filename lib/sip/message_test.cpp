#include "sip/message.hpp"

#include <gtest/gtest.h>

#include "sip/test_support.hpp"

using namespace sip;
using sip::test::crlf;

namespace {

const std::string kInvite = crlf(
    "INVITE sip:bob@biloxi.example.com SIP/2.0\n"
    "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\n"
    "Max-Forwards: 70\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\n"
    "To: Bob <sip:bob@biloxi.example.com>\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\n"
    "CSeq: 1 INVITE\n"
    "Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\n"
    "Content-Type: application/sdp\n"
    "Content-Length: 13\n"
    "\n"
    "v=0\ns=-\nt=0");

Message parse(const std::string& s, const Limits& l = {}) {
  auto m = parse_message(std::string_view(s), l);
  EXPECT_TRUE(m) << (m ? "" : m.error().reason);
  return m ? std::move(*m) : Message();
}

// A string literal that may hold NUL octets.
template <size_t N>
std::string bin(const char (&s)[N]) {
  return std::string(s, N - 1);
}

Error parse_error(const std::string& s, const Limits& l = {}) {
  auto m = parse_message(std::string_view(s), l);
  EXPECT_FALSE(m) << s;
  return m ? Error{} : m.error().code;
}

}  // namespace

TEST(Message, ParsesRequest) {
  Message m = parse(kInvite);
  EXPECT_TRUE(m.is_request());
  EXPECT_EQ(m.method(), "INVITE");
  EXPECT_EQ(m.method_id(), Method::Invite);
  EXPECT_EQ(m.request_uri(), "sip:bob@biloxi.example.com");
  EXPECT_EQ(m.parse_request_uri()->user, "bob");
  EXPECT_EQ(m.header_count(), 9u);
  EXPECT_EQ(m.header(0).id, HeaderId::Via);
  EXPECT_EQ(m.get(HeaderId::CallId), "3848276298220188511@atlanta.example.com");
  EXPECT_EQ(m.get("call-id"), m.get(HeaderId::CallId));
  EXPECT_EQ(m.body(), "v=0\r\ns=-\r\nt=0");
  EXPECT_EQ(m.top_via()->branch, "z9hG4bK74bf9");
  EXPECT_EQ(m.from()->tag(), "9fxced76sl");
  EXPECT_EQ(m.to()->display_name, "Bob");
  EXPECT_EQ(m.cseq()->number, 1u);
  EXPECT_EQ(m.max_forwards().value(), 70u);
  EXPECT_EQ(m.content_length().value(), 13u);
  EXPECT_TRUE(m.content_type()->is("application", "sdp"));
  EXPECT_EQ(m.contacts()->at(0).uri.transport(), "tcp");
  EXPECT_EQ(m.expires().error(), Error::MissingHeader);
}

TEST(Message, ParsesResponse) {
  Message m = parse(crlf("SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Length: 0\n\n"));
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(m.status(), 180);
  EXPECT_EQ(m.reason(), "Ringing");
  Message n = parse(crlf("SIP/2.0 100\nl:0\n\n"));  // no SP, no Reason-Phrase
  EXPECT_EQ(n.status(), 100);
  EXPECT_EQ(n.reason(), "");
  Message o = parse(crlf("sip/2.0 603 Decline \t it\n\n"));  // SIP-Version is case-insensitive
  EXPECT_EQ(o.reason(), "Decline \t it");
}

TEST(Message, RoundTripKeepsOrderNamesAndBody) {
  const std::string text = crlf(
      "OPTIONS sip:x@example.com SIP/2.0\n"
      "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\n"
      "X-Custom: one\n"
      "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bK2\n"
      "f: <sip:a@example.com>;tag=1\n"
      "t: <sip:x@example.com>\n"
      "i: abc\n"
      "CSeq: 2 OPTIONS\n"
      "x-custom: two\n"
      "l: 4\n"
      "\n"
      "body");
  Message m = parse(text);
  EXPECT_EQ(m.to_string(), text);
  EXPECT_EQ(m.serialized_size(), text.size());
  Message again = parse(m.to_string());
  EXPECT_EQ(again.to_string(), text);
  EXPECT_EQ(m.count("X-CUSTOM"), 2u);
  EXPECT_EQ(m.values(HeaderId::Via).size(), 2u);
  std::vector<uint8_t> buf(text.size());
  base::ByteWriter w(buf);
  ASSERT_TRUE(serialize(m, w));
  EXPECT_EQ(base::as_string_view(w.written()), text);
  std::vector<uint8_t> small(text.size() - 1);
  base::ByteWriter ws(small);
  EXPECT_FALSE(serialize(m, ws));
}

TEST(Message, FoldingIsUnfoldedInPlace) {
  Message m = parse(crlf(
      "INVITE sip:a@b SIP/2.0\n"
      "Subject: I know you're there,\n"
      "         pick up the phone   \n"
      "\t and talk to me!\n"
      "TO :\n"
      " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\n"
      "Content-Length: 0\n\n"));
  EXPECT_EQ(m.get(HeaderId::Subject), "I know you're there, pick up the phone and talk to me!");
  EXPECT_EQ(m.get(HeaderId::To), "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
  EXPECT_EQ(m.to()->tag(), "1918181833n");
  EXPECT_EQ(m.header(1).name, "TO");
  EXPECT_EQ(m.to_string(), crlf("INVITE sip:a@b SIP/2.0\n"
                                "Subject: I know you're there, pick up the phone and talk to me!\n"
                                "TO: sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\n"
                                "Content-Length: 0\n\n"));
}

TEST(Message, MultiValueHeadersSplitAcrossLinesAndCommas) {
  Message m = parse(crlf(
      "REGISTER sip:r SIP/2.0\n"
      "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\n"
      "Via: SIP/2.0/UDP c;branch=z9hG4bK3\n"
      "Contact: \"A, B\" <sip:a,1@x;p=1>;q=0.5, <sip:b@y>\n"
      "m: sip:c@z;expires=0\n"
      "Route: <sip:p1;lr>,<sip:p2;lr>\n"
      "Content-Length: 0\n\n"));
  auto vias = m.vias();
  ASSERT_TRUE(vias);
  ASSERT_EQ(vias->size(), 3u);
  EXPECT_EQ((*vias)[1].host, "b");
  EXPECT_EQ((*vias)[2].branch, "z9hG4bK3");
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts);
  ASSERT_EQ(contacts->size(), 3u);
  EXPECT_EQ((*contacts)[0].display_name, "A, B");
  EXPECT_EQ((*contacts)[0].uri.user, "a,1");
  EXPECT_EQ((*contacts)[2].expires()->value(), 0u);
  EXPECT_EQ(m.routes()->size(), 2u);
  EXPECT_FALSE(parse(crlf("REGISTER sip:r SIP/2.0\nContact: *, <sip:a@b>\n\n")).contacts());
  EXPECT_TRUE(parse(crlf("REGISTER sip:r SIP/2.0\nContact: *\n\n")).contacts()->at(0).star);
}

TEST(Message, EditsKeepOrderAndViews) {
  Message m = parse(kInvite);
  std::string_view old_via = *m.get(HeaderId::Via);
  ASSERT_TRUE(m.prepend(HeaderId::Via, "SIP/2.0/WSS pcscf.example.org;branch=z9hG4bKnew"));
  ASSERT_TRUE(m.prepend(HeaderId::RecordRoute, "<sip:pcscf.example.org;lr>"));  // none yet: goes first
  ASSERT_TRUE(m.append("X-Added", "1"));
  ASSERT_TRUE(m.append(HeaderId::Via, "SIP/2.0/UDP last;branch=z9hG4bKlast"));  // after the last Via
  EXPECT_EQ(m.header(0).id, HeaderId::RecordRoute);
  EXPECT_EQ(m.header(1).value, "SIP/2.0/WSS pcscf.example.org;branch=z9hG4bKnew");
  EXPECT_EQ(m.header(2).value, old_via);
  EXPECT_EQ(m.header(3).value, "SIP/2.0/UDP last;branch=z9hG4bKlast");
  EXPECT_EQ(m.header(m.header_count() - 1).name, "X-Added");
  EXPECT_EQ(old_via, "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9");  // still valid

  EXPECT_TRUE(m.set(HeaderId::MaxForwards, "69"));
  EXPECT_EQ(m.max_forwards().value(), 69u);
  EXPECT_EQ(m.remove(HeaderId::Via), 3u);
  EXPECT_EQ(m.remove("x-added"), 1u);
  EXPECT_EQ(m.remove("Nope"), 0u);
  EXPECT_TRUE(m.set_request_uri("sip:bob@192.0.2.4:5060;transport=tcp"));
  EXPECT_FALSE(m.set_request_uri("sip:a b"));

  // Header injection is refused.
  EXPECT_FALSE(m.append("X-Evil", "a\r\nVia: forged"));
  EXPECT_FALSE(m.append("Bad Name", "x"));
  EXPECT_FALSE(m.set(HeaderId::Subject, std::string_view("a\0b", 3)));

  m.set_body("hello");
  std::string s = m.to_string();
  EXPECT_NE(s.find("Content-Length: 5\r\n\r\nhello"), std::string::npos);
  EXPECT_EQ(s.find("Content-Length: 13"), std::string::npos);
  Message again = parse(s);
  EXPECT_EQ(again.request_uri(), "sip:bob@192.0.2.4:5060;transport=tcp");
  EXPECT_EQ(again.body(), "hello");
}

TEST(Message, PopFirstElement) {
  Message m = parse(crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/UDP b;branch=z9hG4bK2\n"
                         "Via: SIP/2.0/UDP c;branch=z9hG4bK3\nContent-Length: 0\n\n"));
  ASSERT_TRUE(m.pop_first_element(HeaderId::Via));
  EXPECT_EQ(m.get(HeaderId::Via), "SIP/2.0/UDP b;branch=z9hG4bK2");
  ASSERT_TRUE(m.pop_first_element(HeaderId::Via));
  EXPECT_EQ(m.count(HeaderId::Via), 1u);
  EXPECT_EQ(m.top_via()->host, "c");
  ASSERT_TRUE(m.pop_first_element(HeaderId::Via));
  EXPECT_FALSE(m.pop_first_element(HeaderId::Via));
  EXPECT_EQ(m.top_via().error(), Error::MissingHeader);
}

TEST(Message, SerializeFixesContentLength) {
  // Missing, wrong and repeated Content-Length all come out as one correct value.
  Message a = parse(crlf("MESSAGE sip:a@b SIP/2.0\nl: 2\nX: y\n\nhi"));
  EXPECT_EQ(a.to_string(), crlf("MESSAGE sip:a@b SIP/2.0\nl: 2\nX: y\n\nhi"));
  Message b = Message::request("MESSAGE", "sip:a@b");
  b.set_body("hello");
  EXPECT_EQ(b.to_string(), crlf("MESSAGE sip:a@b SIP/2.0\nContent-Length: 5\n\nhello"));
  Message c = parse(crlf("MESSAGE sip:a@b SIP/2.0\n\nno length on a datagram"));
  EXPECT_EQ(c.body(), "no length on a datagram");
  EXPECT_EQ(c.to_string(), crlf("MESSAGE sip:a@b SIP/2.0\nContent-Length: 23\n\nno length on a datagram"));
}

TEST(Message, TrailingOctetsOfADatagramAreIgnored) {
  Message m = parse(crlf("OPTIONS sip:a@b SIP/2.0\nContent-Length: 2\n\nokGARBAGE"));
  EXPECT_EQ(m.body(), "ok");
  EXPECT_EQ(m.trailing_bytes(), 7u);
}

TEST(Message, MakeResponse) {
  Message req = parse(kInvite);
  Message r = make_response(req, 486, {}, "a6c85cf");
  EXPECT_EQ(r.status(), 486);
  EXPECT_EQ(r.reason(), "Busy Here");
  EXPECT_EQ(r.to_string(), crlf("SIP/2.0 486 Busy Here\n"
                                "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\n"
                                "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\n"
                                "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\n"
                                "Call-ID: 3848276298220188511@atlanta.example.com\n"
                                "CSeq: 1 INVITE\n"
                                "Content-Length: 0\n\n"));
  Message trying = make_response(req, 100, {}, "x");
  EXPECT_EQ(trying.to()->tag(), "");  // no tag on 100 (RFC 3261 §8.2.6.2)
  Message tagged = make_response(make_response(req, 180, {}, "t1"), 200, "Fine", "t2");
  EXPECT_EQ(tagged.reason(), "Fine");
  EXPECT_EQ(tagged.to()->tag(), "t1");  // a To that has a tag keeps it
  Message bad = make_response(req, 400, "Missing Call-ID");
  ASSERT_TRUE(bad.append(HeaderId::Warning, format_warning(399, "pcscf.example.org", "Bad \"Call-ID\"")));
  EXPECT_EQ(bad.get(HeaderId::Warning), "399 pcscf.example.org \"Bad \\\"Call-ID\\\"\"");
  EXPECT_EQ(parse(bad.to_string()).reason(), "Missing Call-ID");
}

TEST(Message, JsSipRegisterOverWss) {
  Message m = parse(test::kJsSipRegister);
  EXPECT_EQ(m.method_id(), Method::Register);
  EXPECT_EQ(m.top_via()->transport, "WSS");
  EXPECT_EQ(m.top_via()->host, "5ql8ks0ej1ms.invalid");
  auto c = m.contacts();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->at(0).uri.transport(), "ws");
  EXPECT_EQ(c->at(0).param("+sip.instance"), "<urn:uuid:3a3c5d2e-6f1b-4c9e-8d7a-2b1f0e9c8a7d>");
  EXPECT_EQ(m.to()->uri.address_of_record(), "sip:alice@ims.example.org");
  EXPECT_EQ(m.get(HeaderId::Authorization)->substr(0, 7), "Bearer ");
  EXPECT_EQ(m.to_string(), test::kJsSipRegister);
}

TEST(Message, NegativeStartLines) {
  EXPECT_EQ(parse_error(crlf("INVITE sip:a@b SIP/2.0")), Error::Truncated);         // no CRLF at all
  EXPECT_EQ(parse_error("INVITE sip:a@b SIP/2.0\n\n"), Error::BadCharacter);          // bare LF
  EXPECT_EQ(parse_error("INVITE sip:a@b SIP/2.0\r"), Error::Truncated);
  EXPECT_EQ(parse_error("INVITE sip:a@b SIP/2.0\rX\n\r\n"), Error::BadCharacter);     // bare CR
  EXPECT_EQ(parse_error(crlf("\n")), Error::BadStartLine);
  EXPECT_EQ(parse_error(crlf("INVITE\n\n")), Error::BadStartLine);
  EXPECT_EQ(parse_error(crlf("INVITE sip:a@b\n\n")), Error::BadStartLine);
  EXPECT_EQ(parse_error(crlf("INV<ITE sip:a@b SIP/2.0\n\n")), Error::BadMethod);
  EXPECT_EQ(parse_error(crlf("INVITE sip:a@b HTTP/1.1\n\n")), Error::BadStartLine);
  EXPECT_EQ(parse_error(crlf("INVITE sip:a@b SIP/3.0\n\n")), Error::BadVersion);
  EXPECT_EQ(parse_error(crlf("INVITE sip:a@b SIP/2.0 \n\n")), Error::BadStartLine);
  EXPECT_EQ(parse_error(crlf("INVITE sip:a@b\tSIP/2.0\n\n")), Error::BadStartLine);
  EXPECT_EQ(parse_error(crlf("INVITE a@b SIP/2.0\n\n")), Error::BadUri);
  EXPECT_EQ(parse_error(crlf("SIP/2.0 99 Low\n\n")), Error::BadStatusCode);
  EXPECT_EQ(parse_error(crlf("SIP/2.0 700 High\n\n")), Error::BadStatusCode);
  EXPECT_EQ(parse_error(crlf("SIP/2.0 2000 OK\n\n")), Error::BadStatusCode);
  EXPECT_EQ(parse_error(crlf("SIP/2.0 2x0 OK\n\n")), Error::BadStatusCode);
  EXPECT_EQ(parse_error(crlf("SIP/2.0\n\n")), Error::BadStartLine);
  EXPECT_EQ(parse_error(bin("SIP/2.0 200 O\0K\r\n\r\n")), Error::BadCharacter);
  EXPECT_EQ(parse_error(""), Error::Truncated);
  // Reasons quote the peer only as short printable ASCII (they go back in a Warning).
  auto f = parse_message("INVITE sip:a@b SIP/9." + std::string(200, '9') + "\xc3\xa9\r\n\r\n");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, Error::BadStartLine);
  auto v = parse_message("OPTIONS sip:a@b SIP/3.0\r\n\r\n");
  EXPECT_EQ(v.error().reason, "Version Not Supported: SIP/3.0");
  auto w = parse_message("B\xc3\xa9" "D" + std::string(100, 'X') + " sip:a@b SIP/2.0\r\n\r\n");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().reason, "Bad method: B??D" + std::string(28, 'X'));
}

TEST(Message, NegativeHeaders) {
  const std::string head = "OPTIONS sip:a@b SIP/2.0\r\n";
  EXPECT_EQ(parse_error(head + "Via: x\r\n"), Error::Truncated);                  // no empty line
  EXPECT_EQ(parse_error(head + "Via: x\r\n\r"), Error::Truncated);
  EXPECT_EQ(parse_error(head + " folded: x\r\n\r\n"), Error::BadHeader);
  EXPECT_EQ(parse_error(head + "NoColon\r\n\r\n"), Error::BadHeader);
  EXPECT_EQ(parse_error(head + ": empty name\r\n\r\n"), Error::BadHeader);
  EXPECT_EQ(parse_error(head + "Bad Name: x\r\n\r\n"), Error::BadHeader);
  EXPECT_EQ(parse_error(head + "X: a\nY: b\r\n\r\n"), Error::BadCharacter);       // bare LF
  EXPECT_EQ(parse_error(head + bin("X: a\0b\r\n\r\n")), Error::BadCharacter);  // NUL
  EXPECT_EQ(parse_error(head + "X: \x1b[31m\r\n\r\n"), Error::BadCharacter);
  EXPECT_EQ(parse_error(head + "X: caf\xe9\r\n\r\n"), Error::BadCharacter);      // Latin-1, not UTF-8
  EXPECT_EQ(parse_error(head + "X: \xc0\xaf\r\n\r\n"), Error::BadCharacter);     // overlong
  EXPECT_EQ(parse_error(head + "X: \xed\xa0\x80\r\n\r\n"), Error::BadCharacter); // surrogate
  EXPECT_EQ(parse_error(head + "X: \xe2\x82\r\n\r\n"), Error::BadCharacter);     // cut sequence
  Limits latin1;
  latin1.require_utf8 = false;
  EXPECT_EQ(parse(head + "X: caf\xe9\r\n\r\n", latin1).get("X"), "caf\xe9");
  // A quoted-pair may carry a CTL, a bare one may not.
  EXPECT_TRUE(parse(head + bin("To: \"a\\\0b\" <sip:a@b>\r\n\r\n")).to());
  EXPECT_EQ(parse_error(head + bin("To: \"a\0b\" <sip:a@b>\r\n\r\n")), Error::BadCharacter);
}

TEST(Message, NegativeContentLength) {
  const std::string head = "OPTIONS sip:a@b SIP/2.0\r\n";
  EXPECT_EQ(parse_error(head + "Content-Length: -1\r\n\r\n"), Error::BadContentLength);
  EXPECT_EQ(parse_error(head + "Content-Length: 1x\r\n\r\nx"), Error::BadContentLength);
  EXPECT_EQ(parse_error(head + "Content-Length:\r\n\r\n"), Error::BadContentLength);
  EXPECT_EQ(parse_error(head + "Content-Length: 99999999999\r\n\r\n"), Error::BadContentLength);
  EXPECT_EQ(parse_error(head + "Content-Length: 1\r\nl: 1\r\n\r\nx"), Error::BadContentLength);
  auto f = parse_message(head + "Content-Length: 5\r\n\r\nabc");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, Error::Truncated);
  EXPECT_EQ(f.error().reason, "Truncated message: Content-Length 5 exceeds the 3 octets received");
}

TEST(Message, Limits) {
  const std::string head = "OPTIONS sip:a@b SIP/2.0\r\n";
  Limits l;
  l.max_header_length = 100;
  l.max_headers = 3;
  l.max_message_size = 400;
  EXPECT_EQ(parse_error(head + "X: " + std::string(100, 'a') + "\r\n\r\n", l), Error::HeaderTooLong);
  EXPECT_EQ(parse_error(head + "X: " + std::string(60, 'a') + "\r\n " + std::string(60, 'a') + "\r\n\r\n", l),
            Error::HeaderTooLong);  // folded lines count together
  EXPECT_EQ(parse_error("OPTIONS sip:" + std::string(100, 'a') + " SIP/2.0\r\n\r\n", l), Error::HeaderTooLong);
  EXPECT_EQ(parse_error(head + "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", l), Error::TooManyHeaders);
  EXPECT_EQ(parse_error(head + "\r\n" + std::string(400, 'x'), l), Error::TooLarge);
  EXPECT_TRUE(parse(head + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", l).header_count() == 3);
  // Defaults hold a big but sane message and refuse a huge one.
  std::string big = head + "X: " + std::string(8000, 'a') + "\r\n\r\n";
  EXPECT_TRUE(parse_message(big));
  EXPECT_EQ(parse_error(head + "X: " + std::string(9000, 'a') + "\r\n\r\n"), Error::HeaderTooLong);
  EXPECT_EQ(parse_error(head + "\r\n" + std::string(70000, 'x')), Error::TooLarge);
}

TEST(Message, CopiesAreIndependent) {
  Message a = parse(kInvite);
  a.set(HeaderId::Subject, "original");
  Message b = a;
  b.set(HeaderId::Subject, "copy");
  b.prepend(HeaderId::Via, "SIP/2.0/UDP x;branch=z9hG4bKx");
  EXPECT_EQ(a.get(HeaderId::Subject), "original");
  EXPECT_EQ(b.get(HeaderId::Subject), "copy");
  EXPECT_EQ(a.count(HeaderId::Via), 1u);
  Message c = std::move(b);
  EXPECT_EQ(c.count(HeaderId::Via), 2u);
  EXPECT_EQ(c.get(HeaderId::CallId), a.get(HeaderId::CallId));
}
