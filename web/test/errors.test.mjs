// Each failure as one sentence naming what refused it; never a bare code.
import test from 'node:test';
import assert from 'node:assert/strict';
import { CAUSES, MEDIA_FAILED_REASON, callEnded, callFailure, mediaFailure, microphoneFailure, registrationFailure, websocketFailure, wwsfFailure } from '../src/errors.js';

const isSentence = (s) => typeof s === 'string' && /^[A-Z“"]/.test(s) && /[.!?]$/.test(s) && !/^\d{3}\b/.test(s);

test('wrong IMS password: 401 after our Digest answer', () => {
  const s = registrationFailure({ status: 401, reason: 'Unauthorized', cause: CAUSES.AUTHENTICATION_ERROR, impi: 'alice@ims.example.org' });
  assert.ok(isSentence(s));
  assert.match(s, /did not accept the password for alice@ims\.example\.org/);
  assert.doesNotMatch(s, /401/);
  assert.match(registrationFailure({ status: 401, impu: 'sip:a@b' }), /give the private identity/);
  assert.match(registrationFailure({ status: 401, mode: 'token' }), /does not take this sign-in token/);
});

test('403 names the check from its reason phrase', () => {
  assert.match(registrationFailure({ status: 403, reason: 'Unknown user' }), /no subscription with this private identity .*“Unknown user”/);
  assert.match(registrationFailure({ status: 403, reason: 'WWSF blocked', mode: 'token' }), /eP-CSCF or IMS core: the operator has blocked this web server .*“WWSF blocked”/);
  assert.match(registrationFailure({ status: 403, reason: 'Token expired', mode: 'token' }), /expired: sign in again/);
  assert.match(registrationFailure({ status: 403, reason: 'Something new' }), /IMS core: “Something new”\.$/);
  assert.match(registrationFailure({ status: 403, reason: "To-URI not among the token's IMPUs", mode: 'token' }), /does not cover this public identity/);
  assert.ok(isSentence(registrationFailure({ status: 403 })));
});

test('WebSocket refused: the likely causes', () => {
  const s = websocketFailure({ url: 'wss://localhost:7443', pageOrigin: 'https://localhost:8443' });
  assert.match(s, /Could not connect to the eP-CSCF at wss:\/\/localhost:7443/);
  assert.match(s, /origin \(https:\/\/localhost:8443\)/);
  assert.match(s, /certificate \(open https:\/\/localhost:7443\/ once/);
  assert.match(s, /not running/);
  assert.equal(registrationFailure({ status: 0, cause: CAUSES.CONNECTION_ERROR, url: 'wss://h:1' }), websocketFailure({ url: 'wss://h:1' }));
  assert.match(websocketFailure({ url: 'wss://h:1', wasConnected: true }), /was closed/);
  assert.ok(isSentence(websocketFailure({ url: 'not a url' })));
});

test('calls: not registered, busy, declined, unknown, microphone', () => {
  const t = 'sip:bob@ims.example.org';
  assert.equal(callFailure({ status: 480, cause: CAUSES.UNAVAILABLE, target: t }), 'The callee sip:bob@ims.example.org is not registered right now (not signed in).');
  // The other WIC's ICE failed before it answered: said as such, not as "not registered" (JsSIP's 480).
  assert.match(callFailure({ status: 500, reason: MEDIA_FAILED_REASON, target: t }), /could not get media through on their side/);
  assert.match(callFailure({ status: 500, reason: 'Server Internal Error', target: t }), /network could not connect the call/);
  assert.equal(callFailure({ status: 487, cause: CAUSES.CANCELED, target: t, incoming: true }), 'The caller sip:bob@ims.example.org cancelled the call.');
  assert.match(callFailure({ status: 404, cause: CAUSES.NOT_FOUND, target: t }), /not a user the IMS core knows/);
  assert.match(callFailure({ status: 486, cause: CAUSES.BUSY, target: t }), /is busy\.$/);
  assert.match(callFailure({ status: 603, cause: CAUSES.REJECTED, target: t }), /declined the call\.$/);
  assert.match(callFailure({ status: 403, reason: 'Identity not registered on this connection' }), /eP-CSCF has not registered this identity/);
  assert.match(callFailure({ cause: CAUSES.USER_DENIED_MEDIA_ACCESS }), /did not let this page use the microphone/);
  assert.match(callFailure({ status: 487, cause: CAUSES.CANCELED, originator: 'local' }), /You cancelled/);
  assert.match(callFailure({ cause: CAUSES.NO_ANSWER, target: t }), /did not answer/);
  for (const x of [{}, { status: 500, reason: 'Server Internal Error' }, { cause: CAUSES.WEBRTC_ERROR }, { cause: CAUSES.REQUEST_TIMEOUT }]) {
    assert.ok(isSentence(callFailure(x)), JSON.stringify(x));
  }
  assert.equal(callEnded({ cause: CAUSES.BYE, originator: 'local' }), 'You hung up.');
  assert.equal(callEnded({ cause: CAUSES.BYE, originator: 'remote' }), 'The other side hung up.');
});

test('microphone', () => {
  assert.match(microphoneFailure({ name: 'NotAllowedError' }), /allow it in the site's permissions/);
  assert.match(microphoneFailure({ name: 'NotFoundError' }, { video: true }), /No microphone or camera/);
  assert.match(microphoneFailure({ name: 'NotReadableError' }), /in use/);
  assert.ok(isSentence(microphoneFailure({})));
});

test('media: TURN refused, unreachable, no credential', () => {
  assert.match(mediaFailure({ iceErrors: [{ url: 'turn:127.0.0.1:3478?transport=udp', errorCode: 401, errorText: 'Unauthorized' }] }),
    /TURN server 127\.0\.0\.1:3478 refused the credential \(Unauthorized\)/);
  assert.match(mediaFailure({ iceErrors: [{ url: 'turn:10.9.9.9:3478?transport=udp', errorCode: 701, errorText: 'STUN host lookup received error.' }] }),
    /10\.9\.9\.9:3478 could not be reached.*relay only is on/);
  assert.match(mediaFailure({ hasTurn: false }), /No TURN credential/);
  assert.match(mediaFailure({ gotRelay: true }), /ICE found no working path/);
  assert.match(mediaFailure({ relayOnly: true }), /did not give this browser a relay address/);
});

test('WWSF refusals use its sentence, with the action', () => {
  assert.equal(wwsfFailure({ endpoint: '/api/login', status: 401, body: { error: 'wrong username or password' } }), 'Wrong username or password for the web sign-in.');
  assert.equal(wwsfFailure({ endpoint: '/api/guest', status: 503, body: { error: 'no guest identity is free; try again later' } }), 'All guest identities are in use; try again in a minute.');
  assert.equal(wwsfFailure({ endpoint: '/api/links/confirm', status: 403, body: { error: 'the IMS credentials were not accepted for this IMPI' } }),
    'The link was not confirmed: the IMS credentials were not accepted for this IMPI.');
  assert.match(wwsfFailure({ endpoint: '/api/token', status: 403, body: { error: 'the WAF refused the token', waf_error: 'unauthorized_client', waf_error_description: 'WWSF blocked' } }),
    /^The authorization function \(WAF\) refused the IMS sign-in token: WWSF blocked\.$/);
  assert.match(wwsfFailure({ endpoint: '/api/token', status: 403, body: { error: 'no confirmed link from this account to bob@x' } }), /no confirmed link/);
  assert.match(wwsfFailure({ endpoint: '/api/login', status: 429, body: { error: 'too many failed logins; try later' } }), /too many attempts/);
  assert.match(wwsfFailure({ endpoint: '/api/token', status: 401, body: { error: 'not logged in' } }), /web session has ended/);
  assert.match(wwsfFailure({ endpoint: '/api/login', status: 0 }), /did not answer/);
  assert.ok(isSentence(wwsfFailure({ endpoint: '/x', status: 500, body: null })));
});
