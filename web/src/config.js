// The page's settings and the identities typed into it. GET /api/wic-config (served by the WWSF of
// `webims all`) says where the eP-CSCF is and which ways in to offer:
//   {"pcscf_url":"wss://{host}:7443","wwsf_id":"localhost","guest":true,"web_login":true,"open_registration":false}
// `{host}` is this page's host name, so one answer fits every name the deployment is reached by.
// No DOM: web/test/config.test.mjs.

export const DEFAULT_CONFIG = Object.freeze({
  pcscf_url: 'wss://{host}:7443', wwsf_id: '', guest: true, web_login: true, open_registration: false,
});

// json: the answer (or null when there was none); hostname: location.hostname.
export function resolveConfig(json, hostname) {
  const c = { ...DEFAULT_CONFIG, ...(json && typeof json === 'object' ? json : {}) };
  // An IPv6 literal needs brackets inside a URL; location.hostname has them already in browsers.
  const host = /:/.test(hostname) && !/^\[/.test(hostname) ? `[${hostname}]` : hostname;
  c.pcscf_url = String(c.pcscf_url || DEFAULT_CONFIG.pcscf_url).replaceAll('{host}', host);
  c.guest = c.guest !== false;
  c.web_login = c.web_login !== false;
  c.open_registration = c.open_registration === true;
  return c;
}

// What the user typed as public identity -> a SIP URI: "alice@ims.example.org" -> "sip:alice@ims.example.org".
export function normalizeImpu(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  if (/^(sips?|tel):/i.test(t)) return t.replace(/^(sips?|tel):/i, (s) => s.toLowerCase());
  return `sip:${t}`;
}

// TR 33.871 NOTE 5: without an IMPI, the Digest username is the IMPU without its scheme
// ("sip:alice@ims.example.org" -> "alice@ims.example.org"), which is what the IMS core looks up.
export function impiFromImpu(impu) {
  const m = /^sips?:([^;?>]+)/i.exec(String(impu || '').trim());
  return m ? m[1] : '';
}

// The home domain of an IMPU (the OPTIONS target for TURN credential renewal): "sip:a@ims.example.org" -> "ims.example.org".
export function domainOf(impu) {
  const m = /^sips?:(?:[^@;?>]*@)?([^;?>:]+)/i.exec(String(impu || '').trim());
  return m ? m[1].toLowerCase() : '';
}

// A dialled address -> a target JsSIP accepts: full SIP URIs stay, "bob" becomes "sip:bob@<domain>",
// "bob@example.org" becomes "sip:bob@example.org", a phone number a tel-style user part.
export function normalizeTarget(text, domain) {
  const t = String(text || '').trim();
  if (!t) return '';
  if (/^(sips?|tel):/i.test(t)) return t;
  if (t.includes('@')) return `sip:${t}`;
  return domain ? `sip:${t}@${domain}` : `sip:${t}`;
}

// Checks a typed IMPU/IMPI before anything is sent; a sentence, or '' when fine.
export function checkIdentity({ impu, impi }) {
  if (!impu) return 'Enter your public identity, e.g. sip:alice@ims.example.org.';
  if (!/^sips?:[^@\s]+@[^@\s]+$/i.test(impu) && !/^tel:\+?[0-9-]+/i.test(impu)) {
    return `"${impu}" is not a public identity like sip:alice@ims.example.org.`;
  }
  if (impi && !/^[^@\s]+@[^@\s]+$/.test(impi)) return `"${impi}" is not a private identity like alice@ims.example.org.`;
  return '';
}
