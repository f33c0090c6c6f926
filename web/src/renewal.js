// When to renew what the WIC holds for a limited time, so nothing runs out while it is in use:
//  - the TURN credential (Texp, Unix seconds): renewed with OPTIONS + `3gpp-ext-turn-cred: request`
//    on the registered WebSocket (protocols.md; JsSIP emits 'registered' only once per UA, so a
//    re-REGISTER is no renewal signal);
//  - the bearer token from the WWSF (scenarios 2 and 3, `expires_in` seconds): JsSIP puts it on every
//    re-REGISTER, which the eP-CSCF refuses once it has expired.
// Pure functions of the clock (passed in), checked by web/test/renewal.test.mjs.

// Renew at 80 % of the lifetime, but no later than `marginS` before expiry (a slow network, a
// sleeping laptop) and no sooner than `minDelayMs` from now (a credential that is already nearly
// out is renewed at once, not in a tight loop: the caller's retry delay bounds that).
export function renewalDelayMs({ issuedMs, expiresMs, nowMs, marginS = 60, minDelayMs = 0 }) {
  const lifetime = expiresMs - issuedMs;
  if (!(lifetime > 0) || expiresMs <= nowMs) return minDelayMs;
  const at = Math.min(issuedMs + 0.8 * lifetime, expiresMs - marginS * 1000);
  return Math.max(minDelayMs, Math.round(at - nowMs));
}

export function turnRenewalDelayMs(cred, receivedMs, nowMs, opts = {}) {
  return renewalDelayMs({ issuedMs: receivedMs, expiresMs: cred.texp * 1000, nowMs, ...opts });
}

export function tokenRenewalDelayMs(expiresInS, receivedMs, nowMs, opts = {}) {
  return renewalDelayMs({ issuedMs: receivedMs, expiresMs: receivedMs + expiresInS * 1000, nowMs, ...opts });
}

// After a failed renewal: 2, 4, 8 ... s, at most 60 s, and never past the point where a last try
// still lands before expiry (`expiresMs - 5 s`); null when there is no time left for one.
export function retryDelayMs(attempt, nowMs, expiresMs) {
  const backoff = Math.min(60000, 2000 * 2 ** Math.max(0, attempt));
  const latest = expiresMs - 5000 - nowMs;
  if (latest <= 0) return null;
  return Math.min(backoff, latest);
}
