// Raw SIP for the negative cases a SIP library will not produce: hand-built requests, Digest
// responses computed here (to replay one), malformed messages; over a WebSocket (`ws`, RFC 7118:
// subprotocol "sip", one message per text frame) or over TCP (Content-Length framing).
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { md5 } from './node_harness.mjs';

const COMPACT = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type',
                  k: 'supported', e: 'content-encoding', s: 'subject', r: 'refer-to', o: 'event', u: 'allow-events' };

export const token = (n = 8) => randomBytes(n).toString('hex');
export const branch = () => `z9hG4bK${token(8)}`;

// A parsed message: { isResponse, status, reason, method, uri, headers: [[lowercase name, value]], body }.
export function parseSip(text) {
  const sep = text.indexOf('\r\n\r\n');
  const head = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? '' : text.slice(sep + 4);
  const lines = head.split('\r\n');
  const start = lines.shift();
  const m = { raw: text, start, headers: [], body };
  const st = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (st) { m.isResponse = true; m.status = Number(st[1]); m.reason = st[2]; } else {
    const rq = /^([A-Za-z]+) (\S+) SIP\/2\.0$/.exec(start);
    m.isResponse = false; m.method = rq ? rq[1] : undefined; m.uri = rq ? rq[2] : undefined;
  }
  for (const line of lines) {
    if (/^[ \t]/.test(line) && m.headers.length) { m.headers[m.headers.length - 1][1] += ' ' + line.trim(); continue; }
    const i = line.indexOf(':');
    if (i < 0) continue;
    let name = line.slice(0, i).trim().toLowerCase();
    name = COMPACT[name] || name;
    m.headers.push([name, line.slice(i + 1).trim()]);
  }
  m.header = (n) => { const h = m.headers.find(([k]) => k === n.toLowerCase()); return h ? h[1] : undefined; };
  m.all = (n) => m.headers.filter(([k]) => k === n.toLowerCase()).map(([, v]) => v);
  m.cseqMethod = (m.header('cseq') || '').split(/\s+/)[1];
  m.callId = m.header('call-id');
  return m;
}

// `Digest k=v, k="v"` → { scheme: 'Digest', k: v, ... } (quotes removed).
export function parseAuthParams(value) {
  const sp = value.indexOf(' ');
  const out = { scheme: value.slice(0, sp) };
  const re = /([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)/g;
  let x;
  while ((x = re.exec(value.slice(sp + 1)))) out[x[1].toLowerCase()] = x[3] !== undefined ? x[3] : x[2];
  return out;
}

// RFC 2617/7616 Digest MD5, qop=auth when offered. Returns the Authorization header value.
export function digestAuthorization({ challenge, method, uri, username, password, nc = 1, cnonce = token(8) }) {
  const c = typeof challenge === 'string' ? parseAuthParams(challenge) : challenge;
  const algorithm = c.algorithm || 'MD5';
  if (algorithm.toUpperCase() !== 'MD5') throw new Error(`digest algorithm ${algorithm} not implemented here`);
  const ha1 = md5(`${username}:${c.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const qop = c.qop && c.qop.split(',').map((s) => s.trim()).includes('auth') ? 'auth' : undefined;
  const ncHex = nc.toString(16).padStart(8, '0');
  const response = qop ? md5(`${ha1}:${c.nonce}:${ncHex}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${c.nonce}:${ha2}`);
  let v = `Digest username="${username}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}`;
  if (qop) v += `, qop=${qop}, nc=${ncHex}, cnonce="${cnonce}"`;
  if (c.opaque !== undefined) v += `, opaque="${c.opaque}"`;
  return v;
}

// A request as a WIC (or, with transport TCP, a SIP node) would send it.
export function buildRequest({ method, uri, transport = 'WSS', viaHost = `${token(6)}.invalid`, from, fromTag = token(5), to,
                               toTag, callId = token(12), cseq = 1, contact, headers = [], body = '', maxForwards = 70 }) {
  const lines = [`${method} ${uri} SIP/2.0`,
                 `Via: SIP/2.0/${transport} ${viaHost};branch=${branch()}${transport === 'TCP' || transport === 'UDP' ? ';rport' : ''}`,
                 `Max-Forwards: ${maxForwards}`,
                 `From: <${from}>;tag=${fromTag}`,
                 `To: <${to}>${toTag ? `;tag=${toTag}` : ''}`,
                 `Call-ID: ${callId}`,
                 `CSeq: ${cseq} ${method}`];
  if (contact) lines.push(`Contact: ${contact}`);
  lines.push(...headers);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

// Replaces the topmost Via branch and the CSeq number of a captured request: the same credentials
// in a new transaction (a byte-identical copy would be a retransmission, answered from the server
// transaction, not a replay).
export function retransact(text, cseq) {
  return text
    .replace(/^(Via:[^\r\n]*?;branch=)[^;\r\n,]+/im, `$1${branch()}`)
    .replace(/^(CSeq:\s*)\d+/im, `$1${cseq}`);
}

// Queue of received items with bounded waits for the first one matching a predicate.
class Inbox {
  constructor() { this.items = []; this.waiters = []; }
  push(item) {
    this.items.push(item);
    for (const w of [...this.waiters]) if (w.pred(item)) { w.resolve(item); this.waiters.splice(this.waiters.indexOf(w), 1); }
  }
  // Resolves with the first item (received since `since`, an index) matching `pred`, or null after timeoutMs.
  next(pred = () => true, timeoutMs = 5000, since = 0) {
    const found = this.items.slice(since).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const w = { pred, resolve: (x) => { clearTimeout(w.t); resolve(x); } };
      w.t = setTimeout(() => { this.waiters.splice(this.waiters.indexOf(w), 1); resolve(null); }, timeoutMs);
      this.waiters.push(w);
    });
  }
}

// The HTTP status of a WebSocket handshake (101 when upgraded, then closed at once).
export function wsHandshakeStatus(url, { origin, ca, protocols = ['sip'], timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, { origin, ca, handshakeTimeout: timeoutMs });
    let settled = false;
    const done = (v) => { if (!settled) { settled = true; resolve(v); } };
    ws.on('unexpected-response', (req, res) => { done({ status: res.statusCode, reason: res.statusMessage }); req.destroy(); });
    ws.on('open', () => { done({ status: 101, protocol: ws.protocol }); ws.close(1000); });
    ws.on('error', (e) => done({ status: 0, error: e.message }));
  });
}

