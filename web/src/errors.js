// Every failure the WIC can meet, as one sentence a user can act on, naming what refused it: the IMS
// core's Digest check, an eP-CSCF or core check (their 403 reason phrase names it), the WebSocket
// handshake (the browser says nothing about why: the likely causes are listed), the WWSF (its JSON
// `error` is already a sentence), the callee, ICE/TURN, the microphone. No DOM: web/test/errors.test.mjs.
//
// Inputs are plain values taken from JsSIP events ({ status, reason, cause }), fetch answers and
// RTCPeerConnection events, so each mapping is tested without a browser.

// JsSIP's cause strings (JsSIP.C.causes), repeated here so this module needs no JsSIP.
export const CAUSES = {
  CONNECTION_ERROR: 'Connection Error', REQUEST_TIMEOUT: 'Request Timeout', SIP_FAILURE_CODE: 'SIP Failure Code',
  INTERNAL_ERROR: 'Internal Error', BUSY: 'Busy', REJECTED: 'Rejected', REDIRECTED: 'Redirected',
  UNAVAILABLE: 'Unavailable', NOT_FOUND: 'Not Found', ADDRESS_INCOMPLETE: 'Address Incomplete',
  INCOMPATIBLE_SDP: 'Incompatible SDP', MISSING_SDP: 'Missing SDP', AUTHENTICATION_ERROR: 'Authentication Error',
  BYE: 'Terminated', WEBRTC_ERROR: 'WebRTC Error', CANCELED: 'Canceled', NO_ANSWER: 'No Answer', EXPIRES: 'Expires',
  NO_ACK: 'No ACK', DIALOG_ERROR: 'Dialog Error', USER_DENIED_MEDIA_ACCESS: 'User Denied Media Access',
  BAD_MEDIA_DESCRIPTION: 'Bad Media Description', RTP_TIMEOUT: 'RTP Timeout',
};

