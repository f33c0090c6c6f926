// Interop: the JsSIP test client (jssip_client.mjs) and the raw SIP helpers (sip_raw.mjs) against
// Kamailio 5.6 as a plain SIP-over-WSS registrar (kamailio/wss-registrar.cfg: Digest MD5 from a
// SQLite subscriber table, Origin allow-list, nonce-count replay protection). This proves the clients
// before they are pointed at webims' eP-CSCF (pcscf_core_test.mjs): JsSIP registers (good password →
// 200, wrong → 401), two JsSIP clients exchange a MESSAGE and an INVITE (SDP only) with ACK and BYE,
// a replayed Authorization is refused, a disallowed Origin gets HTTP 403.
// usage: node jssip_kamailio_test.mjs      (needs Debian kamailio + websocket, tls, sqlite modules)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checks, freePort, kamailioDb, selfSignedCert, startKamailio, stopAll, tempDir, watchdog } from './node_harness.mjs';
import { JsSipClient } from './jssip_client.mjs';
import { RawWs, ackFor, buildRequest, parseAuthParams, rawRegister, retransact, token, wsHandshakeStatus } from './sip_raw.mjs';

const DOMAIN = 'ims.example.org';
const ORIGIN = 'https://wwsf.example.org';
const USERS = {
  alice: { impu: `sip:alice@${DOMAIN}`, impi: `alice@${DOMAIN}`, password: 'alice-secret' },
  bob: { impu: `sip:bob@${DOMAIN}`, impi: `bob@${DOMAIN}`, password: 'bob-secret' },
  carol: { impu: `sip:carol@${DOMAIN}`, impi: 'carol', password: 'carol-secret' },   // plain username
};

const t = new Checks();
const dir = tempDir('jssip-kamailio-');
let kamailio;
const clients = [];
watchdog(120000, () => kamailio && console.log(kamailio.tail()));

function client(u, overrides = {}) {
  const c = new JsSipClient({ wsUrl, origin: ORIGIN, ca, uri: u.impu, user: u.impi, password: u.password, ...overrides });
  clients.push(c);
  return c;
}

const port = await freePort();
const wsUrl = `wss://127.0.0.1:${port}/`;
const { cert, key } = selfSignedCert(dir);
const ca = readFileSync(cert);
kamailioDb(join(dir, 'kamailio.sqlite'), DOMAIN, Object.values(USERS).map((u) => ({ username: u.impi, password: u.password })));

