// The alerts page and the header's badge end to end: the real kelvin-gateway
// (support/installation.mjs) with one threshold rule evaluated every second, its devices posting
// readings over HTTPS with their own certificates, and two Chromiums (support/browser.mjs): an
// operator's and a viewer's, each with its own cookies. A reading above the level fires an alert;
// the badge counts it, the alerts page shows it with its summary and a link to the device; the
// viewer sees it with no Acknowledge button; the operator acknowledges one alert (by keyboard) and
// sees who did, and is told clearly when someone else was first (the 409); the operator silences an
// alert for an hour from the page (by keyboard): the row says until when and by whom, the badge
// leaves it out, the viewer sees the silence without buttons; lifting it counts it again; lifting a
// silence someone lifted meanwhile is said clearly (the 404); a reading back within the clear
// level resolves the alert into the history. Ahead of an alert, the operator silences the
// configured rule on a device that is not firing from the rule's row ("Silence…"; a malformed
// subject refused in the form), sees it in the Silences list with their name, the viewer sees it
// without a Lift button, and the operator lifts it there ("No silences."). Below the alerts, both
// see the Rules section: the configured rule in a sentence (GET /api/v1/alert-rules), from the
// config file. The operator adds
// a threshold rule on sensor-02 through the form and sees its row and sentence, the viewer sees it
// without buttons, the operator changes its level through the same form, a reading fires it, adding
// a rule with a taken name is refused (the 409 said in the form, what was typed kept), and removing
// it (confirmed by keyboard) takes its row away and resolves its alert. Rules of the other kinds:
// the operator adds a gateway-wide event_rate rule (only its fields shown; the body sent and the
// rule stored exactly as expected); while the operator types in its Change form and the admin adds
// a rule through the API, the viewer's open page shows the operator's rule and the operator's page
// the admin's within one reading of the rules (every 15 s), the viewer's page not reloaded and the
// operator's form keeping what was typed and the focus; the change is saved. A disk_space rule typed
// in GiB and MiB is sent and stored in whole bytes, and Change shows the same bytes. Screenshots go
// to the artifact directory (support/browser.mjs). No page may throw or break the
// Content-Security-Policy.
//
// Needs what e2e.test.mjs needs (web/dist, kelvin-gateway and kelvinctl in KELVIN_BIN_DIR);
// ctest's web_dashboard_test runs it with the others.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';

import { launchBrowser, screenshot, watchPage } from './support/browser.mjs';
import { stepsWithGatewayLog } from './support/steps.mjs';
import { distDir, Installation, waitFor } from './support/installation.mjs';

const built = existsSync(path.join(distDir, 'index.html'));
const UI_TIMEOUT = 30_000;
// The badge reads the firing alerts every 15 s (src/app.ts), the alerts page every 5 s.
const BADGE_TIMEOUT = 40_000;
// The Rules section reads the rules every 15 s (src/pages/alert_rules.ts).
const RULES_TIMEOUT = 25_000;

// Only this rule (no default rules: a nearly full disk on the test machine must not fire one).
const ALERTS_CONFIG = [
  '[alerts]',
  'interval_s = 1',
  'default_rules = false',
  '[[alerts.rule]]',
  'name = "freezer_warm"',
  'kind = "threshold"',
  'quantity = "temperature"',
  'above = -15.0',
  'clear = -17.0',
  'devices = ["sensor-01", "sensor-02"]',
].join('\n');

