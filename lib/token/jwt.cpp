// ES256 JWTs on libcjose (RFC 7515, 7517, 7518 §3.4, 7519, 7638, 9068). cjose does the JWK and ECDSA
// work; everything it would decide from the token itself (which algorithm, which key) is decided here
// first: cjose picks its verify function from the header's `alg`, so a token only reaches cjose once
// we have parsed the header ourselves and found exactly "ES256", and the key it is given is always one
// of our EC P-256 keys.
#include "token/jwt.hpp"

#include <cjose/cjose.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace token {
namespace {

struct JwkRelease {
  void operator()(cjose_jwk_t* k) const { cjose_jwk_release(k); }
};
struct JwsRelease {
  void operator()(cjose_jws_t* j) const { cjose_jws_release(j); }
};
struct HeaderRelease {
  void operator()(cjose_header_t* h) const { cjose_header_release(h); }
};
using JwkPtr = std::unique_ptr<cjose_jwk_t, JwkRelease>;
using JwsPtr = std::unique_ptr<cjose_jws_t, JwsRelease>;
using HeaderPtr = std::unique_ptr<cjose_header_t, HeaderRelease>;

std::string cjose_message(const cjose_err& e) {
  return e.message ? std::string(e.message) : std::string("unknown cjose error");
}

// cjose_jwk_to_json's string, cleansed before it is freed (it may hold the private key).
std::string jwk_to_json(const cjose_jwk_t* jwk, bool priv) {
  cjose_err err{};
  char* s = cjose_jwk_to_json(jwk, priv, &err);
  if (!s) throw std::runtime_error("cannot serialize the JWK: " + cjose_message(err));
  std::string out(s);
  OPENSSL_cleanse(s, out.size());
  cjose_get_dealloc()(s);
  return out;
}

const std::string* string_member(const nlohmann::json& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

// x and y must be 32-byte base64url coordinates of a point on P-256 (OpenSSL 3 refuses points off
// the curve in EC_POINT_set_affine_coordinates), so a bogus JWKS entry fails at load, not at verify.
bool valid_p256_point(const std::string& x_b64, const std::string& y_b64) {
  auto x = base::base64url_decode(x_b64);
  auto y = base::base64url_decode(y_b64);
  if (!x || !y || x->size() != 32 || y->size() != 32) return false;
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT* point = group ? EC_POINT_new(group) : nullptr;
  BIGNUM* bx = BN_bin2bn(x->data(), 32, nullptr);
  BIGNUM* by = BN_bin2bn(y->data(), 32, nullptr);
  bool ok = group && point && bx && by && EC_POINT_set_affine_coordinates(group, point, bx, by, nullptr) == 1;
  BN_free(bx);
  BN_free(by);
  EC_POINT_free(point);
  EC_GROUP_free(group);
  return ok;
}

// Only the public members cjose needs: a private "d" in a JWKS is never imported.
JwkPtr import_public_ec(const nlohmann::json& jwk) {
  nlohmann::json pub = {{"kty", "EC"}, {"crv", "P-256"}, {"x", jwk.at("x")}, {"y", jwk.at("y")}};
  std::string text = pub.dump();
  cjose_err err{};
  JwkPtr k(cjose_jwk_import(text.data(), text.size(), &err));
  return k;
}

TokenFailure failure(TokenCheck c, std::string reason) { return TokenFailure{c, std::move(reason)}; }

// RFC 7515 §2: base64url with the trailing '=' omitted; a padded part is not a compact JWS.
std::optional<std::vector<uint8_t>> jws_b64_decode(std::string_view b64) {
  if (b64.find('=') != std::string_view::npos) return std::nullopt;
  return base::base64url_decode(b64);
}

std::optional<nlohmann::json> decode_json_object(std::string_view b64) {
  auto bytes = jws_b64_decode(b64);
  if (!bytes) return std::nullopt;
  auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SigningKey

struct SigningKey::Impl {
  JwkPtr jwk;
  std::string kid;
  nlohmann::json public_jwk;
};

namespace {
std::shared_ptr<const SigningKey::Impl> make_signing_impl(JwkPtr jwk, std::string kid) {
  auto impl = std::make_shared<SigningKey::Impl>();
  nlohmann::json pub = nlohmann::json::parse(jwk_to_json(jwk.get(), false));
  if (kid.empty()) kid = jwk_thumbprint(pub);
  cjose_err err{};
  if (!cjose_jwk_set_kid(jwk.get(), kid.data(), kid.size(), &err))
    throw std::runtime_error("cannot set the JWK kid: " + cjose_message(err));
  impl->public_jwk = {{"kty", "EC"}, {"crv", "P-256"}, {"x", pub.at("x")}, {"y", pub.at("y")},
                      {"kid", kid},  {"alg", "ES256"}, {"use", "sig"}};
  impl->kid = std::move(kid);
  impl->jwk = std::move(jwk);
  return impl;
}
}  // namespace

SigningKey SigningKey::generate(std::string kid) {
  cjose_err err{};
  JwkPtr jwk(cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err));
  if (!jwk) throw std::runtime_error("cannot generate an EC P-256 key: " + cjose_message(err));
  SigningKey k;
  k.impl_ = make_signing_impl(std::move(jwk), std::move(kid));
  return k;
}

SigningKey SigningKey::generate() { return generate(std::string()); }

SigningKey SigningKey::from_private_jwk(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::runtime_error("the signing key is not a JSON object");
  const std::string* kty = string_member(j, "kty");
  const std::string* crv = string_member(j, "crv");
  const std::string* x = string_member(j, "x");
  const std::string* y = string_member(j, "y");
  const std::string* d = string_member(j, "d");
  if (!kty || *kty != "EC" || !crv || *crv != "P-256")
    throw std::runtime_error("the signing key is not an EC P-256 JWK");
  if (!x || !y || !valid_p256_point(*x, *y)) throw std::runtime_error("the signing key's public point is not on P-256");
  auto dbytes = d ? base::base64url_decode(*d) : std::nullopt;
  if (!dbytes || dbytes->size() != 32) throw std::runtime_error("the signing key has no 32-byte private part \"d\"");
  OPENSSL_cleanse(dbytes->data(), dbytes->size());
  nlohmann::json priv = {{"kty", "EC"}, {"crv", "P-256"}, {"x", *x}, {"y", *y}, {"d", *d}};
  std::string text = priv.dump();
  cjose_err err{};
  JwkPtr jwk(cjose_jwk_import(text.data(), text.size(), &err));
  OPENSSL_cleanse(text.data(), text.size());
  if (!jwk) throw std::runtime_error("the signing key was refused by cjose: " + cjose_message(err));
  const std::string* kid = string_member(j, "kid");
  SigningKey k;
  k.impl_ = make_signing_impl(std::move(jwk), kid ? *kid : std::string());
  // A "d" that does not belong to x/y would sign tokens no one holding x/y can verify: find out now
  // (cjose may derive the public point from "d" and ignore x/y, or keep both).
  if (k.impl_->public_jwk.at("x") != *x || k.impl_->public_jwk.at("y") != *y)
    throw std::runtime_error("the signing key's \"d\" does not match its x/y");
  VerifyKeys keys = VerifyKeys::from_jwks(jwks_json({k})).value();
  std::string probe = k.sign({{"probe", true}});
  if (!verify_es256_jws(probe, keys).ok()) throw std::runtime_error("the signing key's \"d\" does not match its x/y");
  return k;
}

const std::string& SigningKey::kid() const { return impl_->kid; }

nlohmann::json SigningKey::public_jwk() const { return impl_->public_jwk; }

std::string SigningKey::private_jwk() const {
  auto j = nlohmann::json::parse(jwk_to_json(impl_->jwk.get(), true));
  nlohmann::json out = {{"kty", "EC"}, {"crv", "P-256"}, {"x", j.at("x")}, {"y", j.at("y")},
                        {"d", j.at("d")},  {"kid", impl_->kid}};
  std::string text = out.dump();
  // The parsed copies hold "d" too; nlohmann gives no cleanse, but they die here.
  return text;
}

std::string SigningKey::sign(const nlohmann::json& claims) const {
  cjose_err err{};
  HeaderPtr hdr(cjose_header_new(&err));
  if (!hdr || !cjose_header_set(hdr.get(), CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &err) ||
      !cjose_header_set(hdr.get(), "typ", "at+jwt", &err) ||
      !cjose_header_set(hdr.get(), CJOSE_HDR_KID, impl_->kid.c_str(), &err))
    throw std::runtime_error("cannot build the JWS header: " + cjose_message(err));
  std::string payload = claims.dump();
  JwsPtr jws(cjose_jws_sign(impl_->jwk.get(), hdr.get(), reinterpret_cast<const uint8_t*>(payload.data()),
                            payload.size(), &err));
  const char* compact = nullptr;
  if (!jws || !cjose_jws_export(jws.get(), &compact, &err) || !compact)
    throw std::runtime_error("cannot sign the JWT: " + cjose_message(err));
  return std::string(compact);
}

// ---------------------------------------------------------------------------------------------
// VerifyKeys

struct VerifyKeys::Impl {
  std::map<std::string, JwkPtr, std::less<>> keys;
};

VerifyKeys::VerifyKeys() : impl_(std::make_shared<Impl>()) {}

base::Result<VerifyKeys, std::string> VerifyKeys::from_jwks(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return base::fail(std::string("the JWKS is not a JSON object"));
  auto keys_it = j.find("keys");
  if (keys_it == j.end() || !keys_it->is_array()) return base::fail(std::string("the JWKS has no \"keys\" array"));
  auto impl = std::make_shared<Impl>();
  for (const auto& k : *keys_it) {
    if (!k.is_object()) return base::fail(std::string("a JWKS entry is not a JSON object"));
    const std::string* kty = string_member(k, "kty");
    const std::string* crv = string_member(k, "crv");
    const std::string* alg = string_member(k, "alg");
    const std::string* use = string_member(k, "use");
    // RFC 7517 §4: keys for other algorithms or for encryption may share the set; they are not ours.
    if (!kty || *kty != "EC" || !crv || *crv != "P-256") continue;
    if ((alg && *alg != "ES256") || (use && *use != "sig")) continue;
    const std::string* kid = string_member(k, "kid");
    if (!kid || kid->empty()) continue;  // our tokens always name their key
    const std::string* x = string_member(k, "x");
    const std::string* y = string_member(k, "y");
    if (!x || !y || !valid_p256_point(*x, *y))
      return base::fail("the JWKS key \"" + *kid + "\" is not a point on P-256");
    if (impl->keys.count(*kid)) return base::fail("the JWKS has two keys with kid \"" + *kid + "\"");
    JwkPtr jwk = import_public_ec(k);
    if (!jwk) return base::fail("the JWKS key \"" + *kid + "\" was refused by cjose");
    impl->keys.emplace(*kid, std::move(jwk));
  }
  VerifyKeys v;
  v.impl_ = std::move(impl);
  return v;
}

size_t VerifyKeys::size() const { return impl_->keys.size(); }
bool VerifyKeys::has(std::string_view kid) const { return impl_->keys.find(kid) != impl_->keys.end(); }

std::string jwks_json(const std::vector<SigningKey>& keys) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& k : keys) arr.push_back(k.public_jwk());
  return nlohmann::json{{"keys", std::move(arr)}}.dump();
}

