// The WWSF's JSON API (servers/wwsf/logic/wwsf_logic.hpp) as the page uses it: web login, the
// identity links (Annex C M2), the scenario 3 guest pool and IMS access tokens. The session lives in
// the WWSF's `__Host-` cookie (HttpOnly: the page never sees it); state-changing calls carry the
// session's CSRF token in X-CSRF-Token. Errors come back as WwsfError, whose message is the sentence
// errors.js makes of the WWSF's JSON `error`. `fetch` is passed in, so Node's test runner drives it
// with a fake: web/test/wwsf_api.test.mjs.
import { wwsfFailure } from './errors.js';

export class WwsfError extends Error {
  constructor({ endpoint, status, body, networkError }) {
    super(wwsfFailure({ endpoint, status, body, networkError }));
    this.name = 'WwsfError';
    this.endpoint = endpoint;
    this.status = status;
    this.body = body;
  }
}

export class WwsfApi {
  constructor({ fetch: f = globalThis.fetch?.bind(globalThis), base = '', timeoutMs = 15000 } = {}) {
    this.fetch = f;
    this.base = base;
    this.timeoutMs = timeoutMs;
    this.csrf = '';
  }

  async call(endpoint, { method = 'POST', body } = {}) {
    const headers = {};
    if (method === 'POST') headers['Content-Type'] = 'application/json';
    if (this.csrf) headers['X-CSRF-Token'] = this.csrf;
    let res;
    try {
      res = await this.fetch(this.base + endpoint, {
        method, headers, credentials: 'same-origin', cache: 'no-store',
        body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
        signal: typeof AbortSignal !== 'undefined' && AbortSignal.timeout ? AbortSignal.timeout(this.timeoutMs) : undefined,
      });
    } catch (e) {
      throw new WwsfError({ endpoint, status: 0, body: null, networkError: e && e.name === 'TimeoutError' ? 'no answer in time' : '' });
    }
    let json = null;
    try { json = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) throw new WwsfError({ endpoint, status: res.status, body: json });
    if (json && typeof json.csrf_token === 'string') this.csrf = json.csrf_token;
    return json || {};
  }

  // GET /api/wic-config: null when this WWSF has no such endpoint (then the page's defaults apply).
  async wicConfig() {
    try { return await this.call('/api/wic-config', { method: 'GET' }); } catch (e) {
      if (e instanceof WwsfError && (e.status === 404 || e.status === 0)) return null;
      throw e;
    }
  }

  login(username, password) { return this.call('/api/login', { body: { username, password } }); }
  // { kind: 'user', username, links: [{impi, confirmed}] } or { kind: 'guest', guest: {impi, impu, expires_in} }; null without a session.
  async session() {
    try { return await this.call('/api/session', { method: 'GET' }); } catch (e) {
      if (e instanceof WwsfError && e.status === 401) return null;
      throw e;
    }
  }
  requestLink(impi) { return this.call('/api/links', { body: { impi } }); }
  confirmLink(impi, password) { return this.call('/api/links/confirm', { body: { impi, password } }); }
  guest() { return this.call('/api/guest', { body: {} }); }
  async releaseGuest() { const r = await this.call('/api/guest/release', { body: {} }); this.csrf = ''; return r; }
  // -> { access_token, token_type, expires_in, impu: [..], impi, pool }
  token(impi) { return this.call('/api/token', { body: { impi } }); }
  async logout() { const r = await this.call('/api/logout', { body: {} }); this.csrf = ''; return r; }
}
