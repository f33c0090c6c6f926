// Starts `webims` servers (core, pcscf, turn) for the Node end-to-end tests: one TOML config in a
// temp dir (protocols.md names), free loopback ports, readiness by polling /health (or the SIP port
// when a server has no control listener), SIGTERM to the PIDs started here only.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Proc, freePort, httpHealth, tcpOpen } from './node_harness.mjs';

// `webims <cmd> --help` exits 0 for the commands this binary has.
export function hasCommand(binary, cmd) {
  const r = spawnSync(binary, [cmd, '--help'], { encoding: 'utf8', timeout: 10000 });
  return r.status === 0;
}

// The effective configuration of `cmd` (every key with its default), '' when the command is missing.
export function printConfig(binary, cmd) {
  const r = spawnSync(binary, [cmd, '--print-config'], { encoding: 'utf8', timeout: 10000 });
  return r.status === 0 ? r.stdout : '';
}

// Whether the printed configuration has `key` in [section] (so the test may set it).
export function configHasKey(printed, section, key) {
  let cur = '';
  for (const line of printed.split('\n')) {
    const s = /^\s*\[+([^\]]+)\]+\s*$/.exec(line);
    if (s) { cur = s[1].trim(); continue; }
    if (cur === section && new RegExp(`^\\s*${key}\\s*=`).test(line)) return true;
  }
  return false;
}

const q = (s) => JSON.stringify(s);
const list = (a) => `[${a.map(q).join(', ')}]`;

// Ports for one deployment; `want` lists the parts: core, pcscf, turn, web (WWSF + WAF).
export async function allocatePorts(want = ['core', 'pcscf', 'turn']) {
  const p = {};
  if (want.includes('core')) { p.coreSip = await freePort(); p.coreControl = await freePort(); }
  if (want.includes('pcscf')) { p.wss = await freePort(); p.pcscfSip = await freePort(); p.pcscfControl = await freePort(); }
  if (want.includes('turn')) { p.turn = await freePort(); p.turnControl = await freePort(); }
  if (want.includes('web')) { p.web = await freePort(); p.wwsfControl = await freePort(); }
  return p;
}

// The config text. `nextHop` defaults to the embedded core; the core's control listener is moved to
// ports.coreControl unless `withCoreControl` is false (a binary whose core has no such key: a server
// rejects unknown keys). `ports.web` (and `ports.wwsfControl`) move the WWSF's listeners, which
// `webims all` runs too.
export function webimsConfig({ dir, ports, domain, km, origins, nextHop, withCoreControl = ports.coreControl !== undefined, relayPorts = '44000-44999',
                               turnCredentialLifetime = '1h', logLevel = 'info' }) {
  const parts = [`[log]\nlevel = ${q(logLevel)}`,
                 `[store]\nurl = ${q(`sqlite://${dir}/webims.db`)}`,
                 `[tls]\ndir = ${q(`${dir}/tls`)}`];
  const turnListen = ports.turn ? [`udp://127.0.0.1:${ports.turn}`, `tcp://127.0.0.1:${ports.turn}`] : [];
  parts.push(`[turn]
${turnListen.length ? `listen = ${list(turnListen)}\n` : ''}realm = ${q(domain)}
relay_address = "127.0.0.1"
relay_ports = ${q(relayPorts)}
allowed_peer_ranges = ["127.0.0.0/8"]
${ports.turnControl ? `control_listen = ${q(`http://127.0.0.1:${ports.turnControl}`)}\n` : ''}
[[turn.secrets]]
id = "k1"
secret = ${q(km)}`);
  if (ports.wss) {
    parts.push(`[pcscf]
listen = ${list([`wss://127.0.0.1:${ports.wss}`])}
allowed_origins = ${list(origins)}
sip_listen = ${list([`tcp://127.0.0.1:${ports.pcscfSip}`])}
next_hop = ${q(nextHop || `sip:127.0.0.1:${ports.coreSip};transport=tcp`)}
turn_uris = ${list(ports.turn ? [`turn:127.0.0.1:${ports.turn}?transport=udp`, `turn:127.0.0.1:${ports.turn}?transport=tcp`] : [])}
turn_credential_lifetime = ${q(turnCredentialLifetime)}
control_listen = ${q(`http://127.0.0.1:${ports.pcscfControl}`)}`);
  }
  if (ports.coreSip) {
    parts.push(`[core]
listen = ${list([`udp://127.0.0.1:${ports.coreSip}`, `tcp://127.0.0.1:${ports.coreSip}`])}
home_domain = ${q(domain)}
trusted_nodes = ["127.0.0.1"]${withCoreControl ? `\ncontrol_listen = ${q(`http://127.0.0.1:${ports.coreControl}`)}` : ''}`);
  }
  if (ports.web) {
    parts.push(`[wwsf]
listen = ${q(`https://127.0.0.1:${ports.web}`)}
control_listen = ${q(ports.wwsfControl ? `http://127.0.0.1:${ports.wwsfControl}` : '')}`);
  }
  return parts.join('\n\n') + '\n';
}

export function writeConfig(dir, text) {
  const path = join(dir, 'webims.toml');
  writeFileSync(path, text);
  return path;
}

// Starts `webims <cmd> --config FILE`; ready when `health` answers 200, or when every `tcpPorts` accepts.
export async function startWebims(binary, cmd, config, dir, { health, tcpPorts = [], timeoutMs = 20000, env } = {}) {
  const proc = new Proc(`webims ${cmd}`, binary, [cmd, '--config', config], { logPath: join(dir, `${cmd}.log`), env });
  await proc.waitReady(async () => {
    if (health) return await httpHealth(health);
    for (const p of tcpPorts) if (!(await tcpOpen('127.0.0.1', p))) return false;
    return true;
  }, { timeoutMs, what: health || `tcp ${tcpPorts.join(',')}` });
  return proc;
}

// `webims admin --config FILE ARGS...`; throws with its output when it fails.
export function admin(binary, config, args) {
  const r = spawnSync(binary, ['admin', '--config', config, ...args], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`webims admin ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

// The CA a WIC must trust for the eP-CSCF's WSS certificate ([tls] dir, generated on first start).
export function webimsCa(dir) {
  for (const f of ['ca.pem', 'server.pem']) {
    const p = join(dir, 'tls', f);
    if (existsSync(p)) return readFileSync(p);
  }
  throw new Error(`no certificate under ${dir}/tls`);
}
