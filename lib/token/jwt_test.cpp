#include "token/jwt.hpp"

#include <cjose/cjose.h>
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <fstream>
#include <map>

#include "base/encoding.hpp"

using namespace token;
using nlohmann::json;

namespace {

constexpr int64_t kNow = 1'900'000'000;

std::map<std::string, std::string> read_vector(const std::string& relative) {
  std::ifstream in(std::string(WEBIMS_VECTORS_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find(" = ");
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return out;
}

std::string b64u(std::string_view s) { return base::base64url_encode(base::as_bytes(s)); }

ImsAccessToken good_claims() {
  ImsAccessToken t;
  t.iss = "https://localhost:8443";
  t.aud = "ims.example.org";
  t.sub = "alice@ims.example.org";
  t.impu = {"sip:alice@ims.example.org", "tel:+15551234"};
  t.wwsf = "wwsf.example.org";
  t.scope = std::string(kImsScope);
  t.pool = false;
  t.iat = kNow - 10;
  t.exp = kNow + 3600;
  t.jti = "j-1";
  return t;
}

TokenPolicy policy() { return TokenPolicy{{"https://localhost:8443"}, "ims.example.org", 60}; }

VerifyKeys keys_of(const std::vector<SigningKey>& ks) { return VerifyKeys::from_jwks(jwks_json(ks)).value(); }

// A token signed with cjose under an arbitrary protected header (to test what our SigningKey never makes).
std::string sign_with_header(const SigningKey& k, const json& header, const std::string& payload) {
  std::string priv = k.private_jwk();
  cjose_jwk_t* jwk = cjose_jwk_import(priv.data(), priv.size(), nullptr);
  cjose_header_t* h = cjose_header_new(nullptr);
  for (auto& [name, v] : header.items()) cjose_header_set(h, name.c_str(), v.get<std::string>().c_str(), nullptr);
  cjose_jws_t* jws = cjose_jws_sign(jwk, h, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), nullptr);
  const char* out = nullptr;
  EXPECT_TRUE(jws && cjose_jws_export(jws, &out, nullptr));
  std::string s = out ? out : "";
  cjose_jws_release(jws);
  cjose_header_release(h);
  cjose_jwk_release(jwk);
  return s;
}

TokenCheck check_of(std::string_view token, const VerifyKeys& keys, const TokenPolicy& p = policy(), int64_t now = kNow) {
  auto r = verify_ims_token(token, keys, p, now);
  EXPECT_FALSE(r.ok()) << "accepted: " << token;
  if (r.ok()) return TokenCheck::Scope;  // any; the EXPECT above already failed
  if (token.size() >= 20) {
    EXPECT_EQ(r.error().reason.find(token.substr(0, 20)), std::string::npos) << "the reason quotes the token";
  }
  return r.error().check;
}

// The SubjectPublicKeyInfo PEM of a P-256 public key, built from the JWK's x and y: the fixed
// DER prefix (SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING 04||x||y }).
std::string public_pem(const json& jwk) {
  auto x = base::base64url_decode(jwk.at("x").get<std::string>()).value();
  auto y = base::base64url_decode(jwk.at("y").get<std::string>()).value();
  std::vector<uint8_t> der = base::hex_decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").value();
  der.push_back(0x04);
  der.insert(der.end(), x.begin(), x.end());
  der.insert(der.end(), y.begin(), y.end());
  std::string b64 = base::base64_encode(der);
  std::string pem = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END PUBLIC KEY-----\n";
}

// The "alg confusion" forgery: HS256 keyed with bytes the attacker knows (the public key).
std::string hs256_forgery(const std::string& hmac_key, const std::string& kid, const json& claims) {
  std::string input = b64u(json{{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", kid}}.dump()) + "." + b64u(claims.dump());
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), hmac_key.data(), int(hmac_key.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  return input + "." + base::base64url_encode({mac, len});
}

bool cjose_accepts_hmac(const std::string& token, const std::string& hmac_key) {
  cjose_jwk_t* oct = cjose_jwk_create_oct_spec(reinterpret_cast<const uint8_t*>(hmac_key.data()), hmac_key.size(), nullptr);
  cjose_jws_t* jws = cjose_jws_import(token.data(), token.size(), nullptr);
  bool ok = oct && jws && cjose_jws_verify(jws, oct, nullptr);
  cjose_jws_release(jws);
  cjose_jwk_release(oct);
  return ok;
}

}  // namespace

TEST(Jwt, Rfc7515AppendixA3VerifiesWithThePublishedKey) {
  auto v = read_vector("rfc7515/appendix_a3.txt");
  ASSERT_EQ(v.size(), 4u);
  json jwks = {{"keys", {{{"kty", "EC"}, {"crv", "P-256"}, {"x", v["jwk_x"]}, {"y", v["jwk_y"]}, {"kid", "a3"}}}}};
  auto keys = VerifyKeys::from_jwks(jwks.dump());
  ASSERT_TRUE(keys.ok()) << keys.error();
  auto r = verify_es256_jws(v["jws"], *keys);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->header, json({{"alg", "ES256"}}));
  EXPECT_EQ(r->payload.at("iss"), "joe");
  EXPECT_EQ(r->payload.at("exp"), 1300819380);
  EXPECT_EQ(r->payload.at("http://example.com/is_root"), true);

  // One bit of the signature flipped.
  std::string bad = v["jws"];
  bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_es256_jws(bad, *keys).error().check, TokenCheck::Signature);
  // The A.3 token names no key: an IMS token must.
  EXPECT_EQ(verify_ims_token(v["jws"], *keys, policy(), kNow).error().check, TokenCheck::UnknownKey);
}

TEST(Jwt, Rfc7515AppendixA3PrivateKeyImportsWithItsThumbprint) {
  auto v = read_vector("rfc7515/appendix_a3.txt");
  json priv = {{"kty", "EC"}, {"crv", "P-256"}, {"x", v["jwk_x"]}, {"y", v["jwk_y"]}, {"d", v["jwk_d"]}};
  SigningKey k = SigningKey::from_private_jwk(priv.dump());
  // RFC 7638 thumbprint computed independently (python: sha256 of the canonical JSON, base64url).
  EXPECT_EQ(k.kid(), "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
  EXPECT_EQ(jwk_thumbprint(k.public_jwk()), k.kid());
  EXPECT_EQ(k.public_jwk().at("x"), v["jwk_x"]);
  // What this key signs, a verifier holding the A.3 public key accepts.
  json jwks = {{"keys", {{{"kty", "EC"}, {"crv", "P-256"}, {"x", v["jwk_x"]}, {"y", v["jwk_y"]}, {"kid", k.kid()}}}}};
  auto keys = VerifyKeys::from_jwks(jwks.dump()).value();
  EXPECT_TRUE(verify_ims_token(k.sign(to_claims(good_claims())), keys, policy(), kNow).ok());
}

TEST(Jwt, RoundTrip) {
  SigningKey k = SigningKey::generate();
  EXPECT_EQ(k.kid(), jwk_thumbprint(k.public_jwk()));
  json pub = k.public_jwk();
  EXPECT_EQ(pub.at("kty"), "EC");
  EXPECT_EQ(pub.at("crv"), "P-256");
  EXPECT_EQ(pub.at("alg"), "ES256");
  EXPECT_EQ(pub.at("use"), "sig");
  EXPECT_EQ(pub.at("kid"), k.kid());
  EXPECT_FALSE(pub.contains("d"));

  ImsAccessToken t = good_claims();
  t.pool = true;
  std::string token = k.sign(to_claims(t));
  auto r = verify_ims_token(token, keys_of({k}), policy(), kNow);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->iss, t.iss);
  EXPECT_EQ(r->aud, t.aud);
  EXPECT_EQ(r->sub, t.sub);
  EXPECT_EQ(r->impu, t.impu);
  EXPECT_EQ(r->wwsf, t.wwsf);
  EXPECT_EQ(r->scope, t.scope);
  EXPECT_TRUE(r->pool);
  EXPECT_EQ(r->exp, t.exp);
  EXPECT_EQ(r->iat, t.iat);
  EXPECT_EQ(r->jti, t.jti);

  auto hdr = json::parse(base::base64url_decode(token.substr(0, token.find('.'))).value());
  EXPECT_EQ(hdr, json({{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", k.kid()}}));
}

TEST(Jwt, PrivateJwkRoundTripAndKeySets) {
  SigningKey a = SigningKey::generate("a");
  SigningKey a2 = SigningKey::from_private_jwk(a.private_jwk());
  EXPECT_EQ(a2.kid(), "a");
  EXPECT_EQ(a2.public_jwk(), a.public_jwk());
  SigningKey b = SigningKey::generate("b");
  VerifyKeys both = keys_of({a, b});
  EXPECT_EQ(both.size(), 2u);
  EXPECT_TRUE(both.has("a"));
  EXPECT_FALSE(both.has("c"));
  // Rotation: tokens of either key verify against the set.
  EXPECT_TRUE(verify_ims_token(a2.sign(to_claims(good_claims())), both, policy(), kNow).ok());
  EXPECT_TRUE(verify_ims_token(b.sign(to_claims(good_claims())), both, policy(), kNow).ok());
}

TEST(Jwt, PrivateJwkRefusals) {
  SigningKey a = SigningKey::generate("a"), b = SigningKey::generate("b");
  json pa = json::parse(a.private_jwk()), pb = json::parse(b.private_jwk());
  json no_d = pa;
  no_d.erase("d");
  EXPECT_THROW(SigningKey::from_private_jwk(no_d.dump()), std::runtime_error);
  json wrong_d = pa;
  wrong_d["d"] = pb["d"];
  EXPECT_THROW(SigningKey::from_private_jwk(wrong_d.dump()), std::runtime_error);
  json rsa = pa;
  rsa["kty"] = "RSA";
  EXPECT_THROW(SigningKey::from_private_jwk(rsa.dump()), std::runtime_error);
  EXPECT_THROW(SigningKey::from_private_jwk("not json"), std::runtime_error);
}

TEST(Jwt, JwksParsing) {
  SigningKey a = SigningKey::generate("a");
  json ka = a.public_jwk();
  json rsa = {{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}, {"kid", "r"}};
  json p384 = ka;
  p384["crv"] = "P-384";
  p384["kid"] = "p384";
  json enc = ka;
  enc["use"] = "enc";
  enc["kid"] = "enc";
  json es384 = ka;
  es384["alg"] = "ES384";
  es384["kid"] = "es384";
  json nokid = ka;
  nokid.erase("kid");
  auto ks = VerifyKeys::from_jwks(json{{"keys", {rsa, p384, enc, es384, nokid, ka}}}.dump());
  ASSERT_TRUE(ks.ok()) << ks.error();
  EXPECT_EQ(ks->size(), 1u);
  EXPECT_TRUE(ks->has("a"));

  EXPECT_FALSE(VerifyKeys::from_jwks("[]").ok());
  EXPECT_FALSE(VerifyKeys::from_jwks("{}").ok());
  EXPECT_FALSE(VerifyKeys::from_jwks("{\"keys\":{}}").ok());
  EXPECT_FALSE(VerifyKeys::from_jwks("{\"keys\":[1]}").ok());
  EXPECT_FALSE(VerifyKeys::from_jwks("{\"keys\":[").ok());
  EXPECT_FALSE(VerifyKeys::from_jwks(json{{"keys", {ka, ka}}}.dump()).ok()) << "duplicate kid";
  json off_curve = ka;
  auto y = base::base64url_decode(ka["y"].get<std::string>()).value();
  y[31] ^= 1;
  off_curve["y"] = base::base64url_encode(y);
  EXPECT_FALSE(VerifyKeys::from_jwks(json{{"keys", {off_curve}}}.dump()).ok());
  json short_x = ka;
  short_x["x"] = "AAAA";
  EXPECT_FALSE(VerifyKeys::from_jwks(json{{"keys", {short_x}}}.dump()).ok());
  EXPECT_EQ(VerifyKeys::from_jwks("{\"keys\":[]}")->size(), 0u);
  EXPECT_EQ(VerifyKeys().size(), 0u);
}

TEST(Jwt, AlgNoneIsRefused) {
  SigningKey k = SigningKey::generate("k");
  VerifyKeys keys = keys_of({k});
  std::string payload = b64u(to_claims(good_claims()).dump());
  for (std::string alg : {"none", "None", "NONE", "es256", "ES384", "RS256", "PS256", "EdDSA", ""}) {
    std::string hdr = b64u(json{{"alg", alg}, {"typ", "at+jwt"}, {"kid", "k"}}.dump());
    EXPECT_EQ(check_of(hdr + "." + payload + ".", keys), TokenCheck::Algorithm) << alg;
    // With a real ES256 signature over the same input it is still refused: the header decides nothing.
    std::string real = k.sign(to_claims(good_claims()));
    EXPECT_EQ(check_of(hdr + "." + payload + real.substr(real.rfind('.')), keys), TokenCheck::Algorithm) << alg;
  }
  std::string no_alg = b64u(json{{"typ", "at+jwt"}, {"kid", "k"}}.dump());
  EXPECT_EQ(check_of(no_alg + "." + payload + ".", keys), TokenCheck::Algorithm);
  std::string num_alg = b64u(R"({"alg":256,"kid":"k"})");
  EXPECT_EQ(check_of(num_alg + "." + payload + ".", keys), TokenCheck::Algorithm);
}

TEST(Jwt, Hs256KeyedWithThePublicKeyIsRefused) {
  SigningKey k = SigningKey::generate("k");
  VerifyKeys keys = keys_of({k});
  json claims = to_claims(good_claims());
  for (std::string secret : {k.public_jwk().dump(), public_pem(k.public_jwk()), jwks_json({k})}) {
    std::string forged = hs256_forgery(secret, "k", claims);
    // The forgery is a valid HS256 token for that key: a library that let the header choose would take it.
    ASSERT_TRUE(cjose_accepts_hmac(forged, secret));
    EXPECT_EQ(check_of(forged, keys), TokenCheck::Algorithm);
    EXPECT_EQ(verify_es256_jws(forged, keys).error().check, TokenCheck::Algorithm);
  }
}

TEST(Jwt, UnknownOrMissingKid) {
  SigningKey ours = SigningKey::generate("ours"), theirs = SigningKey::generate("theirs");
  VerifyKeys keys = keys_of({ours});
  EXPECT_EQ(check_of(theirs.sign(to_claims(good_claims())), keys), TokenCheck::UnknownKey);
  std::string payload = to_claims(good_claims()).dump();
  EXPECT_EQ(check_of(sign_with_header(ours, {{"alg", "ES256"}, {"typ", "at+jwt"}}, payload), keys), TokenCheck::UnknownKey);
  EXPECT_EQ(check_of(theirs.sign(to_claims(good_claims())), VerifyKeys()), TokenCheck::UnknownKey);
  // A key of the attacker's own under our kid: found, but the signature does not verify.
  SigningKey impostor = SigningKey::generate("ours");
  EXPECT_EQ(check_of(impostor.sign(to_claims(good_claims())), keys), TokenCheck::Signature);
}

TEST(Jwt, TamperedPayloadOrSignature) {
  SigningKey k = SigningKey::generate("k");
  VerifyKeys keys = keys_of({k});
  std::string token = k.sign(to_claims(good_claims()));
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  ImsAccessToken other = good_claims();
  other.sub = "bob@ims.example.org";
  std::string swapped = token.substr(0, d1 + 1) + b64u(to_claims(other).dump()) + token.substr(d2);
  EXPECT_EQ(check_of(swapped, keys), TokenCheck::Signature);
  for (size_t i : {d2 + 1, d2 + 20, token.size() - 2}) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(check_of(t, keys), TokenCheck::Signature) << i;
  }
  // 63 and 65 bytes of signature.
  auto sig = base::base64url_decode(token.substr(d2 + 1)).value();
  std::vector<uint8_t> shorter(sig.begin(), sig.end() - 1), longer = sig;
  longer.push_back(0);
  EXPECT_EQ(check_of(token.substr(0, d2 + 1) + base::base64url_encode(shorter), keys), TokenCheck::Signature);
  EXPECT_EQ(check_of(token.substr(0, d2 + 1) + base::base64url_encode(longer), keys), TokenCheck::Signature);
  EXPECT_EQ(check_of(token.substr(0, d2 + 1), keys), TokenCheck::Signature);
}

TEST(Jwt, TimeChecksWithSkew) {
  SigningKey k = SigningKey::generate("k");
  VerifyKeys keys = keys_of({k});
  ImsAccessToken t = good_claims();
  t.exp = kNow - 61;
  t.iat = kNow - 3600;
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::Expired);
  t.exp = kNow - 60;  // exp + skew <= now
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::Expired);
  t.exp = kNow - 59;  // within the skew
  EXPECT_TRUE(verify_ims_token(k.sign(to_claims(t)), keys, policy(), kNow).ok());

  t = good_claims();
  t.iat = kNow + 61;
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::NotYetValid);
  t.iat = kNow + 60;
  EXPECT_TRUE(verify_ims_token(k.sign(to_claims(t)), keys, policy(), kNow).ok());

  // Extreme values do not overflow into acceptance.
  json c = to_claims(good_claims());
  c["exp"] = INT64_MIN;
  EXPECT_EQ(check_of(k.sign(c), keys), TokenCheck::Expired);
  c = to_claims(good_claims());
  c["iat"] = INT64_MAX;
  EXPECT_EQ(check_of(k.sign(c), keys), TokenCheck::NotYetValid);
  c["iat"] = uint64_t(INT64_MAX) + 1;
  EXPECT_EQ(check_of(k.sign(c), keys), TokenCheck::Malformed);
}

TEST(Jwt, IssuerAudienceScope) {
  SigningKey k = SigningKey::generate("k");
  VerifyKeys keys = keys_of({k});
  ImsAccessToken t = good_claims();
  t.iss = "https://evil.example";
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::Issuer);
  TokenPolicy any = policy();
  any.issuers.clear();
  EXPECT_TRUE(verify_ims_token(k.sign(to_claims(t)), keys, any, kNow).ok());

  t = good_claims();
  t.aud = "other.example.org";
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::Audience);
  json c = to_claims(good_claims());
  c["aud"] = {"other.example.org", "third.example.org"};
  EXPECT_EQ(check_of(k.sign(c), keys), TokenCheck::Audience);
  c["aud"] = json::array();
  EXPECT_EQ(check_of(k.sign(c), keys), TokenCheck::Audience);
  c["aud"] = {"other.example.org", "ims.example.org"};
  auto ok = verify_ims_token(k.sign(c), keys, policy(), kNow);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->aud, "ims.example.org");

  c = to_claims(good_claims());
  c.erase("scope");
  EXPECT_EQ(check_of(k.sign(c), keys), TokenCheck::Scope);
  for (std::string s : {"", "openid", "webrtc-ims-client-access-to-ims-x", "turn webrtc-ims-client-access"}) {
    c["scope"] = s;
    EXPECT_EQ(check_of(k.sign(c), keys), TokenCheck::Scope) << s;
  }
  c["scope"] = "openid webrtc-ims-client-access-to-ims turn";
  EXPECT_TRUE(verify_ims_token(k.sign(c), keys, policy(), kNow).ok());
}

