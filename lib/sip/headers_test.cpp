#include "sip/headers.hpp"

#include <gtest/gtest.h>

#include "sip/header_id.hpp"

using namespace sip;

TEST(HeaderId, CompactFormsOfRfc3261AndIana) {
  // RFC 3261 §7.3.3 plus the IANA "Header Fields" registry compact forms.
  const std::pair<char, HeaderId> forms[] = {
      {'a', HeaderId::AcceptContact}, {'b', HeaderId::ReferredBy},     {'c', HeaderId::ContentType},
      {'d', HeaderId::RequestDisposition}, {'e', HeaderId::ContentEncoding}, {'f', HeaderId::From},
      {'i', HeaderId::CallId},        {'j', HeaderId::RejectContact},  {'k', HeaderId::Supported},
      {'l', HeaderId::ContentLength}, {'m', HeaderId::Contact},        {'n', HeaderId::IdentityInfo},
      {'o', HeaderId::Event},         {'r', HeaderId::ReferTo},        {'s', HeaderId::Subject},
      {'t', HeaderId::To},            {'u', HeaderId::AllowEvents},    {'v', HeaderId::Via},
      {'x', HeaderId::SessionExpires}, {'y', HeaderId::Identity}};
  for (auto [c, id] : forms) {
    char lower[2] = {c, 0}, upper[2] = {char(c - 32), 0};
    EXPECT_EQ(header_id(lower), id) << c;
    EXPECT_EQ(header_id(upper), id) << c;
    EXPECT_EQ(compact_form(id), c);
  }
  for (char c : std::string_view("ghpqwz0-")) EXPECT_EQ(header_id(std::string_view(&c, 1)), HeaderId::Unknown) << c;
}

TEST(HeaderId, LongNamesAnyCase) {
  for (int i = 1; i < int(HeaderId::Count_); ++i) {
    auto id = HeaderId(i);
    std::string name(header_name(id));
    EXPECT_EQ(header_id(name), id) << name;
    for (char& c : name) c = char(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(header_id(name), id) << name;
  }
  EXPECT_EQ(header_id("MaX-fOrWaRdS"), HeaderId::MaxForwards);
  EXPECT_EQ(header_id("C%6Fntact"), HeaderId::Unknown);  // RFC 4475 §3.1.1.5: not Contact
  EXPECT_EQ(header_id("NewFangledHeader"), HeaderId::Unknown);
  EXPECT_EQ(header_id(""), HeaderId::Unknown);
  EXPECT_EQ(header_id(std::string(200, 'x')), HeaderId::Unknown);
  EXPECT_TRUE(is_list_header(HeaderId::Via));
  EXPECT_FALSE(is_list_header(HeaderId::Authorization));
}

TEST(SplitList, RespectsQuotesAndAngleBrackets) {
  std::vector<std::string_view> e;
  ASSERT_TRUE(split_list(" \"Doe, \\\"J\\\"\" <sip:a,b@x>;p=\"1,2\" ,<sip:c@y> , sip:d@z ", e));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "\"Doe, \\\"J\\\"\" <sip:a,b@x>;p=\"1,2\"");
  EXPECT_EQ(e[1], "<sip:c@y>");
  EXPECT_EQ(e[2], "sip:d@z");
  for (const char* bad : {"", "  ", "a,,b", "a,", ",a", "\"open, b", "<sip:x, y"}) {
    std::vector<std::string_view> x;
    EXPECT_FALSE(split_list(bad, x)) << bad;
  }
}

TEST(NameAddr, QuotedDisplayNameWithEscapes) {
  // RFC 4475 §3.1.1.1 From.
  auto na = parse_name_addr("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com> ; tag = 98asjd8");
  ASSERT_TRUE(na) << int(na.error());
  EXPECT_TRUE(na->display_quoted);
  EXPECT_EQ(na->display_name, "J Rosenberg \\\\\\\"");
  EXPECT_EQ(na->display_name_text(), "J Rosenberg \\\"");
  EXPECT_EQ(na->uri.user, "jdrosen");
  EXPECT_EQ(na->tag(), "98asjd8");
  EXPECT_TRUE(na->angle);
}

TEST(NameAddr, TokenDisplayNamesAndAddrSpec) {
  auto a = parse_name_addr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=_token~1'+`*%!-.");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->display_name, "token1~` token2'+_ token3*%!.-");
  EXPECT_EQ(a->tag(), "_token~1'+`*%!-.");

  auto b = parse_name_addr("caller<sip:caller@example.com>;tag=323");  // RFC 4475 §3.1.1.6
  ASSERT_TRUE(b);
  EXPECT_EQ(b->display_name, "caller");

  // Without <>, the parameters belong to the header, not the URI (RFC 3261 §20.10).
  auto c = parse_name_addr("sip:bob@biloxi.example.com;tag=a6c85cf;expires=60");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->angle);
  EXPECT_TRUE(c->uri.params.empty());
  EXPECT_EQ(c->tag(), "a6c85cf");
  EXPECT_EQ(c->expires()->value(), 60u);

  auto d = parse_name_addr("<tel:+1-201-555-0123;phone-context=example.com>;tag=9");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->uri.scheme, Scheme::Tel);
  EXPECT_EQ(d->uri.param("phone-context"), "example.com");
  EXPECT_EQ(d->tag(), "9");
}

