// Interop: headless Chromium gathers `relay` candidates from `webims turn` with Solution 1
// credentials (iceTransportPolicy 'relay') and two RTCPeerConnections in one page exchange data
// through the relay, over TURN/UDP, TURN/TCP and TURN/TLS. getStats must show a relay-relay
// selected pair with bytes received. usage: node turn_chromium_test.mjs WEBIMS_BINARY
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const binary = process.argv[2];
if (!binary) throw new Error('usage: node turn_chromium_test.mjs WEBIMS_BINARY');
const SECRET = 'chromium-interop-secret';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

// Solution 1 as the eP-CSCF mints it (protocols.md): Tid = 128 random bits, base64url, never all digits.
function credential(lifetimeS) {
  const tid = randomBytes(16).toString('base64url');
  const username = `${tid}:${Math.floor(Date.now() / 1000) + lifetimeS}`;
  const credential = createHmac('sha1', SECRET).update(username).digest('base64');
  return { username, credential };
}

async function waitHealth(url, proc, logPath) {
  for (let i = 0; i < 150; i++) {
    if (proc.exitCode !== null) throw new Error('webims exited: ' + readFileSync(logPath, 'utf8'));
    try { const r = await fetch(url); if (r.ok) return r.json(); } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('webims not ready: ' + readFileSync(logPath, 'utf8'));
}

// Runs in the page: two peer connections, relay-only, a data channel, getStats on both ends.
async function relayCall({ iceServers }) {
  const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('no relayed call within 20 s')), 20000));
  return Promise.race([deadline, relayCallInner(iceServers)]);
  async function relayCallInner(iceServers) {
  const cfg = { iceServers, iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(cfg), b = new RTCPeerConnection(cfg);
  const candidates = { a: [], b: [] };
  a.onicecandidate = (e) => { if (e.candidate) { candidates.a.push(e.candidate.type); b.addIceCandidate(e.candidate); } };
  b.onicecandidate = (e) => { if (e.candidate) { candidates.b.push(e.candidate.type); a.addIceCandidate(e.candidate); } };
  const received = new Promise((resolve, reject) => {
    b.ondatachannel = (e) => { e.channel.onmessage = (m) => resolve(m.data); };
    setTimeout(() => reject(new Error('no data through the relay within 15 s; candidates ' + JSON.stringify(candidates))), 15000);
  });
  const dc = a.createDataChannel('probe');
  const opened = new Promise((resolve) => { dc.onopen = resolve; });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await opened;
  for (let i = 0; i < 20; i++) dc.send('hello through webims turn ' + i);
  const first = await received;
  await new Promise((r) => setTimeout(r, 500));
  async function selected(pc) {
    const stats = await pc.getStats();
    let pair;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    });
    if (!pair) stats.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
    const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
    return { local: local.candidateType, remote: remote.candidateType, relayProtocol: local.relayProtocol,
             bytesReceived: pair.bytesReceived, bytesSent: pair.bytesSent };
  }
  const result = { first, candidates, a: await selected(a), b: await selected(b) };
  a.close(); b.close();
  return result;
  }
}

const failures = [];
function check(cond, what) { console.log((cond ? 'ok   ' : 'FAIL ') + what); if (!cond) failures.push(what); }

const dir = mkdtempSync(join(tmpdir(), 'webims-chromium-'));
const [port, tlsPort, control] = [await freePort(), await freePort(), await freePort()];
writeFileSync(join(dir, 'turn.toml'), `
[store]
url = "sqlite://${dir}/webims.db"
[tls]
dir = "${dir}/tls"
[turn]
listen = ["udp://127.0.0.1:${port}", "tcp://127.0.0.1:${port}", "tls://127.0.0.1:${tlsPort}"]
realm = "ims.example.org"
relay_address = "127.0.0.1"
relay_ports = "42000-42999"
# Both peer connections are on this host and relay to each other's relayed address.
allowed_peer_ranges = ["127.0.0.0/8"]
control_listen = "http://127.0.0.1:${control}"
[[turn.secrets]]
id = "k1"
secret = "${SECRET}"
`);
const logPath = join(dir, 'server.log');
const server = spawn(binary, ['turn', '--config', join(dir, 'turn.toml')], { stdio: ['ignore', 'pipe', 'pipe'] });
const logChunks = [];
server.stdout.on('data', (d) => logChunks.push(d)); server.stderr.on('data', (d) => logChunks.push(d));
const flushLog = () => writeFileSync(logPath, Buffer.concat(logChunks));
setInterval(flushLog, 200).unref();
let browser;
try {
  await waitHealth(`http://127.0.0.1:${control}/health`, server, logPath);
  // Chromium verifies TURN/TLS certificates: trust exactly the key of the certificate webims generated
  // (as a user would trust its local CA), nothing else.
  const cert = new X509Certificate(readFileSync(join(dir, 'tls', 'server.pem')));
  const spki = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  // A fresh profile each run (Playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-')), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--allow-loopback-in-peer-connection', `--ignore-certificate-errors-spki-list=${spki}`],
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${control}/health`);  // any http origin of ours will do
  for (const [name, url] of [['udp', `turn:127.0.0.1:${port}?transport=udp`],
                             ['tcp', `turn:127.0.0.1:${port}?transport=tcp`],
                             ['tls', `turns:127.0.0.1:${tlsPort}?transport=tcp`]]) {
    const cred = credential(3600);
    let r;
    try {
      r = await page.evaluate(relayCall, { iceServers: [{ urls: url, ...cred }] });
    } catch (e) {
      check(false, `${name}: data through the relay (${e.message.split('\n')[0]})`);
      continue;
    }
    console.log(`${name}: ${JSON.stringify(r)}`);
    check(r.candidates.a.length > 0 && r.candidates.a.every((t) => t === 'relay'), `${name}: only relay candidates gathered`);
    check(r.a.local === 'relay' && r.a.remote === 'relay' && r.b.local === 'relay', `${name}: selected pair is relay-relay`);
    check(r.a.relayProtocol === name, `${name}: relayProtocol is ${name}`);
    check(r.b.bytesReceived > 0 && r.a.bytesReceived > 0, `${name}: bytes received through the relay on both ends`);
    check(r.first.startsWith('hello through webims turn'), `${name}: data channel message arrived`);
  }
  // An expired credential gathers no relay candidate.
  const expired = credential(-10);
  const gathered = await page.evaluate(async ({ iceServers }) => {
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
    const types = [];
    pc.onicecandidate = (e) => { if (e.candidate) types.push(e.candidate.type); };
    pc.createDataChannel('x');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => { const t = setTimeout(r, 8000); pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); r(); } }; });
    pc.close();
    return types;
  }, { iceServers: [{ urls: `turn:127.0.0.1:${port}?transport=udp`, ...expired }] });
  check(gathered.length === 0, `expired credential: no relay candidate (got ${JSON.stringify(gathered)})`);
  const metrics = await (await fetch(`http://127.0.0.1:${control}/metrics`)).text();
  const expiredCount = Number((metrics.match(/webims_turn_auth_failures_total\{reason="expired_credential"\} (\d+)/) || [])[1] || 0);
  check(expiredCount > 0, `server counted the expired credential (${expiredCount})`);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  flushLog();
}
const log = readFileSync(logPath, 'utf8');
check(!log.includes(SECRET), 'the key never appears in the log');
check(server.exitCode === 0, `webims turn exited cleanly on SIGTERM (code ${server.exitCode})`);
if (failures.length) {
  console.log('--- server log ---\n' + log.split('\n').slice(-40).join('\n'));
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