// One raw SIP-over-WebSocket connection: send text, wait for parsed messages, see how it closed.
export class RawWs {
  static open(url, { origin, ca, protocols = ['sip'], timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
      const c = new RawWs();
      const ws = new WebSocket(url, protocols, { origin, ca, handshakeTimeout: timeoutMs });
      c.ws = ws;
      ws.on('message', (data, isBinary) => c.inbox.push(parseSip(isBinary ? data.toString('latin1') : data.toString('utf8'))));
      ws.on('close', (code, reason) => { c.closed = { code, reason: reason.toString() }; c.closedInbox.push(c.closed); });
      ws.on('open', () => resolve(c));
      ws.on('unexpected-response', (req, res) => { req.destroy(); reject(new Error(`handshake answered HTTP ${res.statusCode}`)); });
      ws.on('error', (e) => reject(e));
    });
  }
  constructor() { this.inbox = new Inbox(); this.closedInbox = new Inbox(); this.closed = null; }
  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }
  send(text) { this.ws.send(text); }
  mark() { return this.inbox.items.length; }
  next(pred, timeoutMs, since) { return this.inbox.next(pred, timeoutMs, since); }
  // The final response to the request with this Call-ID and CSeq method (provisional ones skipped).
  finalResponse(callId, method, timeoutMs = 5000, since = 0) {
    return this.next((m) => m.isResponse && m.status >= 200 && m.callId === callId && m.cseqMethod === method, timeoutMs, since);
  }
  waitClosed(timeoutMs = 5000) { return this.closed ? Promise.resolve(this.closed) : this.closedInbox.next(() => true, timeoutMs); }
  close() { try { this.ws.close(1000); } catch { /* already */ } setTimeout(() => this.ws.terminate(), 1000).unref(); }
}

