// Builds the dashboard into dist/ (docs/dashboard.md):
//
//   dist/index.html                     from src/index.html, naming the bundles below
//   dist/favicon.svg
//   dist/licenses.txt                   the licences of the libraries in the bundle
//   dist/assets/app-<hash>.js (+ .map)  src/main.ts and everything it imports, uPlot and the QR
//   dist/assets/app-<hash>.css          coder included: nothing is loaded from anywhere else
//
// The names under assets/ change with their contents, so the gateway lets browsers cache them for
// a year (libs/gateway/include/kelvin/gateway/static_files.hpp) while index.html is revalidated.
// dist/ is emptied first: no stale bundle is ever installed. Type checking is `npm run check`
// (tsc); esbuild only strips types.

import { build } from 'esbuild';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const dist = path.join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(path.join(dist, 'assets'), { recursive: true });

const result = await build({
  absWorkingDir: here,
  entryPoints: { app: path.join(src, 'main.ts') },
  bundle: true,
  format: 'esm',
  // Browsers of the last few years; the dashboard uses nothing newer than ES2022.
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: 'linked',
  outdir: path.join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none', // collected in dist/licenses.txt instead
});

// The bundle and style sheet that came out of main.ts.
let js = null;
let css = null;
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (output.entryPoint === undefined || !output.entryPoint.endsWith('src/main.ts')) continue;
  js = path.basename(file);
  css = output.cssBundle ? path.basename(output.cssBundle) : null;
}
if (!js || !css) throw new Error(`build: no JavaScript or CSS bundle in ${Object.keys(result.metafile.outputs)}`);

const template = await readFile(path.join(src, 'index.html'), 'utf8');
const index = template.replace('%APP_JS%', js).replace('%APP_CSS%', css);
if (/%APP_[A-Z]+%/.test(index)) throw new Error('build: src/index.html has a placeholder build.mjs does not fill');
await writeFile(path.join(dist, 'index.html'), index);
await copyFile(path.join(src, 'favicon.svg'), path.join(dist, 'favicon.svg'));

// The licence of each runtime dependency: its LICENSE file, else the comment its module opens with.
const manifest = JSON.parse(await readFile(path.join(here, 'package.json'), 'utf8'));
const notices = [];
for (const name of Object.keys(manifest.dependencies ?? {}).sort()) {
  const dir = path.join(here, 'node_modules', name);
  const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
  let text = await readFile(path.join(dir, 'LICENSE'), 'utf8').catch(() => null);
  if (text === null) {
    const entry = await readFile(path.join(dir, pkg.module ?? pkg.main), 'utf8');
    text = entry.split('\n').filter((line, i, all) => all.slice(0, i + 1).every((l) => l.startsWith('//'))).join('\n');
  }
  notices.push(`${name} ${pkg.version} (${pkg.license})\n\n${text.trim()}\n`);
}
await writeFile(path.join(dist, 'licenses.txt'), notices.join('\n----\n\n'));

console.log(`web: built dist/ (index.html, assets/${js}, assets/${css})`);
