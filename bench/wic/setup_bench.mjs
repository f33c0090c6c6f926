// Call set-up time of the browser WIC (issue 5): the early ICE rule (web/src/ice_rule.js: the SDP goes
// at the first relay candidate) against the anchor, JsSIP's default wait for complete ICE gathering
// (the page's ?ice=wait), alternating call by call in one run on one machine, reported as ratios.
//
// Two deployments of `webims all` run side by side, each started once on free loopback ports as the
// e2e test does (tests/e2e/webims_all.mjs), each with its own Chromium trusting its CA:
//   default  the TURN URIs `webims all` announces by itself: UDP, TCP and TLS (turns:, whose
//            certificate Chromium's TURN client may not accept) on its own relay;
//   dead     the same plus one TURN URI that never answers (what users of JsSIP/sipML5 meet when a
//            configured STUN/TURN server is unreachable): by default a UDP socket on 127.0.0.1 that
//            this script binds and reads without answering (a silent drop, as a firewall would);
//            with --dead closed, a UDP port with nothing bound (the kernel answers ICMP unreachable).
// In each deployment, per gate (early, wait), alice signs in by IMS Digest and a guest from the pool;
// alice calls the guest of her gate, the guest answers as soon as its page rings, both with the same
// "relay only" switch: relay-only (iceTransportPolicy relay) or all candidates. Each round runs every
// case (deployment x candidates x gate) once, in an order rotated from round to round.
//
// Per call: the caller page's own dial -> media connected (state.call.setupMs), and the same less the
// time the callee's page rang before this script clicked Answer (callee's answeredMs - ringMs): the
// script's answering latency (100-250 ms, Playwright seeing the ringing and clicking) is not the
// WIC's and would blur differences of tens of ms; dial click -> both pages connected as this script
// sees it; how long each side's ICE gate held the SDP (iceMs).
// Prints a markdown table (median [min-max] per case, ratio early/anchor of the medians) on stdout and
// writes every call to OUT/calls.json. Timing is reported, never asserted: a call that does not
// connect is counted as such (with how long it took to fail and the pages' sentences) and left out
// of the figures; the exit code is 1 only when a call of the early rule (the WIC as shipped) failed.
// WEBIMS_BENCH_TRACE=1 writes each page's SIP start lines and console to OUT/<page>.sip.log;
// WEBIMS_BENCH_LOG=debug sets the log level of both `webims all`.
//
// usage: node bench/wic/setup_bench.mjs --binary build/webims [--calls 10] [--out DIR]
//          [--configs default,dead] [--candidates relay,all] [--dead drop|closed] [--max-minutes 60]
import { createSocket } from 'node:dgram';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, stopAll, tempDir, watchdog } from '../../tests/interop/node_harness.mjs';
import { WicPage, callUntilConnected } from '../../tests/e2e/wic_page.mjs';
import { browserTrusting, startAll } from '../../tests/e2e/webims_all.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const webRoot = join(repo, 'web', 'dist');

function args(argv) {
  const o = { binary: '', calls: 10, out: '', configs: ['default', 'dead'], candidates: ['relay', 'all'], dead: 'drop', maxMinutes: 60 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--binary': o.binary = resolve(v); i++; break;
      case '--calls': o.calls = Number(v); i++; break;
      case '--out': o.out = resolve(v); i++; break;
      case '--configs': o.configs = v.split(','); i++; break;
      case '--candidates': o.candidates = v.split(','); i++; break;
      case '--dead': o.dead = v; i++; break;
      case '--max-minutes': o.maxMinutes = Number(v); i++; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!o.binary) throw new Error('--binary WEBIMS is required');
  // Bounded: a dead-URI call with ?ice=wait can take tens of seconds per side.
  if (!(o.calls >= 1 && o.calls <= 50)) throw new Error('--calls must be 1..50');
  if (!o.configs.every((c) => ['default', 'dead'].includes(c))) throw new Error('--configs: default,dead');
  if (!o.candidates.every((c) => ['relay', 'all'].includes(c))) throw new Error('--candidates: relay,all');
  if (!['drop', 'closed'].includes(o.dead)) throw new Error('--dead: drop or closed');
  if (!(o.maxMinutes > 0 && o.maxMinutes <= 240)) throw new Error('--max-minutes must be 1..240');
  return o;
}

