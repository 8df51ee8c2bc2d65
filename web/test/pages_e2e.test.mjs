// The users, audit, gateway and account pages end to end: the real kelvin-gateway
// (support/installation.mjs) and two Chromiums (support/browser.mjs), one for an admin and one for
// the user the admin adds, each with its own cookies. The admin adds a viewer and sees the password
// once; the viewer signs in with it, sees the fleet and is refused the admin pages with a clear
// message, and changes their own password; the admin changes the viewer's role, resets the password
// and the second factor, removes the user, sees each refusal in place (the last admin), requires a
// second factor for everyone, and finds all of it in the audit log; the gateway page shows the
// gateway's own counters and follows them; the admin starts a rollout of the published release on
// the rollouts page, the device's progress shows, the viewer follows it without controls, and the
// admin pauses and aborts it. Screenshots go to the artifact directory
// (support/browser.mjs). No page may throw or break the Content-Security-Policy.
//
// Needs what e2e.test.mjs needs (web/dist, kelvin-gateway and kelvinctl in KELVIN_BIN_DIR, oathtool);
// ctest's web_dashboard_test runs it with the others.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, screenshot, watchPage } from './support/browser.mjs';
import { stepsWithGatewayLog, totp } from './support/steps.mjs';
import { distDir, Installation, waitFor } from './support/installation.mjs';

const built = existsSync(path.join(distDir, 'index.html'));
const UI_TIMEOUT = 30_000;
const GENERATED_PASSWORD = /^[a-z0-9]{5}(-[a-z0-9]{5}){3}$/;

