// `webims all` (core, eP-CSCF, TURN, WWSF+WAF in one process) with real clients: two JsSIP WICs register
// over WSS with Digest and a TURN credential, exchange MESSAGEs both ways and make a call (SDP only)
// through the eP-CSCF and the core. In one process the eP-CSCF hands SIP to the core in memory
// ([pcscf] core_in_process, the default): checked by the log line that says so and by the absence of
// any TCP connection to the core's SIP port while the clients talk.
// Each check prints one ok/FAIL line; the last line is "N passed, N failed".
// usage: node all_test.mjs WEBIMS_BINARY
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Checks, Proc, httpHealth, stopAll, tempDir, watchdog } from './node_harness.mjs';
import { JsSipClient } from './jssip_client.mjs';
import { token } from './sip_raw.mjs';
import { admin, allocatePorts, webimsCa, webimsConfig, writeConfig } from './webims_servers.mjs';

const binary = process.argv[2] && resolve(process.argv[2]);  // `webims all` runs in the test's directory
if (!binary) { console.log('usage: node all_test.mjs WEBIMS_BINARY'); process.exit(2); }
const DOMAIN = 'ims.example.org';
const ORIGIN = 'https://wwsf.example.org';
const KM = randomBytes(24).toString('base64url');
const USERS = {
  alice: { impu: `sip:alice@${DOMAIN}`, impi: `alice@${DOMAIN}`, password: `alice-${token(4)}` },
  bob: { impu: `sip:bob@${DOMAIN}`, impi: `bob@${DOMAIN}`, password: `bob-${token(4)}` },
};

const t = new Checks();
const dir = tempDir('webims-all-');
const clients = [];
let server;
watchdog(180000, () => { if (server) console.log(`--- webims all ---\n${server.tail(40)}`); });

// Established TCP connections with the core's SIP port at either end (`ss`, loopback only).
function coreConnections(port) {
  const r = spawnSync('ss', ['-Htn', 'state', 'established'], { encoding: 'utf8', timeout: 10000 });
  return (r.stdout || '').split('\n').filter((l) => new RegExp(`:${port}\\b`).test(l));
}

try {
  const ports = await allocatePorts(['core', 'pcscf', 'turn', 'web']);
  const config = writeConfig(dir, webimsConfig({ dir, ports, domain: DOMAIN, km: KM, origins: [ORIGIN] }));
  for (const u of Object.values(USERS)) admin(binary, config, ['subscriber', 'add', '--impi', u.impi, '--impu', u.impu, '--password', u.password]);
  server = new Proc('webims all', binary, ['all', '--config', config], { logPath: join(dir, 'all.log'), cwd: dir });
  await server.waitReady(() => httpHealth(`http://127.0.0.1:${ports.pcscfControl}/health`), { timeoutMs: 30000, what: 'pcscf /health' });
  t.check(server.readLog().includes(`wss://127.0.0.1:${ports.wss}`), 'webims all prints its eP-CSCF listener');
  const ca = webimsCa(dir);
  const wsUrl = `wss://127.0.0.1:${ports.wss}/`;
  const client = (u) => {
    const c = new JsSipClient({ wsUrl, origin: ORIGIN, ca, uri: u.impu, user: u.impi, password: u.password, name: u.impi });
    clients.push(c);
    return c;
  };
  const alice = client(USERS.alice), bob = client(USERS.bob);

  await t.step('registration through the one process', async () => {
    t.check((await alice.start()).connected && (await bob.start()).connected, 'alice and bob connect over WSS');
    const ra = await alice.register({ turnCred: true });
    t.check(ra.registered && ra.status === 200, `alice registered with Digest (${ra.status} ${ra.reason || ra.cause || ''})`);
    t.check(!!ra.turnCred, 'the 200 OK carries 3gpp-ext-turn-cred', ra.turnCred);
    const rb = await bob.register({ turnCred: false });
    t.check(rb.registered && rb.status === 200, `bob registered (${rb.status} ${rb.reason || rb.cause || ''})`);
  });

  await t.step('MESSAGE both ways', async () => {
    for (const [from, to, u] of [[alice, bob, USERS.bob], [bob, alice, USERS.alice]]) {
      const body = `hello ${token(4)}`;
      const sent = await from.sendMessage(u.impu, body);
      t.check(sent.ok && sent.status === 200, `MESSAGE to ${u.impu} answered ${sent.status} ${sent.reason || sent.cause || ''}`);
      const got = await to.nextMessage(5000, (m) => m.body === body);
      t.check(!!got, `${u.impu} received it through eP-CSCF and core`);
    }
  });

  await t.step('INVITE alice → bob', async () => {
    const call = await alice.call(USERS.bob.impu);
    t.check(call.confirmed && call.status === 200, `alice's INVITE answered and confirmed (${call.status} ${call.cause || ''})`);
    const inc = await bob.nextIncomingCall(5000);
    t.check(!!inc && inc.from === USERS.alice.impu, 'bob received the INVITE');
    const h = await JsSipClient.hangup(call.session);
    t.check(h.ended, 'alice hung up (BYE answered)');
  });

  const log = server.readLog();
  t.check(log.includes('messages handed over in memory'), 'the eP-CSCF hands SIP to the core in memory (log)');
  const conns = coreConnections(ports.coreSip);
  t.check(conns.length === 0, `no TCP connection to the core's SIP port ${ports.coreSip}`, conns);
} catch (e) {
  t.check(false, 'test ran to completion', e.stack || e.message);
} finally {
  for (const c of clients) await c.stop().catch(() => {});
  if (server) {
    const ex = await server.stop();
    t.check(ex.code === 0 && !server.killed, 'webims all exited cleanly on SIGTERM', ex);
    const log = server.readLog();
    t.check(!log.includes(KM) && !Object.values(USERS).some((u) => log.includes(u.password)), 'no Km, no password in its log');
  }
  await stopAll();
}
if (t.failed.length && server) console.log(`--- webims all log (tail) ---\n${server.tail(40)}`);
process.exit(t.summary() ? 0 : 1);
