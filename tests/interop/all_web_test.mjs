// `webims all` with zero configuration beyond free ports (issue 5): every component in one process,
// the WWSF and the WAF on one HTTPS listener, demo data created on first start and listed on the
// console, and the three ways in, each ending in a JsSIP WIC registered over WSS:
//   scenario 1  alice, a demo IMS subscriber, with Digest (TR 33.871 6.1.1);
//   scenario 2  carol, the demo web account, logs in and gets a token for bob's IMPI, the link the
//               demo confirmed (6.1.2): /api/login, /api/token (W4 to the WAF in memory), Bearer REGISTER;
//   scenario 3  an anonymous guest from a page opened by address (https://127.0.0.1:PORT, a derived
//               CORS origin): /api/guest, /api/token, Bearer REGISTER (6.1.3).
// Also: GET /api/wic-config, the WAF's JWKS on the shared listener, a page origin that was not derived
// refused by the eP-CSCF, the console's machine-readable lines in order with the URL last, the same
// demo passwords after a restart, and no demo password or token in the log (standard error) while the
// listing (standard output) has them. The config only moves listeners and control ports: [store],
// [tls] and [wwsf] web_root are the defaults, relative to the test's directory.
// Each check prints one ok/FAIL line; the last line is "N passed, N failed".
// usage: node all_web_test.mjs WEBIMS_BINARY
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { httpsJson as call } from './https_json.mjs';
import { Checks, Proc, freePort, stopAll, tempDir, watchdog } from './node_harness.mjs';
import { JsSipClient } from './jssip_client.mjs';
import { token } from './sip_raw.mjs';

const binary = process.argv[2] && resolve(process.argv[2]);
if (!binary) { console.log('usage: node all_web_test.mjs WEBIMS_BINARY'); process.exit(2); }
const DOMAIN = 'ims.example.org';

const t = new Checks();
const dir = tempDir('webims-all-web-');
const clients = [];
let server;
const runs = [];  // { stdout, log } of each run, for the secret checks
watchdog(240000, () => { if (server) console.log(`--- webims all ---\n${server.tail(40)}`); });

// The console's machine-readable lines (the browser test parses the same ones).
function parseConsole(text) {
  const lines = text.split('\n');
  const out = { lines, subscribers: {}, web: null, pool: null, open: null };
  for (const l of lines) {
    let m;
    if ((m = /^ {2}demo ims-subscriber impi=(\S+) impu=(\S+) password=(\S+)$/.exec(l))) out.subscribers[m[1]] = { impi: m[1], impu: m[2], password: m[3] };
    else if ((m = /^ {2}demo web-account username=(\S+) password=(\S+) linked=(\S+)$/.exec(l))) out.web = { username: m[1], password: m[2], linked: m[3] };
    else if ((m = /^ {2}demo guest-pool pattern=(\S+) size=(\d+) wwsf=(\S+)$/.exec(l))) out.pool = { pattern: m[1], size: Number(m[2]), wwsf: m[3] };
    else if ((m = /^Open (https:\/\/localhost:\d+\/) in a browser/.exec(l))) out.open = m[1];
  }
  return out;
}

async function startAll(config, run) {
  const p = new Proc(`webims all (run ${run})`, binary, ['all', '--config', config],
                     { logPath: join(dir, `all-${run}.log`), stdoutPath: join(dir, `all-${run}.out`), cwd: dir });
  await p.waitReady(() => /^Open https:/m.test(p.readStdout()), { timeoutMs: 30000, what: 'the "Open https://..." line' });
  return p;
}

async function registerWithToken({ wsUrl, origin, ca, uri, tok }) {
  const c = new JsSipClient({ wsUrl, origin, ca, uri, authorizationJwt: `Bearer ${tok}`, name: uri });
  clients.push(c);
  const st = await c.start();
  if (!st.connected) return { connected: false, st, client: c };
  return { ...(await c.register({ turnCred: true, timeoutMs: 8000 })), client: c };
}