const opt = args(process.argv.slice(2));
const out = opt.out || tempDir('webims-wic-setup-');
mkdirSync(out, { recursive: true });
const GATES = ['early', 'wait'];
const RING_MS = 90000;     // the INVITE leaves only when the caller's gate opens: up to the browser's gathering
const CONNECT_MS = 90000;  // and the 200 OK when the callee's does
const deployments = [];
const log = (s) => process.stderr.write(`${s}\n`);

// CPU time of the whole machine from /proc/stat: how loaded it was while the calls ran.
function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  return { idle, total: f.reduce((a, b) => a + b, 0) };
}
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

watchdog(opt.maxMinutes * 60000, async () => {
  for (const d of deployments) await d.chromium?.browser.close().catch(() => {});
});

// A UDP socket that reads and never answers (the "dead" TURN server in drop mode).
async function silentUdp() {
  const port = await freePort();
  const sock = createSocket('udp4');
  const seen = { packets: 0 };
  sock.on('message', () => { seen.packets++; });
  await new Promise((res, rej) => { sock.once('error', rej); sock.bind(port, '127.0.0.1', res); });
  return { port, sock, seen };
}

async function deploy(name) {
  const d = { name, pages: {}, dead: null };
  deployments.push(d);
  let extra = null;
  if (name === 'dead') {
    if (opt.dead === 'drop') { d.dead = await silentUdp(); extra = `turn:127.0.0.1:${d.dead.port}?transport=udp`; }
    else { d.dead = { port: await freePort(), seen: null }; extra = `turn:127.0.0.1:${d.dead.port}?transport=udp`; }
  }
  d.all = await startAll({ binary: opt.binary, dir: tempDir(`webims-wic-setup-${name}-`), webRoot, name: `webims all (${name})`,
                           logLevel: process.env.WEBIMS_BENCH_LOG || '',
                           turnUris: extra ? (derived) => [...derived, extra] : null });
  d.chromium = await browserTrusting(d.all.ca, d.all.url);
  if (!d.chromium.trusted) log(`note (${name}): the NSS trust did not work (${d.chromium.why}); the contexts ignore HTTPS errors`);
  const alice = d.all.demo.subscribers.alice;
  if (!alice || !d.all.demo.pool) throw new Error(`${name}: webims all listed no demo alice or guest pool`);
  for (const gate of GATES) {
    const url = gate === 'wait' ? `${d.all.url}${d.all.url.includes('?') ? '&' : '?'}ice=wait` : d.all.url;
    const newPage = async (who) => {
      const ctx = await d.chromium.browser.newContext(d.chromium.contextOptions);
      const p = new WicPage(await ctx.newPage(), `${name}-${gate}-${who}`);
      if (process.env.WEBIMS_BENCH_TRACE) {
        // The SIP start lines each page sends and receives, for a call that does not connect.
        const trace = join(out, `${p.name}.sip.log`);
        const line = (dir, f) => { const t = String(f.payload).split('\r\n')[0]; appendFileSync(trace, `${new Date().toISOString()} ${dir} ${t}\n`); };
        p.page.on('websocket', (ws) => { ws.on('framesent', (f) => line('>', f)); ws.on('framereceived', (f) => line('<', f)); });
        p.page.on('console', (m) => appendFileSync(trace, `${new Date().toISOString()} console.${m.type()} ${m.text()}\n`));
      }
      await p.open(url);
      return p;
    };
    const caller = await newPage('alice'), callee = await newPage('guest');
    const a = await caller.signInDigest({ impu: alice.impu, password: alice.password });
    if (!a.registered) throw new Error(`${name}/${gate}: alice did not register: ${a.error}`);
    const g = await callee.signInGuest();
    if (!g.registered) throw new Error(`${name}/${gate}: the guest did not register: ${g.error}`);
    d.pages[gate] = { caller, callee, target: (await callee.impus())[0] };
  }
  return d;
}

