// The Solution 1 TURN credential (TS 33.203 X.5.2; protocols.md "TURN credentials, Solution 1") as the
// eP-CSCF hands it over in `3gpp-ext-turn-cred: <Tid>:<Texp>:<Tpwd>;uri="turn:..."`, turned into
// WebRTC iceServers. The password (Tpwd) goes into the RTCPeerConnection configuration and nowhere
// else: the page shows only the expiry (what the status panel may show is in `describeCredential`).
// No DOM here, so Node's test runner checks it (web/test/turn_cred.test.mjs).

// A header value -> { valid: true, tid, texp, password, username, uris } or { valid: false }.
// Texp is Unix seconds; USERNAME for TURN is the exact string "<Tid>:<Texp>".
export function parseTurnCred(value) {
  if (typeof value !== 'string' || !value.trim()) return { valid: false };
  // The credential ends at the first ';' that starts a parameter; Tpwd is base64 (no ';').
  const [cred, ...params] = splitParams(value.trim());
  const m = /^([^:\s]+):(\d{1,12}):(\S+)$/.exec(cred);
  if (!m) return { valid: false };
  const uris = [];
  for (const p of params) {
    const pm = /^uri\s*=\s*(?:"([^"]*)"|(\S+))$/i.exec(p);
    if (pm) {
      const uri = (pm[1] ?? pm[2]).trim();
      if (/^turns?:/i.test(uri)) uris.push(uri);
    }
  }
  return { valid: true, tid: m[1], texp: Number(m[2]), password: m[3], username: `${m[1]}:${m[2]}`, uris };
}

// ';'-separated, ignoring ';' inside double quotes (a uri parameter is quoted and may hold '?').
function splitParams(s) {
  const out = [];
  let cur = '', quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) { out.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur.trim());
  return out.filter((p, i) => i === 0 || p);
}

// RTCConfiguration.iceServers for a parsed credential; `fallbackUris` when the header named none
// (an eP-CSCF without turn_uris). Empty when there is nothing to use.
export function iceServersFrom(cred, fallbackUris = []) {
  if (!cred || !cred.valid) return [];
  const urls = cred.uris.length ? cred.uris : fallbackUris;
  if (!urls.length) return [];
  return [{ urls: [...urls], username: cred.username, credential: cred.password }];
}

// What the status panel shows about a credential: expiry and servers, never the password.
export function describeCredential(cred, nowMs) {
  if (!cred || !cred.valid) return { text: 'none', expired: true };
  const leftS = Math.round(cred.texp - nowMs / 1000);
  const at = new Date(cred.texp * 1000);
  const hh = String(at.getHours()).padStart(2, '0'), mm = String(at.getMinutes()).padStart(2, '0'),
        ss = String(at.getSeconds()).padStart(2, '0');
  const when = `${hh}:${mm}:${ss}`;
  if (leftS <= 0) return { text: `expired at ${when}`, expired: true, leftS };
  return { text: `expires at ${when} (in ${formatDuration(leftS)})`, expired: false, leftS };
}

// 3725 -> "1 h 2 min", 125 -> "2 min 5 s", 9 -> "9 s".
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${r} s`;
  return `${r} s`;
}

// The URIs of a P-Associated-URI header (RFC 7315 §4.1), one or several header values, each a
// comma-separated list of name-addrs: the registered IMPUs the 200 OK to REGISTER names.
export function parseAssociatedUris(values) {
  const out = [];
  for (const v of [].concat(values || [])) {
    if (typeof v !== 'string') continue;
    let depth = 0, quoted = false, cur = '';
    const flush = () => {
      const m = /<([^>]+)>/.exec(cur) || /^\s*([^;\s]+)/.exec(cur);
      if (m && m[1].trim() && !out.includes(m[1].trim())) out.push(m[1].trim());
      cur = '';
    };
    for (const ch of v) {
      if (ch === '"') quoted = !quoted;
      else if (!quoted && ch === '<') depth++;
      else if (!quoted && ch === '>') depth = Math.max(0, depth - 1);
      if (ch === ',' && !quoted && depth === 0) { flush(); continue; }
      cur += ch;
    }
    flush();
  }
  return out;
}