std::string jwk_thumbprint(const nlohmann::json& jwk) {
  const std::string* crv = jwk.is_object() ? string_member(jwk, "crv") : nullptr;
  const std::string* kty = jwk.is_object() ? string_member(jwk, "kty") : nullptr;
  const std::string* x = jwk.is_object() ? string_member(jwk, "x") : nullptr;
  const std::string* y = jwk.is_object() ? string_member(jwk, "y") : nullptr;
  if (!crv || !kty || !x || !y) throw std::invalid_argument("an EC JWK needs string crv, kty, x and y");
  // RFC 7638 §3.2: required members only, lexicographic order, no whitespace (nlohmann's object is
  // ordered by key and dump() adds none).
  nlohmann::json canon = {{"crv", *crv}, {"kty", *kty}, {"x", *x}, {"y", *y}};
  auto digest = crypto::sha256(crypto::view(canon.dump()));
  return base::base64url_encode(crypto::view(digest));
}

std::string_view to_string(TokenCheck c) {
  switch (c) {
    case TokenCheck::Malformed: return "malformed";
    case TokenCheck::Algorithm: return "algorithm";
    case TokenCheck::UnknownKey: return "unknown-key";
    case TokenCheck::Signature: return "signature";
    case TokenCheck::Issuer: return "issuer";
    case TokenCheck::Expired: return "expired";
    case TokenCheck::NotYetValid: return "not-yet-valid";
    case TokenCheck::Audience: return "audience";
    case TokenCheck::Scope: return "scope";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Verification

namespace {

base::Result<VerifiedJws, TokenFailure> verify_jws(std::string_view compact, const VerifyKeys& keys,
                                                   bool require_kid) {
  if (compact.size() > kMaxTokenBytes) return base::fail(failure(TokenCheck::Malformed, "the token is too long"));
  size_t d1 = compact.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : compact.find('.', d1 + 1);
  if (d2 == std::string_view::npos || compact.find('.', d2 + 1) != std::string_view::npos)
    return base::fail(failure(TokenCheck::Malformed, "the token is not a compact JWS of three parts"));
  std::string_view h64 = compact.substr(0, d1), p64 = compact.substr(d1 + 1, d2 - d1 - 1),
                   s64 = compact.substr(d2 + 1);
  auto header = decode_json_object(h64);
  if (!header) return base::fail(failure(TokenCheck::Malformed, "the token header is not base64url JSON"));
  auto payload = decode_json_object(p64);
  if (!payload) return base::fail(failure(TokenCheck::Malformed, "the token payload is not base64url JSON"));
  auto sig = jws_b64_decode(s64);
  if (!sig) return base::fail(failure(TokenCheck::Malformed, "the token signature is not base64url"));
  // RFC 7515 §4.1.11: extensions we would have to understand; we understand none.
  if (header->contains("crit")) return base::fail(failure(TokenCheck::Malformed, "the token header has critical extensions"));

  // The algorithm is ours to choose, never the token's (RFC 8725 §3.1): ES256 or nothing.
  const std::string* alg = string_member(*header, "alg");
  if (!alg || *alg != "ES256") return base::fail(failure(TokenCheck::Algorithm, "the token is not signed with ES256"));

  const cjose_jwk_t* key = nullptr;
  const auto& map = keys.impl().keys;
  if (auto kid_it = header->find("kid"); kid_it != header->end()) {
    if (!kid_it->is_string()) return base::fail(failure(TokenCheck::Malformed, "the token kid is not a string"));
    auto it = map.find(kid_it->get_ref<const std::string&>());
    if (it == map.end()) return base::fail(failure(TokenCheck::UnknownKey, "the token is signed by an unknown key"));
    key = it->second.get();
  } else if (!require_kid && map.size() == 1) {
    key = map.begin()->second.get();
  } else {
    return base::fail(failure(TokenCheck::UnknownKey, "the token does not name its key"));
  }

  // RFC 7518 §3.4: R || S, 32 bytes each; cjose splits whatever it gets in halves.
  if (sig->size() != 64) return base::fail(failure(TokenCheck::Signature, "the token signature is not valid"));
  cjose_err err{};
  JwsPtr jws(cjose_jws_import(compact.data(), compact.size(), &err));
  if (!jws) return base::fail(failure(TokenCheck::Malformed, "the token is not a compact JWS"));
  // Belt and braces: cjose parses the header with jansson; if its idea of `alg` differed from ours
  // (duplicate members...), it would pick another verify function.
  const char* cj_alg = cjose_header_get(cjose_jws_get_protected(jws.get()), CJOSE_HDR_ALG, &err);
  if (!cj_alg || std::strcmp(cj_alg, CJOSE_HDR_ALG_ES256) != 0)
    return base::fail(failure(TokenCheck::Algorithm, "the token is not signed with ES256"));
  if (!cjose_jws_verify(jws.get(), key, &err))
    return base::fail(failure(TokenCheck::Signature, "the token signature is not valid"));
  return VerifiedJws{std::move(*header), std::move(*payload)};
}

bool get_string(const nlohmann::json& o, const char* name, std::string& out) {
  const std::string* s = string_member(o, name);
  if (!s) return false;
  out = *s;
  return true;
}

// NumericDate as an integer (we issue integers; fractions are refused rather than rounded).
bool get_int(const nlohmann::json& o, const char* name, int64_t& out) {
  auto it = o.find(name);
  if (it == o.end()) return false;
  // Unsigned first: nlohmann's is_number_integer() is true for unsigned values too.
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    if (u > uint64_t(INT64_MAX)) return false;
    out = int64_t(u);
    return true;
  }
  if (it->is_number_integer()) {
    out = it->get<int64_t>();
    return true;
  }
  return false;
}

bool has_scope(std::string_view scope, std::string_view want) {
  while (!scope.empty()) {
    size_t sp = scope.find(' ');
    std::string_view item = scope.substr(0, sp);
    if (item == want) return true;
    if (sp == std::string_view::npos) break;
    scope.remove_prefix(sp + 1);
  }
  return false;
}

}  // namespace

base::Result<VerifiedJws, TokenFailure> verify_es256_jws(std::string_view compact, const VerifyKeys& keys) {
  return verify_jws(compact, keys, /*require_kid=*/false);
}

base::Result<ImsAccessToken, TokenFailure> verify_ims_token(std::string_view compact, const VerifyKeys& keys,
                                                             const TokenPolicy& policy, int64_t now_unix) {
  auto jws = verify_jws(compact, keys, /*require_kid=*/true);
  if (!jws) return base::fail(jws.error());
  const nlohmann::json& h = jws->header;
  const nlohmann::json& c = jws->payload;
  const std::string* typ = string_member(h, "typ");
  if (!typ || (*typ != "at+jwt" && *typ != "application/at+jwt"))
    return base::fail(failure(TokenCheck::Malformed, "the token is not an access token (typ)"));

  ImsAccessToken t;
  std::vector<std::string> audiences;
  auto bad = [](const char* claim) {
    return base::fail(failure(TokenCheck::Malformed, std::string("the token claim '") + claim + "' is missing or invalid"));
  };
  if (!get_string(c, "iss", t.iss)) return bad("iss");
  if (!get_string(c, "sub", t.sub) || t.sub.empty()) return bad("sub");
  if (!get_string(c, "wwsf", t.wwsf) || t.wwsf.empty()) return bad("wwsf");
  if (!get_string(c, "jti", t.jti) || t.jti.empty()) return bad("jti");
  if (!get_int(c, "exp", t.exp)) return bad("exp");
  if (!get_int(c, "iat", t.iat)) return bad("iat");
  if (auto it = c.find("aud"); it != c.end() && it->is_string()) {
    audiences.push_back(it->get<std::string>());
  } else if (it != c.end() && it->is_array()) {
    for (const auto& a : *it) {
      if (!a.is_string()) return bad("aud");
      audiences.push_back(a.get<std::string>());
    }
  } else {
    return bad("aud");
  }
  if (auto it = c.find("impu"); it != c.end() && it->is_array()) {
    for (const auto& u : *it) {
      if (!u.is_string()) return bad("impu");
      t.impu.push_back(u.get<std::string>());
    }
  } else {
    return bad("impu");
  }
  if (auto it = c.find("pool"); it != c.end()) {
    if (!it->is_boolean()) return bad("pool");
    t.pool = it->get<bool>();
  }
  bool scope_present = false;
  if (auto it = c.find("scope"); it != c.end()) {
    if (!it->is_string()) return bad("scope");
    t.scope = it->get<std::string>();
    scope_present = true;
  }

  if (!policy.issuers.empty() && std::find(policy.issuers.begin(), policy.issuers.end(), t.iss) == policy.issuers.end())
    return base::fail(failure(TokenCheck::Issuer, "the token issuer is not accepted"));
  // Compared without arithmetic on the token's values, which may be anywhere in int64.
  int64_t skew = std::max<int64_t>(0, policy.max_skew_seconds);
  if (t.exp <= now_unix - skew) return base::fail(failure(TokenCheck::Expired, "the token has expired"));
  if (t.iat > now_unix + skew) return base::fail(failure(TokenCheck::NotYetValid, "the token is issued in the future"));
  auto aud_it = std::find(audiences.begin(), audiences.end(), policy.audience);
  if (aud_it == audiences.end()) return base::fail(failure(TokenCheck::Audience, "the token is not meant for this domain"));
  t.aud = *aud_it;
  if (!scope_present || !has_scope(t.scope, kImsScope))
    return base::fail(failure(TokenCheck::Scope, "the token does not grant IMS access"));
  return t;
}

nlohmann::json to_claims(const ImsAccessToken& t) {
  return {{"iss", t.iss}, {"aud", t.aud},   {"sub", t.sub},   {"impu", t.impu}, {"wwsf", t.wwsf},
          {"scope", t.scope}, {"pool", t.pool}, {"exp", t.exp}, {"iat", t.iat},   {"jti", t.jti}};
}

}  // namespace token
