// The WIC's ICE gate on one session: with the early rule (default) it calls JsSIP's ready() at the
// first relay candidate; with iceGate 'wait' (the page's ?ice=wait) it never does, not even at the
// rule's bound, and leaves the SDP to JsSIP's own wait for gathering to complete. A fake peer
// connection (EventTarget) and fake timers stand in for the browser and the clock.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Wic } from '../src/wic.js';

function setUp(iceGate) {
  let now = 1000;
  let pending = [];
  const timers = {
    setTimeout: (fn, ms) => { const t = { fn, at: now + ms }; pending.push(t); return t; },
    clearTimeout: (t) => { pending = pending.filter((x) => x !== t); },
  };
  const wic = new Wic({ pcscfUrl: 'wss://127.0.0.1:1', now: () => now, timers, iceGate });
  const c = { dialMs: now, iceGate: wic.iceGate, iceMs: null, iceWhy: '' };
  const handlers = wic._sessionHandlers(c, true);
  const pc = new EventTarget();
  pc.iceGatheringState = 'new';
  let dispatchedEnd = 0;  // end-of-candidates events the WIC dispatched itself (no .candidate)
  pc.addEventListener('icecandidate', (e) => { if (!e.candidate) dispatchedEnd++; });
  handlers.peerconnection({ peerconnection: pc });
  const readies = [];
  return {
    wic, c, handlers,
    gathering(state) { pc.iceGatheringState = state; pc.dispatchEvent(new Event('icegatheringstatechange')); },
    // The browser's event on the peer connection, then JsSIP's (with ready()) as JsSIP relays it.
    candidate(type) {
      const ev = new Event('icecandidate');
      ev.candidate = { type };
      pc.dispatchEvent(ev);
      handlers.icecandidate({ candidate: { type }, ready: () => readies.push(now) });
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = pending.filter((t) => t.at <= until).sort((x, y) => x.at - y.at)[0];
        if (!due) break;
        pending = pending.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = until;
    },
    readies, dispatched: () => dispatchedEnd,
  };
}

test('early (default): ready() at the first relay candidate', () => {
  const s = setUp(undefined);
  assert.equal(s.wic.iceGate, 'early');
  s.gathering('gathering');
  s.advance(20);
  s.candidate('host');
  assert.deepEqual(s.readies, []);
  s.advance(15);
  s.candidate('relay');
  assert.deepEqual(s.readies, [1035]);
  assert.equal(s.c.iceMs, 35);
  assert.equal(s.c.iceWhy, 'relay candidate after 35 ms');
  s.gathering('complete');
  assert.equal(s.c.iceWhy, 'relay candidate after 35 ms');
});

test('early: when the browser completes gathering before the rule is satisfied, that is what sent the SDP', () => {
  const s = setUp('early');
  s.gathering('gathering');
  s.advance(3);
  s.candidate('host');
  s.advance(4);
  s.gathering('complete');
  assert.equal(s.c.iceMs, 7);
  assert.equal(s.c.iceWhy, 'the browser finished gathering after 7 ms (1 candidate, 0 relay)');
  s.advance(5000);  // the rule's timer was cleared: nothing more happens
  assert.deepEqual(s.readies, []);
  assert.equal(s.dispatched(), 0);
});

test('early: without a relay candidate the rule\'s bound still sends (no candidate event: the end-of-candidates event)', () => {
  const s = setUp('early');
  s.gathering('gathering');
  s.advance(5000);
  assert.equal(s.dispatched(), 1);
  assert.match(s.c.iceWhy, /^no candidate in time after 4000 ms$/);
});

test('wait (?ice=wait): never ready() early; the browser\'s complete gathering is what sends, and is reported', () => {
  const s = setUp('wait');
  assert.equal(s.wic.iceGate, 'wait');
  s.gathering('gathering');
  s.advance(20);
  s.candidate('host');
  s.advance(15);
  s.candidate('relay');
  s.advance(10000);  // past the early rule's 4 s bound
  assert.deepEqual(s.readies, []);
  assert.equal(s.dispatched(), 0);
  assert.equal(s.c.iceMs, null);
  s.gathering('complete');
  assert.deepEqual(s.readies, []);
  assert.equal(s.c.iceMs, 10035);
  assert.equal(s.c.iceWhy, 'the browser finished gathering after 10035 ms (2 candidates, 1 relay; ice=wait)');
});

test('any other iceGate value is the early rule', () => {
  assert.equal(new Wic({ iceGate: 'later' }).iceGate, 'early');
});
