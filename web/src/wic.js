// The browser WIC: one JsSIP UA on one secure WebSocket to the eP-CSCF (RFC 7118, TR 33.871 6.1),
// registered with IMS Digest credentials (scenario 1) or a bearer token from the WWSF (scenarios 2
// and 3, RFC 8898 `Authorization: Bearer`, JsSIP's authorization_jwt); the Solution 1 TURN credential
// (TS 33.203 X.5.2) requested with `3gpp-ext-turn-cred: request` on REGISTER and renewed with OPTIONS
// before Texp; audio/video calls over RTCPeerConnection with that credential as the only ICE server
// (relay-only by default), sent as soon as enough candidates are in (ice_rule.js).
//
// The page (main.js) renders `wic.state` whenever `onchange` fires. Secrets stay inside: the IMS
// password goes to JsSIP, the TURN password to the RTCPeerConnection configuration, the bearer token
// to JsSIP's Authorization header; none of them is in `state`, in the DOM or in a log line.
import JsSIP from 'jssip';
import { CAUSES, MEDIA_FAILED_REASON, callEnded, callFailure, mediaFailure, microphoneFailure, registrationFailure, websocketFailure } from './errors.js';
import { candidateType, iceReady } from './ice_rule.js';
import { relayedText, summarizeStats } from './media_stats.js';
import { retryDelayMs, tokenRenewalDelayMs, turnRenewalDelayMs } from './renewal.js';
import { describeCredential, iceServersFrom, parseAssociatedUris, parseTurnCred } from './turn_cred.js';
import { domainOf } from './config.js';

JsSIP.debug.disable('JsSIP:*');

const TURN_CRED_HEADER = '3gpp-ext-turn-cred';
const CONNECT_TIMEOUT_MS = 10000;
const REGISTER_TIMEOUT_MS = 20000;
const MEDIA_TIMEOUT_MS = 15000;  // SIP connected but no ICE/DTLS within this: media failure

const freshCall = () => ({
  state: 'idle', peer: '', direction: '', video: false, relayOnly: true,
  // Milliseconds (the WIC's clock): dialled (ours), rang (theirs: the INVITE arrived), answered (the user clicked Answer),
  // 200 OK sent or received, ACK, media connected (ICE + DTLS); setupMs = connected - dialled/answered.
  // iceGate: 'early' (ice_rule.js) or 'wait' (the browser's gathering complete, ?ice=wait); iceMs:
  // from gathering start to the SDP going out (early) or to gathering complete (wait); iceWhy: why.
  dialMs: 0, ringMs: 0, answeredMs: 0, acceptedMs: 0, confirmedMs: 0, connectedMs: 0, setupMs: null, iceGate: '', iceMs: null, iceWhy: '',
  media: { relayed: null, text: 'not yet', audioSent: 0, audioReceived: 0, videoSent: 0, videoReceived: 0 },
  message: '',
});

export class Wic {
  // iceGate: 'early' (the default: send the SDP once ice_rule.js says enough candidates are in) or
  // 'wait' (never early: JsSIP waits for the browser's gathering to complete; for the benchmark's
  // anchor and troubleshooting, the page's ?ice=wait).
  constructor({ pcscfUrl, pageOrigin = '', now = () => Date.now(), timers = globalThis, media = globalThis.navigator?.mediaDevices,
                iceGate = 'early' } = {}) {
    this.pcscfUrl = pcscfUrl;
    this.iceGate = iceGate === 'wait' ? 'wait' : 'early';
    this.pageOrigin = pageOrigin;
    this.now = now;
    this.timers = timers;
    this.media = media;
    this.ua = null;
    this.session = null;
    this.onchange = () => {};
    this.onincoming = () => {};
    this.remoteMedia = null;     // (MediaStream) => void, set by the page
    this.localMedia = null;
    this._turn = null;           // parsed credential, with the password: never in state
    this._turnReceivedMs = 0;
    this._token = null;          // { access_token, expires_in, receivedMs }
    this._renewToken = null;     // async () => token answer (scenarios 2, 3)
    this._timers = {};
    this.state = {
      mode: '', impu: '', impi: '',
      registration: 'signed out',  // connecting | registering | registered | reconnecting | failed | signed out
      impus: [],
      turn: { present: false, texp: 0, uris: [], renewals: 0, lastRenewal: '' },
      token: { present: false, expiresMs: 0, renewals: 0 },
      call: freshCall(),
      error: '',
      info: '',
    };
  }

