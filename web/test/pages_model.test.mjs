// The pure logic of the users, audit, gateway and account pages: the users table's model
// (src/users_model.ts), the audit log's rows, filter and newest-first reading (src/audit_model.ts,
// against an in-memory log that answers like GET /api/v1/audit), the gateway status in sections
// (src/gateway_model.ts), the releases' order and sizes (src/releases_model.ts), the rollouts' progress bars, states, commands and start form (src/rollouts_model.ts), the new formatting (src/format.ts) and the messages for refused changes
// (src/messages.ts). Bundled for Node with esbuild (support/bundle.mjs).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadSources } from './support/bundle.mjs';

// Local times below are Berlin's; Node reads TZ when a date is first formatted.
process.env.TZ = 'Europe/Berlin';

let m;
let bundle;

before(async () => {
  bundle = await loadSources(['api', 'format', 'messages', 'users_model', 'audit_model', 'gateway_model', 'releases_model', 'rollouts_model']);
  m = bundle.module;
});

after(async () => {
  await bundle?.remove();
});

const T = Date.parse('2026-11-22T10:49:32Z'); // 11:49:32 in Berlin

describe('format', () => {
  test('local date and time to the second, in the browser time zone', () => {
    assert.equal(m.formatLocalDateTime(T), '2026-11-22 11:49:32');
    assert.equal(m.formatLocalDateTime(Date.parse('2026-07-01T22:05:09Z')), '2026-07-02 00:05:09');
    assert.equal(m.formatLocalDateTime(null), '–');
    assert.equal(m.formatLocalDateTime(Number.NaN), '–');
  });

  test('durations as precisely as matters', () => {
    assert.equal(m.formatDuration(23), '23 ms');
    assert.equal(m.formatDuration(1234), '1.2 s');
    assert.equal(m.formatDuration(53_900), '53 s');
    assert.equal(m.formatDuration(12 * 60_000 + 5000), '12 min');
    assert.equal(m.formatDuration(5 * 3_600_000), '5 h');
    assert.equal(m.formatDuration(3 * 86_400_000), '3 d');
    assert.equal(m.formatDuration(-1), '–');
    assert.equal(m.formatDuration(undefined), '–');
  });

  test('rates from two readings of a counter', () => {
    assert.equal(m.formatRate(100, 110, 4000), '2.5/s');
    assert.equal(m.formatRate(0, 6000, 5000), '1,200/s');
    assert.equal(m.formatRate(null, 10, 5000), '');
    assert.equal(m.formatRate(10, 5, 5000), '', 'a counter that went down: the gateway restarted');
    assert.equal(m.formatRate(10, 20, 0), '');
  });
});

describe('users table', () => {
  const users = [
    { name: 'vera', role: 'viewer', second_factor_enrolled: false, recovery_codes_left: 0, created_ms: T, password_changed_ms: T + 60_000 },
    { name: 'admin', role: 'admin', second_factor_enrolled: true, recovery_codes_left: 10, created_ms: T - 86_400_000, password_changed_ms: T },
    { name: 'olaf', role: 'operator', second_factor_enrolled: true, recovery_codes_left: 1, created_ms: T, password_changed_ms: T },
    { name: 'anna', role: 'admin', second_factor_enrolled: true, recovery_codes_left: 0, created_ms: T, password_changed_ms: T },
  ];

  test('rows by name, with the signed-in user marked and the dates in local time', () => {
    const rows = m.userRows(users, 'olaf');
    assert.deepEqual(rows.map((r) => r.name), ['admin', 'anna', 'olaf', 'vera']);
    assert.deepEqual(rows.map((r) => r.isMe), [false, false, true, false]);
    const vera = rows[3];
    assert.equal(vera.role, 'viewer');
    assert.equal(vera.created, '2026-11-22 11:49:32');
    assert.equal(vera.passwordChanged, '2026-11-22 11:50:32');
  });

  test('second factor: yes with the recovery codes left, flagged when few or none', () => {
    const byName = Object.fromEntries(m.userRows(users, '').map((r) => [r.name, r]));
    assert.deepEqual([byName.admin.secondFactor, byName.admin.secondFactorLevel], ['yes, 10 recovery codes left', 'ok']);
    assert.deepEqual([byName.olaf.secondFactor, byName.olaf.secondFactorLevel], ['yes, 1 recovery code left', 'warn']);
    assert.deepEqual([byName.anna.secondFactor, byName.anna.secondFactorLevel], ['yes, no recovery codes left', 'warn']);
    assert.deepEqual([byName.vera.secondFactor, byName.vera.secondFactorLevel], ['no', 'none']);
  });

  test('who lacks a second factor, said as a short list', () => {
    assert.deepEqual(m.usersWithoutSecondFactor(users), ['vera']);
    assert.equal(m.listNames([]), '');
    assert.equal(m.listNames(['vera']), 'vera');
    assert.equal(m.listNames(['vera', 'olaf', 'anna']), 'vera, olaf and anna');
    assert.equal(m.listNames(['a', 'b', 'c', 'd', 'e', 'f', 'g'], 5), 'a, b, c, d, e and 2 others');
  });
});

