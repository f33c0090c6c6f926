// A minimal TURN client over UDP (RFC 8656 Allocate with the long-term credential mechanism,
// RFC 8489 MESSAGE-INTEGRITY): enough to read the exact error code a TURN server gives a credential,
// which a browser does not expose (it only gathers no relay candidate).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

const MAGIC = 0x2112a442;
const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, LIFETIME: 0x000d, REALM: 0x0014,
               NONCE: 0x0015, XOR_RELAYED_ADDRESS: 0x0016, REQUESTED_TRANSPORT: 0x0019, XOR_MAPPED_ADDRESS: 0x0020 };
const ALLOCATE = 0x0003, REFRESH = 0x0004;

function attr(type, value) {
  const pad = (4 - (value.length % 4)) % 4;
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value, Buffer.alloc(pad)]);
}

// Encodes a request; with `key`, appends MESSAGE-INTEGRITY (HMAC-SHA1 over the message up to it, the
// header length already counting the MESSAGE-INTEGRITY attribute).
function encode(method, txid, attrs, key) {
  let body = Buffer.concat(attrs);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(method, 0);
  header.writeUInt32BE(MAGIC, 4);
  txid.copy(header, 8);
  if (key) {
    header.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac('sha1', key).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, attr(ATTR.MESSAGE_INTEGRITY, mac)]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function xorAddress(v, txid) {
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  if (v[1] === 0x01) {
    const a = v.readUInt32BE(4) ^ MAGIC;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${port}`;
  }
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), txid]);
  const b = Buffer.from(v.subarray(4, 20).map((x, i) => x ^ mask[i]));
  return `[${b.toString('hex').match(/.{4}/g).join(':')}]:${port}`;
}

export function decode(msg) {
  const type = msg.readUInt16BE(0);
  const len = msg.readUInt16BE(2);
  const txid = msg.subarray(8, 20);
  const out = { type, txid, attrs: {} };
  for (let o = 20; o + 4 <= 20 + len;) {
    const t = msg.readUInt16BE(o), l = msg.readUInt16BE(o + 2);
    const v = msg.subarray(o + 4, o + 4 + l);
    if (t === ATTR.ERROR_CODE) out.error = { code: (v[2] & 7) * 100 + v[3], reason: v.subarray(4).toString('utf8') };
    else if (t === ATTR.REALM) out.realm = v.toString('utf8');
    else if (t === ATTR.NONCE) out.nonce = v.toString('utf8');
    else if (t === ATTR.XOR_RELAYED_ADDRESS) out.relayed = xorAddress(v, txid);
    else if (t === ATTR.XOR_MAPPED_ADDRESS) out.mapped = xorAddress(v, txid);
    else if (t === ATTR.LIFETIME) out.lifetime = v.readUInt32BE(0);
    out.attrs[t] = v;
    o += 4 + l + ((4 - (l % 4)) % 4);
  }
  return out;
}

// One UDP socket = one 5-tuple = at most one allocation.
export class TurnUdpClient {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.sock = createSocket('udp4');
    this.pending = new Map();
    this.sock.on('message', (m) => {
      if (m.length < 20 || m.readUInt32BE(4) !== MAGIC) return;
      const d = decode(m);
      const p = this.pending.get(d.txid.toString('hex'));
      if (p) { this.pending.delete(d.txid.toString('hex')); p(d); }
    });
    this.ready = new Promise((r) => this.sock.bind(0, '127.0.0.1', r));
  }
  // Sends with RFC 8489 retransmissions (500 ms doubling, 4 tries); resolves with the decoded answer or null.
  async request(method, attrs, key) {
    await this.ready;
    const txid = randomBytes(12);
    const msg = encode(method, txid, attrs, key);
    return new Promise((resolve) => {
      let tries = 0, timer;
      const id = txid.toString('hex');
      const send = () => {
        if (tries++ >= 4) { this.pending.delete(id); resolve(null); return; }
        this.sock.send(msg, this.port, this.host);
        timer = setTimeout(send, 500 * 2 ** (tries - 1));
      };
      this.pending.set(id, (d) => { clearTimeout(timer); resolve(d); });
      send();
    });
  }
  // Allocate with the long-term credential (RFC 8489 9.2): unauthenticated first to learn realm and
  // nonce, then with USERNAME/REALM/NONCE/MESSAGE-INTEGRITY. Resolves with
  // { ok, code (error code, 0 on success), reason, relayed, challenge }.
  async allocate(username, password) {
    const transport = attr(ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
    const first = await this.request(ALLOCATE, [transport]);
    if (!first) return { ok: false, code: 0, reason: 'no answer' };
    if (!first.error || first.error.code !== 401) return { ok: !first.error, code: first.error?.code || 0, reason: 'unauthenticated Allocate not challenged', first };
    this.realm = first.realm;
    this.nonce = first.nonce;
    this.key = createHash('md5').update(`${username}:${first.realm}:${password}`).digest();
    this.username = username;
    const r = await this.request(ALLOCATE, [transport, ...this.authAttrs()], this.key);
    if (!r) return { ok: false, code: 0, reason: 'no answer to the authenticated Allocate' };
    return { ok: !r.error, code: r.error ? r.error.code : 0, reason: r.error?.reason, relayed: r.relayed, mapped: r.mapped,
             lifetime: r.lifetime, challenge: { realm: first.realm, nonce: first.nonce } };
  }
  authAttrs() {
    return [attr(ATTR.USERNAME, Buffer.from(this.username)), attr(ATTR.REALM, Buffer.from(this.realm)), attr(ATTR.NONCE, Buffer.from(this.nonce))];
  }
  // Refresh keeping the allocation (LIFETIME `seconds`); the decoded answer (with .error on failure) or null.
  async refresh(seconds = 600) {
    if (!this.key) return null;
    const life = Buffer.alloc(4);
    life.writeUInt32BE(seconds, 0);
    return this.request(REFRESH, [attr(ATTR.LIFETIME, life), ...this.authAttrs()], this.key);
  }
  // Refresh with LIFETIME 0: frees the allocation.
  async release() {
    if (!this.key) return null;
    const life = Buffer.alloc(4);
    return this.request(REFRESH, [attr(ATTR.LIFETIME, life), ...this.authAttrs()], this.key);
  }
  close() { try { this.sock.close(); } catch { /* closed */ } }
}