  _changed() { try { this.onchange(this.state); } catch { /* rendering problem: not ours */ } }
  _setError(text) { this.state.error = text; this.state.info = ''; this._changed(); }
  _setTimer(name, ms, fn) {
    this._clearTimer(name);
    this._timers[name] = this.timers.setTimeout(() => { delete this._timers[name]; fn(); }, Math.max(0, ms));
  }
  _clearTimer(name) { if (this._timers[name]) { this.timers.clearTimeout(this._timers[name]); delete this._timers[name]; } }

  // The TURN credential as the panel may show it (no password).
  turnDescription() { return describeCredential(this._turn, this.now()); }
  get registered() { return this.state.registration === 'registered'; }

  // ------------------------------------------------------------------------------------------
  // Sign-in and registration

  // Scenario 1: IMS Digest credentials relayed by the eP-CSCF to the S-CSCF.
  signInDigest({ impu, impi, password }) {
    return this._register({ mode: 'digest', impu, impi, uaConfig: { authorization_user: impi, password } });
  }

  // Scenarios 2 and 3: the WWSF's token answer ({ access_token, expires_in, impu: [...], impi });
  // `renew` fetches a fresh one before this one expires.
  signInToken({ mode, token, impu, renew }) {
    this._token = { ...token, receivedMs: this.now() };
    this._renewToken = renew;
    return this._register({
      mode, impu, impi: token.impi,
      uaConfig: { authorization_jwt: `Bearer ${token.access_token}` },
    });
  }