describe('messages for refused changes', () => {
  const error = (status, code, message = '') => new m.ApiError(status, code, message);

  test('each 409 says its own reason', () => {
    assert.equal(m.userActionMessage('remove', error(409, 'conflict'), { name: 'admin' }),
      'admin is the last admin: there must always be one. Make another user admin first.');
    assert.match(m.userActionMessage('role', error(409, 'conflict'), { name: 'admin', currentRole: 'admin', newRole: 'viewer' }),
      /admin is the last admin/);
    assert.match(m.userActionMessage('role', error(409, 'conflict'), { name: 'vera', currentRole: 'viewer', newRole: 'operator' }),
      /vera has the role operator already/);
    assert.equal(m.userActionMessage('second_factor', error(409, 'conflict'), { name: 'vera' }),
      'vera has no second factor: there is nothing to reset.');
  });

  test('adding: a taken name, a malformed name', () => {
    assert.equal(m.userActionMessage('add', error(409, 'user_exists'), { name: 'vera' }),
      'There is a user named vera already. Choose another name.');
    assert.match(m.userActionMessage('add', error(400, 'invalid_request', 'a user name is ...'), { name: 'Vera Lynn' }),
      /^"Vera Lynn" cannot be a user name: use 1 to 64 characters/);
    assert.match(m.userActionMessage('remove', error(404, 'user_not_found'), { name: 'vera' }), /no user vera any more/);
    assert.match(m.userActionMessage('add', error(0, 'network'), { name: 'vera' }), /cannot be reached/);
  });

  test('the admin-only notice and the password change', () => {
    assert.equal(m.adminOnlyMessage('vera', 'viewer'),
      'This page needs the admin role. You are signed in as vera, with the role viewer.');
    assert.equal(m.passwordChangeMessage(error(403, 'bad_credentials')), 'The current password is wrong. Nothing changed.');
    assert.equal(m.passwordChangeMessage(error(400, 'invalid_request', 'a password must be at least 12 characters long')),
      'The new password is not allowed: a password must be at least 12 characters long. Nothing changed.');
  });
});

// An audit log in memory answering like GET /api/v1/audit: ids 1..n (minus `gaps`), newest first
// before an id (or 'end'), or oldest first after one, at most `limit`. Counts the requests.
function memoryLog(n, gaps = new Set()) {
  const entries = [];
  for (let id = 1; id <= n; id++) {
    if (gaps.has(id)) continue;
    entries.push({ id, at_ms: T + id * 1000, actor: id % 3 ? 'admin' : 'kelvinctl', address: '192.0.2.10', action: id % 2 ? 'login' : 'user_role', target: 'vera', result: id % 5 ? 'ok' : 'denied', detail: `entry ${id}` });
  }
  const log = {
    requests: 0,
    entries,
    fetch: async (query) => {
      log.requests++;
      const { limit } = query;
      assert.ok(Number.isInteger(limit) && limit >= 1 && limit <= 1000, `limit=${limit}`);
      assert.ok(('before' in query) !== ('after' in query), JSON.stringify(query));
      if ('after' in query) {
        assert.ok(Number.isInteger(query.after) && query.after >= 0, `after=${query.after}`);
        return entries.filter((e) => e.id > query.after).slice(0, limit);
      }
      const before = query.before === 'end' ? Infinity : query.before;
      assert.ok(before === Infinity || (Number.isInteger(before) && before >= 1), `before=${query.before}`);
      return entries.filter((e) => e.id < before).reverse().slice(0, limit);
    },
  };
  return log;
}

