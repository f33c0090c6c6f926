// End to end (issue 5 "Done when"): the browser WIC (web/dist) served by `webims all`, in Debian's
// Chromium driven by playwright-core with fake media devices. Two browser contexts: A signs in with
// IMS Digest credentials (scenario 1, TR 33.871 6.1.1), B as an anonymous guest from the WWSF's pool
// (scenario 3, 6.1.3); both register; A calls B relay-only through `webims turn` with the Solution 1
// credential the eP-CSCF provisioned (TS 33.203 X.5.2); on both sides the call is connected, the
// selected candidate pair is relayed and audio bytes flow (getStats); the time from dialling to
// connected is reported (not asserted); A hangs up; screenshots of both pages are saved. Also: a
// wrong IMS password and a callee that is not registered show sentences, not codes; the TURN
// password never reaches the DOM; the TURN credential is renewed with OPTIONS (the test hook renews
// early) and the panel shows it; a third context signs in by web login with carol's linked IMPI
// (scenario 2, 6.1.2) and takes a relay-only call.
//
// `webims all` runs in a temp dir with a config that only moves its listeners to free loopback
// ports, points [wwsf] web_root at web/dist and advertises the TURN relay on loopback; everything
// else is its zero-config default, including the demo accounts it prints on first start.
// The browser trusts the generated CA through an NSS database in a temp HOME (certutil, as the
// console tells users); if that fails the contexts ignore certificate errors and the test says so.
// (Both in webims_all.mjs, which bench/wic/ uses too.)
//
// usage: node tests/e2e/browser_call_test.mjs WEBIMS_BINARY
//   artifacts (screenshots): WEBIMS_E2E_ARTIFACTS, default tests/e2e/artifacts/<build dir name>/
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Checks, sleep, stopAll, tempDir, watchdog } from '../interop/node_harness.mjs';
import { WicPage, callUntilConnected } from './wic_page.mjs';
import { browserTrusting, startAll } from './webims_all.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const binary = process.argv[2] && resolve(process.argv[2]);
if (!binary) { console.log('usage: node browser_call_test.mjs WEBIMS_BINARY'); process.exit(2); }
const webRoot = join(repo, 'web', 'dist');
const flavour = basename(dirname(binary)) || 'build';
const artifacts = process.env.WEBIMS_E2E_ARTIFACTS || join(here, 'artifacts', flavour);

const t = new Checks();
const dir = tempDir('webims-e2e-browser-');
let all = null;
let browser = null;
let chromium = null;
const pages = {};
watchdog(270000, async () => {
  for (const [n, p] of Object.entries(pages)) await p.screenshot(join(artifacts, `${n}-timeout.png`)).catch(() => {});
  if (all) console.log(`--- webims all ---\n${all.proc.tail(60)}`);
  await browser?.close().catch(() => {});
});

// ---------------------------------------------------------------------------------------------
// The browser side

async function newPage(name, contextOptions) {
  const ctx = await browser.newContext(contextOptions);
  const p = new WicPage(await ctx.newPage(), name);
  pages[name] = p;
  return p;
}

const relayedPair = (s, other) => s && s.localType === 'relay' &&
  // The peer's address shows as "prflx" when its checks came from a relay allocation it did not put
  // in its SDP (it sends the SDP at the first relay candidate; a TURN/TCP one may follow): still the
  // peer's relay, as its own side's local candidate says.
  (s.remoteType === 'relay' || (s.remoteType === 'prflx' && other?.localType === 'relay'));

async function connectedCall(caller, callee, target, what) {
  const r = await callUntilConnected(caller, callee, target, { relayOnly: true });
  t.check(!!r.from, `${what}: the callee's page shows the incoming call (${r.from})`);
  t.check(r.a === 'connected', `${what}: the caller's page says connected (${r.a}${r.a !== 'connected' ? `: ${await caller.callMessage()}` : ''})`);
  t.check(r.b === 'connected', `${what}: the callee's page says connected (${r.b}${r.b !== 'connected' ? `: ${await callee.callMessage()}` : ''})`);
  console.log(`     ${what}: dial -> connected ${r.testMs} ms as the test saw it (the callee's Answer click at +${r.answeredAfterMs} ms); ` +
              `the caller's page: ${r.caller.setupMs} ms from dialling to media connected (ICE: ${r.caller.iceWhy}); ` +
              `the callee's page: ${r.callee.setupMs} ms from answering (ICE: ${r.callee.iceWhy})`);
  return { ok: r.a === 'connected' && r.b === 'connected', setupMs: r.caller.setupMs, testMs: r.testMs };
}

