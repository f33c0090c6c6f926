// Registration authentication of the S-CSCF (TR 33.871 6.1.1, protocols.md "Scenario 1"):
//  - SIP Digest with qop=auth, MD5 and SHA-256 (RFC 7616, RFC 8760), verified against the HA1 in the
//    HSS; stateless nonces with expiry (stale=true) and nonce-count replay protection;
//  - IMS AKA over Digest, AKAv2-MD5 (RFC 4169; AKAv1-MD5, RFC 3310, when the UE asks for it): a
//    Milenage vector per challenge from K/OPc and the SQN advanced in the store, nonce =
//    base64(RAND || AUTN), XRES/CK/IK kept per nonce in bounded memory; AUTS resynchronisation
//    (TS 33.102 §6.3.5) sets the SQN and challenges again.
// Secrets (HA1, K, OPc, XRES, CK, IK) never reach a log line.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "core/config.hpp"
#include "core/logic/stats.hpp"
#include "crypto/aka.hpp"
#include "crypto/digest.hpp"
#include "crypto/digest_nonce.hpp"
#include "sip/auth.hpp"
#include "sip/message.hpp"
#include "store/store.hpp"

namespace core {

class Authenticator {
 public:
  // `nonce_secret`: >= 16 octets, the key of the Digest nonces (a fresh one per start is fine:
  // outstanding nonces then fail as Invalid and the UE is simply challenged again).
  Authenticator(const CoreConfig& cfg, base::Bytes nonce_secret, store::Store& store, base::Random& random);

  struct Outcome {
    enum class Kind { Authenticated, Challenge, Forbidden, ServerError };
    Kind kind = Kind::Challenge;
    std::vector<std::string> challenges;  // WWW-Authenticate values for a 401, in order
    std::string reason;                   // reason phrase for a 403 / 500
    std::optional<AuthFailure> failure;   // for the metrics
  };

  // `creds`: the Digest Authorization of the REGISTER for the subscriber's realm, or nullptr. One
  // with an empty nonce (what IMS UEs send first) only selects the algorithm family: AKA when it
  // says AKAv1/AKAv2-MD5 and the subscriber has AKA credentials.
  Outcome check(const sip::Message& request, const store::Subscriber& sub, const sip::DigestCredentials* creds,
                const base::Now& now);

  // Forgets expired AKA challenges and nonce counts.
  void on_timer(const base::Now& now);
  size_t aka_challenges() const { return aka_.size(); }

 private:
  struct AkaChallenge {
    std::string impi;
    crypto::AkaVersion version = crypto::AkaVersion::V2;
    crypto::Rand rand{};
    crypto::Res xres;
    crypto::Ck ck;
    crypto::Ik ik;
    base::SteadyTime expires{};
    int64_t issued_unix = 0;
  };

  Outcome challenge(const store::Subscriber& sub, bool aka, crypto::AkaVersion version, bool stale,
                    const base::Now& now);
  Outcome aka_challenge(const store::Subscriber& sub, crypto::AkaVersion version, const base::Now& now);
  Outcome verify_digest(const sip::Message& request, const store::Subscriber& sub, const sip::DigestCredentials& c,
                        const base::Now& now);
  Outcome verify_aka(const sip::Message& request, const store::Subscriber& sub, const sip::DigestCredentials& c,
                     crypto::AkaVersion version, const base::Now& now);
  Outcome resynchronise(const store::Subscriber& sub, const std::string& nonce, std::string_view auts,
                        const base::Now& now);
  std::vector<crypto::DigestAlgorithm> offered(const store::Subscriber& sub) const;

  const CoreConfig& cfg_;
  store::Store& store_;
  base::Random& random_;
  crypto::DigestNonceManager nonces_;
  crypto::NonceCountTracker counts_;
  std::unordered_map<std::string, AkaChallenge> aka_;        // by nonce
  std::deque<std::pair<base::SteadyTime, std::string>> aka_order_;  // issue order, for expiry and the bound
};

}  // namespace core