describe('audit log', () => {
  test('rows read as actions, results flagged, times local', () => {
    const row = m.auditRow({ id: 7, at: '2026-11-22T10:49:32Z', at_ms: T, actor: 'admin', address: '192.0.2.10', action: 'user_role', target: 'vera', result: 'ok', detail: 'viewer -> operator' });
    assert.equal(row.when, '2026-11-22 11:49:32');
    assert.equal(row.what, 'Role changed');
    assert.equal(row.resultLevel, 'ok');
    assert.equal(m.auditRow({ ...row, action: 'login', result: 'failed', at_ms: T }).resultLevel, 'bad');
    assert.equal(m.auditRow({ ...row, action: 'permission_denied', result: 'denied', at_ms: T }).what, 'Refused: role too low');
    assert.equal(m.auditRow({ ...row, action: 'something_new', at_ms: T }).what, 'something_new', 'an action of a later gateway as it is');
    for (const action of ['login', 'logout', 'permission_denied', 'password_change', 'password_set', 'totp_enrol_begin', 'totp_enrol', 'totp_reset', 'user_add', 'user_remove', 'user_role', 'setting', 'device_label', 'alert_acknowledge']) {
      assert.ok(m.AUDIT_ACTIONS[action], `docs/api.md's action ${action} has a label`);
    }
  });

  test('the filter: every word anywhere, and the result', () => {
    const rows = memoryLog(20).entries.map(m.auditRow);
    assert.equal(m.filterAudit(rows, '', '').length, 20);
    assert.deepEqual(m.filterAudit(rows, '', 'denied').map((r) => r.id), [5, 10, 15, 20]);
    assert.deepEqual(m.filterAudit(rows, '', 'problems').map((r) => r.id), [5, 10, 15, 20]);
    assert.deepEqual(m.filterAudit(rows, 'ADMIN role changed', '').map((r) => r.id), [2, 4, 8, 10, 14, 16, 20]);
    assert.deepEqual(m.filterAudit(rows, 'sign-in KELVINCTL', 'ok').map((r) => r.id), [3, 9]);
    assert.deepEqual(m.filterAudit(rows, 'entry 17', '').map((r) => r.id), [17]);
    assert.deepEqual(m.filterAudit(rows, 'nothing like it', ''), []);
  });

  test('a short log takes one request and is read whole', async () => {
    const source = memoryLog(150);
    const log = new m.AuditLog(source.fetch);
    await log.loadNewest();
    assert.equal(source.requests, 1);
    assert.equal(log.size, 150);
    assert.equal(log.hasOlder, false);
    assert.deepEqual(log.entries().slice(0, 3).map((e) => e.id), [150, 149, 148]);
  });

  test('a long log: the newest page first, older pages on demand, newer entries on refresh', async () => {
    const source = memoryLog(1234, new Set([1000, 1001, 1100]));
    const log = new m.AuditLog(source.fetch, 200);
    await log.loadNewest();
    assert.equal(source.requests, 1, 'the newest page of any log is one request');
    const ids = log.entries().map((e) => e.id);
    assert.equal(ids.length, 200);
    assert.equal(ids[0], 1234);
    assert.equal(ids.at(-1), 1034, 'the gap at 1100 is skipped, the page still full');
    assert.ok(ids.every((id, i) => i === 0 || id < ids[i - 1]), 'newest first');
    assert.equal(log.hasOlder, true);
    await log.loadOlder(); // 200 more below 1034, skipping 1000 and 1001
    assert.equal(log.size, 400);
    assert.equal(log.entries().at(-1).id, 832);
    while (log.hasOlder) await log.loadOlder();
    assert.equal(log.size, 1234 - 3);
    assert.deepEqual(log.entries().map((e) => e.id), source.entries.map((e) => e.id).reverse(), 'every entry once');
    assert.equal(source.requests, 7, 'one request per page of 200 (1,231 entries: six full, one short)');

    // Entries written since: a refresh reads them all, in pages of up to 1,000.
    for (let id = 1235; id <= 3500; id++) source.entries.push({ ...source.entries[0], id });
    assert.equal(await log.loadNewer(), 3500 - 1234);
    assert.equal(log.entries()[0].id, 3500);
    assert.equal(await log.loadNewer(), 0);
  });
});

