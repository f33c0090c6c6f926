// Interop: webims' eP-CSCF in front of an external IMS core, Kamailio 5.6 (kamailio/ims-core.cfg:
// registrar with Digest auth from a small SQLite database, SIP over UDP/TCP only, Path + lookup).
//
// Part 1, always: Kamailio as the core stand-in. A plain SIP REGISTER over TCP and over UDP gets 401
// with a Digest challenge for the home domain; then a stand-in eP-CSCF (a TCP socket of this test)
// registers bob with a Path and Supported: path, and Kamailio (a) echoes the Path and adds
// Service-Route, (b) sends a MESSAGE and an INVITE for bob to the Path URI with the flow token in
// Route, (c) Record-Routes the INVITE and loose-routes the ACK and BYE the same way.
// Part 2, with a webims binary that has `pcscf`: `webims pcscf` with next_hop = Kamailio; JsSIP
// clients register through it over WSS with Digest, exchange a MESSAGE and an INVITE.
// usage: node pcscf_kamailio_test.mjs [WEBIMS_BINARY]
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { Checks, freePort, kamailioDb, startKamailio, stopAll, tempDir, watchdog } from './node_harness.mjs';
import { RawTcp, buildRequest, parseAuthParams, parseSip, rawRegister, token } from './sip_raw.mjs';
import { JsSipClient } from './jssip_client.mjs';
import { allocatePorts, hasCommand, startWebims, webimsCa, webimsConfig, writeConfig } from './webims_servers.mjs';

const binary = process.argv[2];
const DOMAIN = 'ims.example.org';
const ORIGIN = 'https://wwsf.example.org';
const KM = 'pcscf-kamailio-interop-km';
const USERS = {
  alice: { impu: `sip:alice@${DOMAIN}`, impi: `alice@${DOMAIN}`, password: 'alice-secret' },
  bob: { impu: `sip:bob@${DOMAIN}`, impi: `bob@${DOMAIN}`, password: 'bob-secret' },
};

const t = new Checks();
const dir = tempDir('pcscf-kamailio-');
let kamailio, pcscf;
const clients = [];
watchdog(150000, () => { if (kamailio) console.log(kamailio.tail()); if (pcscf) console.log(pcscf.tail()); });

const sipPort = await freePort();
kamailioDb(join(dir, 'kamailio.sqlite'), DOMAIN, Object.values(USERS).map((u) => ({ username: u.impi, password: u.password })));

function udpRequest(port, text, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(null); }, timeoutMs);
    s.on('message', (d) => { clearTimeout(t); s.close(); resolve(parseSip(d.toString('utf8'))); });
    s.bind(0, '127.0.0.1', () => s.send(text, port, '127.0.0.1'));
  });
}

