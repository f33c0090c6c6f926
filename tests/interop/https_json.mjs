// An HTTPS call for the interop tests that talk to the WWSF and the WAF as a browser page would:
// a JSON body out, the answer parsed as JSON when it is, and an optional cookie jar (a Map of name
// to value) sent as Cookie and updated from Set-Cookie. Bounded: 10 s without activity fails it.
import https from 'node:https';

// Resolves with { status, json (null when the body is not JSON), text, headers }.
export function httpsJson(url, { method = 'GET', body, headers = {}, ca, cookies } = {}) {
  return new Promise((res, rej) => {
    const u = new URL(url);
    const h = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (cookies && cookies.size) h.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const req = https.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, ca, timeout: 10000 }, (r) => {
      let data = '';
      r.on('data', (c) => { data += c; });
      r.on('end', () => {
        if (cookies) for (const c of [].concat(r.headers['set-cookie'] || [])) {
          const [kv] = c.split(';');
          const i = kv.indexOf('=');
          cookies.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim());
        }
        let json = null;
        try { json = JSON.parse(data); } catch { /* not JSON */ }
        res({ status: r.statusCode, json, text: data, headers: r.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout ${url}`)));
    req.on('error', rej);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}