describe('users, audit, gateway and account pages in Chromium against kelvin-gateway', { skip: built ? false : 'web/dist is not built: run `make web`' }, () => {
  let install;
  let sensor;
  const browsers = [];
  let admin; // the admin's page
  let viewer; // the added user's page, in another Chromium
  let veraPassword;
  const pageErrors = [];
  const cspMessages = [];

  async function newPage() {
    const browser = await launchBrowser(install.caFile);
    browsers.push(browser);
    const page = await browser.context.newPage();
    await watchPage(page, { pageErrors, cspMessages, timeout: UI_TIMEOUT });
    return page;
  }

  const upload = {}; // the files the admin uploads: image, foreignManifest; keys: the release key's directory

  before(async () => {
    install = await Installation.create();
    upload.image = path.join(install.root, 'thermo-1.2.0.bin');
    upload.foreignManifest = path.join(install.root, 'thermo-1.2.0.foreign.manifest');
    sensor = install.issueDevice('sensor-01');
    await install.startGateway();
    const now = Date.now();
    // Ten readings and one out of range (rejected): counters the gateway page must show.
    await install.postReadings(sensor, Array.from({ length: 11 }, (_, i) => ({
      seq: i + 1, ts: now - (10 - i) * 60_000, temperature: i === 10 ? 500 : 20 + i / 10, humidity: 45,
    })));
    // A firmware release, signed and published as docs/ota.md says: the releases page must list it.
    const keys = path.join(install.root, 'release-keys');
    upload.keys = keys;
    const image = path.join(install.root, 'thermo-1.1.0.bin');
    await writeFile(image, Buffer.alloc(300_000, 7));
    install.kelvinctl(['release', 'keygen', '--dir', keys]);
    install.kelvinctl(['release', 'sign', image, '--version', '1.1.0', '--security-version', '2', '--product',
      'thermo-linux', '--notes', 'Fixes the stuck sensor', '--key', path.join(keys, 'release.key')]);
    install.kelvinctl(['release', 'trust', path.join(keys, 'release.pub'), '--state-dir', install.stateDir]);
    install.kelvinctl(['release', 'publish', image, `${image}.manifest`, '--state-dir', install.stateDir]);
    // A newer release the admin publishes from the page, and the same image signed by a key the
    // gateway does not trust.
    await writeFile(upload.image, Buffer.alloc(2 * 1024 * 1024, 9));
    install.kelvinctl(['release', 'sign', upload.image, '--version', '1.2.0', '--security-version', '2', '--product',
      'thermo-linux', '--key', path.join(keys, 'release.key')]);
    const otherKeys = path.join(install.root, 'other-keys');
    install.kelvinctl(['release', 'keygen', '--dir', otherKeys]);
    install.kelvinctl(['release', 'sign', upload.image, '--version', '1.2.0', '--security-version', '2', '--product',
      'thermo-linux', '--key', path.join(otherKeys, 'release.key'), '--out', upload.foreignManifest]);
    // A label, as docs/registry.md gives it: the rollout below goes to the devices carrying it.
    install.kelvinctl(['device', 'label', 'sensor-01', '--add', 'greenhouse', '--state-dir', install.stateDir]);
    admin = await newPage();
  });

  after(async () => {
    for (const browser of browsers) await browser.close();
    await install?.remove();
  });

  // A test whose failure carries the end of the gateway's output.
  const step = stepsWithGatewayLog(() => install);

  async function signIn(page, user, password) {
    await page.waitForSelector('#signin-user');
    await page.fill('#signin-user', user);
    await page.fill('#signin-password', password);
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
    await page.click('form.signin button[type=submit]');
    return (await answered).status();
  }

  const navLinks = (page) => page.locator('.app-nav a').allTextContents();
  const panel = (name) => admin.locator(`[data-testid=user-panel][data-user="${name}"]`);
  const rowCells = (name) => admin.locator(`tr[data-user="${name}"] > *`).allTextContents();

  async function openPanel(name) {
    if (await panel(name).isHidden()) await admin.click(`tr[data-user="${name}"] button[aria-controls]`);
    await panel(name).waitFor();
    assert.equal(await admin.getAttribute(`tr[data-user="${name}"] button[aria-controls]`, 'aria-expanded'), 'true');
    return panel(name);
  }

  async function noHorizontalScroll(page) {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `the page is ${width} px wide at 375 px`);
  }

  step('an admin finds Gateway, Users and Audit in the header, by keyboard too, with a visible focus', async () => {
    await admin.goto(`${install.origin}/`);
    assert.equal(await signIn(admin, 'admin', install.adminPassword), 200);
    await admin.waitForSelector('tr[data-device=sensor-01]');
    assert.deepEqual(await navLinks(admin), ['Fleet', 'Alerts', 'Gateway', 'Releases', 'Rollouts', 'Users', 'Audit']);
    // From the first link of the page (the brand), Tab to the Users link, then Enter.
    await admin.focus('a.brand');
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Users'; i++) {
      await admin.keyboard.press('Tab');
      focused = await admin.evaluate(() => document.activeElement?.textContent ?? '');
    }
    assert.equal(focused, 'Users');
    const outline = await admin.evaluate(() => {
      const style = getComputedStyle(document.activeElement);
      return { style: style.outlineStyle, width: Number.parseFloat(style.outlineWidth) };
    });
    assert.notEqual(outline.style, 'none');
    assert.ok(outline.width >= 2, `outline ${outline.width}px`);
    await admin.keyboard.press('Enter');
    await admin.waitForSelector('tr[data-user=admin]');
    assert.equal(admin.url(), `${install.origin}/#/users`);
    assert.equal(await admin.getAttribute('.app-nav a[href="#/users"]', 'aria-current'), 'page');
  });

  step('the users page lists the users and adds a viewer, showing the password once', async () => {
    if (!admin.url().endsWith('#/users')) await admin.goto(`${install.origin}/#/users`);
    await admin.waitForSelector('tr[data-user=admin]');
    const cells = await rowCells('admin');
    assert.equal(cells[0], 'admin you');
    assert.equal(cells[1], 'admin');
    assert.equal(cells[2], 'no');
    assert.match(cells[3], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(await admin.textContent('[data-testid=users-count]'), '1 user');
    // Every form field has a label.
    for (const id of ['user-add-name', 'user-add-role', 'require-second-factor']) {
      assert.equal(await admin.locator(`label[for="${id}"]`).count(), 1, id);
    }

    // A malformed name is refused in place, and the field marked.
    await admin.fill('#user-add-name', 'Vera Lynn');
    await admin.click('form.add-user button[type=submit]');
    await admin.waitForSelector('[data-testid=user-add-message]:not([hidden])');
    assert.match(await admin.textContent('[data-testid=user-add-message]'), /^"Vera Lynn" cannot be a user name: use 1 to 64 characters/);
    assert.equal(await admin.getAttribute('#user-add-name', 'aria-invalid'), 'true');

    await admin.fill('#user-add-name', 'vera');
    await admin.selectOption('#user-add-role', 'viewer');
    await admin.click('form.add-user button[type=submit]');
    await admin.waitForSelector('[data-testid=user-add-result] [data-testid=one-time-password]');
    assert.equal(await admin.isHidden('[data-testid=user-add-message]'), true);
    veraPassword = await admin.textContent('[data-testid=user-add-result] [data-testid=one-time-password]');
    assert.match(veraPassword, GENERATED_PASSWORD);
    assert.match(await admin.textContent('[data-testid=user-add-result] [data-testid=one-time-warning]'),
      /^Copy it now: it is not shown again\./);
    assert.equal(await admin.textContent('[data-testid=user-add-result] h3'), 'Added vera with the role viewer');
    // Copy puts it on the clipboard.
    await browsers[0].context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: install.origin });
    await admin.click('[data-testid=user-add-result] button:text-is("Copy")');
    await admin.waitForFunction(() => document.querySelector('[data-testid=user-add-result] .copy-status')?.textContent === 'Copied.');
    assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), veraPassword);
    await admin.waitForSelector('tr[data-user=vera]');
    assert.deepEqual((await rowCells('vera')).slice(0, 3), ['vera', 'viewer', 'no']);
    assert.equal(await admin.textContent('[data-testid=users-count]'), '2 users');
    await screenshot(admin, 'users-added');

    // The name is taken now.
    await admin.fill('#user-add-name', 'vera');
    await admin.click('form.add-user button[type=submit]');
    await admin.waitForFunction(() => document.querySelector('[data-testid=user-add-message]')?.textContent.includes('already'));
    assert.equal(await admin.textContent('[data-testid=user-add-message]'), 'There is a user named vera already. Choose another name.');
    // Typing again clears the refusal.
    await admin.fill('#user-add-name', '');
    assert.equal(await admin.isHidden('[data-testid=user-add-message]'), true);
    assert.equal(await admin.getAttribute('#user-add-name', 'aria-invalid'), null);
  });

  step('the viewer, in another browser, sees the fleet and the gateway but is refused the admin pages, clearly', async () => {
    viewer = await newPage();
    await viewer.goto(`${install.origin}/`);
    assert.equal(await signIn(viewer, 'vera', veraPassword), 200);
    await viewer.waitForSelector('tr[data-device=sensor-01]');
    assert.equal(await viewer.textContent('[data-testid=role]'), 'viewer');
    assert.deepEqual(await navLinks(viewer), ['Fleet', 'Alerts', 'Gateway', 'Releases', 'Rollouts']);
    for (const [route, title] of [['users', 'Users'], ['audit', 'Audit log']]) {
      await viewer.goto(`${install.origin}/#/${route}`);
      const notice = viewer.locator('[data-testid=admin-only]');
      await notice.waitFor();
      assert.equal(await notice.textContent(), 'This page needs the admin role. You are signed in as vera, with the role viewer.');
      assert.equal(await notice.getAttribute('role'), 'alert');
      assert.equal(await viewer.textContent('main h1'), title);
      assert.equal(await viewer.locator('table').count(), 0);
    }
    await screenshot(viewer, 'viewer-refused-audit');
    await viewer.click('main a[href="#/fleet"]');
    await viewer.waitForSelector('tr[data-device=sensor-01]');
    // A device's page offers a viewer nothing to change.
    await viewer.click('a[href="#/devices/sensor-01"]');
    await viewer.waitForSelector('[data-testid=device-facts] dt');
    assert.equal(await viewer.locator('[data-testid=device-actions]').count(), 0);
    await viewer.click('a.back');
    await viewer.waitForSelector('tr[data-device=sensor-01]');
    await viewer.click('.app-nav a[href="#/gateway"]');
    await viewer.waitForSelector('[data-stat=connected]');
    assert.equal(await viewer.textContent('[data-stat=connected] .value'), 'connected');
  });

  step('the releases page lists the published release for any signed-in user', async () => {
    await viewer.click('.app-nav a[href="#/releases"]');
    const row = viewer.locator('tr[data-release="thermo-linux/1.1.0"]');
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.slice(0, 4), ['thermo-linux', '1.1.0', '2', '293.0 KiB']);
    assert.equal(cells[6], 'Fixes the stuck sensor');
    assert.match(await viewer.textContent('[data-testid=release-key]'), /^Releases signed by release key [0-9a-f]{16}$/);
    assert.equal(await viewer.isHidden('[data-testid=releases-empty]'), true);
    assert.equal(await viewer.locator('[data-testid=release-publish]').count(), 0, 'a viewer is offered no upload');
    const noStamp = viewer.locator('[data-testid=release-timestamps] li[data-product=thermo-linux]');
    assert.match(await noStamp.textContent(), /^thermo-linux: no release timestamp: its devices report timestamp_missing/);
    assert.equal(await noStamp.getAttribute('class'), 'warn');
    await screenshot(viewer, 'releases');
  });

  step('the admin starts a rollout of the release to a label on the rollouts page; the viewer follows it; pause and abort', async () => {
    await admin.click('.app-nav a[href="#/rollouts"]');
    await admin.waitForSelector('[data-testid=rollouts-empty]:not([hidden])');
    await admin.waitForFunction(() => document.querySelector('#rollout-release option')?.value === 'thermo-linux 1.1.0');
    // Typing a label chooses "those labelled"; the label's grammar is checked before sending.
    await admin.fill('#rollout-label', 'Greenhouse');
    assert.equal(await admin.isChecked('#rollout-labelled'), true);
    await admin.click('[data-testid=rollout-start]');
    assert.match(await admin.textContent('[data-testid=rollout-start-message]'), /1 to 64 lowercase/);
    await admin.fill('#rollout-label', 'greenhouse');
    await admin.fill('#rollout-waves', '25, 5, 100');
    await admin.click('[data-testid=rollout-start]');
    assert.match(await admin.textContent('[data-testid=rollout-start-message]'), /larger than the one before/);
    assert.equal(await admin.getAttribute('#rollout-waves', 'aria-invalid'), 'true');
    await admin.fill('#rollout-waves', '100');
    await admin.fill('#rollout-timeout', '6');
    await admin.click('[data-testid=rollout-start]');
    await admin.waitForURL(/#\/rollouts\/\d+$/);
    const id = admin.url().split('/').pop();
    // The gateway notifies the device at once; its report of the download shows within a refresh.
    await admin.waitForSelector('tr[data-device=sensor-01][data-state=notified]');
    const report = await install.request('POST', '/api/v1/devices/sensor-01/ota/status', {
      device: sensor,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ rollout: Number(id), product: 'thermo-linux', version: '1.1.0', state: 'downloading', percent: 40 }),
    });
    assert.equal(report.status, 204, report.body);
    await admin.waitForSelector('tr[data-device=sensor-01][data-state=downloading] progress[value="40"]');
    assert.match(await admin.textContent('[data-testid=rollout-facts]'), /StateRunning/);
    assert.equal(await admin.textContent('[data-testid=rollout-target]'), 'Devices labelled greenhouse when it started');
    assert.equal(await admin.textContent('[data-testid=rollout-timeout-text]'), 'fail as timed_out after 6 h without a report');
    await screenshot(admin, 'rollout');

    // The viewer sees it listed with its progress bar, but neither the start form nor the controls.
    await viewer.click('.app-nav a[href="#/rollouts"]');
    const row = viewer.locator(`tr[data-rollout="${id}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /thermo-linux 1\.1\.0Running/);
    assert.equal(await row.locator('[data-testid=rollout-progress]').getAttribute('aria-label'), '0 of 1 confirmed, 1 under way');
    assert.equal(await viewer.locator('[data-testid=rollout-start]').count(), 0);
    await screenshot(viewer, 'rollouts');
    await row.locator('a').click();
    await viewer.waitForSelector('tr[data-device=sensor-01]');
    assert.equal(await viewer.locator('[data-testid=rollout-controls] button').count(), 0);

    // The admin pauses it, then aborts it after confirming: the device's update check finds nothing.
    await admin.click('[data-testid=rollout-pause]');
    await admin.waitForFunction(() => document.querySelector('[data-testid=rollout-state]')?.textContent === 'Paused');
    await admin.click('[data-testid=rollout-abort]');
    await admin.locator('.confirm').getByRole('button', { name: `Abort #${id}` }).click();
    await admin.waitForFunction(() => document.querySelector('[data-testid=rollout-state]')?.textContent === 'Aborted');
    assert.equal(await admin.locator('[data-testid=rollout-controls] button').count(), 0);
    const update = await install.request('GET', '/api/v1/devices/sensor-01/update', { device: sensor });
    assert.equal(update.status, 204, update.body);
    // Back where the next steps expect the admin.
    await admin.click('.app-nav a[href="#/users"]');
    await admin.waitForSelector('tr[data-user=vera]');
  });

  step('the admin publishes a release from the releases page with a progress bar; a foreign signature is refused', async () => {
    await admin.click('.app-nav a[href="#/releases"]');
    await admin.waitForSelector('tr[data-release="thermo-linux/1.1.0"]');
    await admin.setInputFiles('#release-manifest', upload.foreignManifest);
    await admin.setInputFiles('#release-image', upload.image);
    await admin.click('[data-testid=release-publish]');
    await admin.waitForSelector('[data-testid=release-publish-message].error');
    assert.equal(await admin.textContent('[data-testid=release-publish-message]'),
      'Refused: the manifest is not signed by the release key this gateway trusts. Nothing was published.');
    assert.equal(await admin.locator('tr[data-release="thermo-linux/1.2.0"]').count(), 0);

    // The image the browser reports progress for, up to the end, then the new row.
    const progressed = [];
    await admin.exposeFunction('__uploadProgress', (text) => progressed.push(text));
    await admin.evaluate(() => {
      const status = document.querySelector('[data-testid=release-upload-status]');
      new MutationObserver(() => window.__uploadProgress(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await admin.setInputFiles('#release-manifest', `${upload.image}.manifest`);
    await admin.setInputFiles('#release-image', upload.image);
    await admin.click('[data-testid=release-publish]');
    await admin.waitForSelector('[data-testid=release-publish-message].success');
    assert.equal(await admin.textContent('[data-testid=release-publish-message]'), 'Published thermo-linux 1.2.0 (2.0 MiB).');
    await admin.waitForSelector('tr[data-release="thermo-linux/1.2.0"]');
    assert.equal(await admin.getAttribute('[data-testid=release-upload-progress]', 'value'), '100');
    assert.equal(progressed[0], 'Uploading thermo-linux 1.2.0: 0 % (0 B of 2.0 MiB)', progressed.join('\n'));
    assert.equal(progressed.at(-1), 'Uploading thermo-linux 1.2.0: 100 % (2.0 MiB of 2.0 MiB)', progressed.join('\n'));
    await screenshot(admin, 'release-published');
    // Served to the device as signed.
    const served = await install.request('GET', '/api/v1/devices/sensor-01/releases/thermo-linux/1.2.0/image', { device: sensor });
    assert.equal(served.status, 200);
    assert.equal(served.body.length, 2 * 1024 * 1024);
    // The release timestamp for it, signed offline and published on the gateway: shown current.
    const stamp = path.join(install.root, 'thermo-linux.timestamp');
    install.kelvinctl(['release', 'timestamp', `${upload.image}.manifest`, '--key', path.join(upload.keys, 'release.key'), '--out', stamp]);
    install.kelvinctl(['release', 'publish-timestamp', stamp, '--state-dir', install.stateDir]);
    await admin.click('.app-nav a[href="#/users"]');
    await admin.waitForSelector('tr[data-user=vera]');
    await admin.click('.app-nav a[href="#/releases"]');
    await admin.waitForFunction(() => /names 1\.2\.0, expires .* \(in 29 days\)\.$/.test(
      document.querySelector('[data-testid=release-timestamps] li[data-product=thermo-linux]')?.textContent ?? ''));
    assert.equal(await admin.getAttribute('[data-testid=release-timestamps] li[data-product=thermo-linux]', 'class'), '');
    await admin.click('.app-nav a[href="#/users"]');
    await admin.waitForSelector('tr[data-user=vera]');
  });

  step('the viewer changes their own password on the account page', async () => {
    await viewer.click('[data-testid=user]');
    await viewer.waitForSelector('#password-current');
    assert.equal(viewer.url(), `${install.origin}/#/account`);
    assert.match(await viewer.textContent('[data-testid=account-facts]'), /User namevera.*Roleviewer/);
    const message = viewer.locator('[data-testid=password-message]');
    const attempt = async (current, next, again, expected) => {
      await viewer.fill('#password-current', current);
      await viewer.fill('#password-new', next);
      await viewer.fill('#password-repeat', again);
      await viewer.click('.account-page button[type=submit]');
      await viewer.waitForFunction((text) => document.querySelector('[data-testid=password-message]')?.textContent.startsWith(text), expected);
    };
    await attempt(veraPassword, 'a new and long password', 'a new and long passwort', 'The two new passwords differ');
    await attempt('not my password at all', 'a new and long password', 'a new and long password', 'The current password is wrong');
    await attempt(veraPassword, 'short', 'short', 'The new password is not allowed: a password must be at least 12 characters long');
    assert.match(await message.getAttribute('class'), /error/);
    await attempt(veraPassword, 'a new and long password', 'a new and long password', 'Your password is changed');
    assert.match(await message.getAttribute('class'), /success/);
    assert.equal(await viewer.inputValue('#password-new'), '');
    await screenshot(viewer, 'account-password-changed');
    // This session goes on; the new password is the one that signs in.
    await viewer.click('.app-nav a[href="#/fleet"]');
    await viewer.waitForSelector('tr[data-device=sensor-01]');
    veraPassword = 'a new and long password';
  });

  step("the admin changes the viewer's role, and is refused making the last admin a viewer", async () => {
    const vera = await openPanel('vera');
    await vera.locator('select').selectOption('operator');
    await vera.getByRole('button', { name: 'Change role' }).click();
    await admin.waitForFunction(() => document.querySelector('tr[data-user=vera] td')?.textContent === 'operator');
    assert.equal(await vera.locator('[data-testid=user-panel-message]').textContent(),
      'vera now has the role operator (was viewer), from their next request on.');
    // The same role again: said at once, nothing sent.
    await vera.getByRole('button', { name: 'Change role' }).click();
    await admin.waitForFunction(() =>
      document.querySelector('[data-user=vera] [data-testid=user-panel-message]')?.textContent.includes('already'));

    // The only admin making itself a viewer: asked first, then refused with the reason, in place.
    const self = await openPanel('admin');
    await self.locator('select').selectOption('viewer');
    await self.getByRole('button', { name: 'Change role' }).click();
    assert.match(await self.locator('.confirm').textContent(), /You would no longer be an admin/);
    await self.getByRole('button', { name: 'Make me viewer' }).click();
    await admin.waitForFunction(() =>
      document.querySelector('[data-user=admin] [data-testid=user-panel-message]')?.textContent.includes('last admin'));
    assert.equal(await self.locator('[data-testid=user-panel-message]').textContent(),
      'admin is the last admin: there must always be one. Make another user admin first.');
    assert.equal((await rowCells('admin'))[1], 'admin');
    await screenshot(admin, 'users-last-admin-refused');
    await admin.click('tr[data-user=admin] button[aria-controls]');
    assert.equal(await panel('admin').isHidden(), true);

    // The viewer's next page load has the new role.
    await viewer.reload();
    await viewer.waitForSelector('tr[data-device=sensor-01]');
    assert.equal(await viewer.textContent('[data-testid=role]'), 'operator');
  });

  step("the admin resets the viewer's password: shown once, the viewer's session ends, the new one signs in", async () => {
    const vera = await openPanel('vera');
    await vera.getByRole('button', { name: 'Reset password' }).click();
    assert.match(await vera.locator('.confirm').textContent(), /Reset vera's password\?/);
    await vera.locator('.confirm').getByRole('button', { name: 'Reset password' }).click();
    await vera.locator('[data-testid=one-time-password]').waitFor();
    const reset = await vera.locator('[data-testid=one-time-password]').textContent();
    assert.match(reset, GENERATED_PASSWORD);
    assert.match(await vera.locator('[data-testid=one-time-warning]').textContent(), /not shown again/);
    assert.equal(await vera.locator('h3').textContent(), 'New password for vera');
    await screenshot(admin, 'users-password-reset');
    await vera.getByRole('button', { name: 'Done, I have copied it' }).click();
    assert.equal(await vera.locator('[data-testid=one-time-password]').count(), 0);

    // The viewer was signed out everywhere: the next request finds the session gone.
    await viewer.reload();
    await viewer.waitForSelector('#signin-user');
    assert.equal(await signIn(viewer, 'vera', veraPassword), 401);
    assert.equal(await signIn(viewer, 'vera', reset), 200);
    await viewer.waitForSelector('tr[data-device=sensor-01]');
    veraPassword = reset;
  });

  step("the admin resets the viewer's second factor, offered only once there is one", async () => {
    let vera = await openPanel('vera');
    assert.equal(await vera.locator('.manage-item').nth(2).locator('.hint').textContent(), 'None set up: nothing to reset.');
    // The viewer sets one up.
    await viewer.click('a[href="#/enrol"]');
    const uri = await viewer.locator('[data-testid=enrol-uri]').textContent();
    await viewer.fill('#enrol-code', totp(new URL(uri).searchParams.get('secret')));
    await viewer.click('.inline-form button[type=submit]');
    await viewer.waitForSelector('[data-testid=recovery-codes] li');
    await viewer.click('text=I have saved them');
    await viewer.waitForSelector('tr[data-device=sensor-01]');

    // The admin's list, fetched again, shows it; resetting asks first.
    await admin.click('.app-nav a[href="#/fleet"]');
    await admin.click('.app-nav a[href="#/users"]');
    await admin.waitForFunction(() =>
      document.querySelector('tr[data-user=vera] td:nth-of-type(2)')?.textContent === 'yes, 10 recovery codes left');
    vera = await openPanel('vera');
    await vera.getByRole('button', { name: 'Reset second factor' }).click();
    assert.match(await vera.locator('.confirm').textContent(), /Remove vera's second factor/);
    await vera.locator('.confirm').getByRole('button', { name: 'Reset second factor' }).click();
    await admin.waitForFunction(() => document.querySelector('tr[data-user=vera] td:nth-of-type(2)')?.textContent === 'no');
    assert.match(await vera.locator('[data-testid=user-panel-message]').textContent(), /^vera's second factor is removed/);
    assert.equal(await vera.locator('.manage-item').nth(2).locator('.hint').textContent(), 'None set up: nothing to reset.');
  });

  step('the admin removes the viewer after a confirmation, and is refused removing the last admin', async () => {
    const vera = await openPanel('vera');
    await vera.getByRole('button', { name: 'Remove vera' }).click();
    const confirm = vera.locator('.confirm');
    assert.match(await confirm.textContent(), /This cannot be undone/);
    // Focus is on Cancel, the safe choice; Cancel brings the button back.
    assert.equal(await admin.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await vera.locator('.confirm').count(), 0);
    assert.equal(await admin.evaluate(() => document.activeElement?.textContent), 'Remove vera');
    await vera.getByRole('button', { name: 'Remove vera' }).click();
    await screenshot(admin, 'users-remove-confirm');
    await vera.locator('.confirm').getByRole('button', { name: 'Remove vera' }).click();
    await admin.waitForSelector('tr[data-user=vera]', { state: 'detached' });
    assert.equal(await admin.textContent('[data-testid=users-status]'), 'Removed vera.');
    assert.equal(await admin.textContent('[data-testid=users-count]'), '1 user');
    const names = await admin.evaluate(async () => (await (await fetch('/api/v1/users')).json()).users.map((u) => u.name));
    assert.deepEqual(names, ['admin']);

    const self = await openPanel('admin');
    await self.getByRole('button', { name: 'Remove admin' }).click();
    await self.locator('.confirm').getByRole('button', { name: 'Remove admin' }).click();
    await admin.waitForFunction(() =>
      document.querySelector('[data-user=admin] [data-testid=user-panel-message]')?.textContent.includes('last admin'));
    await admin.click('tr[data-user=admin] button[aria-controls]');

    // The viewer's session went with the account.
    await viewer.reload();
    await viewer.waitForSelector('#signin-user');
  });

  step('requiring a second factor for everyone sends the admin without one to set it up', async () => {
    assert.equal(await admin.isChecked('#require-second-factor'), false);
    assert.match(await admin.textContent('#require-second-factor-hint'), /Without one so far: admin \(you too/);
    assert.equal(await admin.isDisabled('.security button[type=submit]'), true);
    await admin.check('#require-second-factor');
    assert.equal(await admin.isDisabled('.security button[type=submit]'), false);
    await admin.click('.security button[type=submit]');
    // Saved; the list fetched after it is refused until the admin enrols: the enrolment page.
    await admin.waitForURL(/#\/enrol$/);
    await admin.waitForSelector('[data-testid=enrol-qr] svg');
    assert.equal(await admin.locator('.app-nav').count(), 0);
    install.kelvinctl(['user', 'require-second-factor', 'off', '--state-dir', install.stateDir]);
    // A reload fetches the session again, no longer bound to the enrolment.
    await admin.reload();
    await admin.click('.app-nav a[href="#/users"]');
    await admin.waitForSelector('tr[data-user=admin]');
    await admin.waitForFunction(() => !document.getElementById('require-second-factor')?.disabled);
    assert.equal(await admin.isChecked('#require-second-factor'), false);
  });

  step('the audit log lists all of it, newest first, in local time, filtered, and reads on a phone', async () => {
    await admin.click('.app-nav a[href="#/audit"]');
    await admin.waitForSelector('[data-testid=audit-table] tr[data-id]');
    const entries = await admin.locator('[data-testid=audit-table] tr[data-id]').evaluateAll((rows) =>
      rows.map((r) => ({
        id: Number(r.dataset.id),
        action: r.dataset.action,
        result: r.dataset.result,
        cells: [...r.cells].map((c) => c.textContent),
      })));
    const ids = entries.map((e) => e.id);
    assert.ok(ids.every((id, i) => i === 0 || id < ids[i - 1]), `newest first: ${ids}`);
    assert.match(await admin.textContent('[data-testid=audit-count]'), /entries, the whole log\.$/);
    const has = (action, who, target, result, detail) =>
      entries.find((e) => e.action === action && e.cells[1] === who && e.cells[4] === target && e.result === result &&
        (detail === undefined || e.cells[6] === detail));
    const expected = [
      ['user_add', 'admin', 'vera', 'ok', 'role viewer'],
      ['login', 'vera', 'vera', 'ok'],
      ['permission_denied', 'vera', 'GET /api/v1/users', 'denied', 'role viewer, needs admin'],
      ['permission_denied', 'vera', 'GET /api/v1/audit', 'denied', 'role viewer, needs admin'],
      ['password_change', 'vera', 'vera', 'failed', 'wrong current password'],
      ['password_change', 'vera', 'vera', 'ok'],
      ['user_role', 'admin', 'vera', 'ok', 'viewer -> operator'],
      ['user_role', 'admin', 'admin', 'denied'],
      ['password_set', 'admin', 'vera', 'ok'],
      ['totp_enrol', 'vera', 'vera', 'ok'],
      ['totp_reset', 'admin', 'vera', 'ok'],
      ['user_remove', 'admin', 'vera', 'ok'],
      ['user_remove', 'admin', 'admin', 'denied'],
      ['setting', 'admin', 'require_second_factor', 'ok', 'true'],
      ['setting', 'kelvinctl', 'require_second_factor', 'ok', 'false'],
      ['device_label', 'kelvinctl', 'sensor-01', 'ok', 'added greenhouse; now greenhouse'],
      ['rollout_start', 'admin', 'rollout 1', 'ok', 'thermo-linux 1.1.0 to 1 device labelled greenhouse in waves 100, halting above 20 % failures, a device silent for 6h fails'],
      ['rollout_pause', 'admin', 'rollout 1', 'ok'],
      ['rollout_abort', 'admin', 'rollout 1', 'ok'],
      ['release_publish', 'admin', 'thermo-linux 1.2.0', 'refused'],
      ['release_publish', 'admin', 'thermo-linux 1.2.0', 'ok'],
    ];
    for (const want of expected) assert.ok(has(...want), `the audit page lists ${want.join(' ')}`);
    const added = has('user_add', 'admin', 'vera', 'ok');
    assert.equal(added.cells[2], '127.0.0.1');
    assert.equal(added.cells[3], 'User added');
    assert.equal(has('rollout_start', 'admin', 'rollout 1', 'ok').cells[3], 'Rollout started');
    // Times in the browser's time zone: the text is the <time>'s instant, formatted locally.
    const times = await admin.locator('[data-testid=audit-table] time').evaluateAll((list) =>
      list.slice(0, 5).map((t) => {
        const d = new Date(t.dateTime);
        const p = (n) => String(n).padStart(2, '0');
        return [t.textContent, `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`];
      }));
    for (const [shown, local] of times) assert.equal(shown, local);
    await screenshot(admin, 'audit');

    // The filter: vera's refusals only.
    await admin.fill('#audit-filter', 'vera');
    await admin.selectOption('#audit-result', 'denied');
    const refused = await admin.locator('[data-testid=audit-table] tr[data-id]').evaluateAll((rows) =>
      rows.map((r) => `${r.dataset.action} ${r.cells[4].textContent}`));
    assert.deepEqual(refused.sort(), ['permission_denied GET /api/v1/audit', 'permission_denied GET /api/v1/users']);
    assert.match(await admin.textContent('[data-testid=audit-count]'), /^2 of the \d+ entries read match\.$/);
    await admin.fill('#audit-filter', '');
    await admin.selectOption('#audit-result', '');

    // A phone: every entry a block of labelled lines, nothing wider than the screen.
    await admin.setViewportSize({ width: 375, height: 812 });
    try {
      await noHorizontalScroll(admin);
      assert.equal(await admin.locator('[data-testid=audit-table] tr[data-id]').first().evaluate((r) => getComputedStyle(r).display), 'block');
      await screenshot(admin, 'audit-phone');
      await admin.click('.app-nav a[href="#/users"]');
      await admin.waitForSelector('tr[data-user=admin]');
      await openPanel('admin');
      await noHorizontalScroll(admin);
      await screenshot(admin, 'users-phone');
    } finally {
      await admin.setViewportSize({ width: 1280, height: 900 });
    }
  });

  step("the gateway page shows the gateway's own counters and follows them", async () => {
    await admin.click('.app-nav a[href="#/gateway"]');
    await admin.waitForSelector('[data-stat=readings_stored] .value');
    let stats = await install.stats();
    assert.equal(stats.readings_stored, 10);
    const shown = async (key) => admin.textContent(`[data-stat="${key}"] .value`);
    assert.equal(await shown('readings_stored'), String(stats.readings_stored));
    assert.equal(await shown('rejected_total'), '1');
    assert.equal(await shown('rejected.out_of_range'), '1');
    assert.equal(await admin.getAttribute('[data-stat="rejected.out_of_range"]', 'class'), 'level-warn');
    assert.equal(await shown('connected'), 'connected');
    assert.equal(await shown('broker_restarts'), String(stats.broker_restarts));
    assert.equal(await shown('http.port'), String(install.httpPort));
    assert.match(await admin.textContent('[data-testid=gateway-summary]'), /^Worth a look: Ingest: Rejected 1/);
    assert.match(await admin.textContent('section[data-section=export]'), /Not configured/);
    assert.match(await admin.textContent('[data-testid=gateway-taken]'), /^Statistics taken at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    await screenshot(admin, 'gateway');

    // Five more readings: the page follows by itself (every 5 s), to what the gateway counts.
    const now = Date.now();
    await install.postReadings(sensor, Array.from({ length: 5 }, (_, i) => ({ seq: 12 + i, ts: now - 4000 + i * 1000, temperature: 21, humidity: 45 })));
    stats = await waitFor('the gateway to count 15 readings', async () => {
      const s = await install.stats();
      return s?.readings_stored === 15 ? s : null;
    });
    await admin.waitForFunction(() => document.querySelector('[data-stat=readings_stored] .value')?.textContent === '15', null, { timeout: 20_000 });
    assert.equal(await shown('readings_stored'), String(stats.readings_stored));
    assert.match(await admin.textContent('[data-stat=readings_stored] .note'), /^\d+(\.\d)?\/s$/, 'a rate from two answers');

    // An exporter that lags and retries (the answer extended): its backlog and lag, flagged.
    const real = await admin.evaluate(async () => (await fetch('/api/v1/gateway/status')).json());
    await admin.route('**/api/v1/gateway/status', (route) => route.fulfill({
      json: { ...real, time_ms: Date.now(), export: { readings_exported: 1200, points_rejected: 0, readings_expired: 0, statuses_exported: 4, writes: 30, write_failures: 2, cursor: 5, backlog_readings: 340, lag_s: 95.5, retrying: true, last_error: 'http: 503 Service Unavailable' } },
    }));
    try {
      await admin.reload();
      await admin.waitForSelector('[data-stat="export.backlog_readings"]');
      assert.equal(await shown('export.backlog_readings'), '340');
      assert.equal(await shown('export.lag_s'), '95 s');
      assert.equal(await shown('export.retrying'), 'retrying');
      assert.equal(await shown('export.last_error'), 'http: 503 Service Unavailable');
      assert.match(await admin.textContent('[data-testid=gateway-summary]'), /^Needs attention: InfluxDB export: State retrying/);
      assert.match(await admin.getAttribute('[data-testid=gateway-summary]', 'class'), /error/);
      await screenshot(admin, 'gateway-export-lagging');
      await admin.setViewportSize({ width: 375, height: 812 });
      try {
        await noHorizontalScroll(admin);
        await screenshot(admin, 'gateway-phone');
      } finally {
        await admin.setViewportSize({ width: 1280, height: 900 });
      }
    } finally {
      await admin.unroute('**/api/v1/gateway/status');
    }

    // Leaving the page stops its refresh.
    let asked = 0;
    const count = (request) => {
      if (request.url().endsWith('/api/v1/gateway/status')) asked++;
    };
    await admin.click('.app-nav a[href="#/fleet"]');
    await admin.waitForSelector('tr[data-device=sensor-01]');
    admin.on('request', count);
    await admin.waitForTimeout(6500);
    admin.off('request', count);
    assert.equal(asked, 0, 'no status request after leaving the gateway page');
  });

  step('no page threw and nothing broke the Content-Security-Policy', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspMessages, []);
    for (const page of [admin, viewer]) assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  });
});
