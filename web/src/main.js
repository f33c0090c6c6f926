// The page: sign-in with the three ways in (IMS account, web login with a linked identity, guest),
// then the status panel, dialling and the call. All protocol work is in wic.js (JsSIP, WebRTC) and
// wwsf_api.js (the WWSF's JSON API); this file moves values between them and the DOM. The CSP allows
// no inline script or style: every element is in index.html, shown and hidden with `hidden`, and
// text goes in with textContent only.
import { checkIdentity, domainOf, impiFromImpu, normalizeImpu, normalizeTarget, resolveConfig } from './config.js';
import { formatDuration } from './turn_cred.js';
import { Wic } from './wic.js';
import { iceGateFromQuery } from './ice_rule.js';
import { WwsfApi } from './wwsf_api.js';

const $ = (id) => document.getElementById(id);
const show = (el, on = true) => { (typeof el === 'string' ? $(el) : el).hidden = !on; };
const setText = (id, text) => { $(id).textContent = text; };

const api = new WwsfApi();
let wic = null;
let config = null;
let way = '';          // 'digest' | 'web' | 'guest'
let webImpi = '';      // the linked IMPI chosen after web login

function say(id, text) {
  const el = $(id);
  el.textContent = text || '';
  el.hidden = !text;
}

function busy(on) {
  show('signin-busy', on);
  for (const id of ['signin-digest', 'signin-web', 'guest-button', 'use-link', 'link-button']) $(id).disabled = on;
  if (!on) updateUseLink();
}

// ---------------------------------------------------------------------------------------------
// Sign-in view

function selectTab(name) {
  for (const t of ['digest', 'web', 'guest']) {
    $(`tab-${t}`).setAttribute('aria-selected', String(t === name));
    show(`way-${t}`, t === name);
  }
  say('signin-error', '');
}

async function afterRegistration(result) {
  busy(false);
  if (!result.ok) { say('signin-error', result.error); return; }
  $('password').value = '';
  show('signin', false);
  show('phone', true);
  $('target').focus();
  render();
}

async function signInDigest(ev) {
  ev.preventDefault();
  const impu = normalizeImpu($('impu').value);
  const impiTyped = $('impi').value.trim();
  const problem = checkIdentity({ impu, impi: impiTyped });
  if (problem) { say('signin-error', problem); return; }
  if (!$('password').value) { say('signin-error', 'Enter the password of your IMS subscription.'); return; }
  say('signin-error', '');
  busy(true);
  way = 'digest';
  const impi = impiTyped || impiFromImpu(impu);
  afterRegistration(await wic.signInDigest({ impu, impi, password: $('password').value }));
}

async function signInWeb(ev) {
  ev.preventDefault();
  say('signin-error', '');
  busy(true);
  try {
    await api.login($('web-username').value.trim(), $('web-password').value);
    $('web-password').value = '';
    await showLinks();
  } catch (e) {
    say('signin-error', e.message);
  }
  busy(false);
}

async function showLinks(preferImpi) {
  const s = await api.session();
  if (!s || s.kind !== 'user') { say('signin-error', 'The web session has ended; sign in again.'); return; }
  setText('web-user', s.username);
  show('web-login-form', false);
  show('web-links', true);
  const list = $('link-list');
  list.replaceChildren();
  const links = s.links || [];
  show('no-links', links.length === 0);
  let firstConfirmed = '';
  for (const l of links) {
    const li = document.createElement('li');
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'linked-impi';
    radio.value = l.impi;
    radio.disabled = !l.confirmed;
    label.append(radio, ` ${l.impi}`);
    if (!l.confirmed) {
      const note = document.createElement('span');
      note.className = 'muted';
      note.textContent = ' (not confirmed yet: link it again below with its IMS password)';
      label.append(note);
    } else if (!firstConfirmed || l.impi === preferImpi) {
      firstConfirmed = l.impi;
    }
    li.append(label);
    list.append(li);
  }
  for (const r of list.querySelectorAll('input[type=radio]')) {
    r.checked = r.value === firstConfirmed;
    r.addEventListener('change', updateUseLink);
  }
  updateUseLink();
}

function chosenLink() {
  const r = $('link-list').querySelector('input[type=radio]:checked');
  return r ? r.value : '';
}
function updateUseLink() { $('use-link').disabled = !chosenLink(); }

