// Builds the browser WIC into web/dist/ (served by the WWSF as [wwsf] web_root): the ES modules of
// web/src bundled with JsSIP into one script (esbuild), the style sheet beside it, and index.html
// naming both by content hash. The WWSF has HTML revalidated and other files cached for an hour, so
// hashed names mean a new build is never mixed with a cached old script.
// `npm run build:web`; scripts/build.sh runs it. web/dist is built, never committed.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { app: join(here, 'src', 'main.js') },
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'iife',            // a classic deferred script: the CSP's script-src 'self', no module loader
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  outdir: out,
  metafile: true,
  logLevel: 'warning',
});
const script = basename(Object.keys(result.metafile.outputs).find((f) => f.endsWith('.js')));
const css = readFileSync(join(here, 'style.css'));
const style = `style-${createHash('sha256').update(css).digest('hex').slice(0, 8)}.css`;
writeFileSync(join(out, style), css);
const html = readFileSync(join(here, 'index.html'), 'utf8');
const built = html.replace('src="app.js"', `src="${script}"`).replace('href="style.css"', `href="${style}"`);
if (built === html || !built.includes(script) || !built.includes(style)) throw new Error('index.html does not name app.js and style.css');
writeFileSync(join(out, 'index.html'), built);
console.log(`web: built ${out} (${script}, ${style})`);