async function standinChecks() {
  // --- A plain REGISTER, no credentials: 401 with a Digest challenge (TCP and UDP).
  const tcp = await RawTcp.open('127.0.0.1', sipPort);
  const reg = buildRequest({ method: 'REGISTER', uri: `sip:${DOMAIN}`, transport: 'TCP', viaHost: `127.0.0.1:${tcp.local.port}`,
                             from: USERS.alice.impu, to: USERS.alice.impu, contact: `<sip:alice@127.0.0.1:${tcp.local.port};transport=tcp>`,
                             headers: ['Expires: 600'] });
  tcp.send(reg);
  const r401 = await tcp.finalResponse(parseSip(reg).callId, 'REGISTER', 3000);
  const ch = r401 ? parseAuthParams(r401.header('www-authenticate') || 'x ') : {};
  t.check(r401 && r401.status === 401 && ch.scheme === 'Digest' && ch.realm === DOMAIN && ch.qop === 'auth',
          `plain REGISTER over TCP: 401 with Digest realm="${DOMAIN}" qop="auth"`, r401 && r401.start);
  const udpReg = buildRequest({ method: 'REGISTER', uri: `sip:${DOMAIN}`, transport: 'UDP', viaHost: '127.0.0.1:9',
                                from: USERS.alice.impu, to: USERS.alice.impu, contact: '<sip:alice@127.0.0.1:9>' });
  const u401 = await udpRequest(sipPort, udpReg);
  t.check(u401 && u401.status === 401, 'plain REGISTER over UDP: 401', u401 && u401.start);
  tcp.close();

  // --- A stand-in eP-CSCF: registers bob with a Path to its own listener (flow token in the user
  // part, as webims' eP-CSCF does), then receives what Kamailio routes to bob.
  const inbound = [];
  const listener = createServer((sock) => inbound.push(RawTcp.fromSocket(sock)));
  await new Promise((r) => listener.listen(0, '127.0.0.1', r));
  const lp = listener.address().port;
  const flow = `flow-${token(6)}`;
  const pathUri = `sip:${flow}@127.0.0.1:${lp};transport=tcp;lr`;
  const up = await RawTcp.open('127.0.0.1', sipPort);
  const rb = await rawRegister(up, { ...USERS.bob, transport: 'TCP', viaHost: `127.0.0.1:${lp}`,
                                     contact: `<sip:bob@${token(4)}.invalid;transport=ws>;expires=600`,
                                     headers: [`Path: <${pathUri}>`, 'Supported: path'] });
  t.check(rb.status === 200, `REGISTER with Path and Digest through the stand-in eP-CSCF: ${rb.status}`);
  const ok = rb.response;
  t.check(ok && (ok.header('path') || '').includes(flow), 'the 200 OK echoes the Path (RFC 3327)', ok && ok.header('path'));
  const serviceRoute = ok && ok.header('service-route');
  t.check(!!serviceRoute && /;lr/.test(serviceRoute) && serviceRoute.includes(`127.0.0.1:${sipPort};transport=tcp`),
          'the 200 OK carries a Service-Route to Kamailio', serviceRoute);
  t.check(ok && (ok.header('p-associated-uri') || '').includes(USERS.bob.impu), 'the 200 OK carries P-Associated-URI', ok && ok.header('p-associated-uri'));

  // Kamailio reaches the stand-in eP-CSCF on a connection it opens to the Path URI.
  const nextInbound = async (pred, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const c of inbound) { const m = c.inbox.items.find(pred); if (m) return { conn: c, msg: m }; }
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  };

  // MESSAGE alice → bob, sent by "the eP-CSCF" with the Service-Route pre-loaded.
  const origin = await RawTcp.open('127.0.0.1', sipPort);
  const route = `Route: ${serviceRoute.split(',')[0].trim()}`;
  const msg = buildRequest({ method: 'MESSAGE', uri: USERS.bob.impu, transport: 'TCP', viaHost: `127.0.0.1:${origin.local.port}`,
                             from: USERS.alice.impu, to: USERS.bob.impu, headers: [route, 'Content-Type: text/plain'], body: 'via path' });
  origin.send(msg);
  const got = await nextInbound((m) => m.method === 'MESSAGE');
  t.check(!!got, 'Kamailio sent the MESSAGE for bob to the Path URI');
  if (got) {
    t.check((got.msg.header('route') || '').includes(flow), 'the MESSAGE carries the flow token in Route', got.msg.header('route'));
    t.check(got.msg.uri.startsWith('sip:bob@') && got.msg.body === 'via path', 'Request-URI is bob\'s registered contact, body intact', got.msg.uri);
    got.conn.reply(got.msg, 200, 'OK');
  }
  const msgOk = await origin.finalResponse(parseSip(msg).callId, 'MESSAGE', 3000);
  t.check(msgOk && msgOk.status === 200, 'the 200 to the MESSAGE came back to the sender', msgOk && msgOk.start);

  // INVITE alice → bob: Record-Route, 200, ACK and BYE by loose routing to the Path again.
  const callId = token(10);
  const inv = buildRequest({ method: 'INVITE', uri: USERS.bob.impu, transport: 'TCP', viaHost: `127.0.0.1:${origin.local.port}`,
                             from: USERS.alice.impu, fromTag: 'a1', to: USERS.bob.impu, callId,
                             contact: `<sip:alice@127.0.0.1:${origin.local.port};transport=tcp>`,
                             headers: [route, 'Content-Type: application/sdp'], body: 'v=0\r\n' });
  origin.send(inv);
  const gotInv = await nextInbound((m) => m.method === 'INVITE');
  t.check(!!gotInv && (gotInv.msg.header('route') || '').includes(flow), 'Kamailio sent the INVITE to the Path URI');
  t.check(!!gotInv && (gotInv.msg.header('record-route') || '').length > 0, 'the INVITE is Record-Routed');
  if (!gotInv) return;
  const rr = gotInv.msg.all('record-route');
  gotInv.conn.reply(gotInv.msg, 200, 'OK', [...rr.map((v) => `Record-Route: ${v}`), `Contact: <sip:bob@127.0.0.1:${lp};transport=tcp>`]);
  const inv200 = await origin.finalResponse(callId, 'INVITE', 3000);
  t.check(inv200 && inv200.status === 200, 'the 200 to the INVITE came back to the caller');
  if (!inv200) return;
  const toHdr = inv200.header('to');
  const routeSet = inv200.all('record-route').reverse().map((v) => `Route: ${v}`);
  for (const [method, cseq] of [['ACK', 1], ['BYE', 2]]) {
    origin.send(buildRequest({ method, uri: `sip:bob@127.0.0.1:${lp};transport=tcp`, transport: 'TCP', viaHost: `127.0.0.1:${origin.local.port}`,
                               from: USERS.alice.impu, fromTag: 'a1', to: toHdr.replace(/^<|>.*$/g, ''), toTag: /tag=([^;\s]+)/.exec(toHdr)[1],
                               callId, cseq, headers: routeSet }));
    const g = await nextInbound((m) => m.method === method && m.callId === callId);
    t.check(!!g, `${method} loose-routed to bob (in-dialog, via the Record-Route)`);
    if (g && method === 'BYE') g.conn.reply(g.msg, 200, 'OK');
  }
  const bye200 = await origin.finalResponse(callId, 'BYE', 3000);
  t.check(bye200 && bye200.status === 200, '200 to the BYE came back');

  // Unknown user → 404.
  const nf = buildRequest({ method: 'MESSAGE', uri: `sip:nobody@${DOMAIN}`, transport: 'TCP', viaHost: `127.0.0.1:${origin.local.port}`,
                            from: USERS.alice.impu, to: `sip:nobody@${DOMAIN}`, body: 'x' });
  origin.send(nf);
  const r404 = await origin.finalResponse(parseSip(nf).callId, 'MESSAGE', 3000);
  t.check(r404 && r404.status === 404, 'MESSAGE to an unregistered user: 404');
  origin.close(); up.close();
  for (const c of inbound) c.close();
  listener.close();
}

