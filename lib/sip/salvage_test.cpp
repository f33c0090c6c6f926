#include "sip/salvage.hpp"

#include <gtest/gtest.h>

#include "sip/message.hpp"

using namespace sip;

TEST(Salvage, BuildsA400FromAnUnparsableRequest) {
  // Bad Content-Length and a broken header, but the headers a response needs are there.
  std::string raw =
      "MESSAGE sip:bob@ims.example.org SIP/2.0\r\n"
      "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1\r\n"
      "f: <sip:alice@ims.example.org>;tag=1\r\n"
      "To: <sip:bob@ims.example.org>\r\n"
      "Call-ID: xyz\r\n"
      "CSeq: 1 MESSAGE\r\n"
      "Bogus header line without colon\r\n"
      "Content-Length: banana\r\n\r\n";
  ASSERT_FALSE(parse_message(raw).ok());
  auto r = salvage_response(raw, 400, "", "pcscf", "bad Content-Length");
  ASSERT_TRUE(r);
  auto m = parse_message(*r);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status(), 400);
  EXPECT_EQ(m->call_id().value(), "xyz");
  EXPECT_EQ(m->top_via()->branch, "z9hG4bK1");
  EXPECT_NE(m->get("Warning")->find("bad Content-Length"), std::string_view::npos);
}

TEST(Salvage, NothingWhenAResponseCannotBeFormed) {
  EXPECT_FALSE(salvage_response("garbage", 400, "", "a", "b"));
  EXPECT_FALSE(salvage_response("SIP/2.0 200 OK\r\nVia: x\r\n\r\n", 400, "", "a", "b"));  // a response
  EXPECT_FALSE(salvage_response("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/WSS a;branch=z9hG4bK1\r\n\r\n", 400, "", "a", "b"));
  EXPECT_FALSE(salvage_response("ACK sip:x SIP/2.0\r\nVia: SIP/2.0/WSS a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
                                "To: <sip:c@d>\r\nCall-ID: 1\r\nCSeq: 1 ACK\r\n\r\n",
                                400, "", "a", "b"));
  // A Via that is itself unusable: the produced response would not parse, so nothing.
  EXPECT_FALSE(salvage_response("OPTIONS sip:x SIP/2.0\r\nVia: \x01\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
                                "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n",
                                400, "", "a", "b"));
}