try {
  const ports = {};
  for (const k of ['web', 'wss', 'pcscfSip', 'pcscfControl', 'core', 'coreControl', 'turn', 'turnTls', 'turnControl', 'wwsfControl'])
    ports[k] = await freePort();
  const q = JSON.stringify;
  const config = join(dir, 'webims.toml');
  writeFileSync(config, `# only listeners and control ports moved to free ones; everything else is webims all's default
[wwsf]
listen = ${q(`https://127.0.0.1:${ports.web}`)}
control_listen = ${q(`http://127.0.0.1:${ports.wwsfControl}`)}

[pcscf]
listen = [${q(`wss://127.0.0.1:${ports.wss}`)}]
sip_listen = [${q(`tcp://127.0.0.1:${ports.pcscfSip}`)}]
next_hop = ${q(`sip:127.0.0.1:${ports.core};transport=tcp`)}
control_listen = ${q(`http://127.0.0.1:${ports.pcscfControl}`)}

[core]
listen = [${q(`udp://127.0.0.1:${ports.core}`)}, ${q(`tcp://127.0.0.1:${ports.core}`)}]
control_listen = ${q(`http://127.0.0.1:${ports.coreControl}`)}

[turn]
listen = [${q(`udp://127.0.0.1:${ports.turn}`)}, ${q(`tcp://127.0.0.1:${ports.turn}`)}, ${q(`tls://127.0.0.1:${ports.turnTls}`)}]
control_listen = ${q(`http://127.0.0.1:${ports.turnControl}`)}
`);

  server = await startAll(config, 1);
  const out = server.readStdout();
  const con = parseConsole(out);
  const base = `https://localhost:${ports.web}`;
  const byIp = `https://127.0.0.1:${ports.web}`;
  const ca = readFileSync(join(dir, 'var', 'tls', 'ca.pem'));

  await t.step('the console', async () => {
    const idx = (re) => con.lines.findIndex((l) => re.test(l));
    t.check(idx(new RegExp(`^ {2}WWSF\\+WAF {3}https://127\\.0\\.0\\.1:${ports.web} {3}\\(the WIC app, web login, OAuth\\)$`)) >= 0,
      'a WWSF+WAF line with the shared listener', out);
    const alice = con.subscribers[`alice@${DOMAIN}`], bob = con.subscribers[`bob@${DOMAIN}`];
    t.check(alice?.impu === `sip:alice@${DOMAIN}` && bob?.impu === `sip:bob@${DOMAIN}`, 'demo ims-subscriber lines for alice and bob');
    t.check(/^[A-Za-z0-9_-]{12}$/.test(alice?.password || '') && alice?.password !== bob?.password, 'random 12-character passwords');
    t.check(con.web?.username === 'carol' && con.web?.linked === `bob@${DOMAIN}`, 'a demo web-account line: carol linked to bob');
    t.check(con.pool?.pattern === `*@guest.${DOMAIN}` && con.pool?.size === 5 && con.pool?.wwsf === 'localhost', 'a demo guest-pool line', con.pool);
    const demo = idx(/^Demo accounts \(created on first start; \[all\] demo = false to skip\):$/);
    const trust = idx(/certutil -d sql:\$HOME\/\.pki\/nssdb -A -t C,, -n webims-local-ca -i \/\S+\/var\/tls\/ca\.pem/);
    const notBuilt = idx(/The WIC app is not built/);
    const last = con.lines.filter((l) => l.trim()).at(-1);
    t.check(idx(/^ {2}WWSF\+WAF/) < demo && demo < idx(/^ {2}demo ims-subscriber/) && idx(/^ {2}demo guest-pool/) < trust,
      'in order: listeners, demo accounts, how to trust the CA');
    t.check(notBuilt > trust, 'no web/dist/index.html: a line says the app is not built and how to build it');
    t.check(/update-ca-certificates/.test(out) && /Firefox/.test(out), 'the CA instructions name Firefox and update-ca-certificates too');
    t.check(last === `Open ${base}/ in a browser`, `the URL line is last, without a remote URL on a loopback listener (${last})`);
  });

  await t.step('GET /api/wic-config and the WAF on the shared listener', async () => {
    const c = await call(`${base}/api/wic-config`, { ca });
    t.check(c.status === 200 && c.json?.pcscf_url === `wss://{host}:${ports.wss}` && c.json?.guest === true &&
            c.json?.web_login === true && c.json?.wwsf_id === 'localhost' && c.json?.open_registration === false,
      '/api/wic-config: pcscf_url from the eP-CSCF port, guest and web_login true', c.text);
    const jwks = await call(`${byIp}/.well-known/jwks.json`, { ca });
    t.check(jwks.status === 200 && jwks.json?.keys?.length === 1 && !jwks.json.keys[0].d, 'the WAF\'s JWKS on the same port (public key only)');
    const meta = await call(`${base}/.well-known/oauth-authorization-server`, { ca });
    t.check(meta.json?.issuer === base && meta.json?.token_endpoint === `${base}/token`, 'RFC 8414 metadata: issuer follows the WWSF port', meta.text);
    const csp = c.headers['content-security-policy'] || '';
    t.check(csp.includes(`wss://localhost:${ports.wss}`) && csp.includes(`wss://127.0.0.1:${ports.wss}`), 'the CSP lets the page connect to the eP-CSCF', csp);
  });

  const wsUrl = (host) => `wss://${host}:${ports.wss}/`;
  let aliceClient, guest;
  await t.step('scenario 1: demo subscriber alice registers with Digest', async () => {
    const a = con.subscribers[`alice@${DOMAIN}`];
    aliceClient = new JsSipClient({ wsUrl: wsUrl('localhost'), origin: base, ca, uri: a.impu, user: a.impi, password: a.password, name: 'alice' });
    clients.push(aliceClient);
    t.check((await aliceClient.start()).connected, 'alice connects over WSS from the WWSF origin');
    const r = await aliceClient.register({ turnCred: true });
    t.check(r.registered && r.status === 200 && !!r.turnCred, `alice registered with the listed password and got a TURN credential (${r.status} ${r.reason || r.cause || ''})`);
    const turnUri = /uri="([^"]+)"/.exec(r.turnCred || '')?.[1] || '';
    t.check(turnUri.includes(`127.0.0.1:${ports.turn}`), `the TURN URI names the address the TURN listener is bound to (${turnUri})`);
  });

  await t.step('scenario 3: an anonymous guest from a page opened by address', async () => {
    const jar = new Map();
    const g = await call(`${byIp}/api/guest`, { method: 'POST', body: {}, headers: { origin: byIp }, ca, cookies: jar });
    t.check(g.status === 201 && /^guest\d@guest\./.test(g.json?.impi || ''), `a pool subscription is lent (${g.status} ${g.json?.impi})`, g.text);
    const tok = await call(`${byIp}/api/token`, { method: 'POST', body: { impi: g.json?.impi }, headers: { origin: byIp, 'x-csrf-token': g.json?.csrf_token }, ca, cookies: jar });
    t.check(tok.status === 200 && !!tok.json?.access_token && tok.json?.pool === true, `its token comes from the WAF through W4 in memory (${tok.status})`, tok.text);
    const claims = tok.json?.access_token ? JSON.parse(Buffer.from(tok.json.access_token.split('.')[1], 'base64url')) : {};
    t.check(claims.iss === base && claims.aud === DOMAIN && claims.wwsf === 'localhost' && claims.pool === true, 'claims: iss (derived), aud, wwsf, pool', claims);
    const impu = [].concat(tok.json?.impu)[0];
    const r = await registerWithToken({ wsUrl: wsUrl('127.0.0.1'), origin: byIp, ca, uri: impu, tok: tok.json?.access_token });
    t.check(r.registered && r.status === 200, `the guest's WIC registered over WSS with the Bearer token (${r.status} ${r.reason || r.cause || ''})`);
    guest = { impu, client: r.client };
  });

  await t.step('scenario 2: web account carol, token for the linked bob', async () => {
    const jar = new Map();
    const h = { origin: base };
    const login = await call(`${base}/api/login`, { method: 'POST', body: { username: con.web.username, password: con.web.password }, headers: h, ca, cookies: jar });
    t.check(login.status === 200 && !!login.json?.csrf_token, `carol logs in with the listed password (${login.status})`, login.text);
    const s = await call(`${base}/api/session`, { headers: h, ca, cookies: jar });
    t.check(s.json?.links?.some((l) => l.impi === `bob@${DOMAIN}` && l.confirmed), 'her session lists the confirmed link to bob', s.text);
    const tok = await call(`${base}/api/token`, { method: 'POST', body: { impi: `bob@${DOMAIN}` }, headers: { ...h, 'x-csrf-token': login.json?.csrf_token }, ca, cookies: jar });
    t.check(tok.status === 200 && !!tok.json?.access_token && tok.json?.pool === false, `a token for bob's IMPI (${tok.status})`, tok.text);
    const r = await registerWithToken({ wsUrl: wsUrl('localhost'), origin: base, ca, uri: `sip:bob@${DOMAIN}`, tok: tok.json?.access_token });
    t.check(r.registered && r.status === 200, `bob's WIC registered with carol's token (${r.status} ${r.reason || r.cause || ''})`);
    if (guest?.client && r.client) {
      const body = `hi ${token(4)}`;
      const sent = await r.client.sendMessage(guest.impu, body);
      const got = await guest.client.nextMessage(5000, (m) => m.body === body);
      t.check(sent.status === 200 && !!got, `a MESSAGE from bob (scenario 2) reaches the guest (scenario 3) (${sent.status})`);
    }
  });

  await t.step('an origin that was not derived is refused', async () => {
    const c = new JsSipClient({ wsUrl: wsUrl('127.0.0.1'), origin: 'https://evil.example', ca, uri: `sip:alice@${DOMAIN}`, name: 'evil' });
    clients.push(c);
    const st = await c.start(5000);
    t.check(!st.connected && st.handshake?.status === 403, `WebSocket from https://evil.example: HTTP 403 (${st.handshake?.status})`, st);
  });

  for (const c of clients.splice(0)) await c.stop().catch(() => {});
  let ex = await server.stop();
  t.check(ex.code === 0 && !server.killed, 'webims all exited cleanly on SIGTERM', ex);
  runs.push({ stdout: server.readStdout(), log: server.readLog() });

  await t.step('a restart lists the same demo accounts; the built app is served', async () => {
    mkdirSync(join(dir, 'web', 'dist'), { recursive: true });
    writeFileSync(join(dir, 'web', 'dist', 'index.html'), '<!doctype html><title>WIC test page</title>');
    server = await startAll(config, 2);
    const again = parseConsole(server.readStdout());
    t.check(JSON.stringify(again.subscribers) === JSON.stringify(con.subscribers) && again.web?.password === con.web?.password,
      'the same demo lines and passwords');
    t.check(!/demo data created/.test(server.readLog()), 'no demo data created again');
    t.check(!/The WIC app is not built/.test(server.readStdout()), 'no "not built" line once web/dist/index.html exists');
    const page = await call(`${base}/`, { ca });
    t.check(page.status === 200 && page.text.includes('WIC test page'), `GET / serves [wwsf] web_root (${page.status})`);
    const a = con.subscribers[`alice@${DOMAIN}`];
    const c = new JsSipClient({ wsUrl: wsUrl('localhost'), origin: base, ca, uri: a.impu, user: a.impi, password: a.password, name: 'alice-2' });
    clients.push(c);
    const r = (await c.start()).connected ? await c.register() : {};
    t.check(r.registered, `alice registers again after the restart (${r.status} ${r.cause || ''})`);
  });
} catch (e) {
  t.check(false, 'test ran to completion', e.stack || e.message);
} finally {
  for (const c of clients) await c.stop().catch(() => {});
  if (server && server.running) {
    const ex = await server.stop();
    t.check(ex.code === 0 && !server.killed, 'webims all exited cleanly on SIGTERM', ex);
    runs.push({ stdout: server.readStdout(), log: server.readLog() });
  }
  const c = parseConsole(runs[0]?.stdout || '');
  const secrets = [...Object.values(c.subscribers).map((s) => s.password), c.web?.password].filter(Boolean);
  if (secrets.length) {
    t.check(runs.every((r) => secrets.every((s) => r.stdout.includes(s))), 'the demo passwords are on standard output (the listing)');
    t.check(runs.every((r) => !secrets.some((s) => r.log.includes(s))), 'and never in the log (standard error)');
    t.check(runs.every((r) => !/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(r.log)), 'no token in the log');
  }
  await stopAll();
}
if (t.failed.length && server) console.log(`--- webims all log (tail) ---\n${server.tail(40)}`);
process.exit(t.summary() ? 0 : 1);