async function pcscfChecks() {
  const ports = await allocatePorts(['pcscf']);
  const config = writeConfig(dir, webimsConfig({ dir, ports, domain: DOMAIN, km: KM, origins: [ORIGIN],
                                                nextHop: `sip:127.0.0.1:${sipPort};transport=tcp` }));
  pcscf = await startWebims(binary, 'pcscf', config, dir, { health: `http://127.0.0.1:${ports.pcscfControl}/health` });
  const ca = webimsCa(dir);
  const wsUrl = `wss://127.0.0.1:${ports.wss}/`;
  const mk = (u) => { const c = new JsSipClient({ wsUrl, origin: ORIGIN, ca, uri: u.impu, user: u.impi, password: u.password }); clients.push(c); return c; };
  const alice = mk(USERS.alice), bob = mk(USERS.bob);
  t.check((await alice.start()).connected && (await bob.start()).connected, 'JsSIP clients connect to webims pcscf over WSS');
  const ra = await alice.register({ turnCred: true });
  t.check(ra.registered && ra.status === 200, `JsSIP registers through webims pcscf in front of Kamailio (Digest): ${ra.status} ${ra.reason || ra.cause || ''}`, ra.note);
  t.check(ra.challenged.length >= 1, 'the Digest challenge came from Kamailio through the pcscf');
  t.check(!!ra.turnCred, 'the pcscf added 3gpp-ext-turn-cred to the 200 OK from the external core', ra.turnCred);
  const rb = await bob.register();
  t.check(rb.registered, `bob registers through the pcscf: ${rb.status}`);
  const body = `hi bob ${token(3)}`;
  const sent = await alice.sendMessage(USERS.bob.impu, body);
  t.check(sent.ok, `MESSAGE alice → bob through pcscf and Kamailio: ${sent.status}`, sent);
  t.check(!!(await bob.nextMessage(5000, (m) => m.body === body)), 'bob received the MESSAGE');
  const call = await alice.call(USERS.bob.impu);
  t.check(call.confirmed, `INVITE alice → bob through pcscf and Kamailio: ${call.status}`, call.cause);
  const inc = await bob.nextIncomingCall(5000);
  t.check(!!inc, 'bob received the INVITE');
  if (call.confirmed) await JsSipClient.hangup(call.session);
}

try {
  kamailio = await startKamailio(dir, 'ims-core.cfg', {
    listen: [`tcp:127.0.0.1:${sipPort}`, `udp:127.0.0.1:${sipPort}`],
    defines: { DBURL: `sqlite:///${dir}/kamailio.sqlite`, HOME_DOMAIN: DOMAIN },
  });
  await t.step('Kamailio as IMS core stand-in', standinChecks);
  if (!binary) t.skip('webims pcscf in front of Kamailio', 'no webims binary given');
  else if (!hasCommand(binary, 'pcscf')) t.check(false, `${binary} has a pcscf command`);
  else await t.step('webims pcscf in front of Kamailio', pcscfChecks);
} catch (e) {
  t.check(false, 'test ran to completion', e.stack || e.message);
} finally {
  for (const c of clients) await c.stop().catch(() => {});
  if (pcscf) { const ex = await pcscf.stop(); t.check(ex.code === 0, `webims pcscf exited cleanly on SIGTERM (${JSON.stringify(ex)})`); }
  if (kamailio) { const ex = await kamailio.stop(); t.check(!kamailio.killed, `kamailio stopped on SIGTERM (${JSON.stringify(ex)})`); }
  await stopAll();
}
if (t.failed.length) {
  if (kamailio) console.log('--- kamailio log (tail) ---\n' + kamailio.tail(40));
  if (pcscf) console.log('--- webims pcscf log (tail) ---\n' + pcscf.tail(60));
}
process.exit(t.summary() ? 0 : 1);
