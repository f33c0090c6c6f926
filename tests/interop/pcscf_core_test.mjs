// End to end (issue 3, "Done when"): `webims core` (I/S-CSCF + HSS), `webims pcscf` (eP-CSCF, WSS) and
// `webims turn` from ONE config file, driven by real clients:
//  - JsSIP registers over WSS with Digest MD5 against the embedded core and receives the
//    3gpp-ext-turn-cred header; headless Chromium uses that credential to get a relay candidate from
//    webims turn (TS 33.203 X.5.2 steps 1-8), and a raw TURN Allocate with it succeeds;
//  - negative cases: wrong password → not registered (a fresh 401, or 403); a replayed Authorization
//    (same nonce, nc, cnonce, response; new transaction, new connection) refused; disallowed Origin →
//    handshake 403; INVITE with an unbound From → 403; expired TURN credential (minted here with Km
//    from the config) → TURN 401; malformed SIP → 400 and the server keeps serving;
//  - two JsSIP clients: a MESSAGE and an INVITE (SDP only; ACK, BYE) from one reach the other.
// Each check prints one ok/FAIL line; the last line is "N passed, N failed".
// usage: node pcscf_core_test.mjs WEBIMS_BINARY          (JSSIP_DEBUG=1 for JsSIP's own log)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checks, httpHealth, stopAll, tempDir, watchdog } from './node_harness.mjs';
import { JsSipClient, parseTurnCred, solution1Password } from './jssip_client.mjs';
import { RawWs, ackFor, buildRequest, parseAuthParams, retransact, token, wsHandshakeStatus } from './sip_raw.mjs';
import { TurnUdpClient } from './turn_client.mjs';
import { gatherRelayCandidates, launchChromium } from './browser_turn.mjs';
import { admin, allocatePorts, configHasKey, hasCommand, printConfig, startWebims, webimsCa, webimsConfig,
         writeConfig } from './webims_servers.mjs';

const binary = process.argv[2];
if (!binary) { console.log('usage: node pcscf_core_test.mjs WEBIMS_BINARY'); process.exit(2); }
const DOMAIN = 'ims.example.org';
const ORIGIN = 'https://wwsf.example.org';
const KM = randomBytes(24).toString('base64url');             // Km: [[turn.secrets]], shared by pcscf and turn
const USERS = {
  alice: { impu: `sip:alice@${DOMAIN}`, impi: `alice@${DOMAIN}`, password: `alice-${token(4)}` },
  bob: { impu: `sip:bob@${DOMAIN}`, impi: `bob@${DOMAIN}`, password: `bob-${token(4)}` },
  carol: { impu: `sip:carol@${DOMAIN}`, impi: `carol@${DOMAIN}`, password: `carol-${token(4)}` },
};

const t = new Checks();
const dir = tempDir('webims-e2e-');
const servers = {};
const clients = [];
let browser;
watchdog(240000, () => { for (const [n, p] of Object.entries(servers)) console.log(`--- ${n} ---\n${p.tail(30)}`); });