describe('the alerts page and badge in Chromium against kelvin-gateway', { skip: built ? false : 'web/dist is not built: run `make web`' }, () => {
  let install;
  let sensor1;
  let sensor2;
  let olafPassword;
  let veraPassword;
  const browsers = [];
  let operator; // olaf's page
  let viewer; // vera's page, in another Chromium
  let admin; // the admin's session, for the API
  const pageErrors = [];
  const cspMessages = [];
  const seqs = new Map(); // each device's last seq

  async function newPage() {
    const browser = await launchBrowser(install.caFile);
    browsers.push(browser);
    const page = await browser.context.newPage();
    await watchPage(page, { pageErrors, cspMessages, timeout: UI_TIMEOUT });
    return page;
  }

  // The device posts one reading over HTTPS with its certificate.
  async function publish(device, temperature) {
    const seq = (seqs.get(device.id) ?? 0) + 1;
    seqs.set(device.id, seq);
    const ack = await install.postReadings(device, [{ seq, ts: Date.now(), temperature, humidity: 40 }]);
    assert.equal(ack.seq, seq);
  }

  // A session of the installation's admin, for the API (cookie and CSRF token), as a script would.
  async function adminSession() {
    const answer = await install.request('POST', '/api/v1/session', {
      body: JSON.stringify({ user: 'admin', password: install.adminPassword }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(answer.status, 200, answer.body);
    const cookie = String(answer.headers['set-cookie']).split(';')[0];
    return { cookie, csrf: JSON.parse(answer.body).csrf_token };
  }

  async function alertsOf(session, query = '') {
    const answer = await install.request('GET', `/api/v1/alerts${query}`, { headers: { Cookie: session.cookie } });
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body);
  }

  async function silencesOf(session) {
    const answer = await install.request('GET', '/api/v1/silences', { headers: { Cookie: session.cookie } });
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body).silences;
  }

  before(async () => {
    install = await Installation.create({ config: ALERTS_CONFIG });
    sensor1 = install.issueDevice('sensor-01');
    sensor2 = install.issueDevice('sensor-02');
    await install.startGateway();
    olafPassword = install.addUser('olaf', 'operator');
    veraPassword = install.addUser('vera', 'viewer');
    // Cold enough: nothing fires.
    await publish(sensor1, -20);
    await publish(sensor2, -19.5);
    admin = await adminSession();
    operator = await newPage();
    viewer = await newPage();
  });

  after(async () => {
    for (const browser of browsers) await browser.close();
    await install?.remove();
  });

  const step = stepsWithGatewayLog(() => install);

  async function signIn(page, user, password) {
    await page.goto(`${install.origin}/`);
    await page.waitForSelector('#signin-user');
    await page.fill('#signin-user', user);
    await page.fill('#signin-password', password);
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
    await page.click('form.signin button[type=submit]');
    assert.equal((await answered).status(), 200);
    await page.waitForSelector('tr[data-device=sensor-01]');
  }

  const badge = (page) => page.locator('[data-testid=alert-badge]');
  const alertsLink = (page) => page.locator('.app-nav a[href="#/alerts"]');
  const firingRow = (page, subject) => page.locator(`[data-testid=alerts-firing] tr[data-subject="${subject}"]`);
  const historyRow = (page, subject) => page.locator(`[data-testid=alerts-history] tr[data-subject="${subject}"]`);
  // The Rules section's row of a rule, and its cells' text once the rules were read.
  const ruleRow = (page, name) => page.locator(`[data-testid=alert-rules] tr[data-rule="${name}"]`);
  // The Silences list's row of a silence of freezer_warm, and the rule's Silence form.
  const silenceRow = (page, subject) => page.locator(`[data-testid=silences] tr[data-rule="freezer_warm"][data-subject="${subject}"]`);
  const silenceForm = (page) => page.locator('[data-testid=rule-silence-form]');
  const ruleCells = async (page, name) => {
    const row = ruleRow(page, name);
    await row.waitFor();
    return row.locator('td').allTextContents();
  };
  const focusedTestId = (page) => page.evaluate(() => document.activeElement?.dataset.testid);
  const FREEZER_RULE = 'temperature above -15 °C, clears at or below -17 °C; devices sensor-01, sensor-02';
  const badgeShows = (page, text) =>
    page.waitForFunction((want) => document.querySelector('[data-testid=alert-badge]')?.textContent === want, text,
      { timeout: BADGE_TIMEOUT });
  // A <time>'s instant in the browser's time zone to the minute, as the page should show it.
  const localMinute = (ms) => operator.evaluate((t) => {
    const d = new Date(t);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  }, ms);

  step('with nothing firing, the header has Alerts without a badge and the page says so', async () => {
    await signIn(operator, 'olaf', olafPassword);
    assert.deepEqual(await operator.locator('.app-nav a').allTextContents(), ['Fleet', 'Alerts', 'Gateway', 'Releases', 'Rollouts']);
    await alertsLink(operator).click();
    await operator.waitForSelector('[data-testid=alerts-firing-empty]:not([hidden])');
    // The page told the badge: none.
    assert.equal(await badge(operator).isHidden(), true);
    assert.equal(await alertsLink(operator).getAttribute('aria-label'), null);
    assert.equal(await operator.textContent('[data-testid=alerts-firing-empty]'), 'Nothing is firing.');
    assert.equal(await operator.isVisible('[data-testid=alerts-history-empty]'), true);
    assert.equal(await alertsLink(operator).getAttribute('aria-current'), 'page');
    assert.match(await operator.textContent('[data-testid=alerts-status]'), /^Updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // The Rules section: the one configured rule (no default rules), in a sentence, under its heading;
    // from the config file, so without Change or Remove even for the operator, who may add rules
    // (but with Silence…).
    assert.deepEqual(await ruleCells(operator, 'freezer_warm'), ['freezer_warm threshold', FREEZER_RULE, 'config file', 'Silence…']);
    assert.equal(await operator.locator('[data-testid=alert-rules] tbody tr').count(), 1);
    assert.equal(await operator.getByRole('region', { name: 'Rules' }).getByRole('heading', { level: 2 }).textContent(), 'Rules');
    assert.deepEqual(await operator.locator('[data-testid=alert-rules] th[scope=col]').allTextContents(),
      ['Rule', 'Condition', 'Source', 'Manage']);
    assert.deepEqual(await ruleRow(operator, 'freezer_warm').locator('button').allTextContents(), ['Silence…']);
    assert.equal(await operator.isHidden('[data-testid=alert-rules-message]'), true);
    assert.equal(await operator.isVisible('[data-testid=alert-rule-add]'), true);
    assert.match(await operator.textContent('[data-testid=alert-rules-note]'),
      /^Rules from the config file are changed in the config file; .* Added here: 0 of at most \d+\.$/);
    await operator.click('.app-nav a[href="#/fleet"]');
    await operator.waitForSelector('tr[data-device=sensor-01]');
  });

  step('a reading above the level fires an alert: the badge shows 1 with its label', async () => {
    await publish(sensor1, -10.5);
    await badgeShows(operator, '1');
    assert.equal(await badge(operator).isVisible(), true);
    assert.equal(await alertsLink(operator).getAttribute('aria-label'), 'Alerts, 1 alert firing');
    assert.equal(await badge(operator).getAttribute('title'), '1 alert firing');
    assert.equal(await operator.getByRole('link', { name: 'Alerts, 1 alert firing' }).count(), 1);
    await screenshot(operator, 'alerts-badge');
  });

  step('the alerts page shows the firing alert: rule, device link, summary, since when in local time, for how long', async () => {
    await alertsLink(operator).click();
    const row = firingRow(operator, 'sensor-01');
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], 'freezer_warm threshold');
    assert.equal(cells[1], 'sensor-01');
    assert.equal(cells[2], 'temperature -10.5 °C (fires above -15 °C)');
    assert.match(cells[4], /^for (less than a minute|1 min)$/);
    assert.equal(cells[5], 'Acknowledge');
    // Since: the <time>'s instant in the browser's time zone, to the second.
    const [shown, local] = await row.locator('time').first().evaluate((t) => {
      const d = new Date(t.dateTime);
      const p = (n) => String(n).padStart(2, '0');
      return [t.textContent, `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`];
    });
    assert.equal(shown, local);
    assert.equal(await row.locator('a').getAttribute('href'), '#/devices/sensor-01');
    assert.equal(await operator.textContent('[data-testid=alerts-firing-count]'), '(1)');
    // Table headers for every column.
    assert.deepEqual(await operator.locator('[data-testid=alerts-firing] thead th').allTextContents(),
      ['Alert', 'Subject', 'Summary', 'Since', 'Firing for', 'Acknowledged', 'Silence']);
    assert.equal(await operator.locator('[data-testid=alerts-firing] th[scope=col]').count(), 7);
    // The subject leads to the device's page.
    await row.locator('a').click();
    await operator.waitForSelector('[data-testid=device-facts] dt');
    assert.equal(operator.url(), `${install.origin}/#/devices/sensor-01`);
    await operator.goBack();
    await firingRow(operator, 'sensor-01').waitFor();
    await screenshot(operator, 'alerts-firing');
  });

  step('a second device fires too: both listed, the badge counts 2', async () => {
    await publish(sensor2, -12);
    await firingRow(operator, 'sensor-02').waitFor({ timeout: BADGE_TIMEOUT });
    // The page tells the badge at once.
    await badgeShows(operator, '2');
    assert.equal(await alertsLink(operator).getAttribute('aria-label'), 'Alerts, 2 alerts firing');
    const subjects = await operator.locator('[data-testid=alerts-firing] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.subject));
    assert.deepEqual(subjects, ['sensor-02', 'sensor-01'], 'newest first');
  });

  step('the viewer sees the firing alerts and the badge, but no Acknowledge button', async () => {
    await signIn(viewer, 'vera', veraPassword);
    await badgeShows(viewer, '2');
    assert.deepEqual(await viewer.locator('.app-nav a').evaluateAll((links) => links.map((a) => a.getAttribute('href'))),
      ['#/fleet', '#/alerts', '#/gateway', '#/releases', '#/rollouts']);
    await alertsLink(viewer).click();
    await firingRow(viewer, 'sensor-01').waitFor();
    await firingRow(viewer, 'sensor-02').waitFor();
    assert.equal(await viewer.locator('[data-testid=alert-acknowledge]').count(), 0);
    assert.equal(await viewer.locator('button', { hasText: 'Acknowledge' }).count(), 0);
    assert.equal((await firingRow(viewer, 'sensor-01').locator('td').allTextContents())[5], 'not yet');
    assert.equal((await firingRow(viewer, 'sensor-01').locator('td').allTextContents())[2],
      'temperature -10.5 °C (fires above -15 °C)');
    // Viewers see the rules too, without the Manage column.
    assert.deepEqual(await ruleCells(viewer, 'freezer_warm'), ['freezer_warm threshold', FREEZER_RULE, 'config file']);
    assert.deepEqual(await viewer.locator('[data-testid=alert-rules] th[scope=col]').allTextContents(), ['Rule', 'Condition', 'Source']);
    await screenshot(viewer, 'alerts-viewer');
  });

  step('the operator acknowledges an alert by keyboard and sees who did; the badge says so', async () => {
    const button = firingRow(operator, 'sensor-01').locator('[data-testid=alert-acknowledge]');
    assert.equal(await button.getAttribute('aria-label'), 'Acknowledge freezer_warm on sensor-01');
    await button.focus();
    await operator.keyboard.press('Enter');
    await operator.waitForSelector('[data-testid=alerts-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alerts-done]'), 'Acknowledged freezer_warm on sensor-01.');
    const row = firingRow(operator, 'sensor-01');
    assert.equal(await row.getAttribute('data-acknowledged'), 'true');
    assert.match(await row.locator('[data-testid=alert-acknowledged]').textContent(),
      /^by olaf, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // The button went with it: the focus is on what happened, not lost.
    assert.equal(await operator.evaluate(() => document.activeElement?.dataset.testid), 'alerts-done');
    // The unacknowledged one first now.
    const subjects = await operator.locator('[data-testid=alerts-firing] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.subject));
    assert.deepEqual(subjects, ['sensor-02', 'sensor-01']);
    assert.equal(await alertsLink(operator).getAttribute('aria-label'), 'Alerts, 2 alerts firing, 1 not acknowledged');
    assert.equal(await operator.textContent('[data-testid=alerts-firing-count]'), '(2, 1 not acknowledged)');
    await screenshot(operator, 'alerts-acknowledged');
    // As the gateway has it; the viewer's page follows by itself.
    const stored = (await alertsOf(admin, '?subject=sensor-01')).alerts[0];
    assert.equal(stored.acknowledged_by, 'olaf');
    await viewer.waitForFunction(() =>
      /^by olaf, /.test(document.querySelector('[data-testid=alerts-firing] tr[data-subject="sensor-01"] [data-testid=alert-acknowledged]')?.textContent ?? ''));
  });

  step('someone else acknowledged it first: the 409 is said clearly, with who', async () => {
    // Right after a reading of the page (it reads again 5 s later), the admin acknowledges the
    // other alert through the API; the operator's page still offers the button.
    const other = (await alertsOf(admin, '?subject=sensor-02&state=firing')).alerts[0];
    await operator.waitForResponse((r) => r.url().includes('/api/v1/alerts?state=resolved'), { timeout: 10_000 });
    const acknowledged = await install.request('POST', `/api/v1/alerts/${other.id}/acknowledge`, {
      headers: { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf },
    });
    assert.equal(acknowledged.status, 200, acknowledged.body);
    const answered = operator.waitForResponse((r) => r.url().endsWith(`/api/v1/alerts/${other.id}/acknowledge`));
    await firingRow(operator, 'sensor-02').locator('[data-testid=alert-acknowledge]').click();
    assert.equal((await answered).status(), 409);
    await operator.waitForSelector('[data-testid=alerts-refused]:not([hidden])');
    assert.match(await operator.textContent('[data-testid=alerts-refused]'),
      /^freezer_warm on sensor-02 was acknowledged already, by admin at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.$/);
    assert.equal(await operator.getAttribute('[data-testid=alerts-refused]', 'role'), 'alert');
    assert.match(await firingRow(operator, 'sensor-02').locator('[data-testid=alert-acknowledged]').textContent(), /^by admin, /);
    assert.equal(await operator.locator('[data-testid=alert-acknowledge]').count(), 0);
    // Every one acknowledged: the badge still counts them, in grey, and says so.
    assert.equal(await badge(operator).textContent(), '2');
    assert.match(await badge(operator).getAttribute('class'), /acknowledged/);
    assert.equal(await alertsLink(operator).getAttribute('aria-label'), 'Alerts, 2 alerts firing, all acknowledged');
    await screenshot(operator, 'alerts-acknowledged-already');
  });

  step('the operator silences a firing alert for 1 hour by keyboard: "Silenced until", the badge leaves it out', async () => {
    const row = firingRow(operator, 'sensor-01');
    const duration = operator.getByLabel('Silence freezer_warm on sensor-01 for');
    assert.deepEqual(await duration.locator('option').allTextContents(), ['1 hour', '8 hours', '24 hours', '7 days']);
    assert.equal(await row.locator('[data-testid=alert-silence-duration]').count(), 1);
    const button = row.getByRole('button', { name: 'Silence freezer_warm on sensor-01' });
    assert.equal(await button.textContent(), 'Silence');
    await duration.focus();
    await duration.selectOption({ label: '1 hour' });
    await button.focus();
    const asked = Date.now();
    const answered = operator.waitForResponse((r) => /\/api\/v1\/alerts\/\d+\/silence$/.test(r.url()));
    await operator.keyboard.press('Enter');
    const response = await answered;
    const answeredAt = Date.now();
    assert.equal(response.status(), 200, await response.text());
    const { until_ms: untilMs } = JSON.parse(response.request().postData());
    assert.ok(untilMs >= asked + 3_600_000 && untilMs <= answeredAt + 3_600_000, `until_ms ${untilMs} is an hour from the click`);
    const silence = await response.json();
    assert.equal(silence.until_ms, untilMs);
    assert.equal(silence.created_by, 'olaf');

    const until = await localMinute(untilMs);
    await operator.waitForSelector('[data-testid=alerts-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alerts-done]'), `Silenced freezer_warm on sensor-01 until ${until}.`);
    assert.equal(await row.getAttribute('data-silenced'), 'true');
    assert.equal(await row.locator('[data-testid=alert-silenced]').textContent(), `Silenced until ${until} by olaf`);
    assert.equal(await row.getByRole('button', { name: 'Lift silence on freezer_warm on sensor-01' }).textContent(), 'Lift silence');
    assert.equal(await row.locator('[data-testid=alert-silence]').count(), 0);
    // Its control went with it: the focus is on what happened.
    assert.equal(await operator.evaluate(() => document.activeElement?.dataset.testid), 'alerts-done');
    // Still firing and listed; the badge counts only the other one, and says so.
    await badgeShows(operator, '1');
    assert.equal(await alertsLink(operator).getAttribute('aria-label'), 'Alerts, 1 alert firing, acknowledged, plus 1 silenced');
    assert.equal(await operator.textContent('[data-testid=alerts-firing-count]'), '(2, 1 silenced)');
    // The Silences list follows.
    await silenceRow(operator, 'sensor-01').waitFor();
    assert.deepEqual(await silenceRow(operator, 'sensor-01').locator('td').allTextContents(),
      ['freezer_warm', 'sensor-01', until, 'olaf', '–', 'Lift']);
    await screenshot(operator, 'alerts-silenced');
    // As the gateway has it.
    const stored = (await alertsOf(admin, '?subject=sensor-01&state=firing')).alerts[0];
    assert.equal(stored.silence?.id, silence.id);
    assert.deepEqual((await silencesOf(admin)).map((s) => [s.rule, s.subject, s.created_by]), [['freezer_warm', 'sensor-01', 'olaf']]);
  });

  step('the viewer sees the silence, but no Silence or Lift silence button', async () => {
    const silenced = firingRow(viewer, 'sensor-01').locator('[data-testid=alert-silenced]');
    await silenced.waitFor();
    assert.match(await silenced.textContent(), /^Silenced until \d{4}-\d\d-\d\d \d\d:\d\d by olaf$/);
    assert.equal(await viewer.locator('[data-testid=alert-silence], [data-testid=alert-lift], select').count(), 0);
    assert.equal((await firingRow(viewer, 'sensor-02').locator('td').allTextContents())[6], 'not silenced');
    await badgeShows(viewer, '1');
  });

  step('the operator lifts the silence: the badge counts the alert again', async () => {
    const answered = operator.waitForResponse((r) => /\/api\/v1\/silences\/\d+$/.test(r.url()));
    await firingRow(operator, 'sensor-01').getByRole('button', { name: 'Lift silence on freezer_warm on sensor-01' }).press('Enter');
    assert.equal((await answered).status(), 204);
    await operator.waitForSelector('[data-testid=alerts-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alerts-done]'), 'Lifted the silence on freezer_warm on sensor-01.');
    const row = firingRow(operator, 'sensor-01');
    assert.equal(await row.getAttribute('data-silenced'), 'false');
    assert.equal(await row.locator('[data-testid=alert-silenced]').count(), 0);
    assert.equal(await row.getByRole('button', { name: 'Silence freezer_warm on sensor-01' }).count(), 1);
    await badgeShows(operator, '2');
    assert.equal(await alertsLink(operator).getAttribute('aria-label'), 'Alerts, 2 alerts firing, all acknowledged');
    assert.equal(await operator.textContent('[data-testid=alerts-firing-count]'), '(2, all acknowledged)');
    assert.deepEqual(await silencesOf(admin), []);
    assert.equal((await alertsOf(admin, '?subject=sensor-01&state=firing')).alerts[0].silence, null);
  });

  step('a silence with a comment, lifted by someone else first: the 404 is said clearly', async () => {
    const row = firingRow(operator, 'sensor-02');
    await operator.getByLabel('Silence freezer_warm on sensor-02 for').selectOption({ label: '8 hours' });
    await operator.getByLabel('Comment on silencing freezer_warm on sensor-02 (optional)').fill('defrosting');
    const silenced = operator.waitForResponse((r) => /\/api\/v1\/alerts\/\d+\/silence$/.test(r.url()));
    await row.getByRole('button', { name: 'Silence freezer_warm on sensor-02' }).click();
    const silence = await (await silenced).json();
    assert.equal(silence.comment, 'defrosting');
    assert.ok(Math.abs(silence.until_ms - Date.now() - 8 * 3_600_000) < 60_000, 'eight hours ahead');
    assert.equal(await row.locator('[data-testid=alert-silence-comment]').textContent(), 'defrosting');
    await badgeShows(operator, '1');
    // Right after a reading of the page, the admin lifts it through the API; the operator's page
    // still offers the button.
    await operator.waitForResponse((r) => r.url().includes('/api/v1/alerts?state=resolved'), { timeout: 10_000 });
    const lifted = await install.request('DELETE', `/api/v1/silences/${silence.id}`, {
      headers: { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf },
    });
    assert.equal(lifted.status, 204, lifted.body);
    const answered = operator.waitForResponse((r) => r.url().endsWith(`/api/v1/silences/${silence.id}`));
    await row.getByRole('button', { name: 'Lift silence on freezer_warm on sensor-02' }).click();
    assert.equal((await answered).status(), 404);
    await operator.waitForSelector('[data-testid=alerts-refused]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alerts-refused]'),
      'The silence on freezer_warm on sensor-02 is over already: it ended, or someone lifted it.');
    // Read again: not silenced, the control back, counted again.
    assert.equal(await row.getAttribute('data-silenced'), 'false');
    assert.equal(await row.getByRole('button', { name: 'Silence freezer_warm on sensor-02' }).count(), 1);
    await badgeShows(operator, '2');
    await screenshot(operator, 'alerts-silence-gone');
  });

  step('a reading back within the clear level resolves the alert into the history', async () => {
    await publish(sensor1, -18);
    const row = historyRow(operator, 'sensor-01');
    await row.waitFor({ timeout: BADGE_TIMEOUT });
    assert.equal(await firingRow(operator, 'sensor-01').count(), 0);
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], 'freezer_warm threshold');
    assert.equal(cells[1], 'sensor-01');
    assert.equal(cells[2], 'temperature -10.5 °C (fires above -15 °C)');
    assert.match(cells[3], /^condition cleared: temperature -18 °C \(clears at or below -17 °C\)$/);
    assert.match(cells[4], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(cells[5], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.ok(cells[5] >= cells[4], `ended ${cells[5]} after started ${cells[4]}`);
    assert.match(cells[6], /^(less than a minute|\d+ min)$/);
    assert.match(cells[7], /^by olaf, /);
    assert.equal(await operator.textContent('[data-testid=alerts-history-count]'), '1 resolved alert: every one the gateway keeps.');
    assert.equal(await operator.isHidden('[data-testid=alerts-older]'), true);
    await badgeShows(operator, '1');
    assert.equal(await alertsLink(operator).getAttribute('aria-label'), 'Alerts, 1 alert firing, acknowledged');
    await screenshot(operator, 'alerts-history');
    // The viewer's badge follows by itself, on another page.
    await viewer.click('.app-nav a[href="#/fleet"]');
    await badgeShows(viewer, '1');
  });

  step('on a phone every alert is a block of labelled lines, nothing wider than the screen', async () => {
    await operator.setViewportSize({ width: 375, height: 812 });
    try {
      const width = await operator.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `the page is ${width} px wide at 375 px`);
      const display = await firingRow(operator, 'sensor-02').evaluate((r) => getComputedStyle(r).display);
      assert.equal(display, 'block');
      await screenshot(operator, 'alerts-phone');
    } finally {
      await operator.setViewportSize({ width: 1280, height: 900 });
    }
  });

  step('the audit log has the acknowledgements, done and refused', async () => {
    const answer = await install.request('GET', '/api/v1/audit?before=end&limit=100', { headers: { Cookie: admin.cookie } });
    assert.equal(answer.status, 200, answer.body);
    const entries = JSON.parse(answer.body).entries.filter((e) => e.action === 'alert_acknowledge');
    const said = entries.map((e) => `${e.actor} ${e.result}`).sort();
    assert.deepEqual(said, ['admin ok', 'olaf denied', 'olaf ok']);
    // Read by the stored alerts too.
    await waitFor('the resolved alert in the API', async () => (await alertsOf(admin, '?state=resolved')).alerts.length === 1);
  });

  // ---- a silence set ahead of an alert, from the Rules section ---------------------------------

  const silencePosted = (page) => page.waitForResponse((r) => r.url().endsWith('/api/v1/silences') && r.request().method() === 'POST');

  step('the operator silences freezer_warm on a device not firing from its rule\'s row; a bad subject is refused', async () => {
    await alertsLink(operator).click();
    await operator.waitForSelector('[data-testid=silences-empty]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=silences-empty]'), 'No silences.');
    const opener = ruleRow(operator, 'freezer_warm').getByRole('button', { name: 'Silence rule freezer_warm on a subject' });
    await opener.click();
    const form = silenceForm(operator);
    await form.waitFor();
    assert.equal(await opener.getAttribute('aria-expanded'), 'true');
    assert.equal(await operator.evaluate(() => document.activeElement?.id), 'rule-silence-subject');
    // The rule's devices suggested; the durations of a firing alert's silence.
    assert.deepEqual(await form.locator('datalist option').evaluateAll((os) => os.map((o) => o.value)), ['sensor-01', 'sensor-02']);
    assert.deepEqual(await form.getByLabel('Silence for').locator('option').allTextContents(), ['1 hour', '8 hours', '24 hours', '7 days']);
    // A subject outside the gateway's grammar: its reason in the form, the field marked, what was typed kept.
    await operator.keyboard.type('bad id!');
    const refused = silencePosted(operator);
    await form.getByRole('button', { name: 'Silence', exact: true }).click();
    assert.equal((await refused).status(), 400);
    const message = form.locator('[data-testid=rule-silence-message]');
    await message.waitFor();
    assert.match(await message.textContent(), /^freezer_warm could not be silenced: "subject" is a device id/);
    assert.equal(await message.getAttribute('role'), 'alert');
    assert.equal(await operator.getAttribute('#rule-silence-subject', 'aria-invalid'), 'true');
    assert.equal(await operator.evaluate(() => document.activeElement?.id), 'rule-silence-subject');
    assert.equal(await form.getByLabel('Subject').inputValue(), 'bad id!');
    // sensor-01, whose alert resolved, for 24 hours with a comment; Enter sends it.
    await form.getByLabel('Subject').fill('sensor-01');
    await form.getByLabel('Silence for').selectOption({ label: '24 hours' });
    await form.getByLabel('Comment (optional)').fill('on the bench');
    const answered = silencePosted(operator);
    const asked = Date.now();
    await operator.keyboard.press('Enter');
    const response = await answered;
    assert.equal(response.status(), 200, await response.text());
    const { until_ms: untilMs, ...sent } = JSON.parse(response.request().postData());
    assert.deepEqual(sent, { rule: 'freezer_warm', subject: 'sensor-01', comment: 'on the bench' });
    assert.ok(Math.abs(untilMs - asked - 86_400_000) < 60_000, `until_ms ${untilMs} is 24 hours ahead`);
    const until = await localMinute(untilMs);
    await operator.waitForSelector('[data-testid=alert-rules-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alert-rules-done]'), `Silenced freezer_warm on sensor-01 until ${until}.`);
    assert.equal(await focusedTestId(operator), 'alert-rules-done', 'the form went: the focus is on what happened');
    assert.equal(await form.count(), 0);
    assert.equal(await opener.getAttribute('aria-expanded'), 'false');
    // In the Silences list, with who set it.
    await silenceRow(operator, 'sensor-01').waitFor();
    assert.deepEqual(await silenceRow(operator, 'sensor-01').locator('td').allTextContents(),
      ['freezer_warm', 'sensor-01', until, 'olaf', 'on the bench', 'Lift']);
    assert.deepEqual((await silencesOf(admin)).map((s) => [s.rule, s.subject, s.created_by, s.comment]),
      [['freezer_warm', 'sensor-01', 'olaf', 'on the bench']]);
    await screenshot(operator, 'alerts-silence-ahead');
  });

  step('on a phone the Silences list and the silence form fit; Cancel brings the focus back', async () => {
    await operator.setViewportSize({ width: 375, height: 812 });
    try {
      await ruleRow(operator, 'freezer_warm').getByRole('button', { name: 'Silence rule freezer_warm on a subject' }).click();
      await silenceForm(operator).waitFor();
      const width = await operator.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `the page is ${width} px wide at 375 px with the silence form`);
      await screenshot(operator, 'alerts-silence-phone');
      // By keyboard: after a full-page screenshot Chromium scrolls the focused field back into view
      // at the next mouse press, which would move Cancel from under a click.
      await silenceForm(operator).getByRole('button', { name: 'Cancel' }).press('Enter');
      assert.equal(await silenceForm(operator).count(), 0);
      assert.equal(await focusedTestId(operator), 'alert-rule-silence');
    } finally {
      await operator.setViewportSize({ width: 1280, height: 900 });
    }
  });

  step('the viewer sees the silence, without Lift or Silence…', async () => {
    await alertsLink(viewer).click();
    await silenceRow(viewer, 'sensor-01').waitFor();
    const cells = await silenceRow(viewer, 'sensor-01').locator('td').allTextContents();
    assert.equal(cells.length, 5);
    assert.match(cells[2], /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    assert.deepEqual([cells[0], cells[1], cells[3], cells[4]], ['freezer_warm', 'sensor-01', 'olaf', 'on the bench']);
    assert.equal(await viewer.locator('[data-testid=silences-section] button, [data-testid=alert-rule-silence]').count(), 0);
  });

  step('the operator lifts it from the list: "No silences.", for the viewer too', async () => {
    const answered = operator.waitForResponse((r) => /\/api\/v1\/silences\/\d+$/.test(r.url()));
    await silenceRow(operator, 'sensor-01').getByRole('button', { name: 'Lift the silence on freezer_warm on sensor-01' }).press('Enter');
    assert.equal((await answered).status(), 204);
    await operator.waitForSelector('[data-testid=silences-empty]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=silences-done]'), 'Lifted the silence on freezer_warm on sensor-01.');
    assert.equal(await focusedTestId(operator), 'silences-done');
    assert.equal(await silenceRow(operator, 'sensor-01').count(), 0);
    assert.deepEqual(await silencesOf(admin), []);
    await viewer.waitForSelector('[data-testid=silences-empty]:not([hidden])', { timeout: BADGE_TIMEOUT });
    // The viewer leaves: the rules below are read when the page opens again.
    await viewer.click('.app-nav a[href="#/fleet"]');
  });

  // ---- alert rules added, changed and removed from the page ------------------------------------

  const RULE = 'warm_02';
  const rulesOf = async (session) => {
    const answer = await install.request('GET', '/api/v1/alert-rules', { headers: { Cookie: session.cookie } });
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body);
  };
  const ruleForm = (page) => page.locator('[data-testid=alert-rule-form]');
  const SOURCE = (verb) => new RegExp(`^${verb} by olaf, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`);

  step('the operator adds a threshold rule through the form: its row, its sentence, who added it', async () => {
    await alertsLink(operator).click();
    await ruleRow(operator, 'freezer_warm').waitFor();
    await operator.getByRole('button', { name: 'Add rule' }).click();
    const form = ruleForm(operator);
    await form.waitFor();
    assert.equal(await form.getAttribute('aria-labelledby'), 'rule-form-title');
    assert.equal(await operator.textContent('#rule-form-title'), 'Add a rule');
    // The name field has the focus; every field is labelled, with its unit.
    assert.equal(await operator.evaluate(() => document.activeElement?.id), 'rule-form-name');
    await operator.getByLabel('Name', { exact: true }).fill(RULE);
    assert.equal(await operator.getByLabel('Kind').inputValue(), 'threshold');
    assert.equal(await operator.getByLabel('Quantity').inputValue(), 'temperature');
    assert.equal(await operator.getByLabel('Fires when a reading is').inputValue(), 'above');
    await operator.getByLabel('Level (°C)').fill('-13');
    assert.equal(await operator.getByLabel('Clears at (°C, optional)').inputValue(), '');
    assert.equal(await operator.getByLabel('Held for (minutes, optional)').inputValue(), '');
    await operator.getByLabel('these devices').check();
    await operator.getByLabel('Device ids').fill('sensor-02');
    const answered = operator.waitForResponse((r) => r.url().endsWith('/api/v1/alert-rules') && r.request().method() === 'POST');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const response = await answered;
    assert.equal(response.status(), 201, await response.text());
    assert.deepEqual(JSON.parse(response.request().postData()),
      { name: RULE, kind: 'threshold', quantity: 'temperature', above: -13, devices: ['sensor-02'] });
    await operator.waitForSelector('[data-testid=alert-rules-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alert-rules-done]'),
      `Added rule ${RULE}: temperature above -13 °C; device sensor-02.`);
    assert.equal(await focusedTestId(operator), 'alert-rules-done', 'the form went: the focus is on what happened');
    assert.equal(await form.count(), 0);
    // Its row, after the configured one, in a sentence like every other; who added it, in local time.
    const cells = await ruleCells(operator, RULE);
    assert.deepEqual(cells.slice(0, 2), [`${RULE} threshold`, 'temperature above -13 °C; device sensor-02']);
    assert.match(cells[2], SOURCE('added'));
    assert.deepEqual(await operator.locator('[data-testid=alert-rules] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.rule)),
      ['freezer_warm', RULE]);
    const row = ruleRow(operator, RULE);
    assert.equal(await row.getByRole('button', { name: `Change rule ${RULE}` }).textContent(), 'Change');
    assert.equal(await row.getByRole('button', { name: `Remove rule ${RULE}` }).textContent(), 'Remove');
    assert.match(await operator.textContent('[data-testid=alert-rules-note]'), /Added here: 1 of at most \d+\.$/);
    await screenshot(operator, 'alerts-rule-added');
    // As the gateway has it.
    const stored = await rulesOf(admin);
    assert.deepEqual(stored.rules.map((r) => r.name), ['freezer_warm', RULE]);
    assert.equal(stored.added[RULE].created_by, 'olaf');
    assert.equal(stored.added.freezer_warm, undefined);
  });

  step('the viewer sees the added rule, but no Add, Change or Remove', async () => {
    await alertsLink(viewer).click();
    const cells = await ruleCells(viewer, RULE);
    assert.deepEqual(cells.slice(0, 2), [`${RULE} threshold`, 'temperature above -13 °C; device sensor-02']);
    assert.match(cells[2], SOURCE('added'));
    assert.equal(cells.length, 3);
    assert.equal(await viewer.locator('[data-testid=alert-rules-section] button').count(), 0);
    assert.equal(await viewer.locator('[data-testid=alert-rule-add], [data-testid=alert-rule-change], [data-testid=alert-rule-remove]').count(), 0);
    assert.equal(await viewer.isHidden('[data-testid=alert-rules-note]'), true);
  });

  step('the operator changes its level through the same form; a reading fires it', async () => {
    await ruleRow(operator, RULE).getByRole('button', { name: `Change rule ${RULE}` }).click();
    const form = ruleForm(operator);
    await form.waitFor();
    assert.equal(await operator.textContent('#rule-form-title'), `Change rule ${RULE}`);
    // Prefilled; its name and kind are not fields.
    assert.equal(await form.locator('#rule-form-name, #rule-form-kind').count(), 0);
    assert.equal(await operator.getByLabel('Level (°C)').inputValue(), '-13');
    assert.equal(await operator.getByLabel('Device ids').inputValue(), 'sensor-02');
    assert.equal(await operator.getByLabel('these devices').isChecked(), true);
    // A level that is not a number is said before asking the gateway, the field marked.
    await operator.getByLabel('Level (°C)').fill('warm');
    await form.getByRole('button', { name: 'Save changes' }).click();
    assert.equal(await operator.textContent('[data-testid=rule-form-message]'), 'The level must be a number of °C, like -15 or 17.5.');
    assert.equal(await operator.getAttribute('#rule-form-level', 'aria-invalid'), 'true');
    assert.equal(await operator.evaluate(() => document.activeElement?.id), 'rule-form-level');
    await operator.getByLabel('Level (°C)').fill('-14');
    const answered = operator.waitForResponse((r) => r.url().endsWith(`/api/v1/alert-rules/${RULE}`) && r.request().method() === 'PUT');
    await form.getByRole('button', { name: 'Save changes' }).click();
    const response = await answered;
    assert.equal(response.status(), 200, await response.text());
    assert.deepEqual(JSON.parse(response.request().postData()),
      { name: RULE, kind: 'threshold', quantity: 'temperature', above: -14, devices: ['sensor-02'] });
    await operator.waitForSelector('[data-testid=alert-rules-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alert-rules-done]'),
      `Changed rule ${RULE}: temperature above -14 °C; device sensor-02.`);
    const cells = await ruleCells(operator, RULE);
    assert.equal(cells[1], 'temperature above -14 °C; device sensor-02');
    assert.match(cells[2], SOURCE('changed'));
    assert.equal((await rulesOf(admin)).rules.find((r) => r.name === RULE).above, -14);
    // At once on the gateway: sensor-02 at -12 °C is above -14 (and still above freezer_warm's -15).
    await publish(sensor2, -12);
    const fired = operator.locator(`[data-testid=alerts-firing] tr[data-rule="${RULE}"][data-subject="sensor-02"]`);
    await fired.waitFor({ timeout: BADGE_TIMEOUT });
    assert.equal((await fired.locator('td').allTextContents())[2], 'temperature -12 °C (fires above -14 °C)');
    await badgeShows(operator, '2');
    await screenshot(operator, 'alerts-rule-changed');
  });

  step('adding a rule with a taken name: the 409 is said in the form, what was typed stays', async () => {
    await operator.getByRole('button', { name: 'Add rule' }).click();
    await ruleForm(operator).waitFor();
    await operator.getByLabel('Name', { exact: true }).fill('freezer_warm');
    await operator.getByLabel('Kind').selectOption('device_offline');
    assert.equal(await operator.isHidden('#rule-form-level'), true, 'the threshold fields go with the kind');
    await operator.getByLabel('Fires after nothing received for (minutes, optional)').fill('15');
    const answered = operator.waitForResponse((r) => r.url().endsWith('/api/v1/alert-rules') && r.request().method() === 'POST');
    await ruleForm(operator).getByRole('button', { name: 'Add rule' }).click();
    const response = await answered;
    assert.equal(response.status(), 409);
    assert.deepEqual(JSON.parse(response.request().postData()), { name: 'freezer_warm', kind: 'device_offline', silent_for_s: 900 });
    const message = operator.locator('[data-testid=rule-form-message]');
    await message.waitFor();
    assert.equal(await message.textContent(), 'A rule named freezer_warm exists already. Choose another name.');
    assert.equal(await message.getAttribute('role'), 'alert');
    assert.equal(await operator.getByLabel('Name', { exact: true }).inputValue(), 'freezer_warm');
    assert.equal(await operator.getByLabel('Kind').inputValue(), 'device_offline');
    assert.equal(await operator.getByLabel('Fires after nothing received for (minutes, optional)').inputValue(), '15');
    assert.equal(await operator.getAttribute('#rule-form-name', 'aria-invalid'), 'true');
    assert.equal(await operator.evaluate(() => document.activeElement?.id), 'rule-form-name');
    await screenshot(operator, 'alerts-rule-exists');
    // Cancel: the form goes, nothing was added, the focus back on Add rule.
    await ruleForm(operator).getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await ruleForm(operator).count(), 0);
    assert.equal(await focusedTestId(operator), 'alert-rule-add');
    assert.deepEqual((await rulesOf(admin)).rules.map((r) => r.name), ['freezer_warm', RULE]);
  });

  step('the operator removes the rule after a confirmation, by keyboard: its row goes, its alert resolves', async () => {
    await ruleRow(operator, RULE).getByRole('button', { name: `Remove rule ${RULE}` }).focus();
    await operator.keyboard.press('Enter');
    const confirm = operator.getByRole('group', { name: `Remove ${RULE}` });
    await confirm.waitFor();
    assert.match(await confirm.textContent(), new RegExp(`^Remove rule ${RULE}\\? The gateway stops watching it at once`));
    // Cancel has the focus: Escape brings the button back.
    assert.equal(await operator.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await operator.keyboard.press('Escape');
    assert.equal(await operator.evaluate(() => document.activeElement?.getAttribute('aria-label')), `Remove rule ${RULE}`);
    await operator.keyboard.press('Enter');
    await confirm.waitFor();
    await operator.keyboard.press('Shift+Tab');
    assert.equal(await operator.evaluate(() => document.activeElement?.textContent), `Remove ${RULE}`);
    const answered = operator.waitForResponse((r) => r.url().endsWith(`/api/v1/alert-rules/${RULE}`) && r.request().method() === 'DELETE');
    await operator.keyboard.press('Enter');
    assert.equal((await answered).status(), 204);
    await operator.waitForSelector('[data-testid=alert-rules-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alert-rules-done]'), `Removed rule ${RULE}. Its firing alerts, if any, are resolved.`);
    assert.equal(await focusedTestId(operator), 'alert-rules-done');
    assert.equal(await ruleRow(operator, RULE).count(), 0);
    assert.deepEqual((await rulesOf(admin)).rules.map((r) => r.name), ['freezer_warm']);
    // Its alert resolved; the alerts were read again at once.
    const resolved = operator.locator(`[data-testid=alerts-history] tr[data-rule="${RULE}"][data-subject="sensor-02"]`);
    await resolved.waitFor({ timeout: BADGE_TIMEOUT });
    assert.equal((await resolved.locator('td').allTextContents())[3], 'rule removed');
    assert.equal(await operator.locator(`[data-testid=alerts-firing] tr[data-rule="${RULE}"]`).count(), 0);
    await badgeShows(operator, '1');
    await screenshot(operator, 'alerts-rule-removed');
  });

  step('on a phone the rule form fits the screen', async () => {
    await operator.setViewportSize({ width: 375, height: 812 });
    try {
      await operator.getByRole('button', { name: 'Add rule' }).click();
      await ruleForm(operator).waitFor();
      const width = await operator.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `the page is ${width} px wide at 375 px with the rule form`);
      await screenshot(operator, 'alerts-rule-form-phone');
      await ruleForm(operator).getByRole('button', { name: 'Cancel' }).click();
    } finally {
      await operator.setViewportSize({ width: 1280, height: 900 });
    }
  });

  // ---- rules of the other kinds through the form; open pages follow the rules -----------------

  const RATE = 'sign_ins';
  const RATE_RULE = { name: RATE, kind: 'event_rate', event: 'failed_sign_ins', above_per_minute: 10, clear_per_minute: 2, for_s: 120 };
  const RATE_SENTENCE = 'more than 10 failed sign-ins per minute for 2 min, clears at or below 2 per minute';
  const DISK = 'disk_low';
  const storedRule = async (name) => (await rulesOf(admin)).rules.find((r) => r.name === name);
  const sent = (page, method, path) => page.waitForResponse((r) => r.url().endsWith(path) && r.request().method() === method);

  step('the operator adds a gateway-wide event_rate rule through the form: its fields only, the rule stored as sent', async () => {
    // The viewer's page stays open on the alerts page from here on; a reload would lose this mark.
    await viewer.evaluate(() => { window.kelvinNotReloaded = true; });
    assert.equal(await ruleRow(viewer, RATE).count(), 0);
    await operator.getByRole('button', { name: 'Add rule' }).click();
    const form = ruleForm(operator);
    await form.waitFor();
    await operator.getByLabel('Name', { exact: true }).fill(RATE);
    await operator.getByLabel('Kind').selectOption('event_rate');
    // Its own fields, with their units and the gateway's defaults; neither a level nor devices.
    assert.equal(await operator.isHidden('#rule-form-level'), true);
    assert.equal(await form.getByRole('group', { name: 'Devices' }).count(), 0);
    const event = operator.getByLabel('Event', { exact: true });
    assert.deepEqual(await event.locator('option').allTextContents(), ['failed sign-ins', 'rejected readings and statuses',
      'refused HTTPS handshakes', 'broker exits', 'refused MQTT handshakes', 'ACL denials']);
    assert.equal(await event.inputValue(), 'failed_sign_ins');
    const rate = operator.getByLabel('Fires above (events per minute, optional)');
    assert.equal(await rate.getAttribute('placeholder'), '30');
    await rate.fill('10');
    await operator.getByLabel('Clears at (events per minute, optional)').fill('2');
    await operator.getByLabel('Held for (minutes, optional)').fill('2');
    const answered = sent(operator, 'POST', '/api/v1/alert-rules');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const response = await answered;
    assert.equal(response.status(), 201, await response.text());
    assert.deepEqual(JSON.parse(response.request().postData()), RATE_RULE);
    await operator.waitForSelector('[data-testid=alert-rules-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alert-rules-done]'), `Added rule ${RATE}: ${RATE_SENTENCE}.`);
    assert.deepEqual((await ruleCells(operator, RATE)).slice(0, 2), [`${RATE} event rate`, RATE_SENTENCE]);
    assert.deepEqual(await storedRule(RATE), RATE_RULE);
  });

  step('open pages read the rules again: the viewer\'s shows the new rule, the operator\'s open form keeps what was typed', async () => {
    // The operator changes the rule and is typing when the pages read the rules again.
    await ruleRow(operator, RATE).getByRole('button', { name: `Change rule ${RATE}` }).click();
    const form = ruleForm(operator);
    await form.waitFor();
    const event = operator.getByLabel('Event', { exact: true });
    const rate = operator.getByLabel('Fires above (events per minute, optional)');
    const clear = operator.getByLabel('Clears at (events per minute, optional)');
    assert.equal(await event.inputValue(), 'failed_sign_ins');
    assert.equal(await rate.inputValue(), '10');
    assert.equal(await clear.inputValue(), '2');
    assert.equal(await operator.getByLabel('Held for (minutes, optional)').inputValue(), '2');
    await rate.fill('');
    await rate.pressSequentially('12');
    // Meanwhile the admin adds a rule through the API.
    const halted = await install.request('POST', '/api/v1/alert-rules', {
      body: JSON.stringify({ name: 'halted', kind: 'rollout_halted' }),
      headers: { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf, 'Content-Type': 'application/json' },
    });
    assert.equal(halted.status, 201, halted.body);
    // Within one reading (every 15 s): the operator's rule on the viewer's page, unreloaded, and the
    // admin's on the operator's, below the open form.
    await Promise.all([ruleRow(viewer, RATE).waitFor({ timeout: RULES_TIMEOUT }),
      ruleRow(operator, 'halted').waitFor({ timeout: RULES_TIMEOUT })]);
    assert.equal(await viewer.evaluate(() => window.kelvinNotReloaded), true);
    const cells = await ruleCells(viewer, RATE);
    assert.deepEqual(cells.slice(0, 2), [`${RATE} event rate`, RATE_SENTENCE]);
    assert.match(cells[2], SOURCE('added'));
    assert.equal(cells.length, 3);
    assert.equal(await rate.inputValue(), '12');
    assert.equal(await operator.evaluate(() => document.activeElement?.id), 'rule-form-above_per_minute');
    assert.equal(await operator.textContent('#rule-form-title'), `Change rule ${RATE}`);
    // Saved: another event, the clear level left to the gateway (the level itself).
    await event.selectOption('https_handshake_failures');
    await clear.fill('');
    const answered = sent(operator, 'PUT', `/api/v1/alert-rules/${RATE}`);
    await form.getByRole('button', { name: 'Save changes' }).click();
    const response = await answered;
    assert.equal(response.status(), 200, await response.text());
    const changed = { name: RATE, kind: 'event_rate', event: 'https_handshake_failures', above_per_minute: 12, for_s: 120 };
    assert.deepEqual(JSON.parse(response.request().postData()), changed);
    await operator.waitForSelector('[data-testid=alert-rules-done]:not([hidden])');
    assert.equal(await operator.textContent('[data-testid=alert-rules-done]'),
      `Changed rule ${RATE}: more than 12 refused HTTPS handshakes per minute for 2 min.`);
    assert.deepEqual(await storedRule(RATE), changed);
  });

  step('a disk_space rule typed in GiB and MiB is sent in whole bytes; Change shows the same bytes', async () => {
    await operator.getByRole('button', { name: 'Add rule' }).click();
    const form = ruleForm(operator);
    await form.waitFor();
    await operator.getByLabel('Name', { exact: true }).fill(DISK);
    await operator.getByLabel('Kind').selectOption('disk_space');
    assert.equal(await form.getByRole('group', { name: 'Devices' }).count(), 0);
    await operator.getByLabel('Fires below (GiB)').fill('0.5');
    // The form keeps every kind's fields, the others hidden: export_lag's clear level has a unit too.
    await operator.getByTestId('rule-form-clear_bytes-unit').selectOption('MiB');
    await operator.getByLabel('Clears at (MiB, optional)').fill('600');
    const answered = sent(operator, 'POST', '/api/v1/alert-rules');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const response = await answered;
    assert.equal(response.status(), 201, await response.text());
    const rule = { name: DISK, kind: 'disk_space', below_bytes: 536_870_912, clear_bytes: 629_145_600 };
    assert.deepEqual(JSON.parse(response.request().postData()), rule);
    assert.deepEqual(await storedRule(DISK), rule);
    assert.deepEqual((await ruleCells(operator, DISK)).slice(0, 2),
      [`${DISK} disk space`, "less than 512 MiB free on the gateway's disk, clears at 600 MiB free or more"]);
    await ruleRow(operator, DISK).getByRole('button', { name: `Change rule ${DISK}` }).click();
    await form.waitFor();
    assert.equal(await operator.getByLabel('Fires below (MiB)').inputValue(), '512');
    assert.equal(await operator.getByLabel('Clears at (MiB, optional)').inputValue(), '600');
    await screenshot(operator, 'alerts-rule-disk-space');
    await form.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await form.count(), 0);
  });

  step('an export_lag rule typed in minutes and seconds is sent in seconds', async () => {
    const LAG = 'export_stuck';
    await operator.getByRole('button', { name: 'Add rule' }).click();
    const form = ruleForm(operator);
    await form.waitFor();
    await operator.getByLabel('Name', { exact: true }).fill(LAG);
    await operator.getByLabel('Kind').selectOption('export_lag');
    await operator.getByLabel('Fires when the oldest has waited over (minutes, optional)').fill('20');
    await operator.getByTestId('rule-form-clear_s-unit').selectOption('s');
    await operator.getByLabel('Clears at (seconds, optional)').fill('90');
    const answered = sent(operator, 'POST', '/api/v1/alert-rules');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const response = await answered;
    assert.equal(response.status(), 201, await response.text());
    const rule = { name: LAG, kind: 'export_lag', above_s: 1200, clear_s: 90 };
    assert.deepEqual(JSON.parse(response.request().postData()), rule);
    assert.deepEqual(await storedRule(LAG), rule);
    assert.deepEqual((await ruleCells(operator, LAG)).slice(0, 2),
      [`${LAG} export lag`, 'a reading waiting for InfluxDB for more than 20 min, clears once it waited 1 min 30 s or less']);
  });

  step('no page threw and nothing broke the Content-Security-Policy', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspMessages, []);
    for (const page of [operator, viewer]) assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  });
});