// One raw SIP-over-TCP connection (RFC 3261 18.3 framing by Content-Length).
export class RawTcp {
  static open(host, port, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const c = new RawTcp();
      const s = connect({ host, port });
      c.sock = s;
      s.setTimeout(timeoutMs, () => { s.destroy(); reject(new Error(`connect ${host}:${port} timed out`)); });
      s.on('connect', () => { s.setTimeout(0); c.local = { address: s.localAddress, port: s.localPort }; resolve(c); });
      s.on('error', (e) => { c.error = e; reject(e); });
      s.on('data', (d) => c.feed(d));
    });
  }
  // A connection accepted by a test's own TCP listener (e.g. a stand-in eP-CSCF reached via Path).
  static fromSocket(sock) {
    const c = new RawTcp();
    c.sock = sock;
    sock.on('data', (d) => c.feed(d));
    sock.on('error', () => {});
    return c;
  }
  constructor() { this.buf = Buffer.alloc(0); this.inbox = new Inbox(); }
  mark() { return this.inbox.items.length; }
  feed(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      while (this.buf.length >= 2 && this.buf[0] === 13 && this.buf[1] === 10) this.buf = this.buf.subarray(2);  // keep-alive CRLFs
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const cl = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
      const len = cl ? Number(cl[1]) : 0;
      if (this.buf.length < end + 4 + len) return;
      const msg = this.buf.subarray(0, end + 4 + len).toString('utf8');
      this.buf = this.buf.subarray(end + 4 + len);
      this.inbox.push(parseSip(msg));
    }
  }
  send(text) { this.sock.write(text); }
  next(pred, timeoutMs, since) { return this.inbox.next(pred, timeoutMs, since); }
  finalResponse(callId, method, timeoutMs = 5000, since = 0) {
    return this.next((m) => m.isResponse && m.status >= 200 && m.callId === callId && m.cseqMethod === method, timeoutMs, since);
  }
  // Answers a request received here (copies Via, From, To, Call-ID, CSeq; adds a To tag).
  reply(req, status, reason, headers = []) {
    const lines = [`SIP/2.0 ${status} ${reason}`, ...req.all('via').map((v) => `Via: ${v}`),
                   `From: ${req.header('from')}`,
                   `To: ${req.header('to')}${/;tag=/.test(req.header('to')) ? '' : `;tag=${token(4)}`}`,
                   `Call-ID: ${req.callId}`, `CSeq: ${req.header('cseq')}`, ...headers, 'Content-Length: 0'];
    this.send(lines.join('\r\n') + '\r\n\r\n');
  }
  close() { this.sock.destroy(); }
}

// REGISTER over a raw connection (RawWs or RawTcp) with the Digest exchange done here; resolves with
// { status, response, request (the last one sent, for replays), challenge }.
export async function rawRegister(conn, { impu, impi, password, registrar, transport = 'WSS', viaHost,
                                          contact, headers = [], expires = 600, timeoutMs = 5000 }) {
  const domain = impu.replace(/^sips?:/, '').split('@').pop();
  const uri = registrar || `sip:${domain}`;
  const callId = token(12);
  const fromTag = token(5);
  const host = viaHost || `${token(6)}.invalid`;
  const ct = contact || `<sip:${token(4)}@${host};transport=${transport === 'WSS' || transport === 'WS' ? 'ws' : transport.toLowerCase()}>;expires=${expires}`;
  const base = { method: 'REGISTER', uri, transport, viaHost: host, from: impu, fromTag, to: impu, callId, contact: ct };
  let request = buildRequest({ ...base, cseq: 1, headers: [...headers, `Expires: ${expires}`] });
  let since = conn.mark ? conn.mark() : conn.inbox.items.length;
  conn.send(request);
  let response = await conn.finalResponse(callId, 'REGISTER', timeoutMs, since);
  if (!response || response.status !== 401) return { status: response ? response.status : 0, response, request };
  const challenge = parseAuthParams(response.header('www-authenticate'));
  const authorization = digestAuthorization({ challenge, method: 'REGISTER', uri, username: impi, password });
  request = buildRequest({ ...base, cseq: 2, headers: [...headers, `Expires: ${expires}`, `Authorization: ${authorization}`] });
  since = conn.mark ? conn.mark() : conn.inbox.items.length;
  conn.send(request);
  response = await conn.finalResponse(callId, 'REGISTER', timeoutMs, since);
  return { status: response ? response.status : 0, response, request, challenge };
}

// The ACK for a non-2xx final response to `inviteText` (RFC 3261 17.1.1.3): same Request-URI, top Via,
// From, Call-ID, Route; To from the response; CSeq number with method ACK; no body.
export function ackFor(inviteText, response) {
  const inv = parseSip(inviteText);
  const lines = [`ACK ${inv.uri} SIP/2.0`, `Via: ${inv.all('via')[0]}`, 'Max-Forwards: 70', `From: ${inv.header('from')}`,
                 `To: ${response.header('to')}`, `Call-ID: ${inv.callId}`, `CSeq: ${inv.header('cseq').split(/\s+/)[0]} ACK`,
                 ...inv.all('route').map((r) => `Route: ${r}`), 'Content-Length: 0'];
  return lines.join('\r\n') + '\r\n\r\n';
}
