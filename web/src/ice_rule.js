// When the WIC has gathered enough ICE candidates to send its SDP. JsSIP does not trickle (RFC 8838):
// it sends the offer or answer once gathering is "complete", which browsers reach only after every
// STUN/TURN server has answered or timed out, often 10 s or more (the set-up delay users of JsSIP and
// sipML5 complain about). JsSIP's RTCSession emits `icecandidate` with a `ready()` callback that sends
// the SDP with the candidates gathered so far; this rule says when to call it:
//  - relay-only (iceTransportPolicy 'relay'): the first relay candidate is all that will be used
//    (one transport: bundlePolicy 'max-bundle', rtcp-mux), so send at once;
//  - otherwise: a relay candidate is enough too; with host/srflx only, wait `settleMs` more for a
//    relay candidate (a peer behind a NAT that only TURN gets through), then send what there is;
//  - in every case no later than `maxMs` after gathering started: without any candidate the call
//    then fails at ICE with a clear sentence instead of waiting for the browser's own timeouts.
// No DOM and no timers here (the caller re-asks after `recheckInMs`): web/test/ice_rule.test.mjs.
//
// `?ice=wait` in the page's URL turns the rule off (iceGateFromQuery): the WIC then never calls
// ready() and JsSIP sends the SDP when the browser's gathering is complete, as stock JsSIP does.
// That is the anchor of bench/wic_setup_compare.sh, and a way to tell, when a call fails, whether
// sending early had anything to do with it. Not a setting users are meant to need.

export const DEFAULT_SETTLE_MS = 300;
export const DEFAULT_MAX_MS = 4000;

// candidates: [{ type: 'host'|'srflx'|'prflx'|'relay', atMs }], in arrival order.
// -> { ready: true, why } or { ready: false, recheckInMs }.
export function iceReady({ relayOnly, candidates, startedMs, nowMs, settleMs = DEFAULT_SETTLE_MS, maxMs = DEFAULT_MAX_MS }) {
  const deadline = startedMs + maxMs;
  if (candidates.some((c) => c.type === 'relay')) return { ready: true, why: 'relay candidate' };
  if (nowMs >= deadline) {
    return { ready: true, why: candidates.length ? 'no relay candidate in time' : 'no candidate in time' };
  }
  if (!relayOnly) {
    const first = candidates.find((c) => c.type === 'host' || c.type === 'srflx' || c.type === 'prflx');
    if (first) {
      const settled = Math.min(first.atMs + settleMs, deadline);
      if (nowMs >= settled) return { ready: true, why: `${first.type} candidates, no relay within ${settleMs} ms` };
      return { ready: false, recheckInMs: settled - nowMs };
    }
  }
  return { ready: false, recheckInMs: deadline - nowMs };
}

// The ICE gate of the page from its location.search, read once at start: 'wait' for `ice=wait`
// (JsSIP's default behaviour, above), otherwise 'early' (iceReady).
export function iceGateFromQuery(search) {
  return new URLSearchParams(search || '').get('ice') === 'wait' ? 'wait' : 'early';
}

// The candidate type of an RTCIceCandidate (Chromium has .type; else parse "typ X" from the line).
export function candidateType(candidate) {
  if (!candidate) return '';
  if (candidate.type) return candidate.type;
  const m = / typ (\w+)/.exec(candidate.candidate || '');
  return m ? m[1] : '';
}