  // Resolves with { ok: true } once registered, or { ok: false, error } with the sentence.
  _register({ mode, impu, impi, uaConfig }) {
    if (this.ua) this._stopUa();
    Object.assign(this.state, { mode, impu, impi, registration: 'connecting', impus: [], error: '', info: '' });
    this.state.turn = { present: false, texp: 0, uris: [], renewals: 0, lastRenewal: '' };
    this.state.token = this._token ? { present: true, expiresMs: this._token.receivedMs + this._token.expires_in * 1000, renewals: 0 }
                                   : { present: false, expiresMs: 0, renewals: 0 };
    this._changed();
    let ua;
    try {
      const socket = new JsSIP.WebSocketInterface(this.pcscfUrl);
      ua = new JsSIP.UA({
        sockets: [socket], uri: impu, register: false, register_expires: 600, session_timers: false,
        user_agent: 'webims browser WIC (JsSIP)', connection_recovery_min_interval: 2,
        connection_recovery_max_interval: 30, no_answer_timeout: 60, ...uaConfig,
      });
    } catch (e) {
      const text = `The settings are not usable: ${e.message || e}.`;
      this.state.registration = 'failed';
      this._setError(text);
      return Promise.resolve({ ok: false, error: text });
    }
    this.ua = ua;
    ua.registrator().setExtraHeaders([`${TURN_CRED_HEADER}: request`]);

    return new Promise((resolve) => {
      let settled = false, everConnected = false;
      const settle = (v) => { if (!settled) { settled = true; this._clearTimer('signin'); resolve(v); } };
      const fail = (text) => {
        this.state.registration = 'failed';
        this._setError(text);
        this._stopUa();
        settle({ ok: false, error: text });
      };
      this._setTimer('signin', CONNECT_TIMEOUT_MS + REGISTER_TIMEOUT_MS, () =>
        fail(everConnected ? 'The IMS core did not answer the registration in time; try again.'
                           : websocketFailure({ url: this.pcscfUrl, pageOrigin: this.pageOrigin })));
      ua.on('connected', () => {
        if (ua !== this.ua) return;
        everConnected = true;
        this.state.registration = 'registering';
        this._changed();
        ua.register();
      });
      ua.on('disconnected', () => {
        if (ua !== this.ua) return;
        if (!settled) {
          // Before a registration: the handshake failed (or the eP-CSCF closed after a refusal,
          // in which case registrationFailed already told why).
          if (!everConnected) fail(websocketFailure({ url: this.pcscfUrl, pageOrigin: this.pageOrigin }));
          return;
        }
        if (this.state.registration === 'registered') {
          // JsSIP reconnects by itself; the binding was per connection, so register again then
          // (with a fresh TURN credential request).
          this.state.registration = 'reconnecting';
          this.state.info = websocketFailure({ url: this.pcscfUrl, wasConnected: true }).replace(/ Sign in again\.$/, ' Reconnecting…');
          ua.registrator().setExtraHeaders([`${TURN_CRED_HEADER}: request`]);
          this._changed();
        }
      });
      ua.on('registered', ({ response }) => {
        if (ua !== this.ua) return;
        this.state.registration = 'registered';
        this.state.error = '';
        this.state.info = '';
        this.state.impus = parseAssociatedUris(response.getHeaders('P-Associated-URI'));
        if (!this.state.impus.length) this.state.impus = [impu];
        // Later refreshes need no new credential: OPTIONS renews it (renewal.js).
        ua.registrator().setExtraHeaders([]);
        this._takeTurnCred(response.getHeader(TURN_CRED_HEADER), 'registration');
        if (this._token) this._scheduleTokenRenewal();
        this._changed();
        settle({ ok: true });
      });
      ua.on('registrationFailed', ({ response, cause }) => {
        if (ua !== this.ua) return;
        const text = registrationFailure({
          status: response ? response.status_code : 0, reason: response ? response.reason_phrase : '', cause,
          mode: mode === 'digest' ? 'digest' : 'token', impi, impu, url: this.pcscfUrl, pageOrigin: this.pageOrigin,
        });
        fail(text);
      });
      ua.on('newRTCSession', (e) => this._onNewSession(e));
      ua.start();
    });
  }

  _takeTurnCred(value, via) {
    const cred = parseTurnCred(value);
    if (!cred.valid) {
      if (via === 'registration') this.state.info = 'The eP-CSCF gave no TURN credential; calls with "relay only" on cannot carry media.';
      return false;
    }
    // Texp is bounded by the registration's expiry (+ grace): an OPTIONS before JsSIP's next
    // re-REGISTER may bring a new Tid with the same Texp. Only a later Texp restarts the schedule;
    // otherwise the caller backs off, so a credential near its end is not asked for every second.
    const extended = !this._turn || cred.texp > this._turn.texp;
    this._turn = cred;
    this._turnReceivedMs = this.now();
    const renewals = via === 'renewal' ? this.state.turn.renewals + 1 : this.state.turn.renewals;
    this.state.turn = { present: true, texp: cred.texp, uris: [...cred.uris], renewals,
                        lastRenewal: via === 'renewal' ? new Date(this.now()).toLocaleTimeString() : this.state.turn.lastRenewal };
    if (via === 'registration' || extended) this._scheduleTurnRenewal(0);
    return extended ? 'extended' : 'same';
  }

  _scheduleTurnRenewal(attempt = 0) {
    if (!this._turn) return;
    const delay = attempt === 0
      ? turnRenewalDelayMs(this._turn, this._turnReceivedMs, this.now(), { minDelayMs: 1000 })
      : retryDelayMs(attempt - 1, this.now(), this._turn.texp * 1000);
    if (delay === null) {
      this.state.error = 'The TURN credential expired and could not be renewed: calls cannot use the relay until you sign in again.';
      this._changed();
      return;
    }
    this._setTimer('turn', delay, async () => {
      const r = await this.renewTurnCredential();
      if (!r.ok || !r.extended) this._scheduleTurnRenewal(attempt + 1);
    });
  }