// What GET /api/v1/gateway/status answered in a test installation (trimmed), with a rejection.
const STATUS = {
  time_ms: T, version: '0.1.0', started_ms: T - 3 * 3_600_000 - 60_000, connected: 1, broker_restarts: 0, broker_pid: 6913, messages: 3, readings_accepted: 31,
  readings_stored: 31, duplicates: 0, readings_given_up: 0, rejected_total: 3, commits: 2, commit_failures: 0,
  acks_published: 2, ack_failures: 0, status_updates: 1, status_rejected: 0, status_ignored: 0, ignored_topics: 0,
  refused_while_full: 0, latency_p50_ms: 23, latency_p99_ms: 1400, arrival_latency_p50_ms: 20,
  arrival_latency_p99_ms: 35, commit_duration_p50_ms: 3, commit_duration_p99_ms: 9, session_takeovers: 0,
  rejected: { malformed_json: 0, out_of_range: 2, timestamp_too_old: 1, invalid_seq: 0 },
  http: { port: 8443, requests: 97, responses_2xx: 95, responses_3xx: 0, responses_4xx: 2, responses_5xx: 0, connections_accepted: 12, connections_active: 2, connections_refused: 0, handshake_failures: 0, timeouts: 0, handler_exceptions: 0 },
};

function statOf(sections, key) {
  for (const section of sections) {
    const stat = section.stats.find((s) => s.key === key);
    if (stat) return stat;
  }
  return undefined;
}

describe('gateway status', () => {
  test('sections with their values, rejections by reason, most first', () => {
    const sections = m.gatewaySections(STATUS, null);
    assert.deepEqual(sections.map((s) => s.id), ['gateway', 'broker', 'ingest', 'latency', 'rejected', 'export', 'http', 'other']);
    assert.equal(statOf(sections, 'version').value, 'kelvin-gateway 0.1.0');
    assert.equal(statOf(sections, 'started_ms').value, m.formatLocalDateTime(T - 3 * 3_600_000 - 60_000));
    assert.equal(statOf(sections, 'started_ms').note, 'up 3 h');
    assert.deepEqual(statOf(sections, 'connected'), { key: 'connected', label: 'Connection', value: 'connected', level: 'ok' });
    assert.equal(statOf(sections, 'broker_pid').value, 'running, pid 6913');
    assert.equal(statOf(sections, 'readings_stored').value, '31');
    assert.equal(statOf(sections, 'readings_stored').note, undefined, 'no rate without an earlier answer');
    assert.equal(statOf(sections, 'rejected_total').level, 'warn');
    const latency = statOf(sections, 'latency_p50_ms');
    assert.equal(latency.value, '23 ms median');
    assert.equal(latency.note, '99 % within 1.4 s');
    const rejected = sections.find((s) => s.id === 'rejected');
    assert.deepEqual(rejected.stats.map((s) => [s.key, s.label, s.value]),
      [['rejected.out_of_range', 'out of range', '2'], ['rejected.timestamp_too_old', 'timestamp too old', '1']]);
    assert.equal(statOf(sections, 'http.port').value, '8443');
    assert.equal(statOf(sections, 'http.requests').value, '97');
    const export_ = sections.find((s) => s.id === 'export');
    assert.deepEqual(export_.stats, []);
    assert.match(export_.note, /^Not configured/);
    // Counters no section names are listed anyway.
    assert.deepEqual(sections.find((s) => s.id === 'other').stats.map((s) => s.key), ['ignored_topics', 'session_takeovers']);
  });

  test('nothing rejected; rates from the answer before', () => {
    const now = { ...STATUS, time_ms: T + 5000, readings_stored: 41, rejected_total: 0, rejected: { out_of_range: 0 }, http: { ...STATUS.http, requests: 107 } };
    const sections = m.gatewaySections(now, STATUS);
    assert.equal(statOf(sections, 'readings_stored').note, '2.0/s');
    assert.equal(statOf(sections, 'http.requests').note, '2.0/s');
    assert.deepEqual(sections.find((s) => s.id === 'rejected').stats, []);
    assert.equal(sections.find((s) => s.id === 'rejected').note, 'None since the gateway started.');
    assert.deepEqual(m.attention(sections), { level: 'ok', items: [] });
  });

  test('the export: backlog and lag, flagged when it lags or retries', () => {
    const exporting = {
      ...STATUS,
      export: { readings_exported: 1200, points_rejected: 0, readings_expired: 0, statuses_exported: 4, writes: 30, write_failures: 2, cursor: 5, backlog_readings: 340, lag_s: 95.5, retrying: true, last_error: 'http: 503 Service Unavailable' },
    };
    const sections = m.gatewaySections(exporting, null);
    assert.deepEqual(statOf(sections, 'export.retrying'), { key: 'export.retrying', label: 'State', value: 'retrying', level: 'bad' });
    assert.equal(statOf(sections, 'export.backlog_readings').value, '340');
    assert.equal(statOf(sections, 'export.lag_s').value, '95 s');
    assert.equal(statOf(sections, 'export.lag_s').level, 'warn');
    assert.equal(statOf(sections, 'export.writes').note, '2 failed');
    assert.equal(statOf(sections, 'export.last_error').value, 'http: 503 Service Unavailable');
    const worst = m.attention(sections);
    assert.equal(worst.level, 'bad');
    assert.equal(worst.items[0], 'InfluxDB export: State retrying');
    assert.ok(worst.items.includes('Ingest: Rejected 3'));
    assert.ok(!worst.items.some((item) => item.startsWith('Rejected readings by reason')), 'rejections said once');
  });

  test('a broker that is away, a peer group, and old statistics', () => {
    const sections = m.gatewaySections({ ...STATUS, connected: 0, broker_restarts: 2, broker_pid: 0, peers: { ready: false, online: 1, notices_sent: 3 } }, null);
    assert.equal(statOf(sections, 'connected').level, 'bad');
    assert.equal(statOf(sections, 'broker_restarts').level, 'warn');
    assert.equal(statOf(sections, 'broker_pid').value, 'none (an external broker)');
    assert.equal(statOf(sections, 'peers.ready').value, 'not yet');
    assert.equal(statOf(sections, 'peers.online').value, '1');
    assert.equal(m.attention(sections).items[0], 'Broker: Connection not connected');
    assert.deepEqual(m.statusTaken(STATUS, T + 2000), { text: 'Statistics taken at 2026-11-22 11:49:32', stale: false });
    const old = m.statusTaken(STATUS, T + 95_000);
    assert.equal(old.stale, true);
    assert.match(old.text, /^Statistics taken 95 s ago .*stopped updating them/);
  });
});

