// Drives the browser WIC (web/) in Debian's Chromium through playwright-core the way a user does:
// the sign-in forms, the status panel, dialling, answering, hanging up, read back from the DOM.
// What a user cannot click (the RTCPeerConnection's getStats, renewing the TURN credential early)
// goes through the page's test hooks (`?test-hooks`, web/src/main.js).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection',
  // A fake microphone/camera (a tone and a test pattern) and no permission prompt.
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

// An NSS database in a fresh HOME trusting `caFile`, as the console tells users to do
// (`certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n webims -i ca.pem`). Chromium on Linux reads it.
// Returns the HOME, or null with the reason when certutil is missing or fails.
export function nssHomeTrusting(caFile) {
  const home = mkdtempSync(join(tmpdir(), 'webims-e2e-home-'));
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  const run = (args) => spawnSync('certutil', args, { encoding: 'utf8', timeout: 20000 });
  const init = run(['-d', `sql:${db}`, '-N', '--empty-password']);
  if (init.error || init.status !== 0) return { home: null, why: `certutil -N: ${init.error?.message || init.stderr}` };
  const add = run(['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'webims local CA', '-i', caFile]);
  if (add.status !== 0) return { home: null, why: `certutil -A: ${add.stderr}` };
  return { home };
}

// chromium.launch gives the browser a fresh temporary profile of its own; each newContext() is a
// separate "incognito" profile in it (own cookies, so two signed-in users side by side).
export async function launchBrowser({ home } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: home ? { ...process.env, HOME: home } : process.env,
    timeout: 30000,
  });
}

const visible = { state: 'visible' };

export class WicPage {
  constructor(page, name) {
    this.page = page;
    this.name = name;
    this.consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') this.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => this.consoleErrors.push(`pageerror: ${e.message}`));
  }

  async open(url) {
    const r = await this.page.goto(`${url}${url.includes('?') ? '&' : '?'}test-hooks`, { waitUntil: 'load', timeout: 20000 });
    await this.page.waitForSelector('#signin', { ...visible, timeout: 10000 });
    return r;
  }

  text(sel) { return this.page.locator(sel).innerText({ timeout: 5000 }); }
  attr(sel, name) { return this.page.locator(sel).getAttribute(name, { timeout: 5000 }); }

  // Waits for the registration to succeed or the sign-in error to show; { registered, error }.
  async _signInOutcome(timeoutMs) {
    const ok = this.page.waitForSelector('#registration[data-state=registered]', { ...visible, timeout: timeoutMs }).then(() => 'ok');
    const err = this.page.waitForSelector('#signin-error:not([hidden])', { ...visible, timeout: timeoutMs }).then(() => 'error');
    const which = await Promise.race([ok, err]).catch(() => 'timeout');
    ok.catch(() => {}); err.catch(() => {});
    if (which === 'ok') return { registered: true };
    if (which === 'error') return { registered: false, error: await this.text('#signin-error') };
    return { registered: false, error: 'timeout' };
  }

  async signInDigest({ impu, password, impi = '' }, timeoutMs = 20000) {
    await this.page.click('#tab-digest');
    await this.page.fill('#impu', impu);
    await this.page.fill('#password', password);
    if (impi) { await this.page.click('#way-digest summary'); await this.page.fill('#impi', impi); }
    await this.page.click('#signin-digest');
    return this._signInOutcome(timeoutMs);
  }

  async signInGuest(timeoutMs = 20000) {
    await this.page.click('#tab-guest');
    await this.page.click('#guest-button');
    return this._signInOutcome(timeoutMs);
  }

  // Web login, then (when `link` is given and not linked yet) link it with its IMS password, then use it.
  async signInWeb({ username, password, link }, timeoutMs = 20000) {
    await this.page.click('#tab-web');
    await this.page.fill('#web-username', username);
    await this.page.fill('#web-password', password);
    await this.page.click('#signin-web');
    const shown = await Promise.race([
      this.page.waitForSelector('#web-links', { ...visible, timeout: timeoutMs }).then(() => 'links'),
      this.page.waitForSelector('#signin-error:not([hidden])', { ...visible, timeout: timeoutMs }).then(() => 'error'),
    ]).catch(() => 'timeout');
    if (shown !== 'links') return { registered: false, error: shown === 'error' ? await this.text('#signin-error') : 'timeout' };
    if (link) {
      const radio = this.page.locator(`#link-list input[value="${link.impi}"]`);
      if (!(await radio.count()) || await radio.isDisabled()) {
        await this.page.click('#link-new summary');
        await this.page.fill('#link-impi', link.impi);
        await this.page.fill('#link-password', link.password);
        await this.page.click('#link-button');
        const linked = await Promise.race([
          this.page.waitForSelector(`#link-list input[value="${link.impi}"]:not([disabled])`, { timeout: timeoutMs }).then(() => 'linked'),
          this.page.waitForSelector('#signin-error:not([hidden])', { ...visible, timeout: timeoutMs }).then(() => 'error'),
        ]).catch(() => 'timeout');
        if (linked !== 'linked') return { registered: false, error: linked === 'error' ? await this.text('#signin-error') : 'timeout' };
      }
      await radio.check();
    }
    await this.page.click('#use-link', { timeout: 5000 });
    return this._signInOutcome(timeoutMs);
  }

