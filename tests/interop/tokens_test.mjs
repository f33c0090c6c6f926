// Scenarios 2 and 3 end to end (TR 33.871 6.1.2, 6.1.3; protocols.md "Scenarios 2 and 3"), with
// every component a separate `webims` process: WAF, WWSF, eP-CSCF, IMS core. A web user signs in at
// the WWSF, links an IMPI (confirmed with the IMS password), gets an IMS access token the WWSF asked
// the WAF for over W4 (mutual TLS), and a JsSIP WIC registers with it over WSS (Authorization:
// Bearer); an anonymous guest does the same with a pool subscription. Then one negative check per
// requirement, each a REGISTER answered 403 and the WebSocket closed by the eP-CSCF:
//   REQ 2.2 blocked WWSF, REQ 2.1/2.3 WWSF not allowed for the subscription, REQ 2.4 To-URI not
//   among the token's IMPUs, REQ 3.2 pool IMPI of another WWSF, expired, forged, alg confused
//   (none; HS256 keyed with the public key), wrong audience, wrong scope;
// and a TNA `auth-done` REGISTER sent straight to the core from an untrusted address (403).
// Approach 2: the eP-CSCF pushes the TURN credential it gives alice to `webims turn`'s control API;
// when alice deregisters it revokes it, her live allocation is torn down and a new Allocate gets 401.
// Tokens for the negative checks are made here with the WAF's own signing key (the test is the
// WAF's operator: it gives the WAF its key file), so each is refused by exactly the check it tests.
// Each check prints one ok/FAIL line; the last line is "N passed, N failed".
// usage: node tokens_test.mjs WEBIMS_BINARY
import { spawnSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { httpsJson as call } from './https_json.mjs';
import { Checks, freePort, httpHealth, sleep, stopAll, tempDir, watchdog } from './node_harness.mjs';
import { JsSipClient, parseTurnCred } from './jssip_client.mjs';
import { TurnUdpClient } from './turn_client.mjs';
import { branch, parseSip, token } from './sip_raw.mjs';
import { admin, allocatePorts, startWebims, webimsCa, webimsConfig, writeConfig } from './webims_servers.mjs';

const binary = process.argv[2] && resolve(process.argv[2]);
if (!binary) { console.log('usage: node tokens_test.mjs WEBIMS_BINARY'); process.exit(2); }
const DOMAIN = 'ims.example.org';
const WWSF_ID = 'wwsf.example.org';
const OTHER_WWSF = 'other.example.org';
const KM = randomBytes(24).toString('base64url');
const SCOPE = 'webrtc-ims-client-access-to-ims';
const alice = { impi: `alice@${DOMAIN}`, impu: `sip:alice@${DOMAIN}`, impu2: `sip:+15550100@${DOMAIN}`, password: `alice-${token(4)}` };
const bob = { impi: `bob@${DOMAIN}`, impu: `sip:bob@${DOMAIN}`, password: `bob-${token(4)}` };
const pool = ['g1', 'g2', 'g3'].map((n) => ({ impi: `${n}@guest.${DOMAIN}`, impu: `sip:guest-${n}@${DOMAIN}`, password: `p-${token(6)}` }));
const otherPool = { impi: `o1@other.${DOMAIN}`, impu: `sip:other-o1@${DOMAIN}`, password: `p-${token(6)}` };
const web = { username: 'carol', password: `web-${token(6)}` };

const t = new Checks();
const dir = tempDir('webims-tokens-');
const procs = {};
const clients = [];
watchdog(240000, () => { for (const [n, p] of Object.entries(procs)) console.log(`--- ${n} ---\n${p.tail(30)}`); });

const b64u = (b) => Buffer.from(b).toString('base64url');

// A compact JWS: ES256 with the P-256 private key, or any header/signature the caller forces.
function jws(header, claims, { key, hmacKey, signature } = {}) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  let sig = '';
  if (signature !== undefined) sig = signature;
  else if (hmacKey) sig = b64u(createHmac('sha256', hmacKey).update(input).digest());
  else if (key) sig = b64u(cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }));
  return `${input}.${sig}`;
}