async function linkNew(ev) {
  ev.preventDefault();
  say('signin-error', '');
  const impi = $('link-impi').value.trim();
  const problem = checkIdentity({ impu: `sip:${impi}`, impi });
  if (problem) { say('signin-error', problem); return; }
  busy(true);
  try {
    await api.requestLink(impi);
    await api.confirmLink(impi, $('link-password').value);
    $('link-password').value = '';
    $('link-impi').value = '';
    $('link-new').open = false;
    await showLinks(impi);
  } catch (e) {
    say('signin-error', e.message);
  }
  busy(false);
}

async function useLink() {
  const impi = chosenLink();
  if (!impi) return;
  say('signin-error', '');
  busy(true);
  try {
    const token = await api.token(impi);
    const impu = [].concat(token.impu || [])[0] || `sip:${impi}`;
    way = 'web';
    webImpi = impi;
    afterRegistration(await wic.signInToken({ mode: 'web', token, impu, renew: () => api.token(impi) }));
  } catch (e) {
    busy(false);
    say('signin-error', e.message);
  }
}

async function webLogout() {
  try { await api.logout(); } catch { /* the session may be gone already */ }
  show('web-links', false);
  show('web-login-form', true);
}

async function signInGuest() {
  say('signin-error', '');
  busy(true);
  let g;
  try {
    g = await api.guest();
    const token = await api.token(g.impi);
    const impu = [].concat(token.impu || g.impu || [])[0];
    way = 'guest';
    const r = await wic.signInToken({ mode: 'guest', token, impu, renew: () => api.token(g.impi) });
    if (!r.ok) await api.releaseGuest().catch(() => {});
    afterRegistration(r);
  } catch (e) {
    if (g) await api.releaseGuest().catch(() => {});
    busy(false);
    say('signin-error', e.message);
  }
}

async function signOut() {
  $('signout-button').disabled = true;
  await wic.signOut();
  // The guest's pool subscription goes back to the pool; a web session ends.
  try {
    if (way === 'guest') await api.releaseGuest();
    else if (way === 'web') await api.logout();
  } catch { /* the WWSF session may have ended already */ }
  way = '';
  webImpi = '';
  $('signout-button').disabled = false;
  show('phone', false);
  show('web-links', false);
  show('web-login-form', true);
  show('signin', true);
  render();
}

// ---------------------------------------------------------------------------------------------
// Phone view

function placeCall(ev) {
  ev.preventDefault();
  const target = normalizeTarget($('target').value, domainOf(wic.state.impu));
  if (!target) return;
  wic.call(target, { video: $('video').checked, relayOnly: $('relay-only').checked });
}

function wayInText(s) {
  const who = s.impi ? `${s.impu} (${s.impi})` : s.impu;
  if (way === 'web') return `web login ${$('web-user').textContent}, linked identity ${who}`;
  if (way === 'guest') return `guest, lent identity ${who}`;
  return `IMS account ${who}`;
}

const CALL_TEXT = {
  idle: 'idle', calling: 'calling…', ringing: 'ringing…', incoming: 'incoming call', 'connecting media': 'connecting media…',
  connected: 'connected', ended: 'ended', failed: 'failed',
};

