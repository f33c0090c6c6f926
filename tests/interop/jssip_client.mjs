// JsSIP (npm `jssip`, the SIP stack of many browser WICs) driven from Node for the interop tests.
//
// How JsSIP runs outside a browser here:
//  - Transport: JsSIP's own WebSocketInterface needs a browser WebSocket (none in Node 20) and cannot
//    set an Origin or trust a test CA. NodeWsSocket implements JsSIP's Socket interface (url,
//    via_transport, sip_uri, connect/disconnect/send, onconnect/ondisconnect/ondata) on the `ws`
//    package: subprotocol "sip", the Origin a WWSF page would have, our CA as `ca`. It also keeps every
//    SIP message sent and received, so a test can read what JsSIP hides (the 401 before a 200, a
//    REGISTER's Authorization to replay) and can inject raw requests on JsSIP's own connection (the
//    connection the eP-CSCF bound the identities to).
//  - Calls: JsSIP's RTCSession needs window.RTCPeerConnection. installSdpOnlyWebRTC() provides an
//    SDP-only stand-in (offer/answer text, ICE gathering already "complete", no media), so JsSIP's
//    own RTCSession code sends the INVITE, answers it, ACKs and BYEs it: the signalling under test is
//    JsSIP's, only media is absent. Calls pass mediaConstraints {audio:false, video:false} so JsSIP
//    never asks for getUserMedia. (SIP.js with a custom SessionDescriptionHandler would do the same; one
//    library for everything keeps the test closer to the issue's "JsSIP clients".)
//  - TURN credentials (protocols.md, Solution 1): `3gpp-ext-turn-cred: request` is put on the
//    REGISTER with ua.registrator().setExtraHeaders(); the 200 OK comes with the 'registered' event
//    ({ response }), whose getHeader('3gpp-ext-turn-cred') is the credential. JsSIP emits 'registered'
//    only on the first success of a UA, so register() also reads the 200 from the socket's log.
import JsSIP from 'jssip';
import WebSocket from 'ws';
import { createHmac, randomBytes } from 'node:crypto';
import { parseSip } from './sip_raw.mjs';

if (process.env.JSSIP_DEBUG) JsSIP.debug.enable('JsSIP:*'); else JsSIP.debug.disable();

// ---------------------------------------------------------------------------------------------
// SDP-only WebRTC stand-in for JsSIP's RTCSession.

