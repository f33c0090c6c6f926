#include "sip/uri.hpp"

#include <gtest/gtest.h>

using namespace sip;

TEST(Uri, SipWithEverything) {
  auto u = parse_uri("sip:alice:secret@atlanta.example.com:5060;transport=ws;lr;ob?subject=project%20x&priority=urgent");
  ASSERT_TRUE(u) << int(u.error());
  EXPECT_EQ(u->scheme, Scheme::Sip);
  EXPECT_EQ(u->user, "alice");
  EXPECT_TRUE(u->has_password);
  EXPECT_EQ(u->password, "secret");
  EXPECT_EQ(u->host, "atlanta.example.com");
  EXPECT_EQ(u->host_type, HostType::Hostname);
  EXPECT_EQ(u->port, 5060);
  EXPECT_EQ(u->transport(), "ws");
  EXPECT_TRUE(u->lr());
  EXPECT_TRUE(u->params.has("ob"));
  EXPECT_EQ(u->params.size(), 3u);
  EXPECT_EQ(u->headers, "subject=project%20x&priority=urgent");
}

TEST(Uri, HostForms) {
  auto v4 = parse_uri("sip:192.0.2.4");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host_type, HostType::IPv4);
  EXPECT_FALSE(v4->has_user);
  EXPECT_FALSE(v4->port);

  auto v6 = parse_uri("sips:bob@[2001:db8::10]:5061;maddr=[2001:db8::1]");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->scheme, Scheme::Sips);
  EXPECT_EQ(v6->host, "[2001:db8::10]");
  EXPECT_EQ(v6->host_address(), "2001:db8::10");
  EXPECT_EQ(v6->host_type, HostType::IPv6);
  EXPECT_EQ(v6->port, 5061);
  EXPECT_EQ(v6->param("maddr"), "[2001:db8::1]");

  auto name = parse_uri("SIP:x@abc.invalid;TRANSPORT=WS");  // scheme and parameter names are case-insensitive
  ASSERT_TRUE(name);
  EXPECT_EQ(name->scheme, Scheme::Sip);
  EXPECT_EQ(name->transport(), "WS");
  EXPECT_TRUE(parse_uri("sip:example.com."));  // a trailing dot is a fully qualified name
}

TEST(Uri, RejectsMalformed) {
  for (const char* bad : {"", "sip:", "sip:@example.com", "sip:alice@", "sip:alice@exa mple.com",
                          "sip:host:99999", "sip:host:", "sip:[2001:db8::1", "sip:[192.0.2.1]",
                          "sip:256.1.1.1", "sip:host;", "sip:host;=x", "sip:host;a=", "sip:host?",
                          "sip:host?a", "sip:host?a=b&", "sip:al%4gce@host", "sip:al%4@host",
                          "sip:-host.com", "sip:host-.com", "sip:a..b", "sip:host.123",
                          "sip:user@host>", "sip:<user@host>", " sip:host", "1sip:host", "sip:u\"@h",
                          "tel:", "tel:12 34", "urn:", "urn:a b", "mailto"}) {
    EXPECT_FALSE(parse_uri(bad)) << bad;
  }
}

TEST(Uri, EscapesStayUntilAsked) {
  // RFC 4475 §3.1.1.3: escapes are equivalent to the character but are not decoded twice.
  auto u = parse_uri("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "cal%6Cer");
  EXPECT_EQ(u->user_unescaped(), "caller");
  EXPECT_TRUE(u->params.has("%6C%72"));
  EXPECT_EQ(uri_unescape(*u->param("n%61me")), "value%41");
  EXPECT_EQ(uri_unescape("null-%00-null"), std::string("null-\0-null", 11));
  EXPECT_EQ(uri_unescape("100%"), "100%");
  EXPECT_EQ(uri_unescape("%zz%4"), "%zz%4");
}

TEST(Uri, UserPartMayHoldSemicolonsAndEscapedAt) {
  // RFC 4475 §3.1.1.9: the user part is "user;par=u%40example.net".
  auto u = parse_uri("sip:user;par=u%40example.net@example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "user;par=u%40example.net");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_TRUE(u->params.empty());
}

TEST(Uri, TelAndOtherSchemes) {
  auto t = parse_uri("tel:+1-201-555-0123;phone-context=example.com");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->scheme, Scheme::Tel);
  EXPECT_EQ(t->user, "+1-201-555-0123");
  EXPECT_EQ(t->param("phone-context"), "example.com");
  EXPECT_EQ(t->address_of_record(), "tel:+1-201-555-0123");

  auto urn = parse_uri("urn:uuid:3a3c5d2e-6f1b-4c9e-8d7a-2b1f0e9c8a7d");
  ASSERT_TRUE(urn);
  EXPECT_EQ(urn->scheme, Scheme::Other);
  EXPECT_EQ(urn->scheme_text, "urn");
  EXPECT_EQ(urn->opaque, "uuid:3a3c5d2e-6f1b-4c9e-8d7a-2b1f0e9c8a7d");
  EXPECT_TRUE(parse_uri("soap.beep://192.0.2.103:3002"));   // RFC 4475 §3.3.3
  EXPECT_TRUE(parse_uri("http://www.example.com"));
}

TEST(Uri, AddressOfRecord) {
  auto u = parse_uri("sip:Al%69ce@Atlanta.Example.COM:5070;transport=tcp?x=y");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->address_of_record(), "sip:Alice@atlanta.example.com:5070");
  auto s = parse_uri("sips:ims.example.org");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->address_of_record(), "sips:ims.example.org");
}

TEST(ParamList, HeaderParamsWithLwsAndQuotes) {
  auto p = ParamList::parse(" ; newparam = newvalue ;  secondparam ; q = 0.33;+sip.instance=\"<urn:uuid:1;2>\"",
                            ParamList::Kind::Header);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 4u);
  EXPECT_EQ(p->value("NEWPARAM"), "newvalue");
  EXPECT_EQ(p->value("secondparam"), "");
  EXPECT_EQ(p->value("q"), "0.33");
  auto inst = p->find("+sip.instance");
  ASSERT_TRUE(inst);
  EXPECT_TRUE(inst->quoted);
  EXPECT_EQ(inst->value, "<urn:uuid:1;2>");
  EXPECT_FALSE(p->value("absent"));
  std::vector<std::string_view> names;
  p->for_each([&](const Param& x) {
    names.push_back(x.name);
    return true;
  });
  EXPECT_EQ(names, (std::vector<std::string_view>{"newparam", "secondparam", "q", "+sip.instance"}));
}

TEST(ParamList, RejectsEmptyAndMalformed) {
  for (const char* bad : {";", ";;", "; ;a", ";a=", ";a=\"x", "x", ";a b", ";a=b c", ";=b"})
    EXPECT_FALSE(ParamList::parse(bad, ParamList::Kind::Header)) << bad;
  EXPECT_TRUE(ParamList::parse("", ParamList::Kind::Header));
  EXPECT_FALSE(ParamList::parse("; lr", ParamList::Kind::Uri));  // no LWS inside a URI (RFC 4475 §3.1.2.8)
}
