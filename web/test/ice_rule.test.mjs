// When the WIC stops waiting for ICE candidates (JsSIP's ready()).
import test from 'node:test';
import assert from 'node:assert/strict';
import { candidateType, iceGateFromQuery, iceReady } from '../src/ice_rule.js';

const at = (type, atMs) => ({ type, atMs });

test('relay-only: the first relay candidate is enough', () => {
  assert.deepEqual(iceReady({ relayOnly: true, candidates: [], startedMs: 0, nowMs: 10 }), { ready: false, recheckInMs: 3990 });
  const r = iceReady({ relayOnly: true, candidates: [at('relay', 35)], startedMs: 0, nowMs: 35 });
  assert.equal(r.ready, true);
  assert.equal(r.why, 'relay candidate');
});

test('relay-only: host candidates (should there be any) do not end the wait', () => {
  const r = iceReady({ relayOnly: true, candidates: [at('host', 5)], startedMs: 0, nowMs: 1000 });
  assert.deepEqual(r, { ready: false, recheckInMs: 3000 });
});

test('bounded: after maxMs the SDP goes with what there is', () => {
  assert.deepEqual(iceReady({ relayOnly: true, candidates: [], startedMs: 100, nowMs: 4100 }), { ready: true, why: 'no candidate in time' });
  assert.equal(iceReady({ relayOnly: true, candidates: [at('host', 1)], startedMs: 0, nowMs: 5000, maxMs: 5000 }).why, 'no relay candidate in time');
});

test('not relay-only: relay at once, host/srflx after a short settle', () => {
  assert.equal(iceReady({ relayOnly: false, candidates: [at('host', 10), at('relay', 40)], startedMs: 0, nowMs: 40 }).ready, true);
  assert.deepEqual(iceReady({ relayOnly: false, candidates: [at('host', 10)], startedMs: 0, nowMs: 20 }), { ready: false, recheckInMs: 290 });
  const r = iceReady({ relayOnly: false, candidates: [at('host', 10), at('srflx', 50)], startedMs: 0, nowMs: 310 });
  assert.equal(r.ready, true);
  assert.match(r.why, /no relay within 300 ms/);
  // The settle never runs past the overall bound.
  assert.deepEqual(iceReady({ relayOnly: false, candidates: [at('host', 3900)], startedMs: 0, nowMs: 3950 }), { ready: false, recheckInMs: 50 });
});

test('candidate types from Chromium objects or the candidate line', () => {
  assert.equal(candidateType({ type: 'relay' }), 'relay');
  assert.equal(candidateType({ candidate: 'candidate:1 1 udp 41885695 127.0.0.1 50000 typ relay raddr 0.0.0.0 rport 0' }), 'relay');
  assert.equal(candidateType({ candidate: 'candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host' }), 'host');
  assert.equal(candidateType(null), '');
  assert.equal(candidateType({ candidate: 'garbage' }), '');
});

test('?ice=wait (benchmark anchor, troubleshooting) turns the early rule off; anything else keeps it', () => {
  assert.equal(iceGateFromQuery('?ice=wait'), 'wait');
  assert.equal(iceGateFromQuery('?test-hooks&ice=wait'), 'wait');
  assert.equal(iceGateFromQuery(''), 'early');
  assert.equal(iceGateFromQuery(undefined), 'early');
  assert.equal(iceGateFromQuery('?test-hooks'), 'early');
  assert.equal(iceGateFromQuery('?ice=early'), 'early');
  assert.equal(iceGateFromQuery('?ice=WAIT'), 'early');
  assert.equal(iceGateFromQuery('?ice'), 'early');
});