try {
  kamailio = await startKamailio(dir, 'wss-registrar.cfg', {
    listen: [`tls:127.0.0.1:${port}`],
    defines: { DBURL: `sqlite:///${dir}/kamailio.sqlite`, TLS_CERT: cert, TLS_KEY: key, ALLOWED_ORIGIN: ORIGIN },
  });

  // --- WebSocket handshake: Origin allow-list and subprotocol.
  const good = await wsHandshakeStatus(wsUrl, { origin: ORIGIN, ca });
  t.check(good.status === 101 && good.protocol === 'sip', 'handshake with the allowed Origin upgrades with subprotocol sip', good);
  const evil = await wsHandshakeStatus(wsUrl, { origin: 'https://evil.example', ca });
  t.check(evil.status === 403, 'handshake with a disallowed Origin is answered HTTP 403', evil);

  // --- Registration with Digest: wrong password, then right.
  await t.step('JsSIP with a wrong password is not registered', async () => {
    const c = client(USERS.alice, { password: 'wrong', name: 'alice-wrong' });
    const s = await c.start();
    t.check(s.connected, 'JsSIP connects over WSS with the allowed Origin', s);
    const r = await c.register();
    t.check(!r.registered && (r.status === 401 || r.status === 403), `wrong password: not registered, final ${r.status}`, r.cause);
    t.check(r.requests.some((q) => /^Digest /.test(q.header('authorization') || '')), 'wrong password: JsSIP did answer the challenge');
    await c.stop();
  });

  const alice = client(USERS.alice, { name: 'alice' });
  const bob = client(USERS.bob, { name: 'bob' });
  await t.step('two JsSIP clients register with Digest MD5', async () => {
    t.check((await alice.start()).connected && (await bob.start()).connected, 'alice and bob connect');
    const ra = await alice.register({ turnCred: true });
    t.check(ra.registered && ra.status === 200, `alice registered (${ra.status} ${ra.reason || ra.cause})`, ra.note);
    const ch = ra.challenged.length ? parseAuthParams(ra.challenged[0].header('www-authenticate')) : {};
    t.check(ra.challenged.length === 1 && (ch.algorithm || 'MD5').toUpperCase() === 'MD5' && ch.qop === 'auth' && ch.realm === DOMAIN,
            'alice was challenged once: Digest MD5 (no algorithm = MD5), qop="auth", realm = home domain', ch);
    const auth = parseAuthParams(ra.requests.at(-1).header('authorization') || 'x ');
    t.check(auth.username === USERS.alice.impi && auth.qop === 'auth' && auth.nc === '00000001',
            'the authorised REGISTER carries username=IMPI, qop=auth, nc=00000001', auth);
    t.check(ra.requests.every((q) => q.header('3gpp-ext-turn-cred') === 'request'),
            'JsSIP put 3gpp-ext-turn-cred: request on every REGISTER (registrator extra headers)');
    t.check(ra.turnCred === null, 'Kamailio answers no 3gpp-ext-turn-cred (it knows nothing of it)');
    const rb = await bob.register();
    t.check(rb.registered && rb.status === 200, `bob registered (${rb.status})`);
  });

  // --- MESSAGE alice → bob.
  await t.step('MESSAGE between two JsSIP clients', async () => {
    const body = `hello bob ${token(4)}`;
    const sent = await alice.sendMessage(USERS.bob.impu, body);
    t.check(sent.ok && sent.status === 200, `alice's MESSAGE answered ${sent.status}`, sent);
    const got = await bob.nextMessage(5000, (m) => m.body === body);
    t.check(!!got && got.from === USERS.alice.impu, 'bob received the MESSAGE from alice', got && got.from);
    const nobody = await alice.sendMessage(`sip:nobody@${DOMAIN}`, 'x');
    t.check(!nobody.ok && nobody.status === 404, `MESSAGE to an unregistered user: ${nobody.status}`);
  });

  // --- INVITE alice → bob, answered (SDP only), ACK, BYE.
  await t.step('INVITE between two JsSIP clients', async () => {
    const call = await alice.call(USERS.bob.impu);
    t.check(call.confirmed && call.status === 200, `alice's INVITE answered 200 and confirmed (ACK sent)`, call);
    const inc = await bob.nextIncomingCall(5000);
    t.check(!!inc && inc.from === USERS.alice.impu && /^v=0/.test(inc.sdp || ''), 'bob received the INVITE with alice\'s SDP offer');
    t.check(/^v=0/.test(call.remoteSdp || ''), 'alice received bob\'s SDP answer');
    t.check(inc && await Promise.race([inc.confirmed, new Promise((r) => setTimeout(() => r(false), 5000))]),
            'bob\'s session confirmed (the ACK reached him through Kamailio)');
    const h = await JsSipClient.hangup(call.session);
    const ended = inc && await Promise.race([inc.ended, new Promise((r) => setTimeout(() => r(null), 5000))]);
    t.check(h.ended && ended && ended.originator === 'remote', 'alice hung up and bob got the BYE', { h, ended: ended && ended.cause });
  });

  // --- Raw requests on JsSIP's own connection (as the eP-CSCF tests inject an unbound From), OPTIONS.
  await t.step('raw request on JsSIP\'s connection, OPTIONS', async () => {
    const inv = buildRequest({ method: 'INVITE', uri: `sip:nobody@${DOMAIN}`, viaHost: alice.viaHost, from: USERS.alice.impu,
                               to: `sip:nobody@${DOMAIN}`, contact: `<sip:x@${alice.viaHost};transport=ws>` });
    const callId = /\r\nCall-ID:\s*(\S+)/.exec(inv)[1];
    const r = await alice.sendRaw(inv, (m) => m.isResponse && m.callId === callId && m.status >= 200, 5000);
    t.check(!!r && r.status === 404, `hand-built INVITE on alice's JsSIP connection answered (${r && r.status})`);
    if (r) alice.sendRaw(ackFor(inv, r));
    const o = await alice.sendOptions(`sip:${DOMAIN}`, { extraHeaders: ['3gpp-ext-turn-cred: request'] });
    t.check(o.status === 404 && o.turnCred === null, `JsSIP OPTIONS answered (${o.status}), no credential from Kamailio`);
  });

  // --- Replay: alice's authorised REGISTER (same nonce, nc, cnonce, response) in a new transaction
  // on a new connection. A byte-identical copy would be a retransmission; this is a replay.
  await t.step('a replayed Authorization is refused', async () => {
    const captured = alice.socket.log.filter((e) => e.dir === 'out' && /^REGISTER /.test(e.text) && /\r\nAuthorization: Digest/i.test(e.text)).at(-1);
    t.check(!!captured, 'captured alice\'s authorised REGISTER from JsSIP\'s connection');
    const raw = await RawWs.open(wsUrl, { origin: ORIGIN, ca });
    const replay = retransact(captured.text, 50);
    const callId = /\r\nCall-ID:\s*(\S+)/i.exec(replay)[1];
    raw.send(replay);
    const r = await raw.finalResponse(callId, 'REGISTER', 5000);
    t.check(r && r.status !== 200 && r.status >= 400, `replayed Authorization refused (${r ? `${r.status} ${r.reason}` : 'no answer'})`);
    // The raw Digest helper itself works (fresh nonce, nc=1): the refusal above is the replay's.
    const fresh = await rawRegister(raw, { impu: USERS.carol.impu, impi: USERS.carol.impi, password: USERS.carol.password });
    t.check(fresh.status === 200, `raw REGISTER with a fresh Digest answer accepted (${fresh.status})`);
    raw.close();
  });

  // --- Malformed SIP on a WebSocket; the server keeps serving.
  await t.step('malformed SIP, then the server still serves', async () => {
    const raw = await RawWs.open(wsUrl, { origin: ORIGIN, ca });
    const bad = buildRequest({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: USERS.carol.impu, to: USERS.carol.impu })
      .replace(/CSeq: 1 OPTIONS/, 'CSeq: 1 INVITE');
    raw.send(bad);
    raw.send('this is not SIP\r\n\r\n');
    const r = await raw.next((m) => m.isResponse, 2000);
    console.log(`info Kamailio's answer to malformed SIP: ${r ? `${r.status} ${r.reason}` : 'none (it drops what sanity_check refuses)'}`);
    raw.close();
    const again = await bob.sendMessage(USERS.alice.impu, 'still there?');
    t.check(again.ok, 'after malformed input, a MESSAGE still goes through', again);
  });
  // --- A connection that drops: the registrar still has the contact, but nothing reaches it.
  await t.step('a dropped WebSocket', async () => {
    bob.socket.ws.terminate();
    bob.ua.stop();
    await new Promise((r) => setTimeout(r, 300));
    const r = await alice.sendMessage(USERS.bob.impu, 'anyone?');
    t.check(!r.ok && r.status >= 400, `MESSAGE to bob after his connection dropped fails (${r.status} ${r.reason || r.cause || ''})`);
  });
} catch (e) {
  t.check(false, 'test ran to completion', e.stack || e.message);
} finally {
  for (const c of clients) await c.stop().catch(() => {});
  if (kamailio) {
    const ex = await kamailio.stop();
    t.check(!kamailio.killed, `kamailio stopped on SIGTERM (${JSON.stringify(ex)})`);
  }
  await stopAll();
}
if (t.failed.length && kamailio) console.log('--- kamailio log (tail) ---\n' + kamailio.tail(60));
const ok = t.summary();
process.exit(ok ? 0 : 1);