  // OPTIONS with `3gpp-ext-turn-cred: request` on the registered connection (protocols.md): the
  // eP-CSCF answers a bound identity with a fresh credential. Also the test hook's entry point.
  renewTurnCredential(timeoutMs = 10000) {
    const ua = this.ua;
    if (!ua || !this.registered) return Promise.resolve({ ok: false, error: 'not registered' });
    return new Promise((resolve) => {
      let done = false;
      const finish = (v) => { if (!done) { done = true; this.timers.clearTimeout(t); resolve(v); } };
      const t = this.timers.setTimeout(() => finish({ ok: false, error: 'no answer to OPTIONS' }), timeoutMs);
      ua.sendOptions(`sip:${domainOf(this.state.impu)}`, null, {
        extraHeaders: [`${TURN_CRED_HEADER}: request`],
        eventHandlers: {
          succeeded: ({ response }) => {
            const got = this._takeTurnCred(response.getHeader(TURN_CRED_HEADER), 'renewal');
            this._changed();
            finish(got ? { ok: true, texp: this._turn.texp, extended: got === 'extended' } : { ok: false, error: 'no credential in the answer' });
          },
          failed: ({ response, cause }) => finish({ ok: false, error: response ? `${response.status_code} ${response.reason_phrase}` : cause }),
        },
      });
    });
  }

  _scheduleTokenRenewal(attempt = 0) {
    if (!this._token || !this._renewToken) return;
    const expiresMs = this._token.receivedMs + this._token.expires_in * 1000;
    const delay = attempt === 0 ? tokenRenewalDelayMs(this._token.expires_in, this._token.receivedMs, this.now(), { minDelayMs: 1000 })
                                : retryDelayMs(attempt - 1, this.now(), expiresMs);
    if (delay === null) {
      this.state.error = 'The sign-in token from the web server expired and could not be renewed: the next re-registration will be refused. Sign in again.';
      this._changed();
      return;
    }
    this._setTimer('token', delay, () => this.renewToken().then((r) => { if (!r.ok) this._scheduleTokenRenewal(attempt + 1); }));
  }

  // A fresh bearer token from the WWSF for JsSIP's next REGISTER (the old one would be refused).
  async renewToken() {
    if (!this._renewToken || !this.ua) return { ok: false };
    try {
      const tok = await this._renewToken();
      this._token = { ...tok, receivedMs: this.now() };
      this.ua.set('authorization_jwt', `Bearer ${tok.access_token}`);
      this.state.token = { present: true, expiresMs: this._token.receivedMs + tok.expires_in * 1000, renewals: this.state.token.renewals + 1 };
      this._scheduleTokenRenewal();
      this._changed();
      return { ok: true };
    } catch (e) {
      this.state.info = e.message || String(e);
      this._changed();
      return { ok: false, error: this.state.info };
    }
  }

  // Deregisters and closes the connection (bounded); WWSF sign-out is the page's part.
  async signOut() {
    if (this.session) this.hangup();
    const ua = this.ua;
    if (ua && ua.isRegistered()) {
      await new Promise((resolve) => {
        const t = this.timers.setTimeout(resolve, 3000);
        ua.once('unregistered', () => { this.timers.clearTimeout(t); resolve(); });
        try { ua.unregister(); } catch { this.timers.clearTimeout(t); resolve(); }
      });
    }
    this._stopUa();
    this._turn = null;
    this._token = null;
    this._renewToken = null;
    Object.assign(this.state, { mode: '', impu: '', impi: '', registration: 'signed out', impus: [], error: '', info: '' });
    this.state.turn = { present: false, texp: 0, uris: [], renewals: 0, lastRenewal: '' };
    this.state.token = { present: false, expiresMs: 0, renewals: 0 };
    this.state.call = freshCall();
    this._changed();
  }