TEST(NameAddr, JsSipContact) {
  auto na = parse_name_addr(
      "<sip:k3n8q1tf@5ql8ks0ej1ms.invalid;transport=ws>;+sip.ice;reg-id=1;"
      "+sip.instance=\"<urn:uuid:3a3c5d2e-6f1b-4c9e-8d7a-2b1f0e9c8a7d>\";expires=600;q=0.5");
  ASSERT_TRUE(na);
  EXPECT_EQ(na->uri.transport(), "ws");
  EXPECT_EQ(na->uri.host, "5ql8ks0ej1ms.invalid");
  EXPECT_TRUE(na->params.has("+sip.ice"));
  EXPECT_EQ(na->param("reg-id"), "1");
  EXPECT_EQ(na->param("+sip.instance"), "<urn:uuid:3a3c5d2e-6f1b-4c9e-8d7a-2b1f0e9c8a7d>");
  EXPECT_EQ(na->expires()->value(), 600u);
  EXPECT_EQ(na->q()->value(), 500);
}

TEST(NameAddr, StarContactAndQValues) {
  EXPECT_TRUE(parse_name_addr("*", true)->star);
  EXPECT_FALSE(parse_name_addr("*", false));
  auto q = [](const char* v) { return parse_name_addr(std::string("<sip:a@b>;q=") + v)->q(); };
  EXPECT_EQ(q("1")->value(), 1000);
  EXPECT_EQ(q("1.000")->value(), 1000);
  EXPECT_EQ(q("0.33")->value(), 330);
  EXPECT_EQ(q("0.001")->value(), 1);
  EXPECT_EQ(q("0")->value(), 0);
  EXPECT_EQ(q("0.")->value(), 0);  // "0" [ "." 0*3DIGIT ]
  for (const char* bad : {"1.5", "2", "0.0001", "1.01", ".5", "0,5", "0.5x"}) {
    std::string text = std::string("<sip:a@b>;q=") + bad;  // the views point into it
    auto na = parse_name_addr(text);
    ASSERT_TRUE(!na || (na->q() && !*na->q())) << bad;
  }
  auto big = parse_name_addr("<sip:user@host129.example.com>;expires=280297596632815");
  ASSERT_TRUE(big);
  EXPECT_FALSE(*big->expires());  // RFC 4475 §3.1.2.4: > 2**32-1
}

TEST(NameAddr, RejectsRfc4475InvalidForms) {
  EXPECT_EQ(parse_name_addr("\"Mr. J. User <sip:j.user@example.com>").error(), Error::BadQuotedString);  // quotbal
  EXPECT_EQ(parse_name_addr("\"Watson, Thomas\" < sip:t.watson@example.org >").error(), Error::BadUri);    // badaspec
  EXPECT_EQ(parse_name_addr("Bell, Alexander <sip:a.g.bell@example.com>;tag=43").error(), Error::BadNameAddr);  // baddn
  EXPECT_EQ(parse_name_addr("sip:user@example.com?Route=%3Csip:sip.example.com%3E").error(), Error::BadNameAddr);  // regbadct
  EXPECT_EQ(parse_name_addr("\"Joe\" <sip:joe@example.org>;;;;").error(), Error::BadParam);  // badinv01
  for (const char* bad : {"", "<sip:a@b", "<sip:a@b> x", "\"x\" sip:a@b", "<>", "a\"b <sip:a@b>"})
    EXPECT_FALSE(parse_name_addr(bad)) << bad;
  EXPECT_EQ(parse_name_addr("\"a\x01\" <sip:a@b>").error(), Error::BadQuotedString);  // CTL must be a quoted-pair
  EXPECT_TRUE(parse_name_addr("\"a\\\x01\" <sip:a@b>"));
}

TEST(Via, AllParts) {
  auto v = parse_via("SIP/2.0/WSS 5ql8ks0ej1ms.invalid;branch=z9hG4bK56sdasks;rport;received=192.0.2.7;x-y=z");
  ASSERT_TRUE(v) << int(v.error());
  EXPECT_EQ(v->protocol_name, "SIP");
  EXPECT_EQ(v->protocol_version, "2.0");
  EXPECT_EQ(v->transport, "WSS");
  EXPECT_EQ(v->host, "5ql8ks0ej1ms.invalid");
  EXPECT_FALSE(v->port);
  EXPECT_EQ(v->branch, "z9hG4bK56sdasks");
  EXPECT_TRUE(v->rfc3261_branch());
  EXPECT_TRUE(v->rport);
  EXPECT_FALSE(v->rport_value);
  EXPECT_EQ(v->received, "192.0.2.7");
  EXPECT_EQ(v->param("x-y"), "z");

  auto w = parse_via("SIP  / 2.0  / TCP     spindle.example.com   ;  branch  =   z9hG4bK9ikj8");  // wsinv
  ASSERT_TRUE(w);
  EXPECT_EQ(w->transport, "TCP");
  EXPECT_EQ(w->host, "spindle.example.com");
  EXPECT_EQ(w->branch, "z9hG4bK9ikj8");

  auto x = parse_via("SIP/2.0/UDP [2001:db8::9] : 5060;rport=49152;received=2001:db8::7;branch=390skdjuw");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->host_type, HostType::IPv6);
  EXPECT_EQ(x->port, 5060);
  EXPECT_EQ(x->rport_value, 49152);
  EXPECT_EQ(x->received, "2001:db8::7");  // RFC 5118 §4.5: no brackets
  EXPECT_FALSE(x->rfc3261_branch());
}