// A REGISTER by a fresh JsSIP WIC with the bearer token; resolves with the register result and
// whether the eP-CSCF closed the WebSocket afterwards.
async function registerWithToken(ctx, { uri, tok, turnCred = false, keep = false }) {
  const c = new JsSipClient({ wsUrl: ctx.wsUrl, origin: ctx.origin, ca: ctx.ca, uri, authorizationJwt: `Bearer ${tok}`, name: uri });
  clients.push(c);
  const st = await c.start();
  if (!st.connected) return { connected: false, st };
  const r = await c.register({ turnCred, timeoutMs: 8000 });
  let closed = false;
  if (!r.registered) {
    for (let i = 0; i < 30 && !closed; ++i) { closed = c.socket.closes.length > 0 && !c.socket.isConnected(); if (!closed) await sleep(100); }
  }
  if (!keep) await c.stop().catch(() => {});
  return { ...r, closed, close: c.socket.closes[0], client: c };
}

function expect403(r, what) {
  t.check(!r.registered && r.status === 403, `${what}: 403 (${r.status} ${r.reason || r.cause || ''})`);
  t.check(r.closed, `${what}: the eP-CSCF closed the WebSocket`, r.close);
}

// A raw SIP message over TCP from a chosen local address; resolves with the first response.
function sipOverTcp({ host, port, localAddress, text, timeoutMs = 5000 }) {
  return new Promise((res) => {
    const s = net.connect({ host, port, localAddress });
    let buf = '';
    const done = (v) => { clearTimeout(tm); s.destroy(); res(v); };
    const tm = setTimeout(() => done(null), timeoutMs);
    s.on('connect', () => s.write(text));
    s.on('data', (d) => { buf += d.toString('utf8'); if (buf.includes('\r\n\r\n')) done(parseSip(buf)); });
    s.on('error', (e) => done({ error: e.message }));
  });
}

