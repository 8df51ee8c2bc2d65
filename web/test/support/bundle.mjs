// Loads modules of web/src in Node: esbuild bundles them (types stripped) into one ES module in a
// temporary directory, so tests can call the dashboard's pure logic directly. One bundle for all
// the modules named, so classes they share (ApiError) are the same class in every one of them.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { build } from 'esbuild';

import { webDir } from './installation.mjs';

// Returns { module, remove } where module has every export of src/<name>.ts for each name.
export async function loadSources(names) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kelvin-web-bundle-'));
  const outfile = path.join(dir, 'bundle.mjs');
  await build({
    stdin: {
      contents: names.map((name) => `export * from './${name}';`).join('\n'),
      resolveDir: path.join(webDir, 'src'),
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    outfile,
    logLevel: 'error',
  });
  return { module: await import(pathToFileURL(outfile).href), remove: () => rm(dir, { recursive: true, force: true }) };
}
