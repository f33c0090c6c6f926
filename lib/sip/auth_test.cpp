#include "sip/auth.hpp"

#include <gtest/gtest.h>

using namespace sip;

TEST(Digest, ChallengeWithQopList) {
  auto c = parse_digest_challenge(
      "Digest realm=\"ims.example.org\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r"
      "  opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=MD5, qop=\"auth,auth-int\", stale=TRUE,"
      " integrity-key=\"x\"");
  // A bare CR between parameters is refused: folding is removed before values reach this parser.
  EXPECT_FALSE(c);
  c = parse_digest_challenge(
      "Digest realm=\"ims.example.org\",nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\" ,"
      "  opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=MD5, qop=\"auth, auth-int\", stale=TRUE,"
      " integrity-key=\"x\"");
  ASSERT_TRUE(c) << int(c.error());
  EXPECT_EQ(c->realm, "ims.example.org");
  EXPECT_EQ(c->nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  EXPECT_EQ(c->opaque, "5ccc069c403ebaf9f0171e9517f40e41");
  EXPECT_EQ(c->algorithm, "MD5");
  EXPECT_EQ(c->qop, (std::vector<std::string>{"auth", "auth-int"}));
  EXPECT_TRUE(c->stale);
  ASSERT_EQ(c->other.size(), 1u);
  EXPECT_EQ(c->other[0].name, "integrity-key");

  auto again = parse_digest_challenge(format(*c));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->nonce, c->nonce);
  EXPECT_EQ(again->qop, c->qop);
  EXPECT_TRUE(again->stale);
  EXPECT_EQ(format(*again), format(*c));
}

TEST(Digest, AkaChallengeAndAuts) {
  // IMS AKA (RFC 3310, protocols.md scenario 1): nonce = base64(RAND || AUTN).
  auto c = parse_digest_challenge(
      "Digest realm=\"ims.example.org\", nonce=\"CjPk9mRqNuT25eRkajM09uTl9nM09uTl9nMz5OX25PZz==\", "
      "algorithm=AKAv2-MD5, qop=\"auth\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->algorithm, "AKAv2-MD5");
  auto r = parse_digest_credentials(
      "Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", nonce=\"CjPk9mRqNuT25eRkajM09uTl9nM09uTl9nMz5OX25PZz==\","
      " uri=\"sip:ims.example.org\", response=\"\", algorithm=AKAv2-MD5, auts=\"5PYxMuX2NOT2NeO=\"");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->auts, "5PYxMuX2NOT2NeO=");
  EXPECT_EQ(r->response, "");
}

TEST(Digest, CredentialsEscapedQuotesAndUnknownParams) {
  auto r = parse_digest_credentials(
      "Digest username=\"bob \\\"the\\\" \\\\builder\", realm=\"biloxi.com\", nonce=\"dcd98b\", "
      "uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
      "response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc\", X-Extra=token");
  ASSERT_TRUE(r) << int(r.error());
  EXPECT_EQ(r->username, "bob \"the\" \\builder");
  EXPECT_EQ(r->qop, "auth");
  EXPECT_EQ(r->nc, "00000001");
  EXPECT_EQ(r->cnonce, "0a4f113b");
  EXPECT_EQ(r->response, "6629fae49393a05397450978507c4ef1");
  ASSERT_NE(r->find_other("x-extra"), nullptr);
  EXPECT_EQ(r->find_other("x-extra")->value, "token");
  EXPECT_FALSE(r->find_other("x-extra")->quoted);

  auto again = parse_digest_credentials(format(*r));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->username, r->username);
  EXPECT_EQ(format(*again), format(*r));
}

TEST(Digest, TrustedNodeAuthentication) {
  // protocols.md: the TNA REGISTER toward the S-CSCF (TS 24.292 6.2 / TS 33.203 Annex U).
  const char* tna =
      "Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", uri=\"sip:ims.example.org\", "
      "nonce=\"\", response=\"\", integrity-protected=\"auth-done\", authorization-entity=\"wwsf.example.net\"";
  auto r = parse_digest_credentials(tna);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->nonce, "");
  ASSERT_NE(r->find_other("integrity-protected"), nullptr);
  EXPECT_EQ(r->find_other("integrity-protected")->value, "auth-done");
  EXPECT_EQ(r->find_other("authorization-entity")->value, "wwsf.example.net");
  EXPECT_EQ(format(*r), tna);
  // The eP-CSCF strips such parameters from what a WIC sends.
  EXPECT_EQ(r->remove_other("Integrity-Protected"), 1u);
  EXPECT_EQ(r->remove_other("authorization-entity"), 1u);
  EXPECT_EQ(format(*r),
            "Digest username=\"alice@ims.example.org\", realm=\"ims.example.org\", uri=\"sip:ims.example.org\", "
            "nonce=\"\", response=\"\"");
}

TEST(Digest, Rejects) {
  for (const char* bad : {"", "Digest realm", "Digest realm=", "Digest realm=\"x", "Digest realm=\"x\" nonce=\"y\"",
                          "Digest realm=\"x\",", "Digest ,realm=\"x\"", "Digest realm=\"x\", realm=\"y\", nonce=\"z\"",
                          "Digest nonce=\"y\"", "Digest realm=\"x\", nonce=\"y\", stale=maybe",
                          "Digest realm=\"x\", nonce=\"y\", qop=\"auth,,x\"", "Basic realm=\"x\", nonce=\"y\""})
    EXPECT_FALSE(parse_digest_challenge(bad)) << bad;
  EXPECT_FALSE(parse_digest_credentials("Digest username=\"a\", nc=1"));  // nc is 8LHEX
  EXPECT_FALSE(parse_digest_credentials("Digest username=\"a\", username=\"b\""));
  EXPECT_FALSE(parse_digest_credentials("Bearer abc"));
}

TEST(Bearer, Token68AndAccessTokenForms) {
  const std::string jwt = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2ln-_bmF0dXJl";
  EXPECT_EQ(bearer_token("Bearer " + jwt), jwt);                                // RFC 8898 / JsSIP
  EXPECT_EQ(bearer_token("bearer   " + jwt + "=="), jwt + "==");                 // scheme is case-insensitive
  EXPECT_EQ(bearer_token("Bearer access_token=\"" + jwt + "\""), jwt);          // TS 24.371 A.3.2
  EXPECT_EQ(bearer_token("Bearer access_token=" + jwt), jwt);
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer realm=\"x\""));
  EXPECT_FALSE(bearer_token("Digest username=\"a\""));
  EXPECT_FALSE(bearer_token("Bearer a b"));
  auto v = parse_auth("Bearer " + jwt);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->token68, jwt);
  EXPECT_EQ(format_auth(*v), "Bearer " + jwt);
}

TEST(Auth, OtherSchemesAndQuote) {
  auto v = parse_auth("NoOneKnowsThisScheme opaque-data=here");  // RFC 4475 §3.3.7
  ASSERT_TRUE(v);
  EXPECT_EQ(v->scheme, "NoOneKnowsThisScheme");
  ASSERT_EQ(v->params.size(), 1u);
  EXPECT_EQ(v->params[0].value, "here");
  EXPECT_EQ(format_auth(*v), "NoOneKnowsThisScheme opaque-data=here");
  EXPECT_EQ(quote("a\"b\\c\r\nd"), "\"a\\\"b\\\\cd\"");
}