  _stopUa() {
    for (const k of Object.keys(this._timers)) this._clearTimer(k);
    const ua = this.ua;
    this.ua = null;
    if (ua) { try { ua.removeAllListeners(); ua.stop(); } catch { /* stopped */ } }
  }

  // ------------------------------------------------------------------------------------------
  // Calls

  _pcConfig(relayOnly) {
    return {
      iceServers: iceServersFrom(this._turn),
      iceTransportPolicy: relayOnly ? 'relay' : 'all',
      // One transport for audio and video: one relay candidate is all a relay-only call needs.
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
    };
  }

  // Dials `target` (a SIP URI). Returns the sentence when the call cannot even start.
  call(target, { video = false, relayOnly = true } = {}) {
    if (!this.ua || !this.registered) return this._callRefused('Sign in first: the WIC is not registered.');
    if (this.session) return this._callRefused('A call is already in progress.');
    if (relayOnly && !this._turn) return this._callRefused(mediaFailure({ hasTurn: false, relayOnly }));
    const c = freshCall();
    Object.assign(c, { state: 'calling', peer: target, direction: 'outgoing', video, relayOnly, dialMs: this.now(), iceGate: this.iceGate });
    this.state.call = c;
    this.state.error = '';
    this._changed();
    try {
      const session = this.ua.call(target, {
        mediaConstraints: { audio: true, video },
        pcConfig: this._pcConfig(relayOnly),
        rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: video },
        eventHandlers: this._sessionHandlers(c, relayOnly),
      });
      this.session = session;
    } catch (e) {
      return this._callRefused(`The call could not start: ${e.message || e}.`);
    }
    return '';
  }

  _callRefused(text) {
    this.state.call = { ...freshCall(), state: 'failed', message: text };
    this._changed();
    return text;
  }

  // Handlers for one session, ours or incoming: ICE gate, media, end.
  _sessionHandlers(c, relayOnly) {
    const gate = { startedMs: 0, candidates: [], gathered: [], ready: null, done: false, errors: [] };
    let pcRef = null;
    const waitForBrowser = this.iceGate === 'wait';
    const decide = () => {
      if (waitForBrowser || gate.done || !gate.startedMs) return;
      const d = iceReady({ relayOnly, candidates: gate.candidates, startedMs: gate.startedMs, nowMs: this.now() });
      if (!d.ready) { this._setTimer(`ice-${c.dialMs}`, d.recheckInMs, decide); return; }
      gate.done = true;
      this._clearTimer(`ice-${c.dialMs}`);
      c.iceMs = Math.round(this.now() - gate.startedMs);
      c.iceWhy = `${d.why} after ${c.iceMs} ms`;
      if (gate.ready) gate.ready();
      // No candidate event yet (so no ready()): JsSIP listens for the end-of-candidates event.
      else if (pcRef) pcRef.dispatchEvent(new Event('icecandidate'));
    };
    return {
      peerconnection: ({ peerconnection: pc }) => {
        pcRef = pc;
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'gathering' && !gate.startedMs) { gate.startedMs = this.now(); decide(); }
          if (pc.iceGatheringState === 'complete' && !gate.done) {
            // JsSIP sends the SDP now (its own listener): with ?ice=wait always, otherwise when the
            // browser got there before the rule did (an answerer whose host pair is already up stops
            // gathering). Say how long it took.
            gate.done = true;
            this._clearTimer(`ice-${c.dialMs}`);
            c.iceMs = gate.startedMs ? Math.round(this.now() - gate.startedMs) : 0;
            const relays = gate.gathered.filter((t) => t === 'relay').length;
            const n = gate.gathered.length;
            c.iceWhy = `the browser finished gathering after ${c.iceMs} ms (${n} candidate${n === 1 ? '' : 's'}, ${relays} relay${waitForBrowser ? '; ice=wait' : ''})`;
          }
        });
        // Every candidate, for the sentence above (JsSIP's event starts only once it listens).
        pc.addEventListener('icecandidate', (e) => { if (e.candidate) gate.gathered.push(candidateType(e.candidate)); });
        pc.addEventListener('icecandidateerror', (e) => {
          gate.errors.push({ url: e.url, errorCode: e.errorCode, errorText: e.errorText });
        });
        pc.addEventListener('track', (e) => { if (this.remoteMedia) this.remoteMedia(e.streams[0] || new MediaStream([e.track])); });
        pc.addEventListener('connectionstatechange', () => this._onConnectionState(c, pc, gate, relayOnly));
      },
      icecandidate: ({ candidate, ready }) => {
        gate.ready = ready;
        if (!gate.startedMs) gate.startedMs = this.now();
        gate.candidates.push({ type: candidateType(candidate), atMs: this.now() });
        decide();
      },
      progress: () => { if (c.direction === 'outgoing' && c.state === 'calling') { c.state = 'ringing'; this._changed(); } },
      accepted: () => { c.acceptedMs = this.now(); if (c.state !== 'connected') c.state = 'connecting media'; this._changed(); },
      confirmed: () => {
        c.confirmedMs = this.now();
        if (c.state !== 'connected') c.state = 'connecting media';
        this._showLocal();
        this._changed();
        this._setTimer('media', MEDIA_TIMEOUT_MS, () => {
          if (this.state.call === c && c.state !== 'connected') {
            this._endWithMediaFailure(c, gate, relayOnly);
          }
        });
      },
      ended: (e) => this._onEnded(c, e, false),
      failed: (e) => this._onEnded(c, e, true),
      getusermediafailed: (err) => { c.message = microphoneFailure(err, { video: c.video }); },
    };
  }

  _onConnectionState(c, pc, gate, relayOnly) {
    if (this.state.call !== c) return;
    if (pc.connectionState === 'connected' && c.state !== 'connected') {
      c.state = 'connected';
      c.connectedMs = this.now();
      c.setupMs = c.connectedMs - (c.dialMs || c.answeredMs);
      this._clearTimer('media');
      this._pollStats(c, pc);
      this._changed();
    } else if (pc.connectionState === 'failed') {
      this._endWithMediaFailure(c, gate, relayOnly);
    } else if (pc.connectionState === 'disconnected' && c.state === 'connected') {
      c.message = 'Media interrupted; waiting for it to come back…';
      this._changed();
    }
  }

  _endWithMediaFailure(c, gate, relayOnly) {
    c.message = mediaFailure({ iceErrors: gate.errors, relayOnly, gotRelay: gate.candidates.some((x) => x.type === 'relay'), hasTurn: !!this._turn });
    c.state = 'failed';
    c.mediaFailed = true;
    const s = this.session;
    this._changed();
    // Not JsSIP's default 480 for an unanswered call: the other side would say "not registered".
    if (s && !s.isEnded()) { try { s.terminate({ status_code: 500, reason_phrase: MEDIA_FAILED_REASON }); } catch { /* ended */ } }
  }

  _pollStats(c, pc) {
    const tick = async () => {
      if (this.state.call !== c || !['connected', 'connecting media'].includes(c.state)) return;
      try {
        const sum = summarizeStats(await pc.getStats());
        const r = relayedText(sum);
        c.media = { relayed: r.relayed, text: r.text, audioSent: sum.audio.bytesSent, audioReceived: sum.audio.bytesReceived,
                    videoSent: sum.video.bytesSent, videoReceived: sum.video.bytesReceived };
        this._changed();
      } catch { /* closed meanwhile */ }
      this._setTimer('stats', 1000, tick);
    };
    tick();
  }

  _showLocal() {
    const pc = this.session?.connection;
    if (!pc || !this.localMedia) return;
    const tracks = pc.getSenders().map((s) => s.track).filter((t) => t && t.kind === 'video');
    if (tracks.length) this.localMedia(new MediaStream(tracks));
  }

  _onEnded(c, e, failed) {
    this._clearTimer('media');
    this._clearTimer('stats');
    this._clearTimer(`ice-${c.dialMs}`);
    if (this.state.call !== c) return;  // a call the page no longer shows
    this.session = null;
    if (c.mediaFailed || c.declined) { /* the sentence is already there */ } else if (failed && e.cause === CAUSES.CANCELED && e.originator === 'local') {
      c.message = 'You cancelled the call.';
      c.state = 'ended';
    } else if (failed) {
      const msg = e.message;
      const status = msg && typeof msg.status_code === 'number' ? msg.status_code : 0;
      c.message = c.message || callFailure({ status, reason: msg?.reason_phrase || '', cause: e.cause, originator: e.originator,
                                             target: c.peer, incoming: c.direction === 'incoming' });
      c.state = 'failed';
    } else {
      c.message = callEnded({ cause: e.cause, originator: e.originator });
      c.state = 'ended';
    }
    if (this.remoteMedia) this.remoteMedia(null);
    if (this.localMedia) this.localMedia(null);
    this._changed();
  }

  _onNewSession({ originator, session, request }) {
    if (originator !== 'remote') return;
    if (this.session) {
      // One call at a time: a second caller hears busy (486).
      try { session.terminate({ status_code: 486, reason_phrase: 'Busy Here' }); } catch { /* gone */ }
      return;
    }
    const from = request.from.uri.toString();
    const video = /\bm=video /.test(request.body || '');
    const c = freshCall();
    Object.assign(c, { state: 'incoming', peer: from, direction: 'incoming', video, ringMs: this.now() });
    this.session = session;
    this.state.call = c;
    this._incoming = { session, c };
    // ICE handlers must be in place before answer() creates the peer connection.
    this._incomingHandlers = null;
    session.on('failed', (e) => this._onEnded(c, e, true));
    this._changed();
    this.onincoming({ from, video });
  }

  // Answers the ringing call; `relayOnly` from the switch, `video` when both want it.
  answer({ relayOnly = true, video = false } = {}) {
    const inc = this._incoming;
    if (!inc || inc.session.isEnded() || this.state.call !== inc.c) return 'No call to answer.';
    if (relayOnly && !this._turn) {
      const text = mediaFailure({ hasTurn: false, relayOnly });
      this.decline(480);
      this.state.call.message = text;
      this._changed();
      return text;
    }
    const { session, c } = inc;
    this._incoming = null;
    c.relayOnly = relayOnly;
    c.iceGate = this.iceGate;
    c.answeredMs = this.now();
    c.state = 'connecting media';
    const useVideo = !!video && c.video;  // video only when offered and wanted
    const handlers = this._sessionHandlers(c, relayOnly);
    for (const [ev, fn] of Object.entries(handlers)) if (ev !== 'failed') session.on(ev, fn);
    this._changed();
    try {
      session.answer({
        mediaConstraints: { audio: true, video: useVideo },
        pcConfig: this._pcConfig(relayOnly),
      });
    } catch (e) {
      c.state = 'failed';
      c.message = `The call could not be answered: ${e.message || e}.`;
      this._changed();
      return c.message;
    }
    return '';
  }

  decline(status = 603) {
    const inc = this._incoming;
    if (!inc) return;
    this._incoming = null;
    inc.c.state = 'ended';
    inc.c.message = 'You declined the call.';
    inc.c.declined = true;
    try { inc.session.terminate({ status_code: status, reason_phrase: status === 603 ? 'Decline' : undefined }); } catch { /* gone */ }
    this.session = null;
    this._changed();
  }

  hangup() {
    const s = this.session;
    if (!s) return;
    if (this._incoming && this._incoming.session === s) return this.decline();
    try { s.terminate(); } catch { /* ended */ }
  }
}