async function oneCall(d, candidates, gate) {
  const { caller, callee, target } = d.pages[gate];
  const relayOnly = candidates === 'relay';
  const r = await callUntilConnected(caller, callee, target, { relayOnly, ringMs: RING_MS, connectMs: CONNECT_MS });
  const ok = r.a === 'connected' && r.b === 'connected';
  const stats = ok ? await caller.mediaStats().catch(() => null) : null;
  const rec = {
    config: d.name, candidates, gate, ok, at: new Date(r.dialled).toISOString(),
    testMs: r.testMs, answerClickMs: r.from ? r.answeredAfterMs : null, callerSetupMs: r.caller.setupMs, calleeSetupMs: r.callee.setupMs,
    // How long the callee's page rang before the script's click answered it (the callee's clock), and
    // the caller's dial -> connected without it: set-up as the machines make it, not the answering.
    rangMs: r.callee.answeredMs && r.callee.ringMs ? r.callee.answeredMs - r.callee.ringMs : null,
    setupLessRingMs: r.caller.setupMs !== null && r.callee.answeredMs && r.callee.ringMs ? r.caller.setupMs - (r.callee.answeredMs - r.callee.ringMs) : null,
    callerIceMs: r.caller.iceMs, calleeIceMs: r.callee.iceMs, callerIceWhy: r.caller.iceWhy, calleeIceWhy: r.callee.iceWhy,
    // Which gate the pages say they ran: proves ?ice=wait reached the WIC.
    callerGate: r.caller.iceGate, calleeGate: r.callee.iceGate,
    pair: stats ? `${stats.localType}/${stats.remoteType}` : '', policy: stats?.iceTransportPolicy || '',
    states: `${r.a}/${r.b}`,
    callerMessage: ok ? '' : await caller.callMessage().catch(() => ''), calleeMessage: ok ? '' : await callee.callMessage().catch(() => ''),
  };
  rec.message = [rec.callerMessage && `caller: ${rec.callerMessage}`, rec.calleeMessage && `callee: ${rec.calleeMessage}`].filter(Boolean).join(' / ');
  if (ok && (rec.callerGate !== gate || rec.calleeGate !== gate)) { rec.ok = false; rec.message = `pages ran gate ${rec.callerGate}/${rec.calleeGate}, not ${gate}`; }
  // Hang up (or cancel) and wait, bounded, until both pages are idle again.
  const hangUp = async (p) => {
    if (!['ended', 'failed', 'idle'].includes(await p.callState().catch(() => ''))) await p.page.click('#hangup-button', { timeout: 5000 }).catch(() => {});
  };
  await hangUp(caller);
  await hangUp(callee);
  await Promise.all([caller.waitCallState(['ended', 'failed', 'idle'], 15000).catch(() => {}),
                     callee.waitCallState(['ended', 'failed', 'idle'], 15000).catch(() => {})]);
  await sleep(300);
  return rec;
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };
const fig = (v) => (v.length ? `${Math.round(median(v))} [${Math.min(...v)}–${Math.max(...v)}]` : '–');
const ratio = (e, w) => {
  if (!e.length || !w.length || !(median(w) > 0)) return '–';
  const r = median(e) / median(w);
  return r < 0.1 ? r.toPrecision(2) : r.toFixed(2);
};

function table(calls, info) {
  const lines = [];
  lines.push(`| TURN URIs | candidates | figure (ms: median [min–max]) | early rule | ?ice=wait (JsSIP default, anchor) | early/anchor |`);
  lines.push('|---|---|---|---|---|---|');
  const configName = { default: `webims all's own (${info.default || 'UDP, TCP, TLS'})`, dead: `the same + one that never answers (${info.dead || ''})` };
  for (const config of opt.configs) {
    for (const candidates of opt.candidates) {
      const pick = (gate) => calls.filter((c) => c.config === config && c.candidates === candidates && c.gate === gate);
      const e = pick('early'), w = pick('wait');
      const okE = e.filter((c) => c.ok), okW = w.filter((c) => c.ok);
      const col = (list, key) => list.map((c) => c[key]).filter((x) => typeof x === 'number');
      const rows = [
        ["dial → media connected, the caller's page, less the time the callee's page rang", 'setupLessRingMs'],
        ["dial → media connected, the caller's page", 'callerSetupMs'],
        ['dial → both connected, as the script saw it', 'testMs'],
        ["the callee's page rang (INVITE in → the script's Answer click)", 'rangMs'],
        ["caller's ICE gate (gathering start → SDP sent)", 'callerIceMs'],
        ["callee: answer → media connected, its page", 'calleeSetupMs'],
        ["callee's ICE gate", 'calleeIceMs'],
      ];
      let first = true;
      for (const [label, key] of rows) {
        const head = first ? `| ${configName[config]} | ${candidates === 'relay' ? 'relay only' : 'all'} ` : '| | ';
        first = false;
        const bold = key === 'setupLessRingMs' || key === 'callerSetupMs';
        const rr = ratio(col(okE, key), col(okW, key));
        lines.push(`${head}| ${label} | ${fig(col(okE, key))} | ${fig(col(okW, key))} | ${bold && rr !== '–' ? `**${rr}**` : rr} |`);
      }
      const pairs = (list) => Object.entries(list.reduce((m, c) => { m[c.pair || '?'] = (m[c.pair || '?'] || 0) + 1; return m; }, {}))
        .map(([k, n]) => `${k} ×${n}`).join(', ');
      lines.push(`| | | calls connected (selected pair, caller's local/remote) | ${okE.length}/${e.length} (${pairs(okE)}) | ${okW.length}/${w.length} (${pairs(okW)}) | |`);
      const failed = (list) => {
        const bad = list.filter((c) => !c.ok);
        if (!bad.length) return '–';
        const why = [...new Set(bad.map((c) => c.calleeMessage || c.callerMessage || c.states))].join(' / ');
        return `${bad.length}: dial → failed ${fig(col(bad, 'testMs'))}; ${why}`;
      };
      if (e.some((c) => !c.ok) || w.some((c) => !c.ok)) lines.push(`| | | calls that did not connect | ${failed(e)} | ${failed(w)} | |`);
    }
  }
  return lines.join('\n');
}

