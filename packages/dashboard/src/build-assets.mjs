// Bundles the browser app (src/client/main.tsx) with esbuild into dist/public/: one
// content-hashed JS file, one content-hashed CSS file and an index.html naming them. No CDN:
// everything the page loads is in dist/public. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'public');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(root, 'src/client/main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const files = Object.keys(result.metafile.outputs).map((f) => basename(f));
const js = files.find((f) => f.endsWith('.js'));
const css = files.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild produced ${files.join(', ')}: expected one .js and one .css`);
const html = readFileSync(join(root, 'src/client/index.html'), 'utf8').replace('%JS%', `/assets/${js}`).replace('%CSS%', `/assets/${css}`);
writeFileSync(join(out, 'index.html'), html);
console.log(`dashboard: dist/public/index.html, assets/${js}, assets/${css}`);
