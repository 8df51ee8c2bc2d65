// The dashboard's pure logic (src/fleet_model.ts, src/format.ts, src/release_check.ts, the geometry of
// src/sparkline.ts, the chart's lone points of src/chart_points.ts; chartData of src/chart.ts is covered by the browser test): sorting, filtering and formatting, and how long sorting and
// filtering 10,000 devices takes (printed). The TypeScript is bundled with esbuild for Node.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { build } from 'esbuild';

import { webDir } from './support/installation.mjs';

let model;
let format;
let sparkline;
let chartPoints;
let releaseCheck;
let tmp;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kelvin-web-model-'));
  const load = async (name) => {
    const outfile = path.join(tmp, `${name}.mjs`);
    await build({
      entryPoints: [path.join(webDir, 'src', `${name}.ts`)],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      outfile,
      logLevel: 'error',
    });
    return import(pathToFileURL(outfile).href);
  };
  model = await load('fleet_model');
  format = await load('format');
  sparkline = await load('sparkline');
  chartPoints = await load('chart_points');
  releaseCheck = await load('release_check');
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const NOW = Date.parse('2026-11-22T10:50:00Z');

function device(id, { state = 'online', t = 20, rh = 50, ageS = 10, firmware = '1.0.0', expires = '2028-11-21T09:58:11Z', cert = 'valid' } = {}) {
  return {
    id,
    state,
    last_reading: t === null ? null : { seq: 1, ts: '', ts_ms: NOW - ageS * 1000, temperature: t, humidity: rh },
    firmware,
    certificate: { state: cert, serial: cert === 'none' ? null : 'AB', expires: cert === 'none' ? null : expires },
  };
}

describe('fleet model', () => {
  test('sorts ids naturally, each column both ways, ties by id and missing values last', () => {
    const rows = [
      device('sensor-10', { t: 19 }),
      device('sensor-2', { t: 25, state: 'offline' }),
      device('sensor-1', { t: null, state: 'never seen', firmware: null, cert: 'none' }),
      device('greenhouse', { t: 19, state: 'unknown', ageS: 3600 }),
    ].map(model.fleetRow);
    const ids = (key, descending = false) => model.visibleIds(rows, '', { key, descending });
    assert.deepEqual(ids('id'), ['greenhouse', 'sensor-1', 'sensor-2', 'sensor-10']);
    assert.deepEqual(ids('id', true), ['sensor-10', 'sensor-2', 'sensor-1', 'greenhouse']);
    assert.deepEqual(ids('temperature'), ['greenhouse', 'sensor-10', 'sensor-2', 'sensor-1']);
    assert.deepEqual(ids('temperature', true), ['sensor-2', 'greenhouse', 'sensor-10', 'sensor-1']);
    assert.deepEqual(ids('state'), ['sensor-10', 'greenhouse', 'sensor-2', 'sensor-1']);
    // Ascending age: the most recent reading first (equal ages by id); never read last either way.
    assert.deepEqual(ids('age'), ['sensor-2', 'sensor-10', 'greenhouse', 'sensor-1']);
    assert.equal(ids('age', true).at(-1), 'sensor-1');
    assert.equal(ids('certificate').at(-1), 'sensor-1');
    assert.equal(ids('firmware', true).at(-1), 'sensor-1');
  });

  test('filters on every word in id, state and firmware, ignoring case', () => {
    const rows = [
      device('greenhouse-1', { firmware: '1.2.0' }),
      device('greenhouse-2', { state: 'offline', firmware: '1.3.0' }),
      device('cellar-1', { state: 'offline', firmware: '1.2.0' }),
    ].map(model.fleetRow);
    const ids = (filter) => model.visibleIds(rows, filter, { key: 'id', descending: false });
    assert.deepEqual(ids('GREENHOUSE'), ['greenhouse-1', 'greenhouse-2']);
    assert.deepEqual(ids('offline 1.2'), ['cellar-1']);
    assert.deepEqual(ids('  '), ['cellar-1', 'greenhouse-1', 'greenhouse-2']);
    assert.deepEqual(ids('nothing'), []);
  });

  test('finds devices by their labels, and label:NAME only by a whole label', () => {
    const rows = [
      { ...device('sensor-1'), labels: ['greenhouse', 'west'] },
      { ...device('sensor-2'), labels: ['greenhouse-2'] },
      device('sensor-3'),
    ].map(model.fleetRow);
    const ids = (filter) => model.visibleIds(rows, filter, { key: 'id', descending: false });
    assert.deepEqual(ids('greenhouse'), ['sensor-1', 'sensor-2']);
    assert.deepEqual(ids('label:greenhouse'), ['sensor-1']);
    assert.deepEqual(ids('label:GREENHOUSE-2'), ['sensor-2']);
    assert.deepEqual(ids('label:green'), []);
    assert.deepEqual(ids('label:west sensor-1'), ['sensor-1']);
    for (const descending of [false, true]) {
      const byLabels = model.visibleIds(rows, '', { key: 'labels', descending });
      assert.equal(byLabels.at(-1), 'sensor-3', 'no labels sorts last');
    }
  });

  // Timing is printed, not asserted (docs/development.md: timing figures belong to benchmarks).
  test('sorts and filters 10,000 devices, printing how long it took', () => {
    const devices = [];
    for (let i = 0; i < 10_000; i++) {
      devices.push(device(`sensor-${i}`, { t: (i * 7919) % 400 / 10, state: i % 5 ? 'online' : 'offline', ageS: i % 600 }));
    }
    const started = performance.now();
    const rows = devices.map(model.fleetRow);
    for (const key of ['id', 'state', 'temperature', 'humidity', 'age', 'firmware', 'certificate']) {
      model.visibleIds(rows, '', { key, descending: false });
      model.visibleIds(rows, 'sensor-1', { key, descending: true });
    }
    const perSort = (performance.now() - started) / 14;
    console.log(`10,000 devices: ${perSort.toFixed(1)} ms per sort or filter`);
    assert.equal(model.visibleIds(rows, 'sensor-9999', { key: 'id', descending: false }).length, 1);
  });
});

