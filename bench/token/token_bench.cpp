// Token validation rate against the raw OpenSSL operation underneath it, in one run, alternating
// (issue 4: "token validations per second beside the raw OpenSSL verify rate, as a ratio").
//
//   jwt   verify_ims_token(): header parse, alg pin, kid lookup, ES256 verify (libcjose), claims
//         vs raw: EVP_DigestVerify(ECDSA P-256, SHA-256) of the same signing input with a
//         pre-built key, the least any ES256 validation must do.
//
// One thread; the rate is work done per second of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID),
// so another process on the machine slows the wall clock, not the figure.
// usage: webims_token_bench [--seconds S per measurement] [--reps N]
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_rfc7635.hpp"
#include "token/jwt.hpp"

namespace {

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Calls `op` in batches until `seconds` of CPU passed; returns operations per CPU second. Every
// call must succeed: a failing path would be measured as a fast one.
double rate(double seconds, const std::function<bool()>& op) {
  for (int i = 0; i < 50; ++i) op();  // warm caches
  double start = thread_cpu(), now = start;
  long n = 0, failed = 0;
  while (now - start < seconds) {
    for (int i = 0; i < 100; ++i) failed += !op();
    n += 100;
    now = thread_cpu();
  }
  if (failed) throw std::runtime_error(std::to_string(failed) + " of " + std::to_string(n) + " operations failed");
  return n / (now - start);
}

std::string b64url_decode(std::string_view s) {
  std::string t(s);
  std::replace(t.begin(), t.end(), '-', '+');
  std::replace(t.begin(), t.end(), '_', '/');
  while (t.size() % 4) t.push_back('=');
  std::string out(t.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(t.data()),
                          static_cast<int>(t.size()));
  if (n < 0) throw std::runtime_error("bad base64url");
  out.resize(n - (t.size() - s.size()));  // padding decoded as zero bytes
  return out;
}

// The raw verify: the JWK's point as an EVP_PKEY, the JWS's R||S as a DER ECDSA-Sig-Value.
struct RawEs256 {
  EVP_PKEY* key = nullptr;
  std::string input;           // header.payload
  std::vector<unsigned char> der;

  RawEs256(const token::SigningKey& k, const std::string& jws) {
    auto jwk = k.public_jwk();
    std::string x = b64url_decode(jwk["x"].get<std::string>()), y = b64url_decode(jwk["y"].get<std::string>());
    std::string point = "\x04" + x + y;
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                           OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
                           OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    if (!pctx || EVP_PKEY_fromdata_init(pctx) != 1 || EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
      throw std::runtime_error("bad point");
    EVP_PKEY_CTX_free(pctx);
    auto dot2 = jws.rfind('.');
    input = jws.substr(0, dot2);
    std::string rs = b64url_decode(std::string_view(jws).substr(dot2 + 1));
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(rs.data()), 32, nullptr),
                   BN_bin2bn(reinterpret_cast<const unsigned char*>(rs.data()) + 32, 32, nullptr));
    unsigned char* d = nullptr;
    int len = i2d_ECDSA_SIG(sig, &d);
    der.assign(d, d + len);
    OPENSSL_free(d);
    ECDSA_SIG_free(sig);
  }
  ~RawEs256() { EVP_PKEY_free(key); }
  bool verify() const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestVerify(ctx, der.data(), der.size(), reinterpret_cast<const unsigned char*>(input.data()),
                               input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
  }
};

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: webims_token_bench [--seconds S] [--reps N]\n");
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }

  // A token as the WAF makes it (protocols.md claims).
  auto key = token::SigningKey::generate("bench");
  int64_t now = std::time(nullptr);
  token::ImsAccessToken t;
  t.iss = "https://localhost:8443";
  t.aud = "ims.example.org";
  t.sub = "alice@ims.example.org";
  t.impu = {"sip:alice@ims.example.org", "tel:+15550100"};
  t.wwsf = "wwsf.example.org";
  t.scope = std::string(token::kImsScope);
  t.exp = now + 3600;
  t.iat = now;
  t.jti = "0123456789abcdef";
  std::string jws = key.sign(token::to_claims(t));
  auto keys = token::VerifyKeys::from_jwks(token::jwks_json({key}));
  if (!keys) {
    std::fprintf(stderr, "jwks: %s\n", keys.error().c_str());
    return 1;
  }
  token::TokenPolicy policy{{t.iss}, t.aud, 60};
  RawEs256 raw(key, jws);
  if (!raw.verify() || !token::verify_ims_token(jws, *keys, policy, now)) {
    std::fprintf(stderr, "token bench: the sample token does not verify\n");
    return 1;
  }
  bench_rfc7635::Setup oauth;
  try {
  std::printf("# token_bench: %d reps x %.1f s CPU per figure, one thread\n", reps, seconds);
  for (int r = 1; r <= reps; ++r) {
    double raw_rate = rate(seconds, [&] { return raw.verify(); });
    double jwt_rate = rate(seconds, [&] { return token::verify_ims_token(jws, *keys, policy, now).ok(); });
    double oauth_raw = rate(seconds, [&] { return oauth.raw(); });
    double oauth_full = rate(seconds, [&] { return oauth.full(); });
    std::printf("rep=%d es256_raw_per_s=%.0f\n", r, raw_rate);
    std::printf("rep=%d jwt_verify_per_s=%.0f\n", r, jwt_rate);
    std::printf("rep=%d rfc7635_raw_per_s=%.0f\n", r, oauth_raw);
    std::printf("rep=%d rfc7635_verify_per_s=%.0f\n", r, oauth_full);
    std::fflush(stdout);
  }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "token bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
