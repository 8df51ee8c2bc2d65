// The dashboard end to end: the real kelvin-gateway (tests/integration/installation.cpp's kind of
// installation, support/installation.mjs) serving web/dist, and Debian's Chromium driven by
// playwright-core trusting the installation's CA (support/browser.mjs). A person's path through it:
// a wrong password, signing in, the fleet, a device's charts, live events, a device's release check,
// 1,000 devices, signing out, a second factor enrolled and used, and the lock-out after too many
// failures. No page may throw or break the Content-Security-Policy.
//
// Needs web/dist (make web) and the built kelvin-gateway and kelvinctl (KELVIN_BIN_DIR, default
// build/debug/bin); ctest runs it as web_dashboard_test (tests/e2e/CMakeLists.txt).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, screenshot, watchPage } from './support/browser.mjs';
import { stepsWithGatewayLog, totp } from './support/steps.mjs';
import { distDir, Installation } from './support/installation.mjs';

const built = existsSync(path.join(distDir, 'index.html'));
const UI_TIMEOUT = 30_000; // generous: ctest runs other suites (ASan builds) beside this one

// The number of canvas pixels of roughly this colour: proof uPlot drew the series.
function countPixels(page, selector, [r, g, b]) {
  return page.evaluate(
    ({ selector, r, g, b }) => {
      const canvas = document.querySelector(`${selector} canvas`);
      if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40 && data[i + 3] > 200) n++;
      }
      return n;
    },
    { selector, r, g, b },
  );
}

const TEMPERATURE_RGB = [194, 65, 12]; // #c2410c, src/pages/device.ts
const HUMIDITY_RGB = [3, 105, 161]; // #0369a1

