// libFuzzer target for lib/token/jwt (the eP-CSCF's IMS access token check, protocols.md "Scenarios 2
// and 3"). The first octet chooses what the rest is:
//   0: a compact token as a WIC sends it, verified against a fixed key;
//   1: a claims document, signed with that key and then verified (so the claim checks, which sit
//      behind the signature, are reachable);
//   2: a JWKS document.
// Invariants (a violation traps): a token is accepted only if its header says ES256 with our kid and
// typ at+jwt; an accepted token's claims read back as the document that was signed; a refusal has a
// reason; a JWKS yields only keys it names.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/encoding.hpp"
#include "token/jwt.hpp"

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// RFC 7515 A.3's key: fixed, so a crasher replays.
const token::SigningKey& key() {
  static const token::SigningKey k = token::SigningKey::from_private_jwk(
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI","kid":"k"})");
  return k;
}

const token::VerifyKeys& keys() {
  static const token::VerifyKeys v = token::VerifyKeys::from_jwks(token::jwks_json({key()})).value();
  return v;
}

constexpr int64_t kNow = 1'900'000'000;

const token::TokenPolicy& policy() {
  static const token::TokenPolicy p{{"https://localhost:8443"}, "ims.example.org", 60};
  return p;
}

void check_accepted(std::string_view compact, const token::ImsAccessToken& t) {
  auto header = base::base64url_decode(compact.substr(0, compact.find('.')));
  require(header.has_value());
  auto h = nlohmann::json::parse(header->begin(), header->end(), nullptr, false);
  require(h.is_object() && h.value("alg", "") == "ES256" && h.value("kid", "") == "k");
  require(!t.sub.empty() && !t.jti.empty() && !t.wwsf.empty() && t.aud == policy().audience);
  require(t.exp > kNow - 60 && t.iat <= kNow + 60);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto r = token::verify_ims_token(in, keys(), policy(), kNow);
      if (r.ok()) check_accepted(in, *r);
      else require(!r.error().reason.empty());
      break;
    }
    case 1: {
      auto claims = nlohmann::json::parse(in, nullptr, false);
      if (claims.is_discarded()) break;
      std::string compact;
      try {
        compact = key().sign(claims);
      } catch (const nlohmann::json::exception&) {
        break;  // dump() of a string that is not UTF-8: never a token of ours
      }
      auto r = token::verify_ims_token(compact, keys(), policy(), kNow);
      if (!r.ok()) {
        require(!r.error().reason.empty());
        break;
      }
      check_accepted(compact, *r);
      require(claims.at("sub") == r->sub && claims.at("impu") == r->impu && claims.at("exp") == r->exp &&
              claims.at("iss") == r->iss && claims.value("pool", false) == r->pool);
      break;
    }
    case 2: {
      auto v = token::VerifyKeys::from_jwks(in);
      if (v.ok()) require(v->size() <= in.size());
      else require(!v.error().empty());
      break;
    }
  }
  return 0;
}