async function mediaFlows(x, y, what) {
  const x1 = await x.mediaStats(), y1 = await y.mediaStats();
  await sleep(1500);
  const x2 = await x.mediaStats(), y2 = await y.mediaStats();
  for (const [name, s1, s2, other] of [[x.name, x1, x2, y2], [y.name, y1, y2, x2]]) {
    t.check(s2?.iceTransportPolicy === 'relay', `${what}: ${name}'s peer connection is relay-only (${s2?.iceTransportPolicy})`);
    t.check(relayedPair(s2, other), `${what}: ${name}'s selected candidate pair is relayed (local ${s2?.localType} ${s2?.relayProtocol || ''}, remote ${s2?.remoteType})`, s2);
    t.check(s2 && s1 && s2.audioSent > s1.audioSent && s2.audioSent > 0, `${what}: ${name} sends audio (${s1?.audioSent} -> ${s2?.audioSent} bytes)`);
    t.check(s2 && s1 && s2.audioReceived > s1.audioReceived && s2.audioReceived > 0, `${what}: ${name} receives audio (${s1?.audioReceived} -> ${s2?.audioReceived} bytes)`);
  }
  for (const p of [x, y]) {
    const r = await p.attr('#media-relayed', 'data-relayed');
    t.check(r === 'yes', `${what}: ${p.name}'s status panel says media relayed (${await p.text('#media-relayed')})`);
  }
}

async function hangUp(caller, callee, what) {
  await caller.hangup();
  const [a, b] = await Promise.all([caller.waitCallState(['ended', 'failed'], 10000).catch(() => 'timeout'),
                                    callee.waitCallState(['ended', 'failed'], 10000).catch(() => 'timeout')]);
  t.check(a === 'ended' && b === 'ended', `${what}: hung up on both sides (${a}, ${b}: "${await caller.callMessage()}" / "${await callee.callMessage()}")`);
}

// ---------------------------------------------------------------------------------------------

