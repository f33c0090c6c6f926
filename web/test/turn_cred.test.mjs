// The 3gpp-ext-turn-cred header (protocols.md, Solution 1) -> iceServers; the panel's description never has the password.
import test from 'node:test';
import assert from 'node:assert/strict';
import { describeCredential, formatDuration, iceServersFrom, parseAssociatedUris, parseTurnCred } from '../src/turn_cred.js';

const TID = 'q3Vn1cXb2hUOJ4u2kz0T_w';
const PWD = 'bWFkZS11cC1wYXNzd29yZC0xMjM0NTY3OA==';

test('a credential with two TURN URIs', () => {
  const c = parseTurnCred(`${TID}:1767225600:${PWD};uri="turn:127.0.0.1:3478?transport=udp";uri="turn:127.0.0.1:3478?transport=tcp"`);
  assert.equal(c.valid, true);
  assert.equal(c.tid, TID);
  assert.equal(c.texp, 1767225600);
  assert.equal(c.password, PWD);
  assert.equal(c.username, `${TID}:1767225600`);
  assert.deepEqual(c.uris, ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
  assert.deepEqual(iceServersFrom(c), [{ urls: c.uris, username: `${TID}:1767225600`, credential: PWD }]);
});

test('spaces around parameters, unquoted and turns: URIs, other parameters ignored', () => {
  const c = parseTurnCred(`  ${TID}:1767225600:${PWD} ; uri=turns:turn.example.org:443?transport=tcp ; foo=bar;uri="stun:x"`);
  assert.equal(c.valid, true);
  assert.deepEqual(c.uris, ['turns:turn.example.org:443?transport=tcp']);
});

test('a password with base64 padding and "+/" survives', () => {
  const c = parseTurnCred(`${TID}:1767225600:ab+/cd==`);
  assert.equal(c.password, 'ab+/cd==');
  assert.deepEqual(c.uris, []);
  assert.deepEqual(iceServersFrom(c), []);
  assert.deepEqual(iceServersFrom(c, ['turn:h:1']), [{ urls: ['turn:h:1'], username: `${TID}:1767225600`, credential: 'ab+/cd==' }]);
});

test('malformed values are not credentials', () => {
  for (const v of [undefined, null, '', '   ', 'request', `${TID}:notanumber:${PWD}`, `${TID}:1767225600`, `:1767225600:${PWD}`, 42]) {
    assert.equal(parseTurnCred(v).valid, false, String(v));
  }
  assert.deepEqual(iceServersFrom(parseTurnCred('x')), []);
});

test('the description shows expiry and countdown, never the password', () => {
  const c = parseTurnCred(`${TID}:1767225600:${PWD};uri="turn:127.0.0.1:3478?transport=udp"`);
  const d = describeCredential(c, (1767225600 - 125) * 1000);
  assert.equal(d.expired, false);
  assert.equal(d.leftS, 125);
  assert.match(d.text, /^expires at \d\d:\d\d:\d\d \(in 2 min 5 s\)$/);
  assert.ok(!JSON.stringify(d).includes(PWD));
  assert.ok(!JSON.stringify(d).includes(TID));
  const gone = describeCredential(c, (1767225600 + 1) * 1000);
  assert.equal(gone.expired, true);
  assert.match(gone.text, /^expired at /);
  assert.equal(describeCredential(null, 0).text, 'none');
});

test('durations', () => {
  assert.equal(formatDuration(9), '9 s');
  assert.equal(formatDuration(125), '2 min 5 s');
  assert.equal(formatDuration(3725), '1 h 2 min');
  assert.equal(formatDuration(-5), '0 s');
});

test('P-Associated-URI lists (RFC 7315): several values, commas, display names with commas', () => {
  assert.deepEqual(parseAssociatedUris(['<sip:alice@ims.example.org>, <tel:+15550100>', '"Smith, A" <sip:+15550100@ims.example.org;user=phone>']),
    ['sip:alice@ims.example.org', 'tel:+15550100', 'sip:+15550100@ims.example.org;user=phone']);
  assert.deepEqual(parseAssociatedUris('<sip:a@x>'), ['sip:a@x']);
  assert.deepEqual(parseAssociatedUris(['<sip:a@x>', '<sip:a@x>']), ['sip:a@x']);
  assert.deepEqual(parseAssociatedUris(undefined), []);
  assert.deepEqual(parseAssociatedUris(['sip:bare@x;tag=1']), ['sip:bare@x']);
});
