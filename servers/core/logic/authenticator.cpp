#include "core/logic/authenticator.hpp"

#include <algorithm>
#include <stdexcept>

#include "base/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/hash.hpp"
#include "crypto/milenage.hpp"

namespace core {

namespace {

constexpr const char* kLog = "core";

crypto::DigestNonceManager make_nonces(base::Bytes secret, const CoreConfig& cfg) {
  crypto::DigestNonceConfig c;
  c.lifetime = std::chrono::duration_cast<std::chrono::seconds>(cfg.nonce_lifetime);
  auto m = crypto::DigestNonceManager::create(secret, c);
  if (!m) throw std::runtime_error("core: cannot set up Digest nonces (the nonce secret must be at least 16 octets)");
  return std::move(*m);
}

crypto::NonceCountConfig count_config(const CoreConfig& cfg) {
  crypto::NonceCountConfig c;
  c.lifetime = std::chrono::duration_cast<std::chrono::seconds>(cfg.nonce_lifetime);
  return c;
}

Authenticator::Outcome forbidden(std::string reason, AuthFailure f) {
  Authenticator::Outcome o;
  o.kind = Authenticator::Outcome::Kind::Forbidden;
  o.reason = std::move(reason);
  o.failure = f;
  return o;
}

}  // namespace

Authenticator::Authenticator(const CoreConfig& cfg, base::Bytes nonce_secret, store::Store& store, base::Random& random)
    : cfg_(cfg), store_(store), random_(random), nonces_(make_nonces(nonce_secret, cfg)), counts_(count_config(cfg)) {}

std::vector<crypto::DigestAlgorithm> Authenticator::offered(const store::Subscriber& sub) const {
  std::vector<crypto::DigestAlgorithm> out;
  for (auto& a : cfg_.digest_algorithms) {
    if (a == "MD5" && !sub.ha1_md5.empty()) out.push_back(crypto::DigestAlgorithm::Md5);
    if (a == "SHA-256" && !sub.ha1_sha256.empty()) out.push_back(crypto::DigestAlgorithm::Sha256);
  }
  return out;
}

Authenticator::Outcome Authenticator::challenge(const store::Subscriber& sub, bool aka, crypto::AkaVersion version,
                                                bool stale, const base::Now& now) {
  auto algorithms = offered(sub);
  if (aka || algorithms.empty()) {
    if (sub.has_aka()) return aka_challenge(sub, version, now);
    if (algorithms.empty()) {
      Outcome o = forbidden("No credentials for the offered algorithms", AuthFailure::BadCredentials);
      return o;
    }
  }
  // One nonce for every algorithm offered (RFC 7616 §3.7: the client uses the first it supports).
  std::string nonce = nonces_.issue(now, random_, crypto::view(sub.realm));
  Outcome o;
  o.kind = Outcome::Kind::Challenge;
  auto format = [&](crypto::DigestAlgorithm a) {
    sip::DigestChallenge c;
    c.realm = sub.realm;
    c.nonce = nonce;
    c.algorithm = std::string(crypto::to_string(a));
    c.qop = {"auth"};
    c.stale = stale;
    return sip::format(c);
  };
  for (auto a : algorithms) o.challenges.push_back(format(a));
  // JsSIP keeps only the last WWW-Authenticate (its parser overwrites the header) and answers MD5
  // only, while RFC 7616/8760 clients take the first they support: when MD5 is offered but not
  // last, it is repeated last, so both kinds of client find it where they look.
  if (algorithms.size() > 1 && algorithms.back() != crypto::DigestAlgorithm::Md5 &&
      std::find(algorithms.begin(), algorithms.end(), crypto::DigestAlgorithm::Md5) != algorithms.end())
    o.challenges.push_back(format(crypto::DigestAlgorithm::Md5));
  return o;
}

Authenticator::Outcome Authenticator::aka_challenge(const store::Subscriber& sub, crypto::AkaVersion version,
                                                    const base::Now& now) {
  Outcome err;
  err.kind = Outcome::Kind::ServerError;
  err.reason = "Authentication vector unavailable";
  auto k = crypto::K::from(*sub.aka_k);
  auto opc = crypto::Opc::from(*sub.aka_opc);
  auto m = crypto::Milenage::create(*k, *opc);
  if (!m) return err;
  // SQN_HE: SEQ + 1 with the subscription's IND (TS 33.102 Annex C.1.1), advanced in the store in one
  // transaction before the challenge leaves, so concurrent cores never reuse a SQN.
  uint64_t sqn = 0;
  try {
    sqn = store_.advance_sqn(sub.impi, uint64_t(1) << crypto::Sqn::kIndBits);
  } catch (const store::Error& e) {
    LOG_WARN(kLog) << "AKA for '" << sub.impi << "': " << e.what();
    return err;
  }
  crypto::Rand rand;
  random_.fill(rand);
  auto v = crypto::make_auth_vector(*m, rand, crypto::Sqn{sqn}, sub.aka_amf);
  if (!v) return err;
  // Bounded memory: drop the oldest outstanding challenges first.
  while (aka_.size() >= size_t(cfg_.max_aka_challenges) && !aka_order_.empty()) {
    aka_.erase(aka_order_.front().second);
    aka_order_.pop_front();
  }
  std::string nonce = crypto::encode_aka_nonce(v->rand, v->autn);
  AkaChallenge ch;
  ch.impi = sub.impi;
  ch.version = version;
  ch.rand = v->rand;
  ch.xres = v->xres;
  ch.ck = v->ck;
  ch.ik = v->ik;
  ch.expires = now.steady + cfg_.nonce_lifetime;
  ch.issued_unix = now.unix_s;
  aka_[nonce] = std::move(ch);
  aka_order_.push_back({now.steady + cfg_.nonce_lifetime, nonce});
  Outcome o;
  o.kind = Outcome::Kind::Challenge;
  sip::DigestChallenge c;
  c.realm = sub.realm;
  c.nonce = nonce;
  c.algorithm = std::string(crypto::to_string(version));
  c.qop = {"auth"};
  o.challenges.push_back(sip::format(c));
  return o;
}

Authenticator::Outcome Authenticator::check(const sip::Message& request, const store::Subscriber& sub,
                                            const sip::DigestCredentials* c, const base::Now& now) {
  if (!c) return challenge(sub, !sub.has_digest(), crypto::AkaVersion::V2, false, now);
  auto aka_version = crypto::parse_aka_algorithm(c->algorithm);
  // The first REGISTER of an IMS UE carries username and an empty nonce and response (TS 24.229
  // 5.1.1.2.1): a request for a challenge of that family.
  if (c->nonce.empty()) {
    bool want_aka = (aka_version && sub.has_aka()) || !sub.has_digest();
    return challenge(sub, want_aka, aka_version.value_or(crypto::AkaVersion::V2), false, now);
  }
  if (aka_version) {
    if (!sub.has_aka()) {
      Outcome o = challenge(sub, false, crypto::AkaVersion::V2, false, now);
      o.failure = AuthFailure::BadCredentials;
      return o;
    }
    return verify_aka(request, sub, *c, *aka_version, now);
  }
  return verify_digest(request, sub, *c, now);
}

Authenticator::Outcome Authenticator::verify_digest(const sip::Message& request, const store::Subscriber& sub,
                                                    const sip::DigestCredentials& c, const base::Now& now) {
  auto fresh = [&](AuthFailure f, bool stale = false) {
    Outcome o = challenge(sub, false, crypto::AkaVersion::V2, stale, now);
    o.failure = f;
    return o;
  };
  auto alg = crypto::parse_digest_algorithm(c.algorithm);
  std::string ha1;
  if (alg == crypto::DigestAlgorithm::Md5) ha1 = sub.ha1_md5;
  else if (alg == crypto::DigestAlgorithm::Sha256) ha1 = sub.ha1_sha256;
  bool offered_alg = false;
  for (auto a : offered(sub)) offered_alg = offered_alg || (alg && a == *alg);
  if (!alg || ha1.empty() || !offered_alg) return fresh(AuthFailure::BadCredentials);

  auto nonce = nonces_.verify(c.nonce, now, crypto::view(sub.realm));
  if (nonce.status == crypto::NonceStatus::Invalid) return fresh(AuthFailure::BadNonce);
  std::optional<uint32_t> nc = 1;  // RFC 2069 style (no qop): the nonce is single-use
  if (!c.qop.empty()) {
    if (c.qop != "auth") return fresh(AuthFailure::BadCredentials);
    nc = crypto::parse_nonce_count(c.nc);
    if (!nc || c.cnonce.empty()) return fresh(AuthFailure::BadCredentials);
  }
  crypto::DigestInput in;
  in.algorithm = *alg;
  in.username = c.username;
  in.realm = c.realm;
  in.nonce = c.nonce;
  in.uri = c.uri;
  in.method = request.method();
  in.qop = c.qop;
  in.nc = c.nc;
  in.cnonce = c.cnonce;
  auto ok = crypto::digest_verify(in, ha1, c.response);
  std::fill(ha1.begin(), ha1.end(), '\0');
  if (!ok) return fresh(ok.error() == crypto::Error::MacFailure ? AuthFailure::WrongPassword : AuthFailure::BadCredentials);
  if (nonce.status == crypto::NonceStatus::Stale) return fresh(AuthFailure::StaleNonce, true);  // RFC 7616 §3.3
  switch (counts_.use(c.nonce, nonce.issued_unix_s, *nc, now)) {
    case crypto::NcStatus::Ok: break;
    case crypto::NcStatus::Replay: return forbidden("Replayed credentials", AuthFailure::Replay);
    case crypto::NcStatus::Forgotten: return fresh(AuthFailure::StaleNonce, true);
  }
  Outcome o;
  o.kind = Outcome::Kind::Authenticated;
  return o;
}

Authenticator::Outcome Authenticator::verify_aka(const sip::Message& request, const store::Subscriber& sub,
                                                 const sip::DigestCredentials& c, crypto::AkaVersion version,
                                                 const base::Now& now) {
  auto fresh = [&](AuthFailure f) {
    Outcome o = aka_challenge(sub, version, now);
    o.failure = f;
    return o;
  };
  auto it = aka_.find(c.nonce);
  if (it == aka_.end() || it->second.impi != sub.impi || it->second.expires <= now.steady ||
      it->second.version != version)
    return fresh(AuthFailure::BadNonce);
  const AkaChallenge& ch = it->second;
  if (!c.auts.empty()) return resynchronise(sub, c.nonce, c.auts, now);

  std::optional<uint32_t> nc = 1;
  if (!c.qop.empty()) {
    if (c.qop != "auth") return fresh(AuthFailure::BadCredentials);
    nc = crypto::parse_nonce_count(c.nc);
    if (!nc || c.cnonce.empty()) return fresh(AuthFailure::BadCredentials);
  }
  // RFC 3310 §3.3 / RFC 4169 §3: the Digest password is RES (AKAv1) or derived from RES, IK, CK (AKAv2).
  crypto::SecretString password = crypto::aka_digest_password(version, ch.xres, ch.ik, ch.ck);
  crypto::SecretString ha1 = crypto::digest_ha1(crypto::DigestAlgorithm::Md5, c.username, c.realm, password.bytes());
  crypto::DigestInput in;
  in.algorithm = crypto::DigestAlgorithm::Md5;
  in.username = c.username;
  in.realm = c.realm;
  in.nonce = c.nonce;
  in.uri = c.uri;
  in.method = request.method();
  in.qop = c.qop;
  in.nc = c.nc;
  in.cnonce = c.cnonce;
  auto ok = crypto::digest_verify(in, ha1.view(), c.response);
  if (!ok) return fresh(ok.error() == crypto::Error::MacFailure ? AuthFailure::WrongPassword : AuthFailure::BadCredentials);
  switch (counts_.use(c.nonce, ch.issued_unix, *nc, now)) {
    case crypto::NcStatus::Ok: break;
    case crypto::NcStatus::Replay: return forbidden("Replayed credentials", AuthFailure::Replay);
    case crypto::NcStatus::Forgotten: return fresh(AuthFailure::StaleNonce);
  }
  Outcome o;
  o.kind = Outcome::Kind::Authenticated;
  return o;
}

Authenticator::Outcome Authenticator::resynchronise(const store::Subscriber& sub, const std::string& nonce,
                                                    std::string_view auts_text, const base::Now& now) {
  auto it = aka_.find(nonce);
  crypto::AkaVersion version = it->second.version;
  crypto::Rand rand = it->second.rand;
  aka_.erase(it);  // a challenge answered with AUTS is used up
  auto auts = crypto::decode_auts(auts_text);
  if (!auts) return forbidden("Bad AUTS", AuthFailure::BadAuts);
  auto m = crypto::Milenage::create(*crypto::K::from(*sub.aka_k), *crypto::Opc::from(*sub.aka_opc));
  if (!m) {
    Outcome o;
    o.kind = Outcome::Kind::ServerError;
    o.reason = "Authentication vector unavailable";
    return o;
  }
  // TS 33.102 §6.3.5: MAC-S proves the AUTS comes from the ISIM for this RAND; then SQN_HE follows SQN_MS.
  auto sqn_ms = crypto::recover_sqn_ms(*m, rand, *auts);
  if (!sqn_ms) return forbidden("Synchronization failure not authentic", AuthFailure::BadAuts);
  auto current = store_.find_subscriber(sub.impi);
  uint64_t he = current ? current->sqn : sub.sqn;
  crypto::Sqn next = crypto::resynchronised_sqn_he(crypto::Sqn{he}, *sqn_ms);
  try {
    store_.set_sqn(sub.impi, next.value);
  } catch (const store::Error& e) {
    LOG_WARN(kLog) << "AKA resynchronisation for '" << sub.impi << "': " << e.what();
    Outcome o;
    o.kind = Outcome::Kind::ServerError;
    o.reason = "Resynchronisation failed";
    return o;
  }
  LOG_INFO(kLog) << "AKA resynchronisation for '" << sub.impi << "': SQN set from the ISIM's";
  Outcome o = aka_challenge(sub, version, now);
  o.failure = AuthFailure::SyncFailure;
  return o;
}

void Authenticator::on_timer(const base::Now& now) {
  while (!aka_order_.empty() && aka_order_.front().first <= now.steady) {
    auto it = aka_.find(aka_order_.front().second);
    if (it != aka_.end() && it->second.expires <= now.steady) aka_.erase(it);
    aka_order_.pop_front();
  }
}

}  // namespace core