describe('live events applied to a device', () => {
  const device = {
    id: 'sensor-01', state: 'never seen', firmware: null, dropped: null, last_seen_ms: null,
    last_reading: null, certificate: { state: 'valid', serial: 'AB', expires: '2030-01-01T00:00:00Z' },
  };
  const reading = (seq, tsMs, temperature) =>
    ({ device: 'sensor-01', seq, ts: new Date(tsMs).toISOString(), ts_ms: tsMs, temperature, humidity: 40 });

  test('a newer reading becomes the last one; an older one (a resend) does not', () => {
    const first = model.withLiveReading(device, reading(2, 2_000_000, 21.5));
    assert.deepEqual(first.last_reading, { seq: 2, ts: new Date(2_000_000).toISOString(), ts_ms: 2_000_000, temperature: 21.5, humidity: 40 });
    assert.equal(first.state, 'unknown', 'a device that sent a reading has been seen');
    assert.ok(first.last_seen_ms > 0);
    const resend = model.withLiveReading(first, reading(1, 1_000_000, 19));
    assert.equal(resend.last_reading.seq, 2);
    assert.equal(model.fleetRow(resend).keys.temperature, 21.5);
    assert.equal(device.last_reading, null, 'the device given is not changed');
  });

  test('a status sets the state, firmware and drops, and keeps the state of a reading after it', () => {
    const online = model.withLiveStatus(device, { device: 'sensor-01', state: 'online', firmware: '1.4.2', dropped: 3, at: '', at_ms: 5_000 });
    assert.equal(online.state, 'online');
    assert.equal(online.firmware, '1.4.2');
    assert.equal(online.dropped, 3);
    assert.equal(online.last_seen_ms, 5_000);
    assert.equal(model.withLiveReading(online, reading(1, 6_000, 20)).state, 'online');
    assert.equal(model.fleetRow(online).search, 'sensor-01 online 1.4.2');
  });

  test('a status with a release check sets it; the last will keeps the release check, firmware and drops shown', () => {
    const status = { device: 'sensor-01', state: 'online', firmware: '1.4.2', dropped: 0, at: '', at_ms: 5_000 };
    const expired = model.withLiveStatus(device, { ...status, release_check: 'timestamp_expired' });
    assert.equal(expired.release_check, 'timestamp_expired');
    const offline = model.withLiveStatus({ ...expired, dropped: 7 },
      { ...status, state: 'offline', firmware: null, dropped: 0, release_check: null });
    assert.equal(offline.release_check, 'timestamp_expired');
    assert.equal(offline.state, 'offline');
    assert.equal(offline.firmware, '1.4.2', 'the last will carries no firmware: the one shown stays');
    assert.equal(offline.dropped, 7, 'nor a drop count');
    assert.equal(model.withLiveStatus(offline, status).release_check, 'timestamp_expired', 'from an older gateway');
    assert.equal(model.withLiveStatus(offline, { ...status, release_check: 'current' }).release_check, 'current');
  });
});