try {
  const ports = await allocatePorts(['core', 'pcscf', 'turn']);
  const controlToken = randomBytes(24).toString('base64url');
  ports.waf = await freePort(); ports.wafControl = await freePort();
  ports.wwsf = await freePort(); ports.wwsfControl = await freePort();
  const wafUrl = `https://127.0.0.1:${ports.waf}`;
  const wwsfOrigin = `https://127.0.0.1:${ports.wwsf}`;

  // The WAF's signing key (the operator's), and the WWSF's W4 client certificate.
  const { privateKey: wafKey, publicKey: wafPub } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const wafJwk = wafKey.export({ format: 'jwk' });
  writeFileSync(join(dir, 'waf-key.json'), JSON.stringify(wafJwk), { mode: 0o600 });
  const ossl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${WWSF_ID}`, '-keyout', join(dir, 'w4-key.pem'), '-out', join(dir, 'w4.pem')], { encoding: 'utf8' });
  if (ossl.status !== 0) throw new Error(`openssl: ${ossl.stderr}`);

  const q = JSON.stringify;
  const base = webimsConfig({ dir, ports, domain: DOMAIN, km: KM, origins: [wwsfOrigin] })
    .replace('\n[[turn.secrets]]', `control_token = ${q(controlToken)}\n\n[[turn.secrets]]`);
  const config = writeConfig(dir, base.replace(/\n\[core\]/, `
turn_push_urls = [${q(`http://127.0.0.1:${ports.turnControl}`)}]
turn_push_token = ${q(controlToken)}
token_issuers = [${q(wafUrl)}]
token_jwks_url = ${q(`${wafUrl}/.well-known/jwks.json`)}
token_jwks_refetch_interval = "1s"

[waf]
listen = ${q(wafUrl)}
issuer = ${q(wafUrl)}
signing_key_file = ${q(join(dir, 'waf-key.json'))}
control_listen = ${q(`http://127.0.0.1:${ports.wafControl}`)}

[wwsf]
listen = ${q(wwsfOrigin)}
id = ${q(WWSF_ID)}
origin = ${q(wwsfOrigin)}
web_root = ${q(dir)}
waf_token_url = ${q(`${wafUrl}/token`)}
w4_cert_file = ${q(join(dir, 'w4.pem'))}
w4_key_file = ${q(join(dir, 'w4-key.pem'))}
control_listen = ${q(`http://127.0.0.1:${ports.wwsfControl}`)}

[core]`));

  // The operator's data: WWSFs, subscriptions (one allowing our WWSF, one not, our pool, another's pool), the W4 client.
  admin(binary, config, ['wwsf', 'add', WWSF_ID, '--pool-pattern', `*@guest.${DOMAIN}`]);
  admin(binary, config, ['wwsf', 'add', OTHER_WWSF, '--pool-pattern', `*@other.${DOMAIN}`]);
  admin(binary, config, ['subscriber', 'add', '--impi', alice.impi, '--impu', alice.impu, '--impu', alice.impu2, '--password', alice.password, '--allow-wwsf', WWSF_ID]);
  admin(binary, config, ['subscriber', 'add', '--impi', bob.impi, '--impu', bob.impu, '--password', bob.password]);
  for (const g of pool) admin(binary, config, ['subscriber', 'add', '--impi', g.impi, '--impu', g.impu, '--password', g.password, '--pool-owner', WWSF_ID]);
  admin(binary, config, ['subscriber', 'add', '--impi', otherPool.impi, '--impu', otherPool.impu, '--password', otherPool.password, '--pool-owner', OTHER_WWSF]);
  admin(binary, config, ['oauth-client', 'add', 'wwsf-w4', '--kind', 'wwsf', '--wwsf', WWSF_ID, '--cert-file', join(dir, 'w4.pem')]);
  const acct = spawnSync(binary, ['wwsf', '--config', config, '--add-account', web.username, '--password', web.password], { encoding: 'utf8', timeout: 30000 });
  t.check(acct.status === 0, 'webims wwsf --add-account creates the web account', acct.stderr);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>WIC</title>');

  procs.core = await startWebims(binary, 'core', config, dir, { tcpPorts: [ports.coreSip] });
  procs.turn = await startWebims(binary, 'turn', config, dir, { health: `http://127.0.0.1:${ports.turnControl}/health` });
  procs.pcscf = await startWebims(binary, 'pcscf', config, dir, { health: `http://127.0.0.1:${ports.pcscfControl}/health` });
  procs.waf = await startWebims(binary, 'waf', config, dir, { health: `http://127.0.0.1:${ports.wafControl}/health` });
  procs.wwsf = await startWebims(binary, 'wwsf', config, dir, { health: `http://127.0.0.1:${ports.wwsfControl}/health` });
  const ca = webimsCa(dir);
  const ctx = { wsUrl: `wss://127.0.0.1:${ports.wss}/`, origin: wwsfOrigin, ca };

  const jwks = await call(`${wafUrl}/.well-known/jwks.json`, { ca });
  const kid = jwks.json?.keys?.[0]?.kid;
  t.check(jwks.status === 200 && jwks.json.keys.length === 1 && jwks.json.keys[0].x === wafJwk.x && !jwks.json.keys[0].d,
    'the WAF publishes its configured key (public part only) at /.well-known/jwks.json', jwks.text);
  const meta = await call(`${wafUrl}/.well-known/oauth-authorization-server`, { ca });
  t.check(meta.status === 200 && meta.json.issuer === wafUrl && meta.json.token_endpoint === `${wafUrl}/token`, 'RFC 8414 metadata names the issuer and token endpoint', meta.text);

  // ---- Scenario 2: web login, linked identity ----
  const jar = new Map();
  const wh = { origin: wwsfOrigin };
  let aliceToken;
  await t.step('scenario 2: web login, identity link confirmed by the IMS side, token over W4, REGISTER', async () => {
    const bad = await call(`${wwsfOrigin}/api/login`, { method: 'POST', body: { username: web.username, password: 'wrong' }, headers: wh, ca, cookies: new Map() });
    t.check(bad.status === 401 || bad.status === 403, `a wrong web password is refused (${bad.status})`);
    const login = await call(`${wwsfOrigin}/api/login`, { method: 'POST', body: web, headers: wh, ca, cookies: jar });
    t.check(login.status === 200 && !!login.json?.csrf_token && jar.has('__Host-webims_session'), `login sets the session cookie (${login.status})`, login.text);
    const sc = [].concat(login.headers['set-cookie'] || []).join(' ');
    t.check(/Secure/i.test(sc) && /HttpOnly/i.test(sc) && /SameSite=Strict/i.test(sc), 'the session cookie is Secure, HttpOnly, SameSite=Strict');
    const csrf = { ...wh, 'x-csrf-token': login.json?.csrf_token };
    const noCsrf = await call(`${wwsfOrigin}/api/links`, { method: 'POST', body: { impi: alice.impi }, headers: wh, ca, cookies: jar });
    t.check(noCsrf.status === 403, `a state change without the CSRF token is refused (${noCsrf.status})`);
    const early = await call(`${wwsfOrigin}/api/token`, { method: 'POST', body: { impi: alice.impi }, headers: csrf, ca, cookies: jar });
    t.check(early.status >= 400 && !early.json?.access_token, `no token for an IMPI not linked yet (${early.status})`);
    const link = await call(`${wwsfOrigin}/api/links`, { method: 'POST', body: { impi: alice.impi }, headers: csrf, ca, cookies: jar });
    t.check(link.status === 200 || link.status === 201, `link requested (${link.status})`, link.text);
    const wrong = await call(`${wwsfOrigin}/api/links/confirm`, { method: 'POST', body: { impi: alice.impi, password: 'not-it' }, headers: csrf, ca, cookies: jar });
    t.check(wrong.status >= 400, `confirmation with a wrong IMS password refused (${wrong.status})`);
    const conf = await call(`${wwsfOrigin}/api/links/confirm`, { method: 'POST', body: { impi: alice.impi, password: alice.password }, headers: csrf, ca, cookies: jar });
    t.check(conf.status === 200, `the IMS side confirms the link with alice's IMS password (${conf.status})`, conf.text);
    const bobLink = await call(`${wwsfOrigin}/api/links`, { method: 'POST', body: { impi: bob.impi }, headers: csrf, ca, cookies: jar });
    const bobConf = await call(`${wwsfOrigin}/api/links/confirm`, { method: 'POST', body: { impi: bob.impi, password: bob.password }, headers: csrf, ca, cookies: jar });
    t.check(bobConf.status >= 400, `bob's subscription does not allow this WWSF: link not confirmed (${bobLink.status}/${bobConf.status})`);
    const tok = await call(`${wwsfOrigin}/api/token`, { method: 'POST', body: { impi: alice.impi }, headers: csrf, ca, cookies: jar });
    t.check(tok.status === 200 && !!tok.json?.access_token, `the WWSF obtained a token from the WAF over W4 (${tok.status})`, tok.text);
    aliceToken = tok.json?.access_token;
    const claims = aliceToken ? JSON.parse(Buffer.from(aliceToken.split('.')[1], 'base64url')) : {};
    t.check(claims.sub === alice.impi && claims.wwsf === WWSF_ID && claims.aud === DOMAIN && claims.iss === wafUrl &&
            claims.scope?.split(' ').includes(SCOPE) && claims.impu?.includes(alice.impu) && !claims.pool,
      'its claims: sub, wwsf, aud, iss, scope, impu as protocols.md', claims);
    const r = await registerWithToken(ctx, { uri: alice.impu, tok: aliceToken, turnCred: true, keep: true });
    t.check(r.registered && r.status === 200, `alice's WIC registered over WSS with the token (${r.status} ${r.reason || r.cause || ''})`);
    t.check(!!r.turnCred, 'and got a TURN credential on the 200 OK', r.turnCred);
    const sent = r.requests?.[0]?.header?.('authorization') || '';
    t.check(/^Bearer /.test(sent), 'JsSIP sent Authorization: Bearer');
    ctx.aliceClient = r.client;
    ctx.aliceTurnCred = r.turnCred;
  });

  // ---- Scenario 3: anonymous guest from the pool ----
  await t.step('scenario 3: anonymous guest, pool subscription, REGISTER', async () => {
    const gjar = new Map();
    const g = await call(`${wwsfOrigin}/api/guest`, { method: 'POST', body: {}, headers: wh, ca, cookies: gjar });
    t.check((g.status === 200 || g.status === 201) && pool.some((p) => p.impi === g.json?.impi), `a guest is lent a pool subscription (${g.status} ${g.json?.impi})`, g.text);
    const tok = await call(`${wwsfOrigin}/api/token`, { method: 'POST', body: { impi: g.json?.impi }, headers: { ...wh, 'x-csrf-token': g.json?.csrf_token }, ca, cookies: gjar });
    t.check(tok.status === 200 && !!tok.json?.access_token, `the guest got a token (${tok.status})`, tok.text);
    const claims = tok.json?.access_token ? JSON.parse(Buffer.from(tok.json.access_token.split('.')[1], 'base64url')) : {};
    t.check(claims.pool === true && claims.sub === g.json?.impi, 'the token says pool: true for the lent IMPI', claims);
    const r = await registerWithToken(ctx, { uri: [].concat(g.json?.impu)[0], tok: tok.json?.access_token, keep: true });
    t.check(r.registered && r.status === 200, `the guest's WIC registered over WSS (${r.status} ${r.reason || r.cause || ''})`);
    ctx.guestClient = r.client;
    ctx.guestImpu = [].concat(g.json?.impu)[0];
  });

  await t.step('registered token users talk; the token never leaves the eP-CSCF', async () => {
    if (!ctx.aliceClient || !ctx.guestClient) return t.check(false, 'both registered');
    const body = `hi ${token(4)}`;
    const s = await ctx.aliceClient.sendMessage(ctx.guestImpu, body);
    t.check(s.ok && s.status === 200, `alice → guest MESSAGE answered ${s.status}`);
    const got = await ctx.guestClient.nextMessage(5000, (m) => m.body === body);
    t.check(!!got, 'the guest received it');
    t.check(got && !got.request.getHeader('Authorization'), 'without alice\'s Authorization (her bearer token) in it', got?.request?.getHeader('Authorization'));
    t.check(got && /alice@/.test(got.pai || ''), `with P-Asserted-Identity of alice (${got?.pai})`);
    const spoof = await ctx.aliceClient.sendMessage(ctx.guestImpu, 'x', { extraHeaders: [`P-Preferred-Identity: <${bob.impu}>`] });
    t.check(spoof.status === 403, `alice cannot assert bob's identity (${spoof.status})`);
  });

  await t.step('Approach 2: pushed credential allocates; deregistration revokes it and ends the allocation', async () => {
    const cred = parseTurnCred(ctx.aliceTurnCred);
    if (!ctx.aliceClient || !cred?.valid) return t.check(false, 'alice is registered with a TURN credential', ctx.aliceTurnCred);
    const turn = new TurnUdpClient('127.0.0.1', ports.turn);
    const a = await turn.allocate(cred.username, cred.password);
    t.check(a.ok, `alice's credential allocates at webims turn (${a.code} ${a.reason || ''})`);
    const before = await turn.refresh(600);
    t.check(before && !before.error, 'while she is registered, Refresh keeps the allocation (control)', before?.error);
    const u = await ctx.aliceClient.unregister();
    t.check(u.unregistered, `alice deregistered (${u.status || u.cause})`);
    let torn = false;
    for (let i = 0; i < 50 && !torn; ++i) {
      const r = await turn.refresh(600);
      torn = !r || !!r.error;
      if (!torn) await sleep(200);
    }
    t.check(torn, 'within 10 s her live allocation is gone (Refresh refused)');
    turn.close();
    const again = new TurnUdpClient('127.0.0.1', ports.turn);
    const b = await again.allocate(cred.username, cred.password);
    again.close();
    t.check(!b.ok && b.code === 401, `a new Allocate with the revoked credential gets 401 (${b.code} ${b.reason || ''})`);
    const log = procs.turn.readLog();
    t.check(!log.includes(cred.password), 'the TURN log has no password');
  });

  // ---- Negative checks ----
  const now = Math.floor(Date.now() / 1000);
  const good = (over = {}) => ({ iss: wafUrl, aud: DOMAIN, sub: alice.impi, impu: [alice.impu, alice.impu2], wwsf: WWSF_ID, scope: SCOPE,
                                  exp: now + 600, iat: now, jti: randomUUID(), ...over });
  const hdr = { alg: 'ES256', typ: 'at+jwt', kid };
  const signed = (claims, h = hdr) => jws(h, claims, { key: wafKey });

  await t.step('a token we sign with the WAF key is accepted (control for the checks below)', async () => {
    const r = await registerWithToken(ctx, { uri: alice.impu2, tok: signed(good()) });
    t.check(r.registered && r.status === 200, `a well-formed token registers (${r.status} ${r.reason || r.cause || ''})`);
  });

  await t.step('REQ 2.4: To-URI not among the token\'s IMPUs', async () => {
    expect403(await registerWithToken(ctx, { uri: bob.impu, tok: aliceToken }), 'alice\'s token for bob\'s IMPU');
  });
  await t.step('REQ 3.2: pool IMPI belonging to another WWSF', async () => {
    const c = good({ sub: otherPool.impi, impu: [otherPool.impu], pool: true });
    expect403(await registerWithToken(ctx, { uri: otherPool.impu, tok: signed(c) }), 'our WWSF claiming another WWSF\'s pool IMPI');
  });
  await t.step('expired token', async () => {
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: signed(good({ exp: now - 3600, iat: now - 7200 })) }), 'expired');
  });
  await t.step('forged token (another key under the WAF\'s kid)', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: jws(hdr, good(), { key: privateKey }) }), 'forged signature');
    const tampered = signed(good()).split('.');
    tampered[1] = b64u(JSON.stringify(good({ sub: bob.impi, impu: [bob.impu] })));
    expect403(await registerWithToken(ctx, { uri: bob.impu, tok: tampered.join('.') }), 'payload changed after signing');
  });
  await t.step('alg confusion', async () => {
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: jws({ alg: 'none', typ: 'JWT', kid }, good(), { signature: '' }) }), 'alg none');
    const pubPem = wafPub.export({ format: 'pem', type: 'spki' });
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: jws({ alg: 'HS256', typ: 'JWT', kid }, good(), { hmacKey: pubPem }) }), 'HS256 keyed with the public key (PEM)');
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: jws({ alg: 'HS256', typ: 'JWT', kid }, good(), { hmacKey: JSON.stringify(jwks.json.keys[0]) }) }), 'HS256 keyed with the public JWK');
  });
  await t.step('wrong audience, wrong scope', async () => {
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: signed(good({ aud: 'ims.other.example' })) }), 'wrong audience');
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: signed(good({ scope: 'openid profile' })) }), 'wrong scope');
  });
  await t.step('REQ 2.1/2.3: WWSF not allowed for the subscription', async () => {
    admin(binary, config, ['subscriber', 'allow-wwsf', alice.impi, '--none']);
    const w4 = await call(`${wwsfOrigin}/api/token`, { method: 'POST', body: { impi: alice.impi }, headers: { ...wh, 'x-csrf-token': (await call(`${wwsfOrigin}/api/session`, { headers: wh, ca, cookies: jar })).json?.csrf_token }, ca, cookies: jar });
    t.check(!w4.json?.access_token, `the WAF no longer issues a token for alice to this WWSF (${w4.status})`, w4.text);
    // A token issued before the change (or by a WAF that did not check) is refused by the S-CSCF/HSS.
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: signed(good()) }), 'the subscription no longer allows this WWSF');
    admin(binary, config, ['subscriber', 'allow-wwsf', alice.impi, WWSF_ID]);
  });
  await t.step('REQ 2.2: blocked WWSF', async () => {
    const before = signed(good());
    admin(binary, config, ['wwsf', 'block', WWSF_ID, '--reason', 'suspected compromise']);
    // The servers notice the change by polling the store; the first REGISTER after it must fail.
    await sleep(2500);
    expect403(await registerWithToken(ctx, { uri: alice.impu, tok: before }), 'token of a blocked WWSF');
    const gjar = new Map();
    const g = await call(`${wwsfOrigin}/api/guest`, { method: 'POST', body: {}, headers: wh, ca, cookies: gjar });
    const tok = g.json?.impi ? await call(`${wwsfOrigin}/api/token`, { method: 'POST', body: { impi: g.json.impi }, headers: { ...wh, 'x-csrf-token': g.json.csrf_token }, ca, cookies: gjar }) : null;
    t.check(!tok?.json?.access_token, 'and the WAF issues it no more tokens');
    admin(binary, config, ['wwsf', 'unblock', WWSF_ID]);
  });

  await t.step('TNA auth-done straight to the core from an untrusted address', async () => {
    const callId = token(8);
    const text = [`REGISTER sip:${DOMAIN} SIP/2.0`,
      `Via: SIP/2.0/TCP 127.0.0.2:5099;branch=${branch()}`, 'Max-Forwards: 70',
      `From: <${alice.impu}>;tag=${token(4)}`, `To: <${alice.impu}>`, `Call-ID: ${callId}`, 'CSeq: 1 REGISTER',
      `Contact: <sip:alice@127.0.0.2:5099;transport=tcp>`, 'Expires: 600',
      `Authorization: Digest username="${alice.impi}", realm="${DOMAIN}", uri="sip:${DOMAIN}", nonce="", response="", integrity-protected="auth-done", authorization-entity="${WWSF_ID}"`,
      'Content-Length: 0', '', ''].join('\r\n');
    const r = await sipOverTcp({ host: '127.0.0.1', port: ports.coreSip, localAddress: '127.0.0.2', text });
    t.check(r && r.status === 403, `the core answers 403 to auth-done from 127.0.0.2 (${r?.status} ${r?.reason || r?.error || ''})`);
  });
} catch (e) {
  t.check(false, 'test ran to completion', e.stack || e.message);
} finally {
  for (const c of clients) await c.stop().catch(() => {});
  for (const [name, p] of Object.entries(procs).reverse()) {
    const ex = await p.stop();
    t.check(ex.code === 0 && !p.killed, `webims ${name} exited cleanly on SIGTERM`, ex);
  }
  const logs = Object.values(procs).map((p) => p.readLog()).join('\n');
  t.check(![alice.password, web.password, KM].some((s) => logs.includes(s)), 'no password or Km in any log');
  t.check(!/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(logs), 'no token in any log');
  await stopAll();
}
if (t.failed.length) for (const [n, p] of Object.entries(procs)) console.log(`--- ${n} (tail) ---\n${p.tail(25)}`);
process.exit(t.summary() ? 0 : 1);