  async impus() { return this.page.locator('#impus li').allInnerTexts(); }

  // Dials with the relay-only switch as given; returns the Date.now() of the click.
  async dial(target, { relayOnly = true, video = false } = {}) {
    await this.page.fill('#target', target);
    await this.page.setChecked('#relay-only', relayOnly);
    await this.page.setChecked('#video', video);
    const at = Date.now();
    await this.page.click('#call-button');
    return at;
  }

  async waitIncoming(timeoutMs = 15000) {
    await this.page.waitForSelector('#incoming', { ...visible, timeout: timeoutMs });
    return this.text('#incoming-from');
  }

  async answer({ relayOnly = true } = {}) {
    await this.page.setChecked('#relay-only', relayOnly);
    await this.page.click('#answer-button');
  }

  async decline() { await this.page.click('#decline-button'); }
  async hangup() { await this.page.click('#hangup-button'); }

  async waitCallState(states, timeoutMs = 15000) {
    const list = [].concat(states);
    const sel = list.map((s) => `#call-state[data-state="${s}"]`).join(', ');
    await this.page.waitForSelector(sel, { timeout: timeoutMs });
    return this.attr('#call-state', 'data-state');
  }

  async callState() { return this.attr('#call-state', 'data-state'); }
  async callMessage() { return (await this.page.locator('#call-message').isVisible()) ? this.text('#call-message') : ''; }
  state() { return this.page.evaluate(() => window.webimsTestHooks.state()); }
  renewTurnCredential() { return this.page.evaluate(() => window.webimsTestHooks.renewTurnCredential()); }

  // The live call's getStats(): selected pair's candidate types and the audio RTP byte counts.
  mediaStats() {
    return this.page.evaluate(async () => {
      const pc = window.webimsTestHooks.peerConnection();
      if (!pc) return null;
      const stats = await pc.getStats();
      let pair;
      stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
      if (!pair) stats.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
      const local = pair && stats.get(pair.localCandidateId), remote = pair && stats.get(pair.remoteCandidateId);
      let audioSent = 0, audioReceived = 0;
      stats.forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'audio') audioSent += s.bytesSent || 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audioReceived += s.bytesReceived || 0;
      });
      const addr = (c) => (c ? `${c.address || c.ip}:${c.port}` : '');
      return { connectionState: pc.connectionState, localType: local?.candidateType, remoteType: remote?.candidateType,
               local: addr(local), remote: addr(remote), relayProtocol: local?.relayProtocol, audioSent, audioReceived,
               iceTransportPolicy: pc.getConfiguration().iceTransportPolicy };
    });
  }

  // Whether any secret the page holds in memory (the TURN password from the live peer connection's
  // configuration, and `extra` strings) appears in the DOM: markup, attributes, form values, text.
  secretsInDom(extra = []) {
    return this.page.evaluate((extraSecrets) => {
      const pc = window.webimsTestHooks.peerConnection();
      const creds = (pc ? pc.getConfiguration().iceServers : []).map((s) => s.credential).filter(Boolean);
      const secrets = [...creds, ...extraSecrets].filter((s) => s && s.length >= 8);
      const values = [...document.querySelectorAll('input, textarea')].map((e) => e.value).join('\n');
      const dom = `${document.documentElement.outerHTML}\n${document.body.innerText}\n${values}\n${document.title}\n${location.href}`;
      return { checked: secrets.length, turnPasswords: creds.length, found: secrets.filter((s) => dom.includes(s)).length };
    }, extra);
  }

  async screenshot(path) { await this.page.screenshot({ path, fullPage: true }); return path; }
}

// `caller` dials `target`, `callee` answers as soon as its page shows the call; both with the
// relay-only switch as given. Waits (bounded) until both pages say connected, failed or ended.
// -> { from, a, b, dialled, answeredAfterMs, testMs, caller: caller's state.call, callee: ... }
//    a/b: the final call states ('connected', 'failed', 'ended' or 'timeout'); testMs: dial click to
//    both connected as the test saw it; the pages' own figures are in caller.setupMs/.iceWhy.
export async function callUntilConnected(caller, callee, target, { relayOnly = true, ringMs = 15000, connectMs = 20000 } = {}) {
  const dialled = await caller.dial(target, { relayOnly });
  const from = await callee.waitIncoming(ringMs).catch(() => '');
  const answered = Date.now();
  if (from) await callee.answer({ relayOnly });
  const until = ['connected', 'failed', 'ended'];
  const [a, b] = await Promise.all([caller.waitCallState(until, connectMs).catch(() => 'timeout'),
                                    callee.waitCallState(until, connectMs).catch(() => 'timeout')]);
  const connected = Date.now();
  const sa = await caller.state(), sb = await callee.state();
  return { from, a, b, dialled, answeredAfterMs: answered - dialled, testMs: connected - dialled, caller: sa.call, callee: sb.call };
}