describe('releases_model', () => {
  const release = (product, version) => ({ product, version, security_version: 0, size: 1, sha256: '', created: '', notes: '' });

  test('releases sort by product, then newest version first, numerically', () => {
    const sorted = [release('thermo', '1.9.0'), release('alpha', '0.1.0'), release('thermo', '1.10.0'),
      release('thermo', '1.9.12')].sort(m.releaseOrder);
    assert.deepEqual(sorted.map((r) => `${r.product} ${r.version}`),
      ['alpha 0.1.0', 'thermo 1.10.0', 'thermo 1.9.12', 'thermo 1.9.0']);
  });

  test('sizes read in bytes, KiB or MiB', () => {
    assert.equal(m.formatBytes(512), '512 B');
    assert.equal(m.formatBytes(300_000), '293.0 KiB');
    assert.equal(m.formatBytes(2 * 1024 * 1024), '2.0 MiB');
  });

  test('each product with releases gets a line on its release timestamp, flagged when it needs a new one', () => {
    const day = 24 * 3600 * 1000;
    const now = Date.parse('2026-12-05T08:00:00Z');
    const stamp = (product, version, expires) => ({ product, version, security_version: 1, issued: '2026-12-01T00:00:00Z', expires });
    const at = (ms) => new Date(ms).toISOString();
    const lines = m.timestampLines(
      [release('thermo', '1.9.0'), release('thermo', '1.10.0'), release('alpha', '0.1.0'), release('beta', '2.0.0'),
        release('gamma', '1.0.0'), release('delta', '1.0.0')],
      [stamp('thermo', '1.10.0', at(now + 20 * day)), stamp('beta', '2.0.0', at(now - 1000)),
        stamp('gamma', '0.9.0', at(now + 20 * day)), stamp('delta', '1.0.0', at(now + 3 * day))],
      now, at);
    assert.deepEqual(lines.map((l) => [l.product, l.warn]),
      [['alpha', true], ['beta', true], ['delta', true], ['gamma', true], ['thermo', false]]);
    assert.equal(lines[4].text, 'thermo: the timestamp names 1.10.0, expires 2026-12-25T08:00:00.000Z (in 20 days).');
    assert.match(lines[0].text, /^alpha: no release timestamp: its devices report timestamp_missing\. Sign one for 0\.1\.0/);
    assert.match(lines[1].text, /^beta: the timestamp names 2\.0\.0 and expired .*report timestamp_expired\. Sign a new one/);
    assert.match(lines[2].text, /^delta: .*\(in 3 days\)\. Sign a new one/);
    assert.match(lines[3].text, /^gamma: the timestamp names 0\.9\.0, but 1\.0\.0 is published/);
  });

  const envelope = (manifest) => JSON.stringify({
    payloadType: 'application/vnd.kelvin.release-manifest+json',
    payload: Buffer.from(JSON.stringify(manifest)).toString('base64'),
    signatures: [{ keyid: '820dd7250dd5f599', sig: 'AAAA' }],
  });

  test('a signed manifest file names its release and image size; anything else says what to choose', () => {
    assert.deepEqual(m.manifestFacts(envelope({ product: 'thermo-linux', version: '1.2.0', size: 300000, sha256: 'ab' })),
      { product: 'thermo-linux', version: '1.2.0', size: 300000 });
    for (const text of ['', 'not json', '{}', '{"payload":"%%%"}', envelope({ product: 'thermo-linux', version: '1.2.0' }),
      JSON.stringify({ payload: Buffer.from('[1,2]').toString('base64') })]) {
      assert.match(m.manifestFacts(text), /^This is not a signed manifest: kelvinctl release sign writes one/, text);
    }
  });

  test('an image whose size is not the signed size is caught before it is sent', () => {
    const facts = { product: 'thermo-linux', version: '1.2.0', size: 300000 };
    assert.equal(m.imageSizeProblem(facts, 300000), null);
    assert.equal(m.imageSizeProblem(facts, 1000),
      'This image has 1,000 bytes; the manifest signs an image of 300,000 bytes. Choose the image the manifest was signed for.');
  });

  test('an upload\'s progress reads in percent and sizes', () => {
    const facts = { product: 'thermo-linux', version: '1.2.0', size: 2 * 1024 * 1024 };
    assert.equal(m.uploadProgressText(facts, 0, 2 * 1024 * 1024), 'Uploading thermo-linux 1.2.0: 0 % (0 B of 2.0 MiB)');
    assert.equal(m.uploadProgressText(facts, 1024 * 1024, 2 * 1024 * 1024),
      'Uploading thermo-linux 1.2.0: 50 % (1.0 MiB of 2.0 MiB)');
    assert.equal(m.uploadProgressText(facts, 0, 0), 'Uploading thermo-linux 1.2.0: 100 % (0 B of 0 B)');
  });
});