describe('the dashboard in Chromium against kelvin-gateway', { skip: built ? false : 'web/dist is not built: run `make web`' }, () => {
  let install;
  let browser;
  let page;
  let sensor1;
  let sensor2;
  const pageErrors = [];
  const cspMessages = [];

  before(async () => {
    install = await Installation.create();
    sensor1 = install.issueDevice('sensor-01');
    sensor2 = install.issueDevice('sensor-02');
    await install.startGateway();
    // Half an hour of sensor-01, a reading a minute; sensor-02 has a certificate and nothing else.
    const now = Date.now();
    const readings = Array.from({ length: 30 }, (_, i) => ({
      seq: i + 1,
      ts: now - (29 - i) * 60_000 - 500,
      temperature: 20 + i / 10,
      humidity: 40 + i / 2,
    }));
    const ack = await install.postReadings(sensor1, readings);
    assert.equal(ack.seq, 30);
    browser = await launchBrowser(install.caFile);
    page = await browser.context.newPage();
    await watchPage(page, { pageErrors, cspMessages, timeout: UI_TIMEOUT });
  });

  after(async () => {
    await browser?.close();
    await install?.remove();
  });

  // A test whose failure carries the end of the gateway's output.
  const step = stepsWithGatewayLog(() => install);

  async function submitSignIn() {
    const answered = page.waitForResponse(
      (r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST',
    );
    await page.click('form.signin button[type=submit]');
    return (await answered).status();
  }

  async function signIn(user, password) {
    await page.fill('#signin-user', user);
    await page.fill('#signin-password', password);
    return submitSignIn();
  }

  async function signOut() {
    await page.click('.header-user button');
    await page.waitForSelector('[data-testid=signin-notice]');
  }

  step('the gateway serves the dashboard with its content types and caching', async () => {
    const index = await install.request('GET', '/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.equal(index.headers['content-security-policy'], "default-src 'self'; frame-ancestors 'none'");
    const js = index.body.match(/\/assets\/app-[A-Z0-9]+\.js/)?.[0];
    const css = index.body.match(/\/assets\/app-[A-Z0-9]+\.css/)?.[0];
    assert.ok(js && css, index.body);
    const script = await install.request('GET', js);
    assert.equal(script.status, 200);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await install.request('GET', css)).headers['content-type'], 'text/css; charset=utf-8');
    const missing = await install.request('GET', '/assets/app-GONE.js');
    assert.equal(missing.status, 404);
    assert.match(missing.headers['content-type'], /^text\/plain/);
    const api = await install.request('GET', '/api/v1/nothing');
    assert.equal(api.status, 404);
    assert.equal(JSON.parse(api.body).error.code, 'not_found');
  });

  step('a wrong password is refused with a clear message', async () => {
    await page.goto(`${install.origin}/`);
    await page.waitForSelector('#signin-user');
    assert.equal(await signIn('admin', 'not the password at all'), 401);
    const message = page.locator('[data-testid=signin-message]');
    await message.waitFor();
    assert.equal(await message.textContent(), 'Wrong user name or password.');
    assert.equal(await page.isHidden('#app-header'), true);
  });

  step('signing in shows the user, the role and every device', async () => {
    assert.equal(await signIn('admin', install.adminPassword), 200);
    await page.waitForSelector('[data-testid=fleet-table] tr[data-device=sensor-01]');
    assert.equal(await page.textContent('[data-testid=user]'), 'admin');
    assert.equal(await page.textContent('[data-testid=role]'), 'admin');
    assert.equal(page.url(), `${install.origin}/#/fleet`);
    const row1 = page.locator('tr[data-device=sensor-01]');
    assert.deepEqual(
      (await row1.locator('th, td').allTextContents()).slice(0, 5),
      ['sensor-01', 'unknown', '22.9 °C', '', '55 %RH'],
    );
    assert.match(await row1.locator('td').nth(4).textContent(), /just now|s ago/);
    assert.match(await row1.locator('td').nth(6).textContent(), /^valid, \d+ d left$/);
    const row2 = page.locator('tr[data-device=sensor-02]');
    assert.deepEqual((await row2.locator('th, td').allTextContents()).slice(0, 6),
      ['sensor-02', 'never seen', '–', '–', '–', 'never']);

    // The sparkline: a point (a line or a dot) for each hour of the last 24 with a mean, as the
    // API answers them; sensor-02 sent nothing and has none.
    const trend = row1.locator('td.trend svg.sparkline');
    await trend.waitFor();
    assert.match(await trend.getAttribute('aria-label'), /^Temperature, last 24 hours \(\d+ with readings\): /);
    const points = (await trend.locator('path').getAttribute('d')).match(/[ML]/g).length;
    const means = await page.evaluate(async () => {
      const answer = await (await fetch('/api/v1/fleet/series?quantity=temperature&hours=24')).json();
      return answer.devices.find((device) => device.id === 'sensor-01').mean.filter((mean) => mean !== null).length;
    });
    assert.ok(means >= 1, 'sensor-01 has readings this hour');
    assert.equal(points, means);
    await screenshot(page, 'fleet');
    assert.equal(await page.textContent('[data-testid=fleet-count]'), '2 devices');

    // Filter, then sort by temperature both ways (a device without one stays last).
    await page.fill('#fleet-filter', 'never');
    assert.deepEqual(await page.locator('tbody tr[data-device]').evaluateAll((rows) => rows.map((r) => r.dataset.device)), ['sensor-02']);
    assert.equal(await page.textContent('[data-testid=fleet-count]'), '1 of 2 devices');
    await page.fill('#fleet-filter', '');
    await page.click('th[data-key=temperature] button');
    assert.equal(await page.getAttribute('th[data-key=temperature]', 'aria-sort'), 'ascending');
    await page.click('th[data-key=state] button');
    await page.click('th[data-key=state] button');
    assert.equal(await page.getAttribute('th[data-key=state]', 'aria-sort'), 'descending');
    assert.deepEqual(await page.locator('tbody tr[data-device]').evaluateAll((rows) => rows.map((r) => r.dataset.device)),
      ['sensor-02', 'sensor-01']);
  });

  step("a device's page shows its facts and draws its charts", async () => {
    await page.click('a[href="#/devices/sensor-01"]');
    await page.waitForSelector('[data-testid=chart-temperature] canvas');
    assert.equal(page.url(), `${install.origin}/#/devices/sensor-01`);
    assert.match(await page.textContent('[data-testid=device-facts]'), /Readings stored30/);
    assert.equal(await page.getAttribute('button[data-range="24h"]', 'aria-pressed'), 'true');
    await page.waitForFunction(() => document.querySelectorAll('.chart .u-over').length === 2);
    // 24 h in 15-minute buckets: the half hour of readings is a short stretch of line.
    await page.waitForFunction(
      () => [...document.querySelectorAll('.chart-note')].every((note) => note.hidden),
    );
    await page.click('button[data-range="1h"]');
    assert.equal(await page.getAttribute('button[data-range="1h"]', 'aria-pressed'), 'true');
    assert.equal(page.url(), `${install.origin}/#/devices/sensor-01?range=1h`);
    // 1 h in 1-minute buckets: thirty of them, a long line in each chart.
    for (const [chart, rgb] of [['[data-testid=chart-temperature]', TEMPERATURE_RGB], ['[data-testid=chart-humidity]', HUMIDITY_RGB]]) {
      await page.waitForFunction(
        ({ chart, rgb }) => {
          const canvas = document.querySelector(`${chart} canvas`);
          if (!canvas) return false;
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (Math.abs(data[i] - rgb[0]) < 40 && Math.abs(data[i + 1] - rgb[1]) < 40 && Math.abs(data[i + 2] - rgb[2]) < 40 && data[i + 3] > 200) n++;
          }
          return n > 100;
        },
        { chart, rgb },
      );
    }
    assert.ok((await countPixels(page, '[data-testid=chart-temperature]', TEMPERATURE_RGB)) > 100);
    await screenshot(page, 'device-charts');

    // A reload keeps the session (GET /api/v1/session gives the CSRF token again) and the range.
    await page.reload();
    await page.waitForSelector('[data-testid=chart-temperature] canvas');
    assert.equal(await page.textContent('[data-testid=user]'), 'admin');
    assert.equal(await page.getAttribute('button[data-range="1h"]', 'aria-pressed'), 'true');
  });

  step('a stored reading arrives live on the fleet and in the device\'s live tail', async () => {
    await page.click('a.back');
    await page.waitForSelector('tr[data-device=sensor-01]');
    await page.waitForFunction(() => document.querySelector('[data-testid=fleet-status]')?.textContent === 'Live');
    // From now on the list is not fetched again for a minute: what changes comes as an event.
    const listRequests = [];
    const onRequest = (request) => {
      if (new URL(request.url()).pathname === '/api/v1/devices') listRequests.push(request.url());
    };
    page.on('request', onRequest);
    try {
      await install.postReadings(sensor1, [{ seq: 31, ts: Date.now(), temperature: 30.5, humidity: 61 }]);
      await page.waitForFunction(
        () => document.querySelector('tr[data-device=sensor-01] td:nth-of-type(2)')?.textContent === '30.5 °C',
      );
      assert.deepEqual(listRequests, [], 'the row changed because the list was fetched, not by a live event');
    } finally {
      page.off('request', onRequest);
    }

    await page.click('a[href="#/devices/sensor-01"]');
    await page.waitForFunction(() => document.querySelector('[data-testid=live-state]')?.textContent === 'Live');
    assert.equal(await page.isVisible('[data-testid=tail-empty]'), true);
    await install.postReadings(sensor1, [
      { seq: 32, ts: Date.now() - 1000, temperature: 31.25, humidity: 62 },
      { seq: 33, ts: Date.now(), temperature: 31.5, humidity: 63 },
    ]);
    await page.waitForSelector('[data-testid=live-tail] tr[data-seq="33"]');
    assert.deepEqual(
      await page.locator('[data-testid=live-tail] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.seq)),
      ['33', '32'],
    );
    assert.deepEqual(
      (await page.locator('[data-testid=live-tail] tr[data-seq="33"] td').allTextContents()).slice(1),
      ['33', '31.5 °C', '63 %RH'],
    );
    assert.equal(await page.isHidden('[data-testid=tail-empty]'), true);
    // The facts follow shortly after (fetched again once the readings are in the store).
    await page.waitForFunction(() => /Readings stored33/.test(document.querySelector('[data-testid=device-facts]')?.textContent ?? ''));
    await page.click('a.back');
    await page.waitForSelector('tr[data-device=sensor-01]');
  });

  step("a device's release check shows beside its firmware and in words on its page", async () => {
    const putStatus = async (status) => {
      const answer = await install.request('PUT', '/api/v1/devices/sensor-01/status', {
        device: sensor1,
        body: JSON.stringify({ state: 'online', fw: '1.4.2', dropped: 0, ...status }),
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(answer.status, 200, answer.body);
    };
    const expired = 'The newest release timestamp this gateway serves has expired: the device cannot tell whether ' +
      'updates are withheld. Sign a new timestamp (kelvinctl release timestamp) and publish it.';
    await page.waitForFunction(() => document.querySelector('[data-testid=fleet-status]')?.textContent === 'Live');
    const mark = page.locator('tr[data-device=sensor-01] .release-mark');
    assert.equal(await mark.isHidden(), true, 'no verdict reported yet');
    await putStatus({ release_check: 'timestamp_expired' });
    await mark.waitFor({ state: 'visible' });
    assert.equal(await mark.getAttribute('title'), expired);
    assert.equal(await page.textContent('tr[data-device=sensor-01] td:nth-of-type(6)'), '⚠1.4.2');

    await page.click('a[href="#/devices/sensor-01"]');
    const check = page.locator('[data-testid=release-check]');
    await page.waitForFunction((text) => document.querySelector('[data-testid=release-check]')?.textContent === text, expired);
    assert.equal(await check.getAttribute('class'), 'release-check release-warn');
    assert.match(await page.textContent('[data-testid=device-facts]'), /Release information/);
    await screenshot(page, 'device-release-check');
    // A status without a verdict keeps the last one; a new verdict replaces it.
    await putStatus({});
    await putStatus({ release_check: 'current' });
    await page.waitForFunction(
      () => document.querySelector('[data-testid=release-check]')?.textContent === 'current (signed timestamp checked)');
    assert.equal(await check.getAttribute('class'), 'release-check release-ok');
    await page.click('a.back');
    await page.waitForSelector('tr[data-device=sensor-01]');
    await page.waitForFunction(() => document.querySelector('tr[data-device=sensor-01] .release-mark')?.hidden === true);
    assert.equal(await page.textContent('tr[data-device=sensor-01] td:nth-of-type(6)'), '1.4.2');
  });

  step('an operator revokes a device, then removes it; the gateway refuses its certificate', async () => {
    // sensor-02 sends a reading first: a device with data stays listed when it is removed (one that
    // only ever had a certificate is gone once it is revoked).
    assert.equal((await install.postReadings(sensor2, [{ seq: 1, ts: Date.now(), temperature: 19.5, humidity: 48 }])).seq, 1);
    await page.click('a[href="#/devices/sensor-02"]');
    await page.waitForSelector('[data-testid=device-actions]');
    await page.waitForFunction(() => /Certificatevalid/.test(document.querySelector('[data-testid=device-facts]')?.textContent ?? ''));
    // Its one reading is a lone bucket in 24 h: drawn as a dot, with no line to show it.
    await page.waitForFunction(() => document.querySelectorAll('.chart .u-over').length === 2);
    await page.waitForFunction(
      ({ rgb }) => {
        const canvas = document.querySelector('[data-testid=chart-temperature] canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (Math.abs(data[i] - rgb[0]) < 40 && Math.abs(data[i + 1] - rgb[1]) < 40 && Math.abs(data[i + 2] - rgb[2]) < 40 && data[i + 3] > 200) n++;
        }
        return n >= 4;
      },
      { rgb: TEMPERATURE_RGB },
    );

    // Cancel first: nothing happens.
    await page.click('[data-testid=device-revoke]');
    await page.click('.confirm button.secondary');
    assert.equal(await page.isVisible('[data-testid=device-revoke]'), true);

    await page.click('[data-testid=device-revoke]');
    await page.click('.confirm button.danger');
    const message = page.locator('[data-testid=device-action-message]');
    await page.waitForFunction(() => /^Revoked sensor-02's certificate \(serial [0-9A-F]+\)/.test(
      document.querySelector('[data-testid=device-action-message]')?.textContent ?? ''));
    assert.equal(await message.getAttribute('class'), 'message success');
    await page.waitForFunction(() => /Certificaterevoked/.test(document.querySelector('[data-testid=device-facts]')?.textContent ?? ''));
    // The gateway refuses the certificate in the TLS handshake once it has loaded the new CRL (a
    // public route, so nothing is stored while it still takes it).
    const deadline = Date.now() + 10_000;
    let refused = false;
    while (!refused && Date.now() < deadline) {
      refused = await install.request('GET', '/api/v1/health', { device: sensor2 }).then(() => false, () => true);
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(refused, 'the gateway still takes the revoked certificate of sensor-02 after 10 s');

    // Revoking again is refused with the reason, in place.
    await page.click('[data-testid=device-revoke]');
    await page.click('.confirm button.danger');
    await page.waitForFunction(() => document.querySelector('[data-testid=device-action-message]')?.className === 'message error');
    assert.equal(await message.textContent(), "sensor-02's certificates are revoked or expired already: there is nothing to revoke.");

    await page.click('[data-testid=device-remove]');
    await page.click('.confirm button.danger');
    await page.waitForFunction(() => document.querySelector('[data-testid=device-action-message]')?.textContent ===
      'Removed sensor-02: kept its 1 stored reading.');
    await screenshot(page, 'device-removed');
    await page.click('a.back');
    await page.waitForSelector('tr[data-device=sensor-02]');
    assert.equal(await page.textContent('tr[data-device=sensor-02] .cert'), 'revoked');
    const audited = await page.evaluate(async () =>
      (await (await fetch('/api/v1/audit?before=end&limit=3')).json()).entries.map((e) => `${e.actor} ${e.action} ${e.target} ${e.result}`));
    assert.deepEqual(audited, ['admin device_remove sensor-02 ok', 'admin device_revoke sensor-02 denied', 'admin device_revoke sensor-02 ok']);
  });

  // What keeps it fast is asserted (only a window of rows is in the document); the times are
  // printed, not asserted (docs/development.md: timing figures belong to benchmarks).
  step('1,000 devices: a window of rows, sorted and filtered across all of them', async () => {
    const now = Date.now();
    const devices = Array.from({ length: 1000 }, (_, i) => ({
      id: `node-${String(i).padStart(4, '0')}`,
      state: i % 7 ? 'online' : 'offline',
      last_seen_ms: now - i * 1000,
      last_reading: { seq: i, ts: new Date(now - i * 1000).toISOString(), ts_ms: now - i * 1000, temperature: ((i * 7919) % 400) / 10, humidity: (i * 31) % 100 },
      firmware: `1.${i % 4}.0`,
      certificate: { state: 'valid', serial: 'AB', expires: '2030-01-01T00:00:00Z' },
    }));
    // The gateway's answer replaced by a synthetic fleet: the real shape, a thousand times.
    await page.route('**/api/v1/devices', (route) => route.fulfill({ json: { devices } }));
    try {
      await page.reload();
      await page.waitForFunction(() => document.querySelector('[data-testid=fleet-count]')?.textContent === '1000 devices');
      // Only the rows near the viewport are in the document.
      const rendered = await page.locator('tbody tr[data-device]').count();
      assert.ok(rendered > 10 && rendered < 200, `${rendered} rows rendered`);
      const timings = await page.evaluate(() => {
        const measure = (action) => {
          const started = performance.now();
          action();
          void document.body.offsetHeight; // include the layout the change causes
          return performance.now() - started;
        };
        const filter = document.getElementById('fleet-filter');
        const type = (text) => {
          filter.value = text;
          filter.dispatchEvent(new Event('input'));
        };
        return {
          sortTemperature: measure(() => document.querySelector('th[data-key=temperature] button').click()),
          sortTemperatureBack: measure(() => document.querySelector('th[data-key=temperature] button').click()),
          sortId: measure(() => document.querySelector('th[data-key=id] button').click()),
          filter: measure(() => type('1.2')),
          unfilter: measure(() => type('')),
        };
      });
      // 5-30 ms each on the development machine; with every row in the document, 100-250 ms.
      console.log(`1,000 devices: ${Object.entries(timings).map(([a, ms]) => `${a} ${ms.toFixed(1)} ms`).join(', ')}`);
      assert.ok((await page.locator('tbody tr[data-device]').count()) < 200, 'still a window after sorting');
      // Sorted by temperature: the coldest first, and scrolling to the end renders the warmest.
      await page.click('th[data-key=temperature] button');
      const temperatures = () =>
        page.locator('tbody tr[data-device] td:nth-of-type(2)').allTextContents();
      assert.equal((await temperatures())[0], '0.0 °C');
      await screenshot(page, 'fleet-1000-devices');
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await page.waitForFunction(() => {
        const cells = document.querySelectorAll('tbody tr[data-device] td:nth-of-type(2)');
        return cells.length > 0 && cells[cells.length - 1].textContent === '39.9 °C';
      });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.click('th[data-key=id] button');
      await page.fill('#fleet-filter', '1.2');
      assert.equal(await page.textContent('[data-testid=fleet-count]'), '250 of 1000 devices');
      await page.fill('#fleet-filter', '');
    } finally {
      await page.unroute('**/api/v1/devices');
    }
  });

  step('signing out ends the session', async () => {
    await signOut();
    assert.equal(await page.textContent('[data-testid=signin-notice]'), 'You are signed out.');
    assert.equal(await page.isHidden('#app-header'), true);
    const status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    assert.equal(status, 401);
    await page.goto(`${install.origin}/#/fleet`);
    await page.waitForSelector('#signin-user');
  });

  step('a second factor: required, enrolled with the QR code, then used with a recovery code', async () => {
    const password = install.addUser('vera', 'viewer');
    install.kelvinctl(['user', 'require-second-factor', 'on', '--state-dir', install.stateDir]);
    assert.equal(await signIn('vera', password), 200);
    await page.waitForSelector('[data-testid=enrol-qr] svg path');
    assert.equal(page.url(), `${install.origin}/#/enrol`);
    assert.equal(await page.locator('.app-nav').count(), 0, 'nothing else until a second factor is set up');
    const uri = await page.textContent('[data-testid=enrol-uri]');
    assert.match(uri, /^otpauth:\/\/totp\/kelvin:vera\?secret=/);
    const secret = new URL(uri).searchParams.get('secret');
    assert.equal((await page.textContent('[data-testid=enrol-secret]')).replaceAll(' ', ''), secret);
    assert.ok((await page.getAttribute('[data-testid=enrol-qr] svg path', 'd')).length > 500);

    const code = totp(secret);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await page.fill('#enrol-code', wrong);
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('.inline-form .message:not([hidden])');
    assert.match(await page.textContent('.inline-form .message'), /That code does not match/);
    await page.fill('#enrol-code', code);
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('[data-testid=recovery-codes] li');
    const recovery = await page.locator('[data-testid=recovery-codes] li').allTextContents();
    assert.equal(recovery.length, 10);
    assert.match(await page.textContent('[data-testid=recovery-warning]'), /shown only now/);
    await page.click('text=I have saved them');
    await page.waitForSelector('tr[data-device=sensor-01]');
    assert.equal(await page.textContent('[data-testid=role]'), 'viewer');
    await signOut();

    // Signing in again asks for the code; a wrong one is refused, a recovery code is taken.
    assert.equal(await signIn('vera', password), 401);
    await page.waitForSelector('#signin-code');
    assert.match(await page.textContent('[data-testid=signin-message]'), /6-digit code/);
    await page.fill('#signin-code', '000000' === code ? '111111' : '000000');
    assert.equal(await submitSignIn(), 401);
    // The page shows the refusal once it has read the answer, a moment after it arrived.
    await page.waitForFunction(() =>
      /wrong or was used already/.test(document.querySelector('[data-testid=signin-message]')?.textContent ?? ''));
    await page.fill('#signin-code', recovery[0]);
    assert.equal(await submitSignIn(), 200);
    await page.waitForSelector('tr[data-device=sensor-01]');
    await signOut();
  });

  step('too many failed sign-ins lock the form for the wait the gateway gives', async () => {
    install.addUser('olaf', 'viewer');
    let status = 0;
    for (let attempt = 0; attempt < 8 && status !== 429; attempt++) {
      status = await signIn('olaf', `wrong password ${attempt}`);
    }
    assert.equal(status, 429);
    await page.waitForFunction(() =>
      /^Too many failed sign-ins/.test(document.querySelector('[data-testid=signin-message]')?.textContent ?? ''));
    const message = await page.textContent('[data-testid=signin-message]');
    assert.match(message, /^Too many failed sign-ins\. Try again in \d+ s\.$/);
    assert.equal(await page.isDisabled('form.signin button[type=submit]'), true);
  });

  step('no page threw and nothing broke the Content-Security-Policy', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspMessages, []);
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  });
});
