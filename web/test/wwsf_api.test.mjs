// The WWSF client against a fake fetch: CSRF token carried, JSON errors turned into sentences.
import test from 'node:test';
import assert from 'node:assert/strict';
import { WwsfApi, WwsfError } from '../src/wwsf_api.js';

function fakeFetch(routes) {
  const calls = [];
  const f = async (url, init) => {
    calls.push({ url, ...init, body: init.body ? JSON.parse(init.body) : undefined });
    const r = routes[url];
    if (!r) return { ok: false, status: 404, json: async () => ({ error: 'no such API' }) };
    if (r === 'network') throw new TypeError('Failed to fetch');
    const [status, body] = typeof r === 'function' ? r(calls.at(-1)) : r;
    return { ok: status >= 200 && status < 300, status, json: async () => { if (body === undefined) throw new SyntaxError('x'); return body; } };
  };
  f.calls = calls;
  return f;
}

test('login keeps the CSRF token and sends it on the next POST', async () => {
  const f = fakeFetch({
    '/api/login': [200, { username: 'carol', csrf_token: 'C1' }],
    '/api/token': [200, { access_token: 'eyJ.x.y', expires_in: 3600, impu: ['sip:bob@ims.example.org'], impi: 'bob@ims.example.org' }],
  });
  const api = new WwsfApi({ fetch: f });
  await api.login('carol', 'pw');
  assert.equal(f.calls[0].headers['X-CSRF-Token'], undefined);
  assert.deepEqual(f.calls[0].body, { username: 'carol', password: 'pw' });
  assert.equal(f.calls[0].headers['Content-Type'], 'application/json');
  assert.equal(f.calls[0].credentials, 'same-origin');
  const t = await api.token('bob@ims.example.org');
  assert.equal(t.access_token, 'eyJ.x.y');
  assert.equal(f.calls[1].headers['X-CSRF-Token'], 'C1');
});

test('errors become WwsfError with the sentence', async () => {
  const api = new WwsfApi({ fetch: fakeFetch({ '/api/login': [401, { error: 'wrong username or password' }], '/api/guest': 'network' }) });
  await assert.rejects(api.login('carol', 'no'), (e) => e instanceof WwsfError && e.status === 401 && e.message === 'Wrong username or password for the web sign-in.');
  await assert.rejects(api.guest(), (e) => e.status === 0 && /did not answer/.test(e.message));
});

test('wic-config absent -> null; session absent -> null; a non-JSON error still says something', async () => {
  const api = new WwsfApi({ fetch: fakeFetch({ '/api/session': [401, { error: 'no session' }], '/api/logout': [500, undefined] }) });
  assert.equal(await api.wicConfig(), null);
  assert.equal(await api.session(), null);
  await assert.rejects(api.logout(), (e) => e.status === 500 && /Signing out of the web server failed/.test(e.message));
});

test('guest release and logout forget the CSRF token', async () => {
  const f = fakeFetch({ '/api/guest': [201, { impi: 'g1@guest.x', impu: ['sip:g1@x'], csrf_token: 'G' }], '/api/guest/release': [200, { released: true }] });
  const api = new WwsfApi({ fetch: f });
  await api.guest();
  assert.equal(api.csrf, 'G');
  await api.releaseGuest();
  assert.equal(f.calls[1].headers['X-CSRF-Token'], 'G');
  assert.equal(api.csrf, '');
});