for (const cmd of ['core', 'pcscf', 'turn']) {
  if (!hasCommand(binary, cmd)) {
    console.log(`FAIL ${binary} has no '${cmd}' command yet`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const ports = await allocatePorts(['core', 'pcscf', 'turn']);
const withCoreControl = configHasKey(printConfig(binary, 'core'), 'core', 'control_listen');
const config = writeConfig(dir, webimsConfig({ dir, ports, domain: DOMAIN, km: KM, origins: [ORIGIN], withCoreControl }));
const wsUrl = `wss://127.0.0.1:${ports.wss}/`;
let ca;

function client(u, overrides = {}) {
  const c = new JsSipClient({ wsUrl, origin: ORIGIN, ca, uri: u.impu, user: u.impi, password: u.password, name: u.impi, ...overrides });
  clients.push(c);
  return c;
}
const within = (p, ms, dflt = null) => Promise.race([p, new Promise((r) => setTimeout(() => r(dflt), ms))]);

try {
  // --- Provisioning (HSS in the store) and start-up, all from the one config file.
  for (const u of Object.values(USERS)) admin(binary, config, ['subscriber', 'add', '--impi', u.impi, '--impu', u.impu, '--password', u.password]);
  const listed = admin(binary, config, ['subscriber', 'list']);
  t.check(Object.values(USERS).every((u) => listed.includes(u.impi)), 'webims admin subscriber add/list provisions the HSS');
  t.check(!Object.values(USERS).some((u) => readFileSync(join(dir, 'webims.db')).includes(Buffer.from(u.password))),
          'no Digest password is stored in plaintext (HA1 only)');
  servers.turn = await startWebims(binary, 'turn', config, dir, { health: `http://127.0.0.1:${ports.turnControl}/health` });
  servers.core = await startWebims(binary, 'core', config, dir, withCoreControl
    ? { health: `http://127.0.0.1:${ports.coreControl}/health` } : { tcpPorts: [ports.coreSip] });
  servers.pcscf = await startWebims(binary, 'pcscf', config, dir, { health: `http://127.0.0.1:${ports.pcscfControl}/health` });
  ca = webimsCa(dir);

  // --- W2 handshake: Origin allow-list and subprotocol (protocols.md).
  const hs = await wsHandshakeStatus(wsUrl, { origin: ORIGIN, ca });
  t.check(hs.status === 101 && hs.protocol === 'sip', 'handshake with the allowed Origin: 101, subprotocol sip', hs);
  const evil = await wsHandshakeStatus(wsUrl, { origin: 'https://evil.example', ca });
  t.check(evil.status === 403, 'disallowed Origin → handshake HTTP 403', evil);
  const noOrigin = await wsHandshakeStatus(wsUrl, { ca });
  t.check(noOrigin.status === 403, 'no Origin at all → handshake HTTP 403', noOrigin);
  const noProto = await wsHandshakeStatus(wsUrl, { origin: ORIGIN, ca, protocols: [] });
  t.check(noProto.status === 400, 'handshake without subprotocol sip → HTTP 400', noProto);
  const evilJs = client(USERS.carol, { origin: 'https://evil.example', name: 'carol-evil-origin' });
  const es = await evilJs.start(5000);
  t.check(!es.connected && es.handshake?.status === 403, 'JsSIP from a disallowed Origin cannot connect (403)', es);
  await evilJs.stop();

  // --- Wrong password: not registered, a fresh 401 or a 403; never a TURN credential.
  await t.step('wrong password', async () => {
    const c = client(USERS.alice, { password: 'not-the-password', name: 'alice-wrong' });
    t.check((await c.start()).connected, 'JsSIP connects over WSS with the allowed Origin');
    const r = await c.register({ turnCred: true });
    t.check(!r.registered && (r.status === 401 || r.status === 403), `wrong password → not registered (${r.status} ${r.reason || r.cause})`);
    if (r.status === 401 && r.challenged.length >= 2) {
      const [a, b] = r.challenged.map((m) => parseAuthParams(m.header('www-authenticate') || 'x '));
      t.check(a.nonce && b.nonce && a.nonce !== b.nonce, 'the second 401 is a fresh challenge (new nonce)');
    }
    const leaked = c.socket.messages('in').filter((m) => m.isResponse && m.header('3gpp-ext-turn-cred'));
    t.check(leaked.length === 0, 'no 3gpp-ext-turn-cred on any 401/403', leaked.map((m) => m.start));
    await c.stop();
  });

  // --- Registration with Digest MD5 and Solution 1 (X.5.2 steps 1-5).
  const alice = client(USERS.alice, { name: 'alice' });
  const bob = client(USERS.bob, { name: 'bob' });
  let cred;
  await t.step('registration with Digest MD5 and 3gpp-ext-turn-cred', async () => {
    t.check((await alice.start()).connected && (await bob.start()).connected, 'alice and bob connect over WSS');
    const ra = await alice.register({ turnCred: true });
    t.check(ra.registered && ra.status === 200, `JsSIP alice registered (${ra.status} ${ra.reason || ra.cause || ''})`, ra.note);
    const ch = ra.challenged[0] ? parseAuthParams(ra.challenged[0].header('www-authenticate') || 'x ') : {};
    t.check(ch.scheme === 'Digest' && (ch.algorithm || 'MD5').toUpperCase() === 'MD5' && ch.realm === DOMAIN && /\bauth\b/.test(ch.qop || ''),
            `challenged with Digest MD5, realm="${DOMAIN}", qop="auth" (JsSIP answers MD5 only: MD5 must be the first challenge)`, ch);
    t.check(ra.challenged.every((m) => !m.header('3gpp-ext-turn-cred')), 'the 401 carries no 3gpp-ext-turn-cred');
    const auth = parseAuthParams(ra.requests.at(-1)?.header('authorization') || 'x ');
    t.check(auth.username === USERS.alice.impi && auth.qop === 'auth', 'JsSIP answered with username=IMPI, qop=auth', auth);
    t.check(!!ra.turnCred, 'the 200 OK carries 3gpp-ext-turn-cred', ra.turnCred);
    cred = parseTurnCred(ra.turnCred);
    if (cred && cred.valid) {
      const now = Math.floor(Date.now() / 1000);
      t.check(/^[A-Za-z0-9_-]{22}$/.test(cred.tid) && !/^\d+$/.test(cred.tid), 'Tid: 22 base64url characters, not all digits', cred.tid);
      t.check(cred.texp > now && cred.texp <= now + 3600 + 3600 + 60, 'Texp: in the future, within lifetime (1h) + grace', { texp: cred.texp, now });
      t.check(cred.password === solution1Password(KM, cred.username), 'Tpwd = base64(HMAC-SHA-1(Km, "Tid:Texp"))');
      t.check(cred.uris.some((u) => u.startsWith(`turn:127.0.0.1:${ports.turn}`)), 'uri parameters list the configured TURN server', cred.uris);
    } else {
      t.check(false, 'the 3gpp-ext-turn-cred value parses as <Tid>:<Texp>:<Tpwd>[;uri="..."]', ra.turnCred);
    }
    const rb = await bob.register();
    t.check(rb.registered && rb.status === 200, `JsSIP bob registered (${rb.status})`);
    t.check(rb.turnCred === null, 'no 3gpp-ext-turn-cred when the REGISTER did not ask for one', rb.turnCred);
  });

  // --- X.5.2 steps 6-8: the browser uses the credential with webims turn.
  await t.step('Chromium gets a relay candidate with the credential', async () => {
    if (!cred || !cred.valid) { t.check(false, 'a credential to use'); return; }
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${ports.turnControl}/health`);
    const urls = cred.uris.filter((u) => /transport=udp/.test(u));
    const good = await gatherRelayCandidates(page, [{ urls: urls.length ? urls : [`turn:127.0.0.1:${ports.turn}?transport=udp`],
                                                     username: cred.username, credential: cred.password }]);
    t.check(good.candidates.some((c) => c.type === 'relay' && c.address === '127.0.0.1'),
            'Chromium gathered a relay candidate from webims turn with the eP-CSCF credential', good);
    const texp = Math.floor(Date.now() / 1000) - 120;
    const expiredUser = `${randomBytes(16).toString('base64url')}:${texp}`;
    const bad = await gatherRelayCandidates(page, [{ urls: `turn:127.0.0.1:${ports.turn}?transport=udp`, username: expiredUser,
                                                    credential: solution1Password(KM, expiredUser) }], 6000);
    t.check(bad.candidates.length === 0 && bad.errors.some((e) => e.errorCode === 401),
            'Chromium with an expired credential (same Km): no relay candidate, TURN error 401', bad);
  });
  await t.step('TURN Allocate: provisioned credential accepted, expired one 401', async () => {
    if (!cred || !cred.valid) return;
    const c1 = new TurnUdpClient('127.0.0.1', ports.turn);
    const ok = await c1.allocate(cred.username, cred.password);
    t.check(ok.ok && !!ok.relayed, `Allocate with the eP-CSCF credential: relayed ${ok.relayed}`, ok);
    await c1.release(); c1.close();
    const expiredUser = `${randomBytes(16).toString('base64url')}:${Math.floor(Date.now() / 1000) - 60}`;
    const c2 = new TurnUdpClient('127.0.0.1', ports.turn);
    const ex = await c2.allocate(expiredUser, solution1Password(KM, expiredUser));
    t.check(!ex.ok && ex.code === 401, `expired TURN credential → TURN 401 (${ex.code} ${ex.reason || ''})`, ex);
    c2.close();
  });

  // --- Replay of alice's Authorization in a new transaction on a new connection.
  await t.step('replayed Authorization', async () => {
    const captured = alice.socket.log.filter((e) => e.dir === 'out' && /^REGISTER /.test(e.text) && /\r\nAuthorization: Digest/i.test(e.text)).at(-1);
    t.check(!!captured, 'captured alice\'s authorised REGISTER');
    if (!captured) return;
    const raw = await RawWs.open(wsUrl, { origin: ORIGIN, ca });
    const replay = retransact(captured.text, 77);
    const callId = /\r\nCall-ID:\s*(\S+)/i.exec(replay)[1];
    raw.send(replay);
    const r = await raw.finalResponse(callId, 'REGISTER', 5000);
    t.check(!!r && r.status >= 400, `replayed Authorization (same nonce and nc) refused: ${r ? `${r.status} ${r.reason}` : 'no answer'}`);
    t.check(!r || !r.header('3gpp-ext-turn-cred'), 'no TURN credential for the replay');
    raw.close();
  });

  // --- Two JsSIP clients: MESSAGE and INVITE through eP-CSCF and core.
  await t.step('MESSAGE alice → bob', async () => {
    const body = `hello bob ${token(4)}`;
    const sent = await alice.sendMessage(USERS.bob.impu, body);
    t.check(sent.ok && sent.status === 200, `alice's MESSAGE answered ${sent.status} ${sent.reason || sent.cause || ''}`);
    const got = await bob.nextMessage(5000, (m) => m.body === body);
    t.check(!!got && got.from === USERS.alice.impu, 'bob received alice\'s MESSAGE through eP-CSCF and core', got && got.from);
    if (got) t.check(!got.pai || got.pai.includes(USERS.alice.impu.slice(4)), 'P-Asserted-Identity (if any) is alice', got.pai);
    const nobody = await alice.sendMessage(`sip:nobody@${DOMAIN}`, 'x');
    t.check(!nobody.ok && (nobody.status === 404 || nobody.status === 480), `MESSAGE to an unknown user: ${nobody.status}`);
  });
  await t.step('INVITE alice → bob', async () => {
    const call = await alice.call(USERS.bob.impu);
    t.check(call.confirmed && call.status === 200, `alice's INVITE answered and confirmed (${call.status} ${call.cause || ''})`);
    const inc = await bob.nextIncomingCall(5000);
    t.check(!!inc && inc.from === USERS.alice.impu && /^v=0/.test(inc.sdp || ''), 'bob received the INVITE with the SDP offer');
    t.check(!!inc && await within(inc.confirmed, 5000, false), 'bob\'s session confirmed (ACK through eP-CSCF and core)');
    const h = await JsSipClient.hangup(call.session);
    const ended = inc && await within(inc.ended, 5000);
    t.check(h.ended && !!ended && ended.originator === 'remote', 'BYE reached bob', ended && ended.cause);
  });

  // --- Identity binding: an INVITE on alice's connection with a From bound to another connection
  // (bob's). To carol, not registered yet: were it let through, the core would answer 404/480, not 403.
  await t.step('INVITE with an unbound From', async () => {
    const inv = buildRequest({ method: 'INVITE', uri: USERS.carol.impu, viaHost: alice.viaHost, from: USERS.bob.impu, to: USERS.carol.impu,
                               contact: `<sip:${token(4)}@${alice.viaHost};transport=ws>`, headers: ['Content-Type: application/sdp'],
                               body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' });
    const callId = /\r\nCall-ID:\s*(\S+)/.exec(inv)[1];
    const r = await alice.sendRaw(inv, (m) => m.isResponse && m.callId === callId && m.status >= 200, 5000);
    t.check(!!r && r.status === 403, `INVITE with From: bob on alice's connection → ${r ? `${r.status} ${r.reason}` : 'no answer'}`);
    if (r && r.status >= 300) alice.sendRaw(ackFor(inv, r));
    const spoofedMsg = await alice.sendMessage(USERS.bob.impu, 'still alice?');
    t.check(spoofedMsg.ok, 'alice\'s own identity still works on that connection', spoofedMsg);
  });

  // --- Solution 1 on OPTIONS (protocols.md): only from a bound identity.
  await t.step('3gpp-ext-turn-cred on OPTIONS', async () => {
    const o = await alice.sendOptions(`sip:${DOMAIN}`, { extraHeaders: ['3gpp-ext-turn-cred: request'] });
    const c = parseTurnCred(o.turnCred);
    t.check(!!c && c.valid && c.password === solution1Password(KM, c.username),
            `OPTIONS with 3gpp-ext-turn-cred: request from a bound identity → ${o.status} with a credential`, o.turnCred);
    const raw = await RawWs.open(wsUrl, { origin: ORIGIN, ca });
    const opt = buildRequest({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: USERS.carol.impu, to: `sip:${DOMAIN}`, headers: ['3gpp-ext-turn-cred: request'] });
    raw.send(opt);
    const r = await raw.finalResponse(/\r\nCall-ID:\s*(\S+)/.exec(opt)[1], 'OPTIONS', 5000);
    t.check(!!r && !r.header('3gpp-ext-turn-cred'), `OPTIONS on an unregistered connection: ${r ? r.status : 'no answer'}, no credential`);
    raw.close();
  });

  // --- Malformed SIP: 400 (or close 1002 when no response can be formed); the server keeps serving.
  await t.step('malformed SIP', async () => {
    const raw = await RawWs.open(wsUrl, { origin: ORIGIN, ca });
    const bad = buildRequest({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: USERS.carol.impu, to: `sip:${DOMAIN}` })
      .replace(/CSeq: 1 OPTIONS/, 'CSeq: 1 INVITE');
    raw.send(bad);
    const r = await raw.next((m) => m.isResponse, 5000);
    t.check(!!r && r.status === 400, `request with CSeq method ≠ request method → ${r ? `${r.status} ${r.reason}` : 'no answer'}`);
    const mark = raw.mark();
    raw.send('this is not SIP at all\r\n\r\n');
    const r2 = await raw.next((m) => m.isResponse, 3000, mark);
    const closed = r2 ? null : await raw.waitClosed(3000);
    t.check((r2 && r2.status === 400) || (closed && closed.code === 1002), 'garbage → 400, or close 1002 when no response can be formed',
            r2 ? r2.start : closed);
    raw.close();
    t.check(!!(await httpHealth(`http://127.0.0.1:${ports.pcscfControl}/health`)), 'pcscf /health still answers');
    const carol = client(USERS.carol, { name: 'carol' });
    t.check((await carol.start()).connected, 'a new WSS connection is accepted after malformed input');
    const rc = await carol.register();
    t.check(rc.registered, `and a new JsSIP client registers (${rc.status})`);
    const again = await bob.sendMessage(USERS.alice.impu, 'still serving?');
    t.check(again.ok && !!(await alice.nextMessage(5000, (m) => m.body === 'still serving?')), 'existing clients still exchange MESSAGEs');
  });

  // --- Closing the connection ends the binding: bob cannot be reached after his WebSocket closed.
  await t.step('closing the connection ends the binding', async () => {
    // The connection drops (no un-REGISTER: JsSIP is stopped after its socket is gone); the core still
    // has carol's registration, but the eP-CSCF has no flow to her any more.
    const carol = clients.find((c) => c.name === 'carol');
    carol.socket.ws.terminate();
    carol.ua.stop();
    await new Promise((r) => setTimeout(r, 500));
    const r = await alice.sendMessage(USERS.carol.impu, 'anyone?');
    t.check(!r.ok && r.status >= 400, `MESSAGE to carol after her connection closed: ${r.status}`);
  });

  // --- Accountability (X.5.2): the Tid -> IMPU record of alice's credential is in the store, and
  // records past [pcscf] turn_credential_retention (30 days by default) are deleted at start.
  await t.step('TURN credential records and their retention', async () => {
    const db = join(dir, 'webims.db');
    const sql = (code) => spawnSync('/usr/bin/python3', ['-c', `import sqlite3, sys, json, time\nc = sqlite3.connect(sys.argv[1])\n${code}`, db],
                                    { encoding: 'utf8', timeout: 10000 });
    const rows = () => JSON.parse(sql('print(json.dumps(c.execute("SELECT tid, impu FROM turn_credentials").fetchall()))').stdout || '[]');
    t.check(!!cred && rows().some(([tid, impu]) => tid === cred?.tid && impu === USERS.alice.impu),
            "alice's credential has its Tid -> IMPU record in the store", rows());
    const ex = await servers.pcscf.stop();
    t.check(ex.code === 0, 'webims pcscf stops for a restart', ex);
    const ins = sql(`now = int(time.time())
for tid, exp in (("old-record", now - 40 * 86400), ("recent-record", now - 3600)):
    c.execute("INSERT INTO turn_credentials (tid, impu, impi, expires_unix, created_unix, origin) VALUES (?, ?, ?, ?, ?, ?)",
              (tid, "${USERS.bob.impu}", "${USERS.bob.impi}", exp, exp - 3600, "${ORIGIN}"))
c.commit()`);
    t.check(ins.status === 0, 'two expired records inserted (40 days and 1 hour ago)', ins.stderr);
    servers.pcscf = await startWebims(binary, 'pcscf', config, dir, { health: `http://127.0.0.1:${ports.pcscfControl}/health` });
    const tids = rows().map(([tid]) => tid);
    t.check(!tids.includes('old-record') && tids.includes('recent-record') && tids.includes(cred?.tid),
            'after the restart: the record past retention is gone, the recent one and the live one stay', tids);
    t.check(servers.pcscf.readLog().includes('deleted 1 TURN credential record'), 'the deletion is logged');
  });
} catch (e) {
  t.check(false, 'test ran to completion', e.stack || e.message);
} finally {
  for (const c of clients) await c.stop().catch(() => {});
  if (browser) await browser.close().catch(() => {});
  for (const name of ['pcscf', 'core', 'turn']) {
    const p = servers[name];
    if (!p) continue;
    const ex = await p.stop();
    t.check(ex.code === 0 && !p.killed, `webims ${name} exited cleanly on SIGTERM`, ex);
    const log = p.readLog();
    t.check(!log.includes(KM) && !Object.values(USERS).some((u) => log.includes(u.password)), `webims ${name}: no Km, no password in its log`);
  }
  await stopAll();
}
if (t.failed.length) for (const [n, p] of Object.entries(servers)) console.log(`--- webims ${n} log (tail) ---\n${p.tail(40)}`);
process.exit(t.summary() ? 0 : 1);