try {
  mkdirSync(artifacts, { recursive: true });
  all = await startAll({ binary, dir, webRoot });
  const { demo } = all;
  const alice = demo.subscribers.alice, bob = demo.subscribers.bob, carol = demo.accounts.carol;
  t.check(!!alice && !!bob && !!carol && !!demo.pool, 'webims all lists the demo accounts (alice, bob, carol, guest pool)', demo);
  console.log(`     webims all: ${all.url} (config ${all.config})`);

  // Trust the CA as users are told to; else fall back to ignoring certificate errors.
  chromium = await browserTrusting(all.ca, all.url);
  browser = chromium.browser;
  const { contextOptions } = chromium;
  if (chromium.trusted) t.check(true, 'Chromium trusts the local CA from an NSS database made with certutil (as the console says)');
  else console.log(`note the NSS trust did not work (${chromium.why}): the contexts ignore HTTPS errors`);

  const A = await newPage('A-alice', contextOptions);
  const B = await newPage('B-guest', contextOptions);
  const headers = (await A.open(all.url))?.headers() || {};
  t.check(/script-src 'self'/.test(headers['content-security-policy'] || ''), 'the app is served with the strict CSP (no inline scripts)', headers['content-security-policy']);
  await B.open(all.url);

  // ---- Scenario 1 (A), with a wrong password first ----
  await t.step('scenario 1: a wrong IMS password shows a sentence', async () => {
    const r = await A.signInDigest({ impu: alice.impu, password: `${alice.password}-wrong` });
    t.check(!r.registered && /did not accept the password/.test(r.error || '') && !/\b401\b/.test(r.error) && /[.]$/.test(r.error),
      `a wrong password: "${r.error}"`);
  });
  await t.step('scenario 1: alice signs in with IMS Digest credentials', async () => {
    const r = await A.signInDigest({ impu: alice.impu, password: alice.password });
    t.check(r.registered, `alice registered (${r.error || 'ok'})`);
    const impus = await A.impus();
    t.check(impus.includes(alice.impu), `the panel lists the registered IMPUs from P-Associated-URI (${impus.join(', ')})`);
    const turn = await A.text('#turn-expiry');
    t.check(/^expires at \d\d:\d\d:\d\d \(in .+\)$/.test(turn), `the panel shows the TURN credential's expiry ("${turn}")`);
  });

  // ---- Scenario 3 (B) ----
  let guestImpu = '';
  await t.step('scenario 3: a guest signs in with a pool identity', async () => {
    const r = await B.signInGuest();
    t.check(r.registered, `the guest registered (${r.error || 'ok'})`);
    guestImpu = (await B.impus())[0] || '';
    const poolDomain = (demo.pool?.pattern || '').replace(/^\*@/, '');
    const state = await B.state();
    t.check(!!guestImpu && state.impi.endsWith(`@${poolDomain}`), `the guest got IMPU ${guestImpu} for pool IMPI ${state.impi} (${demo.pool?.pattern})`);
  });

  // ---- The call ----
  await t.step('a callee that is not registered: a sentence', async () => {
    await A.dial(bob.impu);
    const s = await A.waitCallState(['failed', 'ended'], 15000).catch(() => 'timeout');
    const m = await A.callMessage();
    t.check(s === 'failed' && /is not registered right now/.test(m), `calling bob before he signs in: "${m}"`);
  });
  await t.step('A calls B relay-only through webims turn', async () => {
    const c = await connectedCall(A, B, guestImpu, 'alice -> guest');
    if (!c.ok) return;
    await mediaFlows(A, B, 'alice -> guest');
    for (const p of [A, B]) {
      const s = await p.secretsInDom();
      t.check(s.turnPasswords >= 1 && s.found === 0, `${p.name}: the TURN password in use (${s.turnPasswords}) is nowhere in the DOM`, s);
    }
    await A.screenshot(join(artifacts, 'A-alice-connected.png'));
    await B.screenshot(join(artifacts, 'B-guest-connected.png'));
    await hangUp(A, B, 'alice -> guest');
  });
  await A.screenshot(join(artifacts, 'A-alice.png')).catch(() => {});
  await B.screenshot(join(artifacts, 'B-guest.png')).catch(() => {});

  // ---- TURN credential renewal (OPTIONS), triggered early through the test hook ----
  await t.step('TURN credential renewal with OPTIONS', async () => {
    const before = Number(await A.attr('#turn-expiry', 'data-texp'));
    const issued = (all.proc.readLog().match(/TURN credential \S+ for sip:alice@/g) || []).length;
    const r = await A.renewTurnCredential();
    t.check(r.ok && r.texp >= before, `the eP-CSCF answered the OPTIONS with a credential (Texp ${before} -> ${r.texp})`, r);
    const text = await A.text('#turn-expiry');
    t.check(/renewed 1×/.test(text) && Number(await A.attr('#turn-expiry', 'data-texp')) === r.texp, `the panel shows the renewal ("${text}")`);
    const after = (all.proc.readLog().match(/TURN credential \S+ for sip:alice@/g) || []).length;
    t.check(after === issued + 1, `the eP-CSCF issued alice one more credential (${issued} -> ${after})`);
  });

  // ---- Scenario 2 (C): carol's web login with her linked IMPI (bob) ----
  await t.step('scenario 2: web login with a linked identity, then a relay-only call', async () => {
    const C = await newPage('C-carol', contextOptions);
    await C.open(all.url);
    const bad = await C.signInWeb({ username: carol.username, password: 'not-her-password' });
    t.check(!bad.registered && /Wrong username or password/.test(bad.error || ''), `a wrong web password: "${bad.error}"`);
    const r = await C.signInWeb({ username: carol.username, password: carol.password, link: { impi: carol.linked } });
    t.check(r.registered, `carol registered as her linked ${carol.linked} (${r.error || 'ok'})`);
    const impus = await C.impus();
    t.check(impus.includes(bob.impu), `C's panel lists ${bob.impu} (${impus.join(', ')})`);
    const c = await connectedCall(A, C, bob.impu, 'alice -> carol (bob)');
    if (c.ok) await mediaFlows(A, C, 'alice -> carol (bob)');
    await C.screenshot(join(artifacts, 'C-carol-connected.png'));
    if (c.ok) await hangUp(A, C, 'alice -> carol (bob)');
  });

  await t.step('sign-out: deregisters, gives the guest identity back', async () => {
    await B.page.click('#signout-button');
    await B.page.waitForSelector('#signin', { state: 'visible', timeout: 10000 });
    t.check(true, 'the guest signed out');
    await A.dial(guestImpu);
    const s = await A.waitCallState(['failed', 'ended'], 15000).catch(() => 'timeout');
    t.check(s === 'failed' && /is not registered right now/.test(await A.callMessage()), `the guest's IMPU is no longer registered ("${await A.callMessage()}")`);
  });

  for (const p of Object.values(pages)) if (p.consoleErrors.length) console.log(`     ${p.name} console: ${p.consoleErrors.join(' | ')}`);
} catch (e) {
  t.check(false, 'test ran to completion', e.stack || e.message);
  for (const [n, p] of Object.entries(pages)) {
    if (p.consoleErrors.length) console.log(`     ${n} console: ${p.consoleErrors.join(' | ')}`);
    await p.screenshot(join(artifacts, `${n}-failed.png`)).catch(() => {});
  }
} finally {
  await browser?.close().catch(() => {});
  if (all) {
    const ex = await all.proc.stop();
    t.check(ex.code === 0 && !all.proc.killed, 'webims all exited 0 on SIGTERM', ex);
    const log = all.proc.readLog();
    // The log may carry the demo passwords only in the demo lines printed to stdout.
    const logOnly = log.split('\n').filter((l) => !/^\s*demo /.test(l)).join('\n');
    const secrets = Object.values(all.demo.subscribers).map((s) => s.password).concat(Object.values(all.demo.accounts).map((a) => a.password)).filter(Boolean);
    t.check(!secrets.some((s) => logOnly.includes(s)), 'no demo password in the log outside the demo listing');
    t.check(!/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(log), 'no token in the log');
  }
  chromium?.cleanup();
  console.log(`     screenshots in ${artifacts}`);
  await stopAll();
}
if (t.failed.length && all) console.log(`--- webims all (tail) ---\n${all.proc.tail(40)}`);
process.exit(t.summary() ? 0 : 1);
