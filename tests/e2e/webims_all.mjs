// `webims all` for the browser tests and benchmarks (tests/e2e/browser_call_test.mjs,
// bench/wic/setup_bench.mjs): one process in a temp dir with a config that only moves its listeners
// to free loopback ports, points [wwsf] web_root at web/dist and advertises the TURN relay on
// loopback; everything else is its zero-config default, including the demo accounts it prints on
// first start. And a Chromium that trusts its generated CA through an NSS database in a temp HOME
// (certutil, as the console tells users), or else ignores certificate errors and says so.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Proc, freePort } from '../interop/node_harness.mjs';
import { launchBrowser, nssHomeTrusting } from './wic_page.mjs';

// `webims all --print-config` -> { section: { key: value } } for the keys whose values are TOML
// strings or arrays of strings (what the listener keys are).
export function printedConfig(binary) {
  const text = execFileSync(binary, ['all', '--print-config'], { encoding: 'utf8', timeout: 10000 });
  const out = {};
  let section = '';
  for (const line of text.split('\n')) {
    const s = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (s) { section = s[1].trim(); out[section] ||= {}; continue; }
    const kv = /^\s*([A-Za-z0-9_]+)\s*=\s*(".*"|\[.*\])\s*$/.exec(line);
    if (kv && section) { try { out[section][kv[1]] = JSON.parse(kv[2]); } catch { /* not a plain string/array */ } }
  }
  return out;
}

// Every listener of every section moved to 127.0.0.1 and a free port; listeners that share a port
// by default (WWSF and WAF on 8443; TURN's UDP and TCP on 3478) keep sharing their new one.
export async function loopbackListeners(printed) {
  const portMap = new Map();
  const moved = {};
  const move = async (url) => {
    const m = /^([a-z]+):\/\/(\[[^\]]*\]|[^/:]*):(\d+)(.*)$/.exec(url);
    if (!m) return url;
    if (!portMap.has(m[3])) portMap.set(m[3], await freePort());
    return `${m[1]}://127.0.0.1:${portMap.get(m[3])}${m[4]}`;
  };
  for (const [section, keys] of Object.entries(printed)) {
    for (const [key, value] of Object.entries(keys)) {
      if (!/(^|_)listen$/.test(key)) continue;
      if (Array.isArray(value)) {
        if (!value.length) continue;
        (moved[section] ||= {})[key] = [];
        for (const v of value) moved[section][key].push(await move(v));
      } else if (value) {
        (moved[section] ||= {})[key] = await move(value);
      }
    }
  }
  // The eP-CSCF's next hop is left alone: `webims all` points it at its core's moved listener.
  return moved;
}

// The TURN URIs `webims all` derives from its [turn] listeners when [pcscf] turn_uris is left at
// its default (cli/cmd_all.cpp turn_uris_of; the listeners here are bound to 127.0.0.1).
export function derivedTurnUris(turnListen) {
  const out = [];
  for (const l of turnListen || []) {
    const m = /^(udp|tcp|tls):\/\/(\[[^\]]*\]|[^/:]*):(\d+)$/.exec(l);
    if (!m) continue;
    out.push(m[1] === 'tls' ? `turns:${m[2]}:${m[3]}?transport=tcp` : `turn:${m[2]}:${m[3]}?transport=${m[1]}`);
  }
  return out;
}

export function toml(sections) {
  return Object.entries(sections).map(([name, keys]) =>
    `[${name}]\n${Object.entries(keys).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}`).join('\n\n') + '\n';
}

// The demo lines `webims all` prints on first start:
//   demo ims-subscriber impi=... impu=... password=...
//   demo web-account username=carol password=... linked=bob@...
//   demo guest-pool pattern=*@guest... size=5 wwsf=localhost
export function parseDemo(out) {
  const demo = { subscribers: {}, accounts: {}, pool: null };
  for (const line of out.split('\n')) {
    const m = /^\s*demo (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const kv = Object.fromEntries(m[2].trim().split(/\s+/).map((p) => { const i = p.indexOf('='); return [p.slice(0, i), p.slice(i + 1)]; }));
    if (m[1] === 'ims-subscriber') demo.subscribers[kv.impi.split('@')[0]] = kv;
    else if (m[1] === 'web-account') demo.accounts[kv.username] = kv;
    else if (m[1] === 'guest-pool') demo.pool = kv;
  }
  return demo;
}

// Starts `webims all` in `dir`. `turnUris(derived)`, when given, returns the [pcscf] turn_uris to
// configure instead of the derived set (which is what `webims all` announces without it);
// `logLevel` sets [log] level.
// -> { proc, url, ca, demo, config, turnUris }
export async function startAll({ binary, dir, webRoot, turnUris = null, logLevel = '', name = 'webims all' }) {
  if (!existsSync(join(webRoot, 'index.html'))) throw new Error(`${webRoot}/index.html missing: run bash scripts/build.sh (npm run build:web)`);
  const moved = await loopbackListeners(printedConfig(binary));
  const derived = derivedTurnUris(moved.turn?.listen);
  const sections = {
    ...moved,
    // The TURN URIs the eP-CSCF hands out name the relay address: loopback, where TURN now listens.
    turn: { ...moved.turn, relay_address: '127.0.0.1' },
    wwsf: { ...moved.wwsf, web_root: webRoot },
  };
  if (turnUris) sections.pcscf = { ...moved.pcscf, turn_uris: turnUris(derived) };
  if (logLevel) sections.log = { level: logLevel };
  const config = join(dir, 'webims.toml');
  writeFileSync(config, toml(sections));
  const proc = new Proc(name, binary, ['all', '--config', config], { cwd: dir, logPath: join(dir, 'all.log') });
  const out = await proc.waitReady(() => {
    const log = proc.readLog();
    return /^Open https:\/\/\S+ in a browser/m.test(log) ? log : null;
  }, { timeoutMs: 30000, what: 'the "Open ... in a browser" line' });
  const url = /^Open (https:\/\/\S+) in a browser/m.exec(out)[1];
  const ca = /To trust the local CA (\S+?)\s*\(/.exec(out)?.[1] || join(dir, 'var', 'tls', 'ca.pem');
  return { proc, url, ca, demo: parseDemo(out), config, turnUris: sections.pcscf?.turn_uris || derived };
}

// Chromium with a temp HOME whose NSS database trusts `ca`; probes `url` once. When the trust did
// not work the contexts are to ignore HTTPS errors (contextOptions says so).
// -> { browser, contextOptions, trusted, why, cleanup() }
export async function browserTrusting(ca, url) {
  const nss = nssHomeTrusting(ca);
  const browser = await launchBrowser({ home: nss.home });
  const probe = await browser.newContext();
  const page = await probe.newPage();
  const trusted = !!nss.home && await page.goto(url, { timeout: 15000 }).then((r) => !!r?.ok()).catch(() => false);
  await probe.close();
  return {
    browser, trusted,
    contextOptions: trusted ? {} : { ignoreHTTPSErrors: true },
    why: trusted ? '' : (nss.why || 'certificate not accepted'),
    cleanup: () => { if (nss.home) rmSync(nss.home, { recursive: true, force: true }); },
  };
}