describe('rollouts_model', () => {
  test('a rollout says what happens to a device that stays silent', () => {
    assert.equal(m.deviceTimeoutText(86400), 'fail as timed_out after 24 h without a report');
    assert.equal(m.deviceTimeoutText(90), 'fail as timed_out after 2 min without a report');
    assert.equal(m.deviceTimeoutText(0), 'may stay silent: only an operator ends their part');
    assert.equal(m.deviceTimeoutText(undefined), 'may stay silent: only an operator ends their part');
  });

  const counts = (c) => ({ pending: 0, notified: 0, downloading: 0, installed: 0, confirmed: 0, failed: 0, rolled_back: 0, ...c });

  test('the progress bar: confirmed, failed (with rolled back), under way and waiting, in percent', () => {
    const r = { device_count: 8, counts: counts({ confirmed: 4, failed: 1, rolled_back: 1, downloading: 1, pending: 1 }) };
    assert.deepEqual(m.progressSegments(r), { confirmed: 50, failed: 25, active: 12.5, pending: 12.5 });
    assert.equal(m.progressText(r), '4 of 8 confirmed, 2 failed, 1 under way, 1 waiting');
    assert.deepEqual(m.progressSegments({ device_count: 0, counts: counts({}) }), { confirmed: 0, failed: 0, active: 0, pending: 0 });
    assert.equal(m.progressText({ device_count: 3, counts: counts({ confirmed: 3 }) }), '3 of 3 confirmed');
  });

  test('states and waves in words', () => {
    assert.equal(m.ROLLOUT_STATES.halted, 'Halted: too many failures');
    assert.equal(m.DEVICE_STATES.rolled_back, 'Rolled back');
    assert.equal(m.waveText({ waves: [5, 25, 100], current_wave: 2 }), 'Wave 2 of 3 (25 %)');
    assert.equal(m.waveText({ waves: [5, 25, 100], current_wave: 0 }), 'Not started');
    assert.equal(m.AUDIT_ACTIONS.rollout_halted, 'Rollout halted: too many failures');
    assert.equal(m.AUDIT_ACTIONS.rollout_start, 'Rollout started');
  });

  test('commands by state, for operators and admins only', () => {
    assert.deepEqual(m.allowedCommands('running', 'operator'), ['pause', 'abort']);
    assert.deepEqual(m.allowedCommands('paused', 'admin'), ['resume', 'abort']);
    assert.deepEqual(m.allowedCommands('halted', 'operator'), ['resume', 'abort']);
    assert.deepEqual(m.allowedCommands('completed', 'admin'), []);
    assert.deepEqual(m.allowedCommands('aborted', 'admin'), []);
    assert.deepEqual(m.allowedCommands('running', 'viewer'), []);
    assert.equal(m.isActive('halted'), true);
    assert.equal(m.isActive('completed'), false);
  });

  test('the start form: waves and device lists', () => {
    assert.deepEqual(m.parseWaves('5, 25, 100'), [5, 25, 100]);
    assert.deepEqual(m.parseWaves('100'), [100]);
    assert.match(m.parseWaves(''), /percentages/);
    assert.match(m.parseWaves('25, 5, 100'), /larger than the one before/);
    assert.match(m.parseWaves('5, 25'), /last wave must be 100/);
    assert.match(m.parseWaves('5, 2.5, 100'), /whole percentage/);
    assert.match(m.parseWaves('0, 100'), /whole percentage/);
    assert.deepEqual(m.parseDeviceList(' sensor-01, sensor-02\nsensor-01  sensor-03 '), ['sensor-01', 'sensor-02', 'sensor-03']);
    assert.deepEqual(m.parseDeviceList(''), []);
  });

  test('newest first', () => {
    assert.deepEqual([{ id: 1 }, { id: 3 }, { id: 2 }].sort(m.rolloutOrder).map((r) => r.id), [3, 2, 1]);
  });

  test('the start form chooses every device, a list or a label', () => {
    assert.deepEqual(m.startTarget('all', 'ignored', 'ignored'), { all: true });
    assert.deepEqual(m.startTarget('some', 'sensor-01, sensor-02', ''), { devices: ['sensor-01', 'sensor-02'] });
    assert.match(m.startTarget('some', ' ', ''), /Name the devices/);
    assert.deepEqual(m.startTarget('label', '', ' greenhouse '), { label: 'greenhouse' });
    assert.match(m.startTarget('label', '', ''), /Name the label/);
    for (const bad of ['Greenhouse', 'a b', '.x', '-x', 'x'.repeat(65), 'a,b']) {
      assert.match(m.startTarget('label', '', bad), /1 to 64 lowercase/, bad);
      assert.equal(m.isLabel(bad), false, bad);
    }
    assert.equal(m.isLabel('x'.repeat(64)), true);
    assert.equal(m.isLabel('eu.west_2-a'), true);
  });

  test('how a rollout chose its devices', () => {
    assert.equal(m.targetText({ kind: 'label', label: 'greenhouse' }), 'Devices labelled greenhouse when it started');
    assert.equal(m.targetText({ kind: 'all' }), 'Every device the gateway knew');
    assert.equal(m.targetText({ kind: 'devices' }), 'Listed devices');
    assert.equal(m.targetText(null), 'Not recorded');
    assert.equal(m.targetText(undefined), 'Not recorded');
  });
});
