// The crypto library's error enum (style.md "Errors"): what the authentication primitives (Digest,
// Milenage, AKA) return through base::Result. Nothing here throws. Each value says who can cause it,
// so callers map it to a wire answer in one place.
#pragma once

#include <string_view>

#include "base/result.hpp"

namespace crypto {

enum class Error {
  // An input had the wrong size or shape (a K that is not 16 octets, an nc that is not 8 hex
  // digits, an empty Digest secret). A caller or configuration bug, or a malformed peer value.
  InvalidArgument,
  // A peer value did not decode (AKA nonce or AUTS not base64, or of the wrong length).
  BadEncoding,
  // An algorithm or qop this library does not implement (e.g. qop=auth-int, SHA-512-256).
  Unsupported,
  // A MAC did not verify: MAC-A in AUTN (the network is not authentic, TS 33.102 §6.3.3), MAC-S
  // in AUTS (the resynchronisation request is forged or for another RAND, §6.3.5), or a Digest
  // `response` that does not match (wrong password or HA1, or altered parameters).
  MacFailure,
  // The 43-bit SEQ space of the subscription is used up (TS 33.102 Annex C): provisioning must
  // give the subscription a new K.
  SqnExhausted,
  // OpenSSL refused to set up a cipher context. Environmental (FIPS provider without AES, OOM).
  Backend,
};

constexpr std::string_view to_string(Error e) {
  switch (e) {
    case Error::InvalidArgument: return "invalid argument";
    case Error::BadEncoding: return "bad encoding";
    case Error::Unsupported: return "unsupported";
    case Error::MacFailure: return "MAC failure";
    case Error::SqnExhausted: return "SQN exhausted";
    case Error::Backend: return "crypto backend failure";
  }
  return "unknown";
}

template <class T>
using Result = base::Result<T, Error>;

}  // namespace crypto
