// Process and check helpers for the Node interop tests (JsSIP, Kamailio, webims): free loopback ports,
// foreground servers with their output in a log file, readiness by polling, SIGTERM to the PIDs we
// started and to nothing else, every wait bounded.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

// A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both).
export async function freePort() {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
    const udpFree = await new Promise((resolve) => {
      const u = createSocket('udp4');
      u.on('error', () => { u.close(); resolve(false); });
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

// Resolves with fn()'s first truthy value, polling every `intervalMs`; rejects after `timeoutMs`.
export async function waitFor(fn, { timeoutMs = 10000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
}

// Rejects when `promise` has not settled within `ms`.
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function tcpOpen(host, port) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(1000, () => done(false));
    s.on('connect', () => done(true));
    s.on('error', () => done(false));
  });
}

// A foreground server we started: its output goes to `logPath` (standard output to `stdoutPath`
// instead when given, to tell a console listing from log lines); stop() sends SIGTERM to its PID only.
export class Proc {
  constructor(name, cmd, args, { logPath, stdoutPath, cwd, env } = {}) {
    this.name = name;
    this.logPath = logPath;
    this.stdoutPath = stdoutPath;
    this.log = createWriteStream(logPath);
    this.out = stdoutPath ? createWriteStream(stdoutPath) : this.log;
    this.child = spawn(cmd, args, { cwd, env: env || process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.pipe(this.out, { end: false });
    this.child.stderr.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.child.on('error', (e) => this.log.write(`spawn error: ${e.message}\n`));
    Proc.all.add(this);
  }
  get pid() { return this.child.pid; }
  get running() { return this.child.exitCode === null && this.child.signalCode === null; }
  readLog() { try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; } }
  readStdout() { try { return readFileSync(this.stdoutPath || this.logPath, 'utf8'); } catch { return ''; } }
  tail(n = 40) { return this.readLog().split('\n').slice(-n).join('\n'); }
  // SIGTERM, then SIGKILL after `graceMs`; resolves with { code, signal }.
  async stop(graceMs = 10000) {
    Proc.all.delete(this);
    if (this.running) {
      this.child.kill('SIGTERM');
      const r = await Promise.race([this.exited, sleep(graceMs).then(() => null)]);
      if (!r) { this.child.kill('SIGKILL'); await this.exited; this.killed = true; }
    }
    await new Promise((r) => this.log.end(r));
    if (this.out !== this.log) await new Promise((r) => this.out.end(r));
    return this.exited;
  }
  // Polls until `ready()` is truthy; fails early when the process exits.
  async waitReady(ready, { timeoutMs = 15000, what } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.tail()}`);
      try { const v = await ready(); if (v) return v; } catch { /* not yet */ }
      await sleep(100);
    }
    throw new Error(`${this.name} not ready (${what || 'readiness'}) within ${timeoutMs} ms:\n${this.tail()}`);
  }
}
Proc.all = new Set();

export async function stopAll() {
  await Promise.all([...Proc.all].map((p) => p.stop(5000).catch(() => {})));
}

export async function httpHealth(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return r.ok ? (await r.text()) || 'ok' : null;
}

// The whole test process is bounded: past `ms` it reports, stops our servers and exits 1.
export function watchdog(ms, onFire) {
  const t = setTimeout(async () => {
    console.log(`FAIL the test did not finish within ${ms / 1000} s`);
    try { if (onFire) await onFire(); } catch { /* reporting only */ }
    await stopAll();
    process.exit(1);
  }, ms);
  t.unref();
  return t;
}

// ok/FAIL lines, one per check; summary() prints the closing line and sets the exit code.
export class Checks {
  constructor() { this.failed = []; this.passed = 0; this.skipped = 0; }
  check(cond, what, detail) {
    console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}${!cond && detail !== undefined ? ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
    if (cond) this.passed++; else this.failed.push(what);
    return cond;
  }
  skip(what, why) { console.log(`skip ${what} (${why})`); this.skipped++; }
  // Runs an async step; an exception is one failed check, and the test goes on.
  async step(what, fn) {
    try { return await fn(); } catch (e) { this.check(false, what, e.stack || e.message); return undefined; }
  }
  summary() {
    console.log(`${this.passed} passed, ${this.failed.length} failed${this.skipped ? `, ${this.skipped} skipped` : ''}`);
    return this.failed.length === 0;
  }
}

export const md5 = (s) => createHash('md5').update(s).digest('hex');

// ---------------------------------------------------------------------------------------------
// Kamailio (Debian's kamailio 5.6) in the foreground on loopback: -DD -E, its own runtime dir, a small
// SQLite subscriber table created here (auth_db), stopped by its PID.

export const KAMAILIO = process.env.KAMAILIO || '/usr/sbin/kamailio';
export const KAMAILIO_CFG_DIR = new URL('./kamailio/', import.meta.url).pathname;
const SQLITE_SCHEMA_DIR = '/usr/share/kamailio/db_sqlite';

// users: [{ username, domain, password }]; `username` is the Digest username (IMPI); an IMS-style
// "user@domain" username is stored as user part + ha1b, as auth_db looks it up (use_domain 0).
export function kamailioDb(path, realm, users) {
  const rows = users.map(({ username, password }) => {
    const [user, dom = realm] = username.split('@');
    const ha1 = md5(`${user}:${realm}:${password}`);
    const ha1b = md5(`${user}@${dom}:${realm}:${password}`);
    const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
    return `INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (${q(user)}, ${q(dom)}, '', ${q(ha1)}, ${q(ha1b)});`;
  });
  const sql = [readFileSync(join(SQLITE_SCHEMA_DIR, 'standard-create.sql'), 'utf8'),
               readFileSync(join(SQLITE_SCHEMA_DIR, 'auth_db-create.sql'), 'utf8'), ...rows].join('\n');
  const r = spawnSync('sqlite3', [path], { input: sql, encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr || r.error}`);
}

// A self-signed certificate for 127.0.0.1 (it is its own CA: give it to the client as `ca`).
export function selfSignedCert(dir) {
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                                  '-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1',
                                  '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2'],
                      { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr || r.error}`);
  return { cert, key };
}

// Starts `kamailio -DD -E -f CFG` with `listen` (e.g. ["tls:127.0.0.1:5061"]) and preprocessor
// `defines` ({ NAME: value }; strings are quoted for the cfg); readiness = every TCP/TLS port accepts.
export async function startKamailio(dir, cfgName, { listen, defines = {}, timeoutMs = 15000 }) {
  const run = join(dir, 'run');
  mkdirSync(run, { recursive: true });
  const args = ['-DD', '-E', '-m', '32', '-M', '4', '-f', join(KAMAILIO_CFG_DIR, cfgName), '-Y', run, '-w', dir,
                '-P', join(run, 'kamailio.pid')];
  for (const l of listen) args.push('-l', l);
  for (const [k, v] of Object.entries(defines)) args.push('-A', typeof v === 'string' ? `${k}="${v}"` : `${k}=${v}`);
  writeFileSync(join(dir, 'kamailio.cmd'), [KAMAILIO, ...args].map((a) => `'${a}'`).join(' ') + '\n');
  const proc = new Proc('kamailio', KAMAILIO, args, { logPath: join(dir, 'kamailio.log') });
  const tcpPorts = listen.filter((l) => /^(tcp|tls):/.test(l)).map((l) => Number(l.split(':').pop()));
  await proc.waitReady(async () => {
    for (const p of tcpPorts) if (!(await tcpOpen('127.0.0.1', p))) return false;
    return true;
  }, { timeoutMs, what: `listening on ${listen.join(', ')}` });
  await sleep(tcpPorts.length ? 200 : 500);  // its SIP workers finish forking
  return proc;
}