TEST(Via, RejectsMalformed) {
  for (const char* bad : {"", "SIP/2.0/UDP", "SIP/2.0 host", "SIP/2.0/UDPhost", "SIP/2.0/UDP host;;",
                          "SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;branch=\"x\"", "SIP/2.0/UDP host:0x1",
                          "SIP/2.0/UDP host;received=nothost", "SIP/2.0/UDP host;rport=70000",
                          "SIP/2.0/UDP host;ttl=256", "SIP/2.0/UDP host extra", "SIP/2.0/UDP ho st",
                          "/2.0/UDP host"})
    EXPECT_FALSE(parse_via(bad)) << bad;
}

TEST(CSeq, NumberAndMethod) {
  auto c = parse_cseq("0009\t INVITE");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->number, 9u);
  EXPECT_EQ(c->method, "INVITE");
  EXPECT_EQ(c->method_id, Method::Invite);
  EXPECT_EQ(parse_cseq("2147483647 REGISTER")->number, 2147483647u);
  EXPECT_EQ(parse_cseq("139122385 !interesting-Method0123456789_*+`.%indeed'~")->method_id, Method::Unknown);
  for (const char* bad : {"", "1", "INVITE", "2147483648 INVITE", "36893488147419103232 REGISTER",
                          "-1 INVITE", "1INVITE", "1 INV ITE", "1 <INVITE>"})
    EXPECT_EQ(parse_cseq(bad).error(), Error::BadCSeq) << bad;
}

TEST(Method, CaseSensitive) {
  EXPECT_EQ(method_id("REGISTER"), Method::Register);
  EXPECT_EQ(method_id("register"), Method::Unknown);
  EXPECT_EQ(method_id("RE%47IST%45R"), Method::Unknown);  // RFC 4475 §3.1.1.5
  EXPECT_EQ(method_name(Method::Prack), "PRACK");
}

TEST(MediaType, TypeSubtypeParams) {
  auto m = parse_media_type("application/sdp; a=\"foo;bar\"  ;  charset=ISO-8859-4");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is("APPLICATION", "SDP"));
  EXPECT_EQ(m->params.value("a"), "foo;bar");
  EXPECT_EQ(m->params.value("charset"), "ISO-8859-4");
  EXPECT_TRUE(parse_media_type("multipart/mixed;boundary=7a9cbec02ceef655"));
  for (const char* bad : {"", "application", "application/", "/sdp", "application/sdp;", "a/b c"})
    EXPECT_FALSE(parse_media_type(bad)) << bad;
}

TEST(Numbers, RangesAndLeadingZeros) {
  EXPECT_EQ(parse_max_forwards("0068").value(), 68u);
  EXPECT_EQ(parse_max_forwards("255").value(), 255u);
  EXPECT_FALSE(parse_max_forwards("256"));
  EXPECT_FALSE(parse_max_forwards("300"));
  EXPECT_EQ(parse_delta_seconds("4294967295").value(), 4294967295u);
  EXPECT_FALSE(parse_delta_seconds("4294967296"));
  EXPECT_FALSE(parse_delta_seconds("1" + std::string(100, '0')));
  EXPECT_FALSE(parse_delta_seconds("-1"));
  EXPECT_FALSE(parse_delta_seconds("1 2"));
  EXPECT_FALSE(parse_delta_seconds(""));
}

TEST(CallId, WordAtWord) {
  EXPECT_TRUE(valid_call_id("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));  // RFC 4475 §3.1.1.2
  EXPECT_TRUE(valid_call_id("5ou6h4dbi2e1fpf2tbo8sa"));
  for (const char* bad : {"", "@x", "x@", "a@b@c", "a b", "a;b", "a,b"}) EXPECT_FALSE(valid_call_id(bad)) << bad;
}

TEST(SipDate, GmtOnly) {
  EXPECT_TRUE(valid_sip_date("Sat, 15 Oct 2005 04:44:56 GMT"));
  EXPECT_FALSE(valid_sip_date("Fri, 01 Jan 2010 16:00:00 EST"));  // RFC 4475 §3.1.2.12
  EXPECT_FALSE(valid_sip_date("Sat, 15 Okt 2005 04:44:56 GMT"));
  EXPECT_FALSE(valid_sip_date("Sat 15 Oct 2005 04:44:56 GMT"));
}