// What a refusal's reason phrase means, for the checks webims' eP-CSCF and core name (protocols.md,
// servers/pcscf/logic/token_auth.cpp, servers/core/logic/core_logic.cpp). Unknown phrases are quoted.
const REASON_HINTS = [
  [/^unknown user$|^private identity unknown$/i, 'the IMS core has no subscription with this private identity (IMPI)'],
  [/^public identity not of this subscription$/i, 'this public identity (IMPU) does not belong to the subscription of the private identity given'],
  [/^not the home domain$/i, 'the IMS core does not serve this domain: check the part after @ of the public identity'],
  [/^token expired$/i, 'the sign-in token from the web server has expired: sign in again'],
  [/^token not yet valid$/i, 'the sign-in token is not valid yet: this computer\'s clock may be wrong'],
  [/^token signature invalid$|^token signed with an unknown key$|^token algorithm not accepted$|^malformed token$|^malformed bearer credentials$/i,
    'the eP-CSCF could not verify the sign-in token'],
  [/^token issuer not accepted$/i, 'the eP-CSCF does not accept tokens from this web server\'s authorization function'],
  [/^token audience is not this ims domain$/i, 'the sign-in token was made for another IMS domain'],
  [/^token scope lacks/i, 'the sign-in token does not grant access to IMS'],
  [/^token not active$/i, 'the sign-in token is no longer active (revoked or expired)'],
  [/^wwsf blocked$/i, 'the operator has blocked this web server (WWSF)'],
  [/^wwsf not known to this operator$/i, 'the operator does not know this web server (WWSF)'],
  [/^to-uri not among the token's impus$/i, 'the sign-in token does not cover this public identity'],
  [/^pool impi does not belong to the wwsf$/i, 'the guest identity does not belong to this web server\'s pool'],
  [/^token-based registration is not enabled/i, 'the eP-CSCF does not accept web or guest sign-in'],
  [/not allowed for this wwsf|does not allow this wwsf|wwsf not allowed/i, 'the subscription does not allow this web server (WWSF)'],
  [/^identity not registered on this connection$/i, 'the eP-CSCF has not registered this identity on this connection'],
  [/^originating user not registered$/i, 'the IMS core does not have you registered'],
  [/^relaying not allowed$/i, 'the IMS core only routes to users of its own domain'],
];

function reasonText(reason) {
  const r = String(reason || '').trim();
  if (!r) return '';
  for (const [re, hint] of REASON_HINTS) if (re.test(r)) return `${hint} (“${r}”)`;
  return `“${r}”`;
}

// The secure WebSocket to the eP-CSCF could not be opened or was closed. Browsers expose no reason
// (a refused Origin, an untrusted certificate and a closed port look the same), so list them.
export function websocketFailure({ url, pageOrigin, wasConnected = false } = {}) {
  if (wasConnected) {
    return `The connection to the eP-CSCF (${url}) was closed; it may have been restarted, or it ended the connection after refusing a request. Sign in again.`;
  }
  let certHint = 'the browser does not trust its certificate';
  try {
    const u = new URL(url);
    certHint += ` (open https://${u.host}/ once, or install the deployment's CA, var/tls/ca.pem)`;
  } catch { /* no URL: keep the general words */ }
  return `Could not connect to the eP-CSCF at ${url}: it may not allow this page's origin${pageOrigin ? ` (${pageOrigin})` : ''}, ` +
         `${certHint}, or it is not running.`;
}

// REGISTER failed. mode: 'digest' (scenario 1) or 'token' (scenarios 2, 3); status/reason from the
// final response, cause from JsSIP.
export function registrationFailure({ status = 0, reason = '', cause = '', mode = 'digest', impi = '', impu = '', url = '', pageOrigin = '' } = {}) {
  if (status === 401 || status === 407 || cause === CAUSES.AUTHENTICATION_ERROR) {
    if (mode === 'token') return 'The IMS core asked for a password although the web server vouched for you: the eP-CSCF does not take this sign-in token.';
    return `The IMS core did not accept the password for ${impi || impu || 'this identity'}: check the password` +
           `${impi ? '' : ', and give the private identity (IMPI) if it is not the public one without "sip:"'}.`;
  }
  if (status === 403) {
    const what = reasonText(reason);
    return `Registration refused by the ${mode === 'token' ? 'eP-CSCF or IMS core' : 'IMS core'}` +
           `${what ? `: ${what}` : ''}.`;
  }
  if (status === 404 || status === 604) return `The IMS core does not know ${impu || 'this identity'}${reason ? ` (“${reason}”)` : ''}.`;
  if (status === 408 || cause === CAUSES.REQUEST_TIMEOUT) return 'The IMS core did not answer the registration in time; try again.';
  if (status === 423) return 'The IMS core wants a longer registration interval than this WIC asked for.';
  if (status >= 500) return `The IMS core could not register you right now${reason ? ` (“${reason}”)` : ''}; try again later.`;
  if (cause === CAUSES.CONNECTION_ERROR || status === 0) return websocketFailure({ url, pageOrigin });
  return `Registration failed${reason ? `: “${reason}”` : ''}.`;
}

// The reason phrase a WIC ends a call with when its own media could not connect (ICE failed), so
// the other side says that rather than JsSIP's default 480 ("not registered").
export const MEDIA_FAILED_REASON = 'Media Failed';

// A call (ours or an incoming one) ended before or instead of connecting.
export function callFailure({ status = 0, reason = '', cause = '', originator = 'remote', target = '', incoming = false } = {}) {
  // A sentence never starts with a bare URI ("sip:bob@…"): name it as the callee or caller.
  const Who = target ? `${incoming ? 'The caller' : 'The callee'} ${target}` : 'The other side';
  if (cause === CAUSES.USER_DENIED_MEDIA_ACCESS) return microphoneFailure({ name: 'NotAllowedError' });
  if (status === 486 || status === 600 || cause === CAUSES.BUSY) return `${Who} is busy.`;
  if (status === 603) return `${Who} declined the call.`;
  if (status === 404 || status === 604 || cause === CAUSES.NOT_FOUND) return `${Who} is not a user the IMS core knows; check the address.`;
  if (status === 480 || status === 410 || status === 430 || cause === CAUSES.UNAVAILABLE) return `${Who} is not registered right now (not signed in).`;
  if (status === 484 || cause === CAUSES.ADDRESS_INCOMPLETE) return `The address ${target} is incomplete.`;
  if (status === 488 || status === 606 || cause === CAUSES.INCOMPATIBLE_SDP) return `${Who} could not accept the media offered (no common codec or transport).`;
  if (status === 403) return `The call was refused: ${reasonText(reason) || 'forbidden'}.`;
  if (status === 487 || cause === CAUSES.CANCELED) return originator === 'local' ? 'You cancelled the call.' : `${Who} cancelled the call.`;
  if (cause === CAUSES.NO_ANSWER) return incoming ? 'The call was not answered in time.' : `${Who} did not answer.`;
  if (cause === CAUSES.REJECTED) return `${Who} refused the call${reason ? ` (“${reason}”)` : ''}.`;
  if (cause === CAUSES.REQUEST_TIMEOUT || status === 408) return 'The network did not answer the call set-up in time.';
  if (cause === CAUSES.CONNECTION_ERROR) return 'The connection to the eP-CSCF was lost during the call set-up.';
  if (cause === CAUSES.WEBRTC_ERROR || cause === CAUSES.BAD_MEDIA_DESCRIPTION || cause === CAUSES.MISSING_SDP) {
    return 'The browser could not set up the media for this call.';
  }
  if (cause === CAUSES.RTP_TIMEOUT) return 'Media stopped flowing, so the call was ended.';
  if (status === 500 && reason === MEDIA_FAILED_REASON) {
    return `${Who} could not get media through on their side (ICE failed there: their TURN server refused or was unreachable).`;
  }
  if (status >= 500) return `The network could not connect the call${reason ? ` (“${reason}”)` : ''}.`;
  return `The call failed${reason ? `: “${reason}”` : cause ? ` (${cause})` : ''}.`;
}

// How a call that had connected ended (not a failure, but said the same way).
export function callEnded({ cause = '', originator = 'remote' } = {}) {
  if (cause === CAUSES.BYE || !cause) return originator === 'local' ? 'You hung up.' : 'The other side hung up.';
  if (cause === CAUSES.RTP_TIMEOUT) return 'Media stopped flowing, so the call was ended.';
  if (cause === CAUSES.CONNECTION_ERROR || cause === CAUSES.REQUEST_TIMEOUT) return 'The connection to the eP-CSCF was lost, so the call ended.';
  return `The call ended (${cause}).`;
}

// getUserMedia refused (DOMException name).
export function microphoneFailure(error = {}, { video = false } = {}) {
  const dev = video ? 'microphone or camera' : 'microphone';
  switch (error.name) {
    case 'NotAllowedError': case 'SecurityError':
      return `The browser did not let this page use the ${dev}: allow it in the site's permissions and call again.`;
    case 'NotFoundError': case 'OverconstrainedError':
      return `No ${dev} was found on this computer.`;
    case 'NotReadableError': case 'AbortError':
      return `The ${dev} is in use by another program or could not be opened.`;
    default:
      return `The ${dev} could not be used${error.message ? ` (${error.message})` : ''}.`;
  }
}

// ICE failed or never found a relayed path. iceErrors: RTCPeerConnectionIceErrorEvent fields
// ({ url, errorCode, errorText }); relayOnly: the switch; gotRelay: a relay candidate was gathered.
export function mediaFailure({ iceErrors = [], relayOnly = true, gotRelay = false, hasTurn = true } = {}) {
  if (!hasTurn) {
    return relayOnly
      ? 'No TURN credential: the eP-CSCF gave none, and with "relay only" on media cannot flow without one. Turn "relay only" off, or sign in again.'
      : 'Media could not flow: no direct path to the other side was found and no TURN server was provided.';
  }
  const turnErr = iceErrors.filter((e) => /^turns?:/i.test(e.url || ''));
  const auth = turnErr.find((e) => e.errorCode === 401 || e.errorCode === 403 || e.errorCode === 437 || e.errorCode === 441);
  if (!gotRelay && auth) {
    return `The TURN server ${hostOf(auth.url)} refused the credential (${auth.errorText || `error ${auth.errorCode}`}): it may have expired; renew it or sign in again.`;
  }
  const quota = turnErr.find((e) => e.errorCode === 486 || e.errorCode === 508);
  if (!gotRelay && quota) return `The TURN server ${hostOf(quota.url)} has no room for another relay right now (${quota.errorText || quota.errorCode}).`;
  if (!gotRelay && turnErr.length) {
    return `The TURN server ${hostOf(turnErr[0].url)} could not be reached, so there was no relayed path for the media` +
           `${relayOnly ? ' (relay only is on)' : ''}.`;
  }
  if (!gotRelay && relayOnly) return 'No relayed path: the TURN server did not give this browser a relay address in time (refused or unreachable).';
  return 'Media could not flow: ICE found no working path between the two sides (the TURN server may be refusing permissions or be unreachable from the other side).';
}

function hostOf(url) {
  const m = /^turns?:([^?;]+)/i.exec(url || '');
  return m ? m[1] : (url || '');
}

// A WWSF API call failed. endpoint: '/api/login' ..., status: HTTP status (0 = no answer), body: the
// JSON answer ({ error, waf_error, waf_error_description }).
export function wwsfFailure({ endpoint = '', status = 0, body = null, networkError = '' } = {}) {
  const action = {
    '/api/login': 'Web sign-in failed',
    '/api/session': 'The web session could not be read',
    '/api/links': 'The identity could not be linked',
    '/api/links/confirm': 'The link was not confirmed',
    '/api/guest': 'No guest identity',
    '/api/guest/release': 'The guest identity could not be released',
    '/api/token': 'The web server could not get an IMS sign-in token',
    '/api/logout': 'Signing out of the web server failed',
    '/api/wic-config': 'The page\'s settings could not be loaded',
  }[endpoint] || 'The web server refused the request';
  if (!status) return `${action}: the web server (WWSF) did not answer${networkError ? ` (${networkError})` : ''}.`;
  const err = body && typeof body.error === 'string' ? body.error.trim() : '';
  if (endpoint === '/api/token' && body && body.waf_error) {
    const d = body.waf_error_description || body.waf_error;
    return `The authorization function (WAF) refused the IMS sign-in token: ${String(d).trim().replace(/\.$/, '')}.`;
  }
  if (endpoint === '/api/guest' && status === 503 && /no guest identity/i.test(err)) return 'All guest identities are in use; try again in a minute.';
  if (endpoint === '/api/login' && status === 401) return 'Wrong username or password for the web sign-in.';
  if (status === 429) return `${action}: too many attempts; wait a few minutes and try again.`;
  if ((status === 401 || status === 403) && /not logged in|no session/i.test(err)) return 'The web session has ended; sign in again.';
  if (err) return `${action}: ${err.replace(/\.$/, '')}.`;
  return `${action} (the web server answered ${status}).`;
}