describe('format', () => {
  test('ages', () => {
    assert.equal(format.formatAge(null, NOW), '');
    assert.equal(format.formatAge(NOW - 2000, NOW), 'just now');
    assert.equal(format.formatAge(NOW - 42_000, NOW), '42 s ago');
    assert.equal(format.formatAge(NOW - 5 * 60_000, NOW), '5 min ago');
    assert.equal(format.formatAge(NOW - 3 * 3_600_000, NOW), '3 h ago');
    assert.equal(format.formatAge(NOW - 3 * 86_400_000, NOW), '3 d ago');
    assert.equal(format.formatAge(NOW + 60_000, NOW), 'in the future');
  });

  test('values', () => {
    assert.equal(format.formatTemperature(21.456), '21.5 °C');
    assert.equal(format.formatTemperature(null), '–');
    assert.equal(format.formatHumidity(54.1), '54 %RH');
    assert.equal(format.formatHumidity(4.25), '4.3 %RH');
    assert.equal(format.formatHumidity(undefined), '–');
    assert.equal(format.groupSecret('JBSWY3DPEHPK3PXPJBSW'), 'JBSW Y3DP EHPK 3PXP JBSW');
  });

  test('certificates', () => {
    const day = 86_400_000;
    const iso = (ms) => new Date(ms).toISOString();
    assert.deepEqual(format.summariseCertificate(null, NOW), { text: 'none', level: 'none', expiresMs: null });
    assert.equal(format.summariseCertificate({ state: 'valid', expires: iso(NOW + 400 * day) }, NOW).text, 'valid, 400 d left');
    const soon = format.summariseCertificate({ state: 'valid', expires: iso(NOW + 12 * day + 1000) }, NOW);
    assert.equal(soon.text, 'expires in 12 d');
    assert.equal(soon.level, 'warn');
    assert.equal(format.summariseCertificate({ state: 'revoked', expires: iso(NOW) }, NOW).level, 'bad');
    assert.equal(format.summariseCertificate({ state: 'expired', expires: iso(NOW - day) }, NOW).text, 'expired');
  });
});

