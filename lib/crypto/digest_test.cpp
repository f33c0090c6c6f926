#include "crypto/digest.hpp"

#include <gtest/gtest.h>

using namespace crypto;

namespace {

base::Bytes pw(std::string_view s) { return base::as_bytes(s); }

// RFC 2617 §3.5: GET /dir/index.html, qop=auth, user Mufasa, password "Circle Of Life".
DigestInput rfc2617_example() {
  DigestInput in;
  in.algorithm = DigestAlgorithm::Md5;
  in.username = "Mufasa";
  in.realm = "testrealm@host.com";
  in.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  in.uri = "/dir/index.html";
  in.method = "GET";
  in.qop = "auth";
  in.nc = "00000001";
  in.cnonce = "0a4f113b";
  return in;
}

// RFC 7616 §3.9.1 (note the password there is "Circle of Life", lowercase "of").
DigestInput rfc7616_example(DigestAlgorithm a) {
  DigestInput in;
  in.algorithm = a;
  in.username = "Mufasa";
  in.realm = "http-auth@example.org";
  in.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  in.uri = "/dir/index.html";
  in.method = "GET";
  in.qop = "auth";
  in.nc = "00000001";
  in.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  return in;
}

TEST(Digest, Rfc2617Example) {
  auto in = rfc2617_example();
  SecretString ha1 = digest_ha1(in.algorithm, in.username, in.realm, pw("Circle Of Life"));
  EXPECT_EQ(ha1.view(), "939e7578ed9e3c518a452acee763bce9");
  EXPECT_EQ(digest_ha2(in.algorithm, in.method, in.uri), "39aff3a2bab6126f332b942af96d3366");
  auto r = digest_response(in, ha1.view());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "6629fae49393a05397450978507c4ef1");
  auto r2 = digest_response_for_password(in, pw("Circle Of Life"));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, *r);
  EXPECT_TRUE(digest_verify(in, ha1.view(), "6629fae49393a05397450978507c4ef1").ok());
  EXPECT_TRUE(digest_verify(in, ha1.view(), "6629FAE49393A05397450978507C4EF1").ok());
}

