// Debian's Chromium driven by playwright-core (which never downloads a browser), trusting the
// installation's CA the way a person's browser would: the CA is imported into a fresh NSS
// database (certutil, libnss3-tools) in a temporary HOME that only this Chromium uses, so every
// connection verifies the gateway's certificate chain and host name (localhost) for real. No
// certificate error is ignored: a gateway with another CA's certificate fails the test.
//
// Why not --ignore-certificate-errors-spki-list: it pins the server's key and skips the chain and
// name checks, so it would not notice a wrong CA, an expired certificate or a missing host name.

import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { repoDir } from './installation.mjs';

export const chromiumPath = process.env.KELVIN_CHROMIUM ?? '/usr/bin/chromium';

// Where the browser tests leave their screenshots: KELVIN_WEB_ARTIFACTS (under ctest,
// tests/e2e/run_web_tests sets it to web-test-artifacts in the build directory), else
// build/web-test-artifacts of the checkout.
export const artifactDir = process.env.KELVIN_WEB_ARTIFACTS ?? path.join(repoDir, 'build', 'web-test-artifacts');

// Saves a full-page screenshot as <artifactDir>/<name>.png and returns its path.
export async function screenshot(page, name) {
  await mkdir(artifactDir, { recursive: true });
  const file = path.join(artifactDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

function run(program, args) {
  const result = spawnSync(program, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) {
    throw new Error(`${program} ${args.join(' ')} failed: ${result.stdout}${result.stderr}${result.error ?? ''}`);
  }
}

// Launches Chromium with a fresh profile and NSS database under a new temporary directory.
// Returns { context, close } where close() ends Chromium and removes the directory.
export async function launchBrowser(caFile) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kelvin-web-chromium-'));
  const home = path.join(dir, 'home');
  const nssdb = path.join(home, '.pki', 'nssdb');
  await mkdir(nssdb, { recursive: true });
  run('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
  // "C,,": a CA trusted to issue server certificates, nothing else.
  run('certutil', ['-A', '-d', `sql:${nssdb}`, '-n', 'kelvin e2e CA', '-t', 'C,,', '-i', caFile]);
  let context;
  try {
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      env: { ...process.env, HOME: home },
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Makes `page` record what a test must find empty at its end: uncaught page errors into
// `pageErrors`, Content-Security-Policy violations into `window.__cspViolations` (read in the page)
// and the console's CSP messages into `cspMessages`; sets its default timeout to `timeout` ms.
export async function watchPage(page, { pageErrors, cspMessages, timeout }) {
  page.setDefaultTimeout(timeout);
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`),
    );
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) cspMessages.push(message.text());
  });
  return page;
}