describe('release check', () => {
  test('current is said in words; not reported is neither good nor bad', () => {
    assert.deepEqual(releaseCheck.summariseReleaseCheck('current'), { text: 'current (signed timestamp checked)', level: 'ok' });
    for (const missing of [null, undefined, '']) {
      assert.deepEqual(releaseCheck.summariseReleaseCheck(missing), { text: 'not reported', level: 'none' });
    }
  });

  test('every other code the protocol lists is a warning sentence that says what to do', () => {
    const expired = releaseCheck.summariseReleaseCheck('timestamp_expired');
    assert.equal(expired.level, 'warn');
    assert.equal(expired.text,
      'The newest release timestamp this gateway serves has expired: the device cannot tell whether updates are withheld. ' +
      'Sign a new timestamp (kelvinctl release timestamp) and publish it.');
    const texts = new Set();
    for (const code of ['timestamp_expired', 'timestamp_rolled_back', 'timestamp_missing', 'timestamp_invalid', 'clock_unknown']) {
      const summary = releaseCheck.summariseReleaseCheck(code);
      assert.equal(summary.level, 'warn', code);
      assert.match(summary.text, /^[A-Z].{40,}\.$/, `${code}: a sentence, not the code`);
      texts.add(summary.text);
    }
    assert.equal(texts.size, 5, 'each code its own sentence');
    assert.match(releaseCheck.summariseReleaseCheck('timestamp_rolled_back').text, /older than one the device saw before/);
    assert.match(releaseCheck.summariseReleaseCheck('timestamp_missing').text, /serves no release timestamp/);
    assert.match(releaseCheck.summariseReleaseCheck('timestamp_invalid').text, /not signed by the release key/);
    assert.match(releaseCheck.summariseReleaseCheck('clock_unknown').text, /no trustworthy time/);
  });

  test('a code this dashboard does not know is shown as the code, as a warning', () => {
    assert.deepEqual(releaseCheck.summariseReleaseCheck('some_future_code'), { text: 'some_future_code', level: 'warn' });
    assert.deepEqual(releaseCheck.summariseReleaseCheck('constructor'), { text: 'constructor', level: 'warn' });
  });
});

describe('sparkline', () => {
  // Path data as [command, x, y] steps ('h0' as ['h']).
  const steps = (path) => [...path.matchAll(/([MLh])([-\d.]*)\s?([-\d.]*)/g)].map(([, c, x, y]) => (c === 'h' ? ['h'] : [c, Number(x), Number(y)]));

  test('spans the box: the oldest hour at the left, the newest at the right, the minimum at the bottom', () => {
    const shape = sparkline.sparklineShape([10, 20, 15]);
    assert.deepEqual({ min: shape.min, max: shape.max, last: shape.last, hours: shape.hours }, { min: 10, max: 20, last: 15, hours: 3 });
    const [first, middle, last] = steps(shape.path);
    assert.deepEqual(first, ['M', 0, sparkline.SPARKLINE_HEIGHT - 3]);
    assert.deepEqual(middle, ['L', sparkline.SPARKLINE_WIDTH / 2, 3]);
    assert.deepEqual(last, ['L', sparkline.SPARKLINE_WIDTH, sparkline.SPARKLINE_HEIGHT / 2]);
  });

  test('an hour without readings breaks the line; a lone hour is a dot', () => {
    const shape = sparkline.sparklineShape([1, 2, null, 3, null, null, 2]);
    assert.deepEqual(steps(shape.path).map((step) => step[0]), ['M', 'L', 'M', 'h', 'M', 'h']);
    assert.equal(shape.hours, 4);
    assert.equal(shape.last, 2);
  });

  test('a steady value is a level line in the middle; nothing to draw is null', () => {
    const flat = steps(sparkline.sparklineShape([null, 21.5, 21.5]).path);
    assert.deepEqual(flat.map((step) => step[2]), [sparkline.SPARKLINE_HEIGHT / 2, sparkline.SPARKLINE_HEIGHT / 2]);
    assert.deepEqual(steps(sparkline.sparklineShape([7]).path), [['M', sparkline.SPARKLINE_WIDTH / 2, sparkline.SPARKLINE_HEIGHT / 2], ['h']]);
    assert.equal(sparkline.sparklineShape([]), null);
    assert.equal(sparkline.sparklineShape([null, null]), null);
    assert.equal(sparkline.sparklineShape([Number.NaN, 'x', undefined]), null, 'not numbers: nothing');
  });
});

describe('chart points', () => {
  test('a value with no neighbour is drawn as a dot; one on a line is not', () => {
    assert.deepEqual(chartPoints.isolatedPoints([null, 20, null, 21, 22, null, undefined, 23]), [1, 7]);
    assert.deepEqual(chartPoints.isolatedPoints([5]), [0]);
    assert.deepEqual(chartPoints.isolatedPoints([5, 6]), []);
    assert.deepEqual(chartPoints.isolatedPoints([null, null]), []);
    assert.deepEqual(chartPoints.isolatedPoints([]), []);
  });
});
