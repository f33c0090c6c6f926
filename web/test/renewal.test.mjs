// Renewal schedule of the TURN credential and the bearer token.
import test from 'node:test';
import assert from 'node:assert/strict';
import { renewalDelayMs, retryDelayMs, tokenRenewalDelayMs, turnRenewalDelayMs } from '../src/renewal.js';

test('at 80 % of a long lifetime', () => {
  // 1 h token received now: renew after 48 min.
  assert.equal(tokenRenewalDelayMs(3600, 0, 0), 2880000);
  // Later calls count from the same reception time.
  assert.equal(tokenRenewalDelayMs(3600, 0, 1000000), 1880000);
});

test('never later than the margin before expiry', () => {
  // 200 s lifetime: 80 % = 160 s, but 60 s margin -> 140 s.
  assert.equal(renewalDelayMs({ issuedMs: 0, expiresMs: 200000, nowMs: 0 }), 140000);
  assert.equal(renewalDelayMs({ issuedMs: 0, expiresMs: 200000, nowMs: 0, marginS: 10 }), 160000);
});

test('a credential nearly out (or out) is renewed at once, bounded below by minDelayMs', () => {
  assert.equal(renewalDelayMs({ issuedMs: 0, expiresMs: 30000, nowMs: 0 }), 0);
  assert.equal(renewalDelayMs({ issuedMs: 0, expiresMs: 30000, nowMs: 0, minDelayMs: 1000 }), 1000);
  assert.equal(renewalDelayMs({ issuedMs: 0, expiresMs: 30000, nowMs: 40000, minDelayMs: 1000 }), 1000);
  assert.equal(renewalDelayMs({ issuedMs: 5, expiresMs: 5, nowMs: 0 }), 0);
});

test('TURN credential from Texp (Unix seconds)', () => {
  const received = 1767225600000 - 660000;  // 11 min lifetime (600 s registration + grace)
  const d = turnRenewalDelayMs({ texp: 1767225600 }, received, received);
  assert.equal(d, Math.min(0.8 * 660000, 600000));
});

test('retries back off, capped, and stop before expiry', () => {
  const exp = 1000000;
  assert.equal(retryDelayMs(0, 0, exp), 2000);
  assert.equal(retryDelayMs(1, 0, exp), 4000);
  assert.equal(retryDelayMs(10, 0, exp), 60000);
  assert.equal(retryDelayMs(10, exp - 20000, exp), 15000);
  assert.equal(retryDelayMs(0, exp - 5000, exp), null);
  assert.equal(retryDelayMs(0, exp + 1, exp), null);
});
