// Minimal SDP (RFC 8866) offers and answers for the command-line WIC: one audio m-line in the
// shape a browser WIC sends (RFC 8829 JSEP: UDP/TLS/RTP/SAVPF, ICE ufrag/pwd RFC 8839, DTLS
// fingerprint and setup RFC 8842, rtcp-mux), plus `a=3ge2ae:requested` on offers (TS 24.229
// e2ae indication, protocols.md "Media"). No media flows: these only drive signalling tests.
#pragma once

#include <string>

#include "base/random.hpp"

namespace wic {

// `offer`: a=setup:actpass and a=3ge2ae:requested; otherwise an answer with a=setup:active.
// Session id, ICE credentials and the fingerprint come from `random`.
std::string make_sdp(base::Random& random, bool offer);

}  // namespace wic