function sdpFor(kind, remoteSdp) {
  const hex = () => Array.from(randomBytes(32), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  // Answer with the offer's mid so the two sides agree; a sendrecv audio section with one codec.
  const mid = (remoteSdp && /a=mid:(\S+)/.exec(remoteSdp)?.[1]) || '0';
  return ['v=0', `o=- ${BigInt.asUintN(53, BigInt('0x' + randomBytes(8).toString('hex')))} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0',
          `a=group:BUNDLE ${mid}`, 'a=msid-semantic: WMS',
          'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
          `a=ice-ufrag:${randomBytes(3).toString('hex')}`, `a=ice-pwd:${randomBytes(12).toString('hex')}`,
          'a=ice-options:trickle', `a=fingerprint:sha-256 ${hex()}`, `a=setup:${kind === 'offer' ? 'actpass' : 'active'}`,
          `a=mid:${mid}`, 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n');
}

class SdpOnlySessionDescription {
  constructor({ type, sdp } = {}) { this.type = type; this.sdp = sdp; }
  toJSON() { return { type: this.type, sdp: this.sdp }; }
}

class SdpOnlyPeerConnection extends EventTarget {
  constructor(config) {
    super();
    this.config = config;
    this.localDescription = null;
    this.remoteDescription = null;
    this.signalingState = 'stable';
    this.iceGatheringState = 'complete';   // nothing to gather: JsSIP uses the SDP at once
    this.iceConnectionState = 'new';
    this.connectionState = 'new';
  }
  async createOffer() { return new SdpOnlySessionDescription({ type: 'offer', sdp: sdpFor('offer') }); }
  async createAnswer() { return new SdpOnlySessionDescription({ type: 'answer', sdp: sdpFor('answer', this.remoteDescription?.sdp) }); }
  async setLocalDescription(d) {
    this.localDescription = new SdpOnlySessionDescription(d);
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d) {
    this.remoteDescription = new SdpOnlySessionDescription(d);
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  getSenders() { return []; }
  getReceivers() { return []; }
  getTransceivers() { return []; }
  addTrack() { return {}; }
  removeTrack() {}
  addIceCandidate() { return Promise.resolve(); }
  getStats() { return Promise.resolve(new Map()); }
  close() { this.signalingState = 'closed'; this.connectionState = 'closed'; }
}

export function installSdpOnlyWebRTC() {
  if (typeof globalThis.window === 'undefined') globalThis.window = globalThis;
  if (!globalThis.RTCPeerConnection) globalThis.RTCPeerConnection = SdpOnlyPeerConnection;
  if (!globalThis.RTCSessionDescription) globalThis.RTCSessionDescription = SdpOnlySessionDescription;
}
installSdpOnlyWebRTC();

const NO_MEDIA = { audio: false, video: false };

// ---------------------------------------------------------------------------------------------
// JsSIP Socket on the `ws` package.

export class NodeWsSocket {
  constructor(url, { origin, ca, protocols = ['sip'] } = {}) {
    const u = new URL(url);
    this._url = url;
    this.via_transport = u.protocol === 'wss:' ? 'WSS' : 'WS';
    this.sip_uri = `sip:${u.hostname}${u.port ? `:${u.port}` : ''};transport=ws`;
    this.origin = origin;
    this.ca = ca;
    this.protocols = protocols;
    this.ws = null;
    this.log = [];                 // { dir: 'out'|'in', at, text }
    this.listeners = new Set();    // fn(parsed message) for every message received
    this.handshake = null;         // { status } of the last failed handshake
    this.closes = [];              // { code, reason } of each closed connection
  }
  get url() { return this._url; }
  connect() {
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    const ws = new WebSocket(this._url, this.protocols, { origin: this.origin, ca: this.ca, handshakeTimeout: 5000 });
    this.ws = ws;
    ws.on('open', () => { if (ws === this.ws) this.onconnect(); });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws) return;
      const text = isBinary ? data.toString('latin1') : data.toString('utf8');
      this.log.push({ dir: 'in', at: Date.now(), text });
      let parsed;
      for (const fn of this.listeners) { parsed ||= parseSip(text); try { fn(parsed); } catch { /* listener's problem */ } }
      this.ondata(text);
    });
    ws.on('unexpected-response', (req, res) => { this.handshake = { status: res.statusCode, reason: res.statusMessage }; req.destroy(); });
    ws.on('close', (code, reason) => {
      this.closes.push({ code, reason: reason.toString() });
      if (ws === this.ws) { this.ws = null; this.ondisconnect(code !== 1000, code, reason.toString()); }
    });
    ws.on('error', () => { /* 'close' follows */ });
  }
  disconnect() {
    const ws = this.ws;
    this.ws = null;
    if (ws) { try { ws.close(1000); } catch { ws.terminate(); } setTimeout(() => ws.terminate(), 1000).unref(); }
  }
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.log.push({ dir: 'out', at: Date.now(), text: message });
    this.ws.send(message);
    return true;
  }
  isConnected() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }
  isConnecting() { return !!this.ws && this.ws.readyState === WebSocket.CONNECTING; }
  // Messages in the log, parsed; `dir` 'in' or 'out'.
  messages(dir) { return this.log.filter((e) => !dir || e.dir === dir).map((e) => parseSip(e.text)); }
  // Waits (bounded) for a received message matching pred.
  nextIn(pred, timeoutMs = 5000) {
    return new Promise((resolve) => {
      const fn = (m) => { if (pred(m)) { clearTimeout(t); this.listeners.delete(fn); resolve(m); } };
      const t = setTimeout(() => { this.listeners.delete(fn); resolve(null); }, timeoutMs);
      this.listeners.add(fn);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// A WIC: one JsSIP UA on one WebSocket connection.

// A value of the 3gpp-ext-turn-cred header (protocols.md): "<Tid>:<Texp>:<Tpwd>" ;uri="turn:..."*
export function parseTurnCred(value) {
  if (!value) return null;
  const [cred, ...params] = value.split(';').map((s) => s.trim());
  const m = /^([^:]+):(\d+):(.+)$/.exec(cred);
  if (!m) return { raw: value, valid: false };
  const uris = params.filter((p) => /^uri\s*=/i.test(p)).map((p) => p.replace(/^uri\s*=\s*/i, '').replace(/^"|"$/g, ''));
  return { raw: value, valid: true, tid: m[1], texp: Number(m[2]), password: m[3], username: `${m[1]}:${m[2]}`, uris };
}

// Solution 1 as the TURN server re-derives it: base64(HMAC-SHA-1(Km, "Tid:Texp")).
export function solution1Password(km, username) {
  return createHmac('sha1', km).update(username).digest('base64');
}

export class JsSipClient {
  // uri: the IMPU (sip:alice@ims.example.org); user: IMPI (Digest username); password;
  // wsUrl: wss://host:port[/path]; origin: the WWSF origin sent in the handshake; ca: PEM to trust.
  // authorizationJwt: a bearer token sent instead of Digest (JsSIP's authorization_jwt, RFC 8898; scenarios 2, 3).
  constructor({ wsUrl, origin, ca, uri, user, password, realm, displayName, expires = 600, name, authorizationJwt }) {
    this.name = name || uri;
    this.socket = new NodeWsSocket(wsUrl, { origin, ca });
    this.ua = new JsSIP.UA({
      sockets: [this.socket],
      uri,
      authorization_user: user,
      password,
      realm,
      authorization_jwt: authorizationJwt,
      display_name: displayName,
      register: false,
      register_expires: expires,
      session_timers: false,
      user_agent: 'JsSIP (webims interop tests)',
      connection_recovery_min_interval: 2,
      connection_recovery_max_interval: 10,
      no_answer_timeout: 30,
    });
    this.incomingMessages = [];
    this.incomingCalls = [];
    this.autoAnswer = true;
    this._waiters = new Set();
    this.ua.on('newMessage', ({ originator, message, request }) => {
      if (originator !== 'remote') return;
      const m = { from: request.from.uri.toString(), body: request.body, contentType: request.getHeader('Content-Type'),
                  pai: request.getHeader('P-Asserted-Identity'), request, message };
      this.incomingMessages.push(m);
      this._notify();
    });
    this.ua.on('newRTCSession', ({ originator, session, request }) => {
      if (originator !== 'remote') return;
      const call = { from: request.from.uri.toString(), request, session, sdp: request.body };
      call.confirmed = new Promise((resolve) => { session.on('confirmed', () => resolve(true)); session.on('failed', () => resolve(false)); });
      call.ended = new Promise((resolve) => { session.on('ended', (e) => resolve(e)); session.on('failed', (e) => resolve(e)); });
      this.incomingCalls.push(call);
      if (this.autoAnswer) setTimeout(() => { try { session.answer({ mediaConstraints: NO_MEDIA }); } catch (e) { call.answerError = e; } }, 50);
      this._notify();
    });
  }

  _notify() { for (const w of this._waiters) w(); }
  _waitList(list, timeoutMs, pred = () => true) {
    const found = list.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const check = () => { const f = list.find(pred); if (f) { this._waiters.delete(check); clearTimeout(t); resolve(f); } };
      const t = setTimeout(() => { this._waiters.delete(check); resolve(null); }, timeoutMs);
      this._waiters.add(check);
    });
  }

  // Connects the WebSocket; { connected: true } or { connected: false, handshake: {status}, close }.
  start(timeoutMs = 8000) {
    return new Promise((resolve) => {
      const done = (v) => { clearTimeout(t); this.ua.removeListener('connected', onC); this.ua.removeListener('disconnected', onD); resolve(v); };
      const onC = () => done({ connected: true });
      const onD = () => done({ connected: false, handshake: this.socket.handshake, close: this.socket.closes.at(-1) });
      const t = setTimeout(() => done({ connected: false, timeout: true, handshake: this.socket.handshake }), timeoutMs);
      this.ua.on('connected', onC);
      this.ua.on('disconnected', onD);
      this.ua.start();
    });
  }

  // REGISTER (with the Digest exchange JsSIP does itself). Resolves with
  //   { registered, status, reason, cause, turnCred (header value or null), response, challenged (the 401s) }.
  register({ turnCred = false, extraHeaders = [], timeoutMs = 10000 } = {}) {
    const headers = [...extraHeaders];
    if (turnCred) headers.push('3gpp-ext-turn-cred: request');
    this.ua.registrator().setExtraHeaders(headers);
    const since = this.socket.log.length;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (v) => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        this.ua.removeListener('registered', onOk);
        this.ua.removeListener('registrationFailed', onFail);
        this.socket.listeners.delete(onRaw);
        const responses = this.socket.log.slice(since).filter((e) => e.dir === 'in').map((e) => parseSip(e.text))
          .filter((m) => m.isResponse && m.cseqMethod === 'REGISTER');
        v.challenged = responses.filter((m) => m.status === 401 || m.status === 407);
        v.requests = this.socket.log.slice(since).filter((e) => e.dir === 'out').map((e) => parseSip(e.text)).filter((m) => m.method === 'REGISTER');
        resolve(v);
      };
      const onOk = ({ response }) => finish({ registered: true, status: response.status_code, reason: response.reason_phrase,
                                              turnCred: response.getHeader('3gpp-ext-turn-cred') || null, response });
      const onFail = ({ response, cause }) => finish({ registered: false, status: response ? response.status_code : 0,
                                                       reason: response ? response.reason_phrase : '', cause, response,
                                                       turnCred: response ? response.getHeader('3gpp-ext-turn-cred') || null : null });
      // A 2xx to a refresh (no 'registered' event from JsSIP) or one JsSIP ignored (no Contact of ours).
      const onRaw = (m) => {
        if (!(m.isResponse && m.cseqMethod === 'REGISTER' && m.status >= 200 && m.status < 300)) return;
        setTimeout(() => finish({ registered: this.ua.isRegistered(), status: m.status, reason: m.reason,
                                  turnCred: m.header('3gpp-ext-turn-cred') || null, raw: m,
                                  note: this.ua.isRegistered() ? 'refresh' : 'JsSIP ignored this 2xx (no Contact matching its own?)' }), 200);
      };
      const t = setTimeout(() => finish({ registered: false, status: 0, cause: 'timeout' }), timeoutMs);
      this.ua.on('registered', onOk);
      this.ua.on('registrationFailed', onFail);
      this.socket.listeners.add(onRaw);
      this.ua.register();
    });
  }

  unregister(timeoutMs = 5000) {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve({ unregistered: false, cause: 'timeout' }), timeoutMs);
      this.ua.once('unregistered', ({ response, cause }) => { clearTimeout(t); resolve({ unregistered: true, status: response?.status_code, cause }); });
      this.ua.unregister();
    });
  }

  // MESSAGE; resolves with { ok, status, reason, cause }.
  sendMessage(target, body, { extraHeaders = [], contentType = 'text/plain', timeoutMs = 10000 } = {}) {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve({ ok: false, status: 0, cause: 'timeout' }), timeoutMs);
      this.ua.sendMessage(target, body, {
        contentType, extraHeaders,
        eventHandlers: {
          succeeded: ({ response }) => { clearTimeout(t); resolve({ ok: true, status: response.status_code, reason: response.reason_phrase }); },
          failed: ({ response, cause }) => { clearTimeout(t); resolve({ ok: false, status: response ? response.status_code : 0, reason: response?.reason_phrase, cause }); },
        },
      });
    });
  }

  // OPTIONS (e.g. with `3gpp-ext-turn-cred: request` on a registered connection).
  sendOptions(target, { extraHeaders = [], timeoutMs = 10000 } = {}) {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve({ ok: false, status: 0, cause: 'timeout' }), timeoutMs);
      this.ua.sendOptions(target, null, {
        extraHeaders,
        eventHandlers: {
          succeeded: ({ response }) => { clearTimeout(t); resolve({ ok: true, status: response.status_code, response, turnCred: response.getHeader('3gpp-ext-turn-cred') || null }); },
          failed: ({ response, cause }) => {
            clearTimeout(t);
            resolve({ ok: false, status: response ? response.status_code : 0, response, cause, turnCred: response?.getHeader('3gpp-ext-turn-cred') || null });
          },
        },
      });
    });
  }

  nextMessage(timeoutMs = 10000, pred) { return this._waitList(this.incomingMessages, timeoutMs, pred); }
  nextIncomingCall(timeoutMs = 10000, pred) { return this._waitList(this.incomingCalls, timeoutMs, pred); }

  // INVITE with an SDP-only offer; resolves when the call is confirmed (200 OK received, ACK sent) or
  // failed: { confirmed, status, cause, session, remoteSdp }.
  call(target, { extraHeaders = [], timeoutMs = 15000 } = {}) {
    return new Promise((resolve) => {
      let session;
      const t = setTimeout(() => { resolve({ confirmed: false, status: 0, cause: 'timeout', session }); try { session?.terminate(); } catch { /* ended */ } }, timeoutMs);
      let okResponse;
      session = this.ua.call(target, {
        mediaConstraints: NO_MEDIA,
        pcConfig: { iceServers: [] },
        extraHeaders,
        eventHandlers: {
          accepted: ({ response }) => { okResponse = response; },
          confirmed: () => { clearTimeout(t); resolve({ confirmed: true, status: okResponse?.status_code ?? 200, session, remoteSdp: okResponse?.body }); },
          failed: ({ message, cause }) => { clearTimeout(t); resolve({ confirmed: false, status: message?.status_code ?? 0, reason: message?.reason_phrase, cause, session }); },
        },
      });
    });
  }

  // Ends a session with BYE (or CANCEL) and waits for 'ended'.
  static hangup(session, timeoutMs = 5000) {
    if (!session || session.isEnded()) return Promise.resolve({ ended: true });
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve({ ended: false }), timeoutMs);
      session.once('ended', (e) => { clearTimeout(t); resolve({ ended: true, originator: e.originator, cause: e.cause }); });
      session.once('failed', (e) => { clearTimeout(t); resolve({ ended: true, originator: e.originator, cause: e.cause }); });
      session.terminate();
    });
  }

  // Sends a hand-built SIP message on JsSIP's own connection; resolves with the first received
  // message matching pred (e.g. the response to it), or null after timeoutMs.
  sendRaw(text, pred, timeoutMs = 5000) {
    const p = pred ? this.socket.nextIn(pred, timeoutMs) : Promise.resolve(null);
    this.socket.log.push({ dir: 'out', at: Date.now(), text });
    this.socket.ws.send(text);
    return p;
  }

  // The Via host and Contact JsSIP uses (for hand-built requests on its connection).
  get viaHost() { return this.ua.configuration.via_host; }
  get contact() { return this.ua.contact.toString(); }

  async stop() {
    try { this.ua.stop(); } catch { /* stopped */ }
    // ua.stop() un-REGISTERs and closes after a while; close now (the test does not wait for it).
    await new Promise((r) => setTimeout(r, 100));
    this.socket.disconnect();
  }
}