TEST(Jwt, ChecksApplyInOrder) {
  SigningKey k = SigningKey::generate("k");
  VerifyKeys keys = keys_of({k});
  ImsAccessToken t = good_claims();
  t.iss = "https://evil.example";
  t.exp = kNow - 3600;
  t.aud = "other";
  t.scope = "openid";
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::Issuer);
  t.iss = good_claims().iss;
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::Expired);
  t.exp = good_claims().exp;
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::Audience);
  t.aud = good_claims().aud;
  EXPECT_EQ(check_of(k.sign(to_claims(t)), keys), TokenCheck::Scope);
  // Unknown key before anything about the claims.
  SigningKey other = SigningKey::generate("other");
  t.iss = "https://evil.example";
  EXPECT_EQ(check_of(other.sign(to_claims(t)), keys), TokenCheck::UnknownKey);
}

TEST(Jwt, Malformed) {
  SigningKey k = SigningKey::generate("k");
  VerifyKeys keys = keys_of({k});
  std::string good = k.sign(to_claims(good_claims()));
  size_t d1 = good.find('.'), d2 = good.rfind('.');
  std::string h = good.substr(0, d1), p = good.substr(d1 + 1, d2 - d1 - 1), s = good.substr(d2 + 1);

  for (std::string bad : {std::string(), std::string("."), std::string(".."), h, h + "." + p,
                          h + "." + p + "." + s + ".", h + "." + p + "." + s + "." + s,
                          h + "*." + p + "." + s,           // not base64url
                          h + "." + p + "+" + "." + s,      // base64 (not url) alphabet
                          h + "." + p + "." + s + "/",      //
                          h + "." + p + "=." + s,           // bad padding
                          b64u("not json") + "." + p + "." + s,
                          h + "." + b64u("not json") + "." + s,
                          h + "." + b64u("[1,2]") + "." + s,     // JSON but not an object
                          b64u("\"ES256\"") + "." + p + "." + s,
                          h + " ." + p + "." + s}) {
    EXPECT_EQ(check_of(bad, keys), TokenCheck::Malformed) << bad;
  }
  // Huge input: refused before decoding.
  std::string huge = h + "." + std::string(kMaxTokenBytes, 'A') + "." + s;
  EXPECT_EQ(check_of(huge, keys), TokenCheck::Malformed);

  // Claims of the wrong type or missing (signed, so only the claims are wrong).
  auto with = [&](const char* name, json v) {
    json c = to_claims(good_claims());
    if (v.is_null()) c.erase(name); else c[name] = v;
    return k.sign(c);
  };
  for (const char* name : {"iss", "sub", "wwsf", "jti", "exp", "iat", "aud", "impu"})
    EXPECT_EQ(check_of(with(name, nullptr), keys), TokenCheck::Malformed) << "missing " << name;
  EXPECT_EQ(check_of(with("exp", "1900003600"), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("exp", 1900003600.5), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("iat", true), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("impu", "sip:alice@ims.example.org"), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("impu", {"sip:a@b", 3}), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("pool", "true"), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("aud", 7), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("aud", {"ims.example.org", 7}), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("scope", json::array({kImsScope})), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("sub", ""), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(with("iss", 1), keys), TokenCheck::Malformed);
  // `pool` may be absent.
  auto no_pool = verify_ims_token(with("pool", nullptr), keys, policy(), kNow);
  ASSERT_TRUE(no_pool.ok());
  EXPECT_FALSE(no_pool->pool);

  // Header shapes our signer never makes: no typ (not an access token), crit, kid not a string.
  std::string payload = to_claims(good_claims()).dump();
  EXPECT_EQ(check_of(sign_with_header(k, {{"alg", "ES256"}, {"kid", "k"}}, payload), keys), TokenCheck::Malformed);
  EXPECT_EQ(check_of(sign_with_header(k, {{"alg", "ES256"}, {"kid", "k"}, {"typ", "JWT"}}, payload), keys),
            TokenCheck::Malformed);
  EXPECT_TRUE(verify_ims_token(sign_with_header(k, {{"alg", "ES256"}, {"kid", "k"}, {"typ", "application/at+jwt"}}, payload),
                               keys, policy(), kNow).ok());
  std::string crit = b64u(R"({"alg":"ES256","typ":"at+jwt","kid":"k","crit":["exp"],"exp":1})");
  EXPECT_EQ(check_of(crit + "." + p + "." + s, keys), TokenCheck::Malformed);
  std::string kid_num = b64u(R"({"alg":"ES256","typ":"at+jwt","kid":7})");
  EXPECT_EQ(check_of(kid_num + "." + p + "." + s, keys), TokenCheck::Malformed);
  // A payload that is not UTF-8.
  EXPECT_EQ(check_of(h + "." + b64u("{\"sub\":\"\xff\"}") + "." + s, keys), TokenCheck::Malformed);
}

TEST(Jwt, ToStringNamesEveryCheck) {
  for (TokenCheck c : {TokenCheck::Malformed, TokenCheck::Algorithm, TokenCheck::UnknownKey, TokenCheck::Signature,
                       TokenCheck::Issuer, TokenCheck::Expired, TokenCheck::NotYetValid, TokenCheck::Audience,
                       TokenCheck::Scope})
    EXPECT_NE(to_string(c), "unknown");
}