TEST(Digest, Rfc7616ExampleMd5) {
  auto r = digest_response_for_password(rfc7616_example(DigestAlgorithm::Md5), pw("Circle of Life"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(Digest, Rfc7616ExampleSha256) {
  auto in = rfc7616_example(DigestAlgorithm::Sha256);
  auto r = digest_response_for_password(in, pw("Circle of Life"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  SecretString ha1 = digest_ha1(in.algorithm, in.username, in.realm, pw("Circle of Life"));
  EXPECT_EQ(ha1.size(), 64u);
  EXPECT_TRUE(digest_verify(in, ha1.view(), *r).ok());
}

// No published vector for the -sess variants: values computed independently with Python's
// hashlib from RFC 7616 §3.4.2 (HA1 = H(H(user:realm:pass):nonce:cnonce), hex inner HA1) on the
// §3.9.1 inputs.
TEST(Digest, SessionVariants) {
  auto md5s = digest_response_for_password(rfc7616_example(DigestAlgorithm::Md5Sess), pw("Circle of Life"));
  ASSERT_TRUE(md5s.ok());
  EXPECT_EQ(*md5s, "e783283f46242139c486a698fec7211d");
  auto shas = digest_response_for_password(rfc7616_example(DigestAlgorithm::Sha256Sess), pw("Circle of Life"));
  ASSERT_TRUE(shas.ok());
  EXPECT_EQ(*shas, "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7");
  // A -sess response is bound to the cnonce, unlike the plain algorithm's HA1.
  auto in = rfc7616_example(DigestAlgorithm::Md5Sess);
  in.cnonce = "other";
  auto other = digest_response_for_password(in, pw("Circle of Life"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *md5s);
}

// RFC 2069 §2.4 example, with the response corrected by RFC 2069 erratum 749.
TEST(Digest, Rfc2069CompatibilityWithoutQop) {
  DigestInput in;
  in.username = "Mufasa";
  in.realm = "testrealm@host.com";
  in.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  in.uri = "/dir/index.html";
  in.method = "GET";
  auto r = digest_response_for_password(in, pw("CircleOfLife"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "1949323746fe6a43ef61f9606e7febea");
}

// rspauth (Authentication-Info) on the RFC 2617 example: HA2 = H(":" uri); value from hashlib.
TEST(Digest, Rspauth) {
  auto in = rfc2617_example();
  SecretString ha1 = digest_ha1(in.algorithm, in.username, in.realm, pw("Circle Of Life"));
  auto r = digest_rspauth(in, ha1.view());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "376602cfd2f4e8e5e78b948a85263e85");
}

// A SIP REGISTER with SHA-256 (RFC 8760): the same computation, method REGISTER, uri sip:domain.
TEST(Digest, SipRegisterSha256) {
  DigestInput in;
  in.algorithm = DigestAlgorithm::Sha256;
  in.username = "alice@ims.example.org";
  in.realm = "ims.example.org";
  in.nonce = "abc";
  in.uri = "sip:ims.example.org";
  in.method = "REGISTER";
  in.qop = "auth";
  in.nc = "00000001";
  in.cnonce = "xyz";
  auto r = digest_response_for_password(in, pw("secret"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "4b4e74a83b623c25cf87ab0a65de62e0fef271edce9d4a887ae2bcb479e0e919");
}

TEST(Digest, AlgorithmTokens) {
  EXPECT_EQ(parse_digest_algorithm("MD5"), DigestAlgorithm::Md5);
  EXPECT_EQ(parse_digest_algorithm("md5"), DigestAlgorithm::Md5);
  EXPECT_EQ(parse_digest_algorithm("MD5-sess"), DigestAlgorithm::Md5Sess);
  EXPECT_EQ(parse_digest_algorithm("SHA-256"), DigestAlgorithm::Sha256);
  EXPECT_EQ(parse_digest_algorithm("sha-256-SESS"), DigestAlgorithm::Sha256Sess);
  EXPECT_FALSE(parse_digest_algorithm("SHA-512-256"));
  EXPECT_FALSE(parse_digest_algorithm("AKAv1-MD5"));
  EXPECT_FALSE(parse_digest_algorithm(""));
  for (auto a : {DigestAlgorithm::Md5, DigestAlgorithm::Md5Sess, DigestAlgorithm::Sha256, DigestAlgorithm::Sha256Sess})
    EXPECT_EQ(parse_digest_algorithm(to_string(a)), a);
  EXPECT_TRUE(is_session_algorithm(DigestAlgorithm::Sha256Sess));
  EXPECT_FALSE(is_session_algorithm(DigestAlgorithm::Sha256));
}

// Negative cases: every altered field changes the response; malformed inputs are errors.
TEST(Digest, WrongPasswordAndAlteredFieldsFail) {
  auto in = rfc2617_example();
  SecretString good = digest_ha1(in.algorithm, in.username, in.realm, pw("Circle Of Life"));
  SecretString bad = digest_ha1(in.algorithm, in.username, in.realm, pw("Circle of Life"));
  const std::string resp = "6629fae49393a05397450978507c4ef1";
  auto v = digest_verify(in, bad.view(), resp);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error(), Error::MacFailure);

  auto altered = [&](auto mutate) {
    DigestInput x = rfc2617_example();
    mutate(x);
    auto r = digest_verify(x, good.view(), resp);
    return !r.ok() && r.error() == Error::MacFailure;
  };
  EXPECT_TRUE(altered([](DigestInput& x) { x.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c094"; }));
  EXPECT_TRUE(altered([](DigestInput& x) { x.uri = "/dir/index.htm"; }));
  EXPECT_TRUE(altered([](DigestInput& x) { x.method = "POST"; }));
  EXPECT_TRUE(altered([](DigestInput& x) { x.nc = "00000002"; }));
  EXPECT_TRUE(altered([](DigestInput& x) { x.cnonce = "0a4f113c"; }));
  EXPECT_TRUE(altered([](DigestInput& x) { x.algorithm = DigestAlgorithm::Md5Sess; }));
  EXPECT_TRUE(altered([](DigestInput& x) { x.qop = ""; }));

  EXPECT_FALSE(digest_verify(in, good.view(), "").ok());
  EXPECT_FALSE(digest_verify(in, good.view(), resp.substr(1)).ok());
  EXPECT_FALSE(digest_verify(in, good.view(), resp + "0").ok());
}

TEST(Digest, MalformedInputs) {
  SecretString ha1 = digest_ha1(DigestAlgorithm::Md5, "u", "r", pw("p"));
  auto err = [&](auto mutate) {
    DigestInput x = rfc2617_example();
    mutate(x);
    auto r = digest_response(x, ha1.view());
    return r.ok() ? std::optional<Error>() : std::optional<Error>(r.error());
  };
  EXPECT_EQ(err([](DigestInput& x) { x.qop = "auth-int"; }), Error::Unsupported);
  EXPECT_EQ(err([](DigestInput& x) { x.qop = "auth,auth-int"; }), Error::InvalidArgument);
  EXPECT_EQ(err([](DigestInput& x) { x.nc = "1"; }), Error::InvalidArgument);
  EXPECT_EQ(err([](DigestInput& x) { x.nc = "0000000g"; }), Error::InvalidArgument);
  EXPECT_EQ(err([](DigestInput& x) { x.nc = ""; }), Error::InvalidArgument);
  EXPECT_EQ(err([](DigestInput& x) { x.cnonce = ""; }), Error::InvalidArgument);
  EXPECT_EQ(err([](DigestInput& x) { x.qop = ""; x.cnonce = ""; x.algorithm = DigestAlgorithm::Md5Sess; }),
            Error::InvalidArgument);
  EXPECT_EQ(err([](DigestInput& x) { x.qop = "AUTH"; }), std::nullopt);  // tokens are case-insensitive
}

}  // namespace