function render() {
  if (!wic) return;
  const s = wic.state;
  if (!$('phone').hidden) {
    setText('way-in', wayInText(s));
    $('registration').dataset.state = s.registration;
    setText('registration', s.registration);
    const ul = $('impus');
    const items = s.impus.map((u) => { const li = document.createElement('li'); li.textContent = u; return li; });
    if (ul.textContent !== s.impus.join('')) ul.replaceChildren(...items);
    const d = wic.turnDescription();
    setText('turn-expiry', s.turn.present ? `${d.text}${s.turn.renewals ? `; renewed ${s.turn.renewals}× (last ${s.turn.lastRenewal})` : ''}` : 'none');
    $('turn-expiry').dataset.texp = s.turn.present ? String(s.turn.texp) : '';
    show('token-label', s.token.present);
    show('token-expiry', s.token.present);
    if (s.token.present) {
      const left = (s.token.expiresMs - Date.now()) / 1000;
      setText('token-expiry', left > 0 ? `expires in ${formatDuration(left)} (renewed automatically before then)` : 'expired');
    }
    const c = s.call;
    $('call-state').dataset.state = c.state;
    setText('call-state', CALL_TEXT[c.state] || c.state);
    setText('call-peer', c.peer ? `${c.direction === 'incoming' ? 'from' : 'to'} ${c.peer}` : '');
    const inCall = ['calling', 'ringing', 'connecting media', 'connected'].includes(c.state);
    $('call-button').disabled = inCall || c.state === 'incoming' || s.registration !== 'registered';
    $('hangup-button').disabled = !inCall;
    show('incoming', c.state === 'incoming');
    if (c.state === 'incoming') {
      setText('incoming-from', c.peer);
      setText('incoming-kind', c.video ? 'video call' : 'call');
    }
    const relayed = c.media.relayed === null ? '' : c.media.relayed ? 'yes' : 'no';
    $('media-relayed').dataset.relayed = inCall || c.state === 'connected' ? relayed : '';
    setText('media-relayed', inCall ? c.media.text : 'no call');
    setText('audio-bytes', inCall && c.state === 'connected'
      ? `${c.media.audioSent} bytes sent, ${c.media.audioReceived} received` : '—');
    if (c.setupMs !== null) {
      say('setup-time', `Set up in ${c.setupMs} ms (from ${c.direction === 'incoming' ? 'answering' : 'dialling'} to media connected; ICE: ${c.iceWhy || 'browser finished gathering'}).`);
    } else if (c.state === 'idle') say('setup-time', '');
    say('call-message', c.message);
    say('phone-info', s.info);
    say('phone-error', s.error);
  }
}

function attachMedia(el, stream) {
  el.srcObject = stream;
  if (stream) el.play?.().catch(() => { /* autoplay refused: the user's next click starts it */ });
}

async function start() {
  let cfgJson = null;
  try { cfgJson = await api.wicConfig(); } catch (e) { say('signin-error', e.message); }
  config = resolveConfig(cfgJson, location.hostname);
  show('tab-web', config.web_login);
  show('tab-guest', config.guest);
  // ?ice=wait: JsSIP's own wait for complete ICE gathering instead of the early rule (ice_rule.js);
  // for benchmarking (bench/wic_setup_compare.sh) and troubleshooting, read once here.
  wic = new Wic({ pcscfUrl: config.pcscf_url, pageOrigin: location.origin, iceGate: iceGateFromQuery(location.search) });
  wic.onchange = render;
  wic.remoteMedia = (stream) => {
    attachMedia($('remote-audio'), stream);
    const hasVideo = !!stream && stream.getVideoTracks().length > 0;
    attachMedia($('remote-video'), hasVideo ? stream : null);
    show('remote-video', hasVideo);
  };
  wic.localMedia = (stream) => {
    attachMedia($('local-video'), stream);
    show('local-video', !!stream);
  };

  $('tab-digest').addEventListener('click', () => selectTab('digest'));
  $('tab-web').addEventListener('click', () => selectTab('web'));
  $('tab-guest').addEventListener('click', () => selectTab('guest'));
  $('way-digest').addEventListener('submit', signInDigest);
  $('web-login-form').addEventListener('submit', signInWeb);
  $('link-form').addEventListener('submit', linkNew);
  $('use-link').addEventListener('click', useLink);
  $('web-logout').addEventListener('click', webLogout);
  $('guest-button').addEventListener('click', signInGuest);
  $('signout-button').addEventListener('click', signOut);
  $('call-form').addEventListener('submit', placeCall);
  $('hangup-button').addEventListener('click', () => wic.hangup());
  $('answer-button').addEventListener('click', () => wic.answer({ relayOnly: $('relay-only').checked, video: $('video').checked }));
  $('decline-button').addEventListener('click', () => wic.decline());
  $('renew-turn').addEventListener('click', () => wic.renewTurnCredential());
  // Deregister (and give a guest identity back) when the tab closes; best effort.
  addEventListener('pagehide', () => { if (wic.ua) wic.signOut(); });
  setInterval(render, 1000);  // countdowns

  show('loading', false);
  show('signin', true);
  selectTab('digest');

  // For the end-to-end test only (page URL with ?test-hooks): what the test cannot click, e.g.
  // renewing the TURN credential early. It gives nothing the page's own scripts do not have.
  if (new URLSearchParams(location.search).has('test-hooks')) {
    window.webimsTestHooks = {
      state: () => JSON.parse(JSON.stringify(wic.state)),
      peerConnection: () => wic.session?.connection || null,
      renewTurnCredential: () => wic.renewTurnCredential(),
      renewToken: () => wic.renewToken(),
    };
  }
}

start();