const calls = [];
let code = 0;
try {
  for (const name of opt.configs) { log(`# starting webims all (${name}) and signing in its pages ...`); await deploy(name); }
  const cases = [];
  for (const d of deployments) for (const candidates of opt.candidates) for (const gate of GATES) cases.push([d, candidates, gate]);
  const cpu0 = cpuTimes(), load0 = loadavg(), t0 = Date.now();
  for (let round = 0; round < opt.calls; round++) {
    for (let i = 0; i < cases.length; i++) {
      const [d, candidates, gate] = cases[(i + round) % cases.length];
      const rec = await oneCall(d, candidates, gate);
      calls.push(rec);
      log(`round ${round + 1}/${opt.calls} ${d.name} ${candidates} ${gate}: ${rec.ok ? `${rec.testMs} ms (page ${rec.callerSetupMs} ms; ICE ${rec.callerIceWhy} / ${rec.calleeIceWhy}; pair ${rec.pair})` : `NOT CONNECTED ${rec.states}: ${rec.message}`}`);
    }
  }
  const cpu1 = cpuTimes();
  const busy = 100 * (1 - (cpu1.idle - cpu0.idle) / Math.max(1, cpu1.total - cpu0.total));
  const info = {
    default: deployments.find((d) => d.name === 'default')?.all.turnUris.map((u) => u.replace(/^(turns?):127\.0\.0\.1:\d+\?transport=/, '$1/')).join(', '),
    dead: (() => { const d = deployments.find((x) => x.name === 'dead'); return d ? `UDP :${d.dead.port}, ${opt.dead === 'drop' ? 'read and dropped' : 'nothing bound'}` : ''; })(),
  };
  writeFileSync(join(out, 'calls.json'), JSON.stringify({ options: opt, turnUris: Object.fromEntries(deployments.map((d) => [d.name, d.all.turnUris])), calls }, null, 1));
  console.log(`# WIC call set-up, ${opt.calls} calls per case alternating, ${new Date().toISOString()}; ` +
              `${Math.round((Date.now() - t0) / 1000)} s; machine CPU busy ${busy.toFixed(0)} % (all cores) over the calls, load average ${load0} at start, ${loadavg()} at end`);
  for (const d of deployments) {
    console.log(`# ${d.name}: TURN URIs ${d.all.turnUris.join(' ')}${d.dead?.seen ? `; the silent socket got ${d.dead.seen.packets} packets` : ''}`);
  }
  console.log('');
  console.log(table(calls, info));
  console.log(`\n# every call: ${join(out, 'calls.json')}`);
  // The anchor's failures are a finding (reported above); a failing call of the WIC as shipped is not.
  if (calls.some((c) => !c.ok && c.gate === 'early')) code = 1;
} catch (e) {
  console.log(`bench failed: ${e.stack || e.message}`);
  for (const d of deployments) if (d.all) console.log(`--- webims all (${d.name}) ---\n${d.all.proc.tail(30)}`);
  code = 2;
} finally {
  for (const d of deployments) {
    await d.chromium?.browser.close().catch(() => {});
    d.chromium?.cleanup();
    d.dead?.sock?.close();
  }
  await stopAll();
}
process.exit(code);
