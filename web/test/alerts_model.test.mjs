// The pure logic of the alerts page and the header's badge (src/alerts_model.ts): kinds in words,
// which subjects are devices, who may acknowledge, silence and lift, durations, the order of firing
// and resolved alerts, rows in local time, silences (their end, their sentence, the row's controls),
// the badge's text and label (silenced alerts left out), the refusals of the alert actions, and
// reading the alerts against an in-memory gateway that answers like GET /api/v1/alerts (firing ones
// in one request, the history newest first a page at a time, refreshed without losing the pages
// read), and the Rules section's sentences (src/alert_rules_model.ts): every kind, with and without
// its optional keys, each device scope, and rules from a newer gateway shown by name and kind only;
// which rules were added through the API (and by whom, when) read defensively; and the form that
// adds and changes rules (src/rule_form_model.ts): who may, its values for a new rule and for an
// added one, the request body built from them (with the problems found without asking the gateway)
// and the sentence of each refusal; and silences by rule and subject (src/silence_model.ts): the
// subject each kind of rule is about and the ids suggested, the request of the Rules section's
// Silence form, its refusals, and the Silences list read defensively. Bundled for Node with esbuild
// (support/bundle.mjs), in the time zone Europe/Berlin.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadSources } from './support/bundle.mjs';

process.env.TZ = 'Europe/Berlin';

let m;
let bundle;

before(async () => {
  bundle = await loadSources(['api', 'alerts_model', 'alert_rules_model', 'rule_form_model', 'silence_model']);
  m = bundle.module;
});

after(async () => {
  await bundle?.remove();
});

const T = Date.parse('2026-12-05T17:40:02Z'); // 18:40:02 in Berlin
const MIN = 60_000;

function alert(id, fields = {}) {
  const state = fields.state ?? 'firing';
  const ended = state === 'resolved' ? (fields.ended_ms ?? T + 10 * MIN) : null;
  return {
    id,
    rule: 'freezer_warm',
    kind: 'threshold',
    subject: 'sensor-01',
    state,
    value: -10.5,
    summary: 'temperature -10.5 °C (fires above -15 °C)',
    resolution: state === 'resolved' ? 'condition cleared: temperature -18 °C (clears at or below -17 °C)' : '',
    acknowledged_by: null,
    started: new Date(T).toISOString().replace(/\.\d+Z$/, 'Z'),
    started_ms: T,
    ended: ended === null ? null : new Date(ended).toISOString().replace(/\.\d+Z$/, 'Z'),
    ended_ms: ended,
    acknowledged: null,
    acknowledged_ms: null,
    silence: null,
    ...fields,
  };
}

describe('alerts: words, subjects, roles, durations', () => {
  test('kinds in words; an unknown kind as it is', () => {
    assert.equal(m.kindText('threshold'), 'threshold');
    assert.equal(m.kindText('device_offline'), 'device offline');
    assert.equal(m.kindText('crl_expiry'), 'CRL expiry');
    assert.equal(m.kindText('disk_space'), 'disk space');
    assert.equal(m.kindText('rollout_halted'), 'rollout halted');
    assert.equal(m.kindText('outbox_drops'), 'outbox drops');
    assert.equal(m.kindText('a_future_kind'), 'a_future_kind');
  });

  test('the subject is a device for the device rules only', () => {
    assert.equal(m.subjectIsDevice({ kind: 'threshold', subject: 'sensor-01' }), true);
    assert.equal(m.subjectIsDevice({ kind: 'device_offline', subject: 'sensor-01' }), true);
    assert.equal(m.subjectIsDevice({ kind: 'certificate_expiry', subject: 'sensor-01' }), false);
    assert.equal(m.subjectIsDevice({ kind: 'disk_space', subject: 'gateway' }), false);
    assert.equal(m.subjectIsDevice({ kind: 'export_backlog', subject: 'gateway' }), false);
    assert.equal(m.subjectIsDevice({ kind: 'update_failed', subject: 'sensor-01' }), true);
    assert.equal(m.subjectIsDevice({ kind: 'outbox_drops', subject: 'sensor-01' }), true);
    assert.equal(m.subjectIsDevice({ kind: 'superseded_certificate', subject: 'sensor-01' }), true);
    assert.equal(m.subjectIsDevice({ kind: 'rollout_halted', subject: 'rollout-3' }), false);
    assert.equal(m.subjectIsDevice({ kind: 'event_rate', subject: 'gateway' }), false);
  });

  test('operators and admins acknowledge an alert nobody acknowledged; viewers never', () => {
    const open = alert(1);
    const done = alert(2, { acknowledged_by: 'olaf', acknowledged_ms: T + MIN });
    assert.equal(m.canAcknowledge(open, 'operator'), true);
    assert.equal(m.canAcknowledge(open, 'admin'), true);
    assert.equal(m.canAcknowledge(open, 'viewer'), false);
    assert.equal(m.canAcknowledge(open, undefined), false);
    assert.equal(m.canAcknowledge(done, 'admin'), false);
    assert.equal(m.canAcknowledge(alert(3, { state: 'resolved' }), 'operator'), true, 'a resolved alert too, once');
  });

  test('durations: minutes, hours and minutes, days and hours', () => {
    assert.equal(m.durationText(0), 'less than a minute');
    assert.equal(m.durationText(59_999), 'less than a minute');
    assert.equal(m.durationText(MIN), '1 min');
    assert.equal(m.durationText(59 * MIN + 59_000), '59 min');
    assert.equal(m.durationText(60 * MIN), '1 h');
    assert.equal(m.durationText(125 * MIN), '2 h 5 min');
    assert.equal(m.durationText(24 * 60 * MIN), '1 d');
    assert.equal(m.durationText((3 * 24 + 4) * 60 * MIN + 7 * MIN), '3 d 4 h');
    assert.equal(m.durationText(-1), '–');
    assert.equal(m.durationText(null), '–');
    assert.equal(m.durationText(Number.NaN), '–');
  });
});

// A silence as the gateway answers it: freezer_warm on sensor-01 held back until 09:00 in Berlin.
const UNTIL = Date.parse('2026-12-06T08:00:00Z');
function silence(id, fields = {}) {
  return {
    id,
    rule: 'freezer_warm',
    subject: 'sensor-01',
    until: new Date(UNTIL).toISOString(),
    until_ms: UNTIL,
    created_by: 'ann',
    created: new Date(T).toISOString(),
    created_ms: T,
    comment: 'defrosting',
    ...fields,
  };
}

describe('alerts: silences', () => {
  test('operators and admins silence a firing alert not silenced, and lift a silence; viewers never', () => {
    const open = alert(1);
    const silenced = alert(2, { silence: silence(3) });
    for (const role of ['operator', 'admin']) {
      assert.equal(m.canSilence(open, role), true);
      assert.equal(m.canSilence(silenced, role), false, 'lifted first');
      assert.equal(m.canLift(silenced, role), true);
      assert.equal(m.canLift(open, role), false);
    }
    for (const role of ['viewer', undefined]) {
      assert.equal(m.canSilence(open, role), false);
      assert.equal(m.canLift(silenced, role), false);
    }
    assert.equal(m.canSilence(alert(4, { state: 'resolved' }), 'admin'), false, 'a resolved alert notifies no more');
    // A gateway that does not send `silence` at all: nothing is silenced.
    const { silence: _, ...older } = open;
    assert.equal(m.silenceOf(older), null);
    assert.equal(m.canSilence(older, 'operator'), true);
    assert.equal(m.canLift(older, 'operator'), false);
  });

  test('the durations offered, the first the default', () => {
    assert.deepEqual(m.SILENCE_DURATIONS.map((d) => d.label), ['1 hour', '8 hours', '24 hours', '7 days']);
    assert.deepEqual(m.SILENCE_DURATIONS.map((d) => d.ms), [3_600_000, 28_800_000, 86_400_000, 604_800_000]);
  });

  test('the request: until now plus the duration, the comment trimmed or left out', () => {
    assert.deepEqual(m.silenceRequest(T, 3_600_000), { until_ms: T + 3_600_000 });
    assert.deepEqual(m.silenceRequest(T, 604_800_000, '  defrosting '), { until_ms: T + 604_800_000, comment: 'defrosting' });
    assert.deepEqual(m.silenceRequest(T + 0.4, 28_800_000, '   '), { until_ms: T + 28_800_000 }, 'whole ms');
    assert.throws(() => m.silenceRequest(T, 5_000), RangeError);
    assert.throws(() => m.silenceRequest(T, Number('nonsense')), RangeError);
    assert.equal(m.SILENCE_COMMENT_MAX, 200);
  });

  test('a silenced row says until when (local, to the minute) and by whom, with its comment', () => {
    const row = m.alertRow(alert(12, { silence: silence(3) }), T, 'operator');
    assert.deepEqual(row.silence, {
      id: 3,
      until: '2026-12-06 09:00',
      untilIso: '2026-12-06T08:00:00.000Z',
      by: 'ann',
      comment: 'defrosting',
      text: 'Silenced until 2026-12-06 09:00 by ann: defrosting',
    });
    assert.equal(row.canSilence, false);
    assert.equal(row.canLift, true);
    assert.equal(m.silenceView(silence(3, { comment: '' })).text, 'Silenced until 2026-12-06 09:00 by ann');
    assert.equal(m.silenceView(silence(3, { comment: null })).comment, '');
    const viewer = m.alertRow(alert(12, { silence: silence(3) }), T, 'viewer');
    assert.equal(viewer.silence.text, 'Silenced until 2026-12-06 09:00 by ann: defrosting');
    assert.equal(viewer.canLift, false);
    const open = m.alertRow(alert(13), T, 'operator');
    assert.equal(open.silence, null);
    assert.equal(open.canSilence, true);
    assert.equal(open.canLift, false);
  });
});

describe('alerts: order and rows', () => {
  test('firing first and resolved apart; the unacknowledged firing ones first, then newest first', () => {
    const { firing, resolved } = m.partitionAlerts([
      alert(3, { acknowledged_by: 'olaf', acknowledged_ms: T }),
      alert(7),
      alert(5, { state: 'resolved' }),
      alert(2),
      alert(9, { state: 'resolved' }),
      alert(8, { acknowledged_by: 'vera', acknowledged_ms: T }),
    ]);
    assert.deepEqual(firing.map((a) => a.id), [7, 2, 8, 3]);
    assert.deepEqual(resolved.map((a) => a.id), [9, 5]);
  });

  test('an alert read twice, while it resolved, counts once, as resolved', () => {
    const both = [alert(4), alert(4, { state: 'resolved' })];
    for (const list of [both, [...both].reverse()]) {
      const { firing, resolved } = m.partitionAlerts(list);
      assert.deepEqual(firing, []);
      assert.deepEqual(resolved.map((a) => [a.id, a.state]), [[4, 'resolved']]);
    }
  });

  test('a firing row: since when in local time, for how long, not acknowledged', () => {
    const row = m.alertRow(alert(12), T + 125 * MIN + 30_000, 'operator');
    assert.equal(row.rule, 'freezer_warm');
    assert.equal(row.kind, 'threshold');
    assert.equal(row.kindName, 'threshold');
    assert.equal(row.device, 'sensor-01');
    assert.equal(row.summary, 'temperature -10.5 °C (fires above -15 °C)');
    assert.equal(row.firing, true);
    assert.equal(row.started, '2026-12-05 18:40:02');
    assert.equal(row.startedIso, '2026-12-05T17:40:02Z');
    assert.equal(row.duration, 'for 2 h 5 min');
    assert.equal(row.ended, '');
    assert.equal(row.acknowledgedBy, null);
    assert.equal(row.acknowledged, '');
    assert.equal(row.canAcknowledge, true);
    assert.equal(m.alertRow(alert(12), T + 125 * MIN, 'viewer').canAcknowledge, false);
    // A clock a little behind the gateway's: never a negative duration.
    assert.equal(m.alertRow(alert(12), T - 5000, 'viewer').duration, 'for less than a minute');
  });

  test('a resolved row: the resolution, start, end and how long it lasted; who acknowledged it', () => {
    const row = m.alertRow(alert(5, {
      state: 'resolved', kind: 'disk_space', subject: 'gateway', ended_ms: T + 47 * MIN,
      acknowledged_by: 'olaf', acknowledged_ms: T + 2 * MIN, acknowledged: '2026-12-05T17:42:02Z',
    }), T + 600 * MIN, 'admin');
    assert.equal(row.device, null, 'the gateway is no device');
    assert.equal(row.kind, 'disk space');
    assert.equal(row.firing, false);
    assert.equal(row.resolution, 'condition cleared: temperature -18 °C (clears at or below -17 °C)');
    assert.equal(row.started, '2026-12-05 18:40:02');
    assert.equal(row.ended, '2026-12-05 19:27:02');
    assert.equal(row.endedIso, '2026-12-05T18:27:02Z');
    assert.equal(row.duration, '47 min');
    assert.equal(row.acknowledgedBy, 'olaf');
    assert.equal(row.acknowledged, 'by olaf, 2026-12-05 18:42:02');
    assert.equal(row.acknowledgedAt, '2026-12-05 18:42:02');
    assert.equal(row.acknowledgedIso, '2026-12-05T17:42:02Z');
    assert.equal(row.canAcknowledge, false);
  });
});

describe('alerts: the badge', () => {
  test('the count of firing alerts, with how many nobody acknowledged', () => {
    const summary = m.firingSummary([alert(1), alert(2, { acknowledged_by: 'olaf' }), alert(3)]);
    assert.deepEqual(summary, { count: 3, unacknowledged: 2, silenced: 0, more: false });
    assert.deepEqual(m.firingSummary([]), { count: 0, unacknowledged: 0, silenced: 0, more: false });
    assert.deepEqual(m.firingSummary([alert(1, { state: 'resolved' })]), { count: 0, unacknowledged: 0, silenced: 0, more: false });
  });

  test('silenced firing alerts are not counted, nor among those nobody acknowledged', () => {
    const firing = [alert(1), alert(2, { silence: silence(3) }), alert(4, { acknowledged_by: 'olaf' }),
      alert(5, { acknowledged_by: 'vera', silence: silence(6, { subject: 'sensor-02' }) })];
    const summary = m.firingSummary(firing);
    assert.deepEqual(summary, { count: 2, unacknowledged: 1, silenced: 2, more: false });
    assert.equal(m.badgeText(summary), '2');
    const allSilenced = m.firingSummary([alert(2, { silence: silence(3) })]);
    assert.deepEqual(allSilenced, { count: 0, unacknowledged: 0, silenced: 1, more: false });
    assert.equal(m.badgeText(allSilenced), '', 'no badge');
    // A resolved alert under a silence is neither.
    assert.deepEqual(m.firingSummary([alert(7, { state: 'resolved', silence: silence(3) })]),
      { count: 0, unacknowledged: 0, silenced: 0, more: false });
  });

  test('its text: nothing when none fire, the count, capped', () => {
    assert.equal(m.badgeText(null), '');
    assert.equal(m.badgeText({ count: 0, unacknowledged: 0, silenced: 0, more: false }), '');
    assert.equal(m.badgeText({ count: 1, unacknowledged: 1, silenced: 0, more: false }), '1');
    assert.equal(m.badgeText({ count: 3, unacknowledged: 0, silenced: 0, more: false }), '3');
    assert.equal(m.badgeText({ count: 1000, unacknowledged: 1000, silenced: 0, more: true }), '999+');
  });

  test('its label says how many fire, and whether someone acknowledged them', () => {
    assert.equal(m.firingLabel({ count: 0, unacknowledged: 0, silenced: 0, more: false }), 'No alerts firing');
    assert.equal(m.firingLabel({ count: 1, unacknowledged: 1, silenced: 0, more: false }), '1 alert firing');
    assert.equal(m.firingLabel({ count: 3, unacknowledged: 3, silenced: 0, more: false }), '3 alerts firing');
    assert.equal(m.firingLabel({ count: 3, unacknowledged: 1, silenced: 0, more: false }), '3 alerts firing, 1 not acknowledged');
    assert.equal(m.firingLabel({ count: 1, unacknowledged: 0, silenced: 0, more: false }), '1 alert firing, acknowledged');
    assert.equal(m.firingLabel({ count: 2, unacknowledged: 0, silenced: 0, more: false }), '2 alerts firing, all acknowledged');
    assert.equal(m.firingLabel({ count: 1000, unacknowledged: 1000, silenced: 0, more: true }), '1,000+ alerts firing');
    assert.match(m.firingLabel(null), /could not be read/);
  });

  test('its label says how many more fire silenced, since the count leaves them out', () => {
    assert.equal(m.firingLabel({ count: 1, unacknowledged: 1, silenced: 1, more: false }), '1 alert firing, plus 1 silenced');
    assert.equal(m.firingLabel({ count: 2, unacknowledged: 0, silenced: 1, more: false }), '2 alerts firing, all acknowledged, plus 1 silenced');
    assert.equal(m.firingLabel({ count: 3, unacknowledged: 1, silenced: 2, more: false }), '3 alerts firing, 1 not acknowledged, plus 2 silenced');
    assert.equal(m.firingLabel({ count: 0, unacknowledged: 0, silenced: 2, more: false }), 'No alerts firing except 2 silenced');
  });

  test('the count beside the alerts page\'s heading', () => {
    assert.equal(m.firingCountText({ count: 0, unacknowledged: 0, silenced: 0, more: false }), '(0)');
    assert.equal(m.firingCountText({ count: 2, unacknowledged: 2, silenced: 0, more: false }), '(2)');
    assert.equal(m.firingCountText({ count: 2, unacknowledged: 1, silenced: 0, more: false }), '(2, 1 not acknowledged)');
    assert.equal(m.firingCountText({ count: 2, unacknowledged: 0, silenced: 0, more: false }), '(2, all acknowledged)');
    assert.equal(m.firingCountText({ count: 1, unacknowledged: 0, silenced: 0, more: false }), '(1, acknowledged)');
    assert.equal(m.firingCountText({ count: 1000, unacknowledged: 1000, silenced: 0, more: true }), '(1,000+)');
  });

  test('the page\'s count is of every firing alert listed, silenced ones said', () => {
    assert.equal(m.firingCountText({ count: 1, unacknowledged: 1, silenced: 1, more: false }), '(2, 1 silenced, 1 not acknowledged)');
    assert.equal(m.firingCountText({ count: 1, unacknowledged: 0, silenced: 1, more: false }), '(2, 1 silenced)');
    assert.equal(m.firingCountText({ count: 0, unacknowledged: 0, silenced: 2, more: false }), '(2, all silenced)');
    assert.equal(m.firingCountText({ count: 999, unacknowledged: 999, silenced: 1, more: true }), '(1,000+, 1 silenced, 999 not acknowledged)');
  });
});

describe('alerts: refused actions', () => {
  const a = alert(12);
  const refusal = (status, code, message = 'for people') => new m.ApiError(status, code, message);

  test('acknowledged already: by whom and when, as read again; else without a name', () => {
    const current = alert(12, { acknowledged_by: 'olaf', acknowledged_ms: T + 90_000 });
    assert.equal(m.acknowledgeMessage(refusal(409, 'alert_acknowledged'), a, current),
      'freezer_warm on sensor-01 was acknowledged already, by olaf at 2026-12-05 18:41:32.');
    assert.equal(m.acknowledgeMessage(refusal(409, 'alert_acknowledged'), a, null),
      'freezer_warm on sensor-01 was acknowledged already by someone else.');
  });

  test('gone, a role lowered meanwhile, and the general ones', () => {
    assert.match(m.acknowledgeMessage(refusal(404, 'alert_not_found'), a), /^freezer_warm on sensor-01 is gone/);
    assert.match(m.acknowledgeMessage(refusal(403, 'forbidden'), a), /needs the operator role/);
    assert.match(m.acknowledgeMessage(refusal(0, 'network'), a), /cannot be reached/);
    assert.match(m.acknowledgeMessage(refusal(403, 'csrf_token_invalid'), a), /Reload it/);
    assert.match(m.acknowledgeMessage(new Error('boom'), a), /Something went wrong/);
  });

  test('a refused silence: what the gateway found wrong, gone, a role lowered, the general ones', () => {
    assert.equal(m.silenceMessage(refusal(400, 'invalid_silence', 'until_ms is more than 90 days ahead'), a),
      'freezer_warm on sensor-01 could not be silenced: until_ms is more than 90 days ahead');
    assert.match(m.silenceMessage(refusal(404, 'alert_not_found'), a), /^freezer_warm on sensor-01 is gone/);
    assert.equal(m.silenceMessage(refusal(403, 'forbidden'), a),
      'Your role does not allow this any more: silencing an alert needs the operator role.');
    assert.match(m.silenceMessage(refusal(0, 'network'), a), /cannot be reached/);
    assert.match(m.silenceMessage(new RangeError('not a silence duration'), a), /Something went wrong/);
  });

  test('a refused lift: the silence over already, a role lowered, the general ones', () => {
    assert.equal(m.liftMessage(refusal(404, 'silence_not_found'), a),
      'The silence on freezer_warm on sensor-01 is over already: it ended, or someone lifted it.');
    assert.equal(m.liftMessage(refusal(403, 'forbidden'), a),
      'Your role does not allow this any more: lifting a silence needs the operator role.');
    assert.match(m.liftMessage(refusal(403, 'csrf_token_invalid'), a), /Reload it/);
  });

  test('refusals that mean the page is out of date', () => {
    assert.equal(m.refusalIsStale(refusal(409, 'alert_acknowledged')), true);
    assert.equal(m.refusalIsStale(refusal(404, 'alert_not_found')), true);
    assert.equal(m.refusalIsStale(refusal(404, 'silence_not_found')), true);
    assert.equal(m.refusalIsStale(refusal(400, 'invalid_silence')), false);
    assert.equal(m.refusalIsStale(refusal(403, 'forbidden')), false);
    assert.equal(m.refusalIsStale(new Error('boom')), false);
  });
});

// An in-memory gateway answering GET /api/v1/alerts as docs/api.md says: newest first, `before`
// an id, a full page with next_before = its last id.
function gateway(alerts) {
  const requests = [];
  const fetchAlerts = async (query) => {
    requests.push({ ...query });
    const matching = alerts
      .filter((a) => a.state === query.state && (query.before === undefined || a.id < query.before))
      .sort((a, b) => b.id - a.id);
    const page = matching.slice(0, query.limit);
    return { alerts: page.map((a) => ({ ...a })), next_before: page.length === query.limit ? page.at(-1).id : null };
  };
  return { requests, fetchAlerts };
}

describe('alerts: reading them', () => {
  test('a short history: the firing ones and every resolved one, in two requests', async () => {
    const api = gateway([alert(1, { state: 'resolved' }), alert(2), alert(3, { state: 'resolved' }), alert(4)]);
    const board = new m.AlertBoard(api.fetchAlerts, 5);
    await board.refresh();
    assert.deepEqual(board.firing().map((a) => a.id), [4, 2]);
    assert.deepEqual(board.resolved().map((a) => a.id), [3, 1]);
    assert.equal(board.hasOlder, false);
    assert.equal(board.moreFiring, false);
    assert.deepEqual(board.summary(), { count: 2, unacknowledged: 2, silenced: 0, more: false });
    assert.deepEqual(api.requests, [{ state: 'firing', limit: 1000 }, { state: 'resolved', limit: 5 }]);
  });

  test('a long history: the newest page, older pages on demand, refreshes keep what was read', async () => {
    const alerts = Array.from({ length: 23 }, (_, i) => alert(i + 1, { state: i === 22 ? 'firing' : 'resolved' }));
    const api = gateway(alerts);
    const board = new m.AlertBoard(api.fetchAlerts, 10);
    await board.refresh();
    assert.deepEqual(board.resolved().map((a) => a.id), [22, 21, 20, 19, 18, 17, 16, 15, 14, 13]);
    assert.equal(board.hasOlder, true);
    await board.loadOlder();
    assert.equal(board.resolved().length, 20);
    assert.equal(board.hasOlder, true);
    assert.deepEqual(api.requests.at(-1), { state: 'resolved', before: 13, limit: 10 });
    await board.loadOlder();
    assert.deepEqual(board.resolved().map((a) => a.id), Array.from({ length: 22 }, (_, i) => 22 - i));
    assert.equal(board.hasOlder, false, 'the last page was not full');
    await board.loadOlder();
    assert.equal(api.requests.length, 4, 'nothing more to ask for');

    // The firing alert resolves, a new one fires and another resolves: a refresh reads as far back
    // as was read, in one request for each state.
    alerts[22].state = 'resolved';
    alerts.push(alert(24), alert(25, { state: 'resolved' }));
    api.requests.length = 0;
    await board.refresh();
    assert.deepEqual(api.requests, [{ state: 'firing', limit: 1000 }, { state: 'resolved', limit: 22 }]);
    assert.deepEqual(board.firing().map((a) => a.id), [24]);
    assert.deepEqual(board.resolved().map((a) => a.id), Array.from({ length: 25 }, (_, i) => 25 - i).filter((id) => id !== 24));
    assert.equal(board.hasOlder, false, 'every resolved alert is read');
  });

  test('resolved alerts deleted after their history period go from the page', async () => {
    const alerts = [alert(1, { state: 'resolved' }), alert(2, { state: 'resolved' }), alert(3, { state: 'resolved' })];
    const api = gateway(alerts);
    const board = new m.AlertBoard(api.fetchAlerts, 10);
    await board.refresh();
    alerts.splice(0, 2);
    await board.refresh();
    assert.deepEqual(board.resolved().map((a) => a.id), [3]);
  });

  test('an alert that resolves between the two requests is shown once, resolved', async () => {
    const alerts = [alert(1), alert(2)];
    const api = gateway(alerts);
    const fetchAlerts = async (query) => {
      const answer = await api.fetchAlerts(query);
      if (query.state === 'firing') alerts[0].state = 'resolved';
      return answer;
    };
    const board = new m.AlertBoard(fetchAlerts, 10);
    await board.refresh();
    assert.deepEqual(board.firing().map((a) => a.id), [2]);
    assert.deepEqual(board.resolved().map((a) => a.id), [1]);
  });

  test('more than 1,000 firing: flagged', async () => {
    const api = gateway(Array.from({ length: 1001 }, (_, i) => alert(i + 1)));
    const board = new m.AlertBoard(api.fetchAlerts, 10);
    await board.refresh();
    assert.equal(board.firing().length, 1000);
    assert.equal(board.moreFiring, true);
    assert.equal(m.badgeText(board.summary()), '999+');
  });

  test('an acknowledgement answered by the gateway replaces the alert, and its place in the order', async () => {
    const api = gateway([alert(1), alert(2), alert(3, { state: 'resolved' })]);
    const board = new m.AlertBoard(api.fetchAlerts, 10);
    await board.refresh();
    assert.deepEqual(board.firing().map((a) => a.id), [2, 1]);
    board.update(alert(2, { acknowledged_by: 'olaf', acknowledged_ms: T }));
    assert.deepEqual(board.firing().map((a) => [a.id, a.acknowledged_by]), [[1, null], [2, 'olaf']]);
    assert.deepEqual(board.summary(), { count: 2, unacknowledged: 1, silenced: 0, more: false });
    board.update(alert(3, { state: 'resolved', acknowledged_by: 'vera' }));
    assert.equal(board.find(3).acknowledged_by, 'vera');
    // Resolved meanwhile: acknowledged and resolved, gone from the firing ones.
    board.update(alert(1, { state: 'resolved', acknowledged_by: 'olaf' }));
    assert.deepEqual(board.firing().map((a) => a.id), [2]);
    assert.deepEqual(board.resolved().map((a) => a.id), [3, 1]);
    assert.equal(board.find(99), null);
  });

  test('a silence answered by the gateway silences every alert read of its rule and subject; a lift ends it', async () => {
    const api = gateway([
      alert(1), alert(2, { subject: 'sensor-02' }), alert(3, { rule: 'freezer_cold' }), alert(4, { state: 'resolved' }),
    ]);
    const board = new m.AlertBoard(api.fetchAlerts, 10);
    await board.refresh();
    assert.deepEqual(board.summary(), { count: 3, unacknowledged: 3, silenced: 0, more: false });
    board.silence(silence(9));
    const silencedIds = () => [...board.firing(), ...board.resolved()].filter((a) => a.silence).map((a) => a.id).sort();
    assert.deepEqual(silencedIds(), [1, 4], 'the same rule on the same subject only, resolved too');
    assert.deepEqual(board.summary(), { count: 2, unacknowledged: 2, silenced: 1, more: false });
    // Silenced again: the newer end replaces the older.
    board.silence(silence(9, { until_ms: UNTIL + 3_600_000 }));
    assert.equal(board.find(1).silence.until_ms, UNTIL + 3_600_000);
    board.lift(9);
    assert.deepEqual(silencedIds(), []);
    assert.deepEqual(board.summary(), { count: 3, unacknowledged: 3, silenced: 0, more: false });
    board.lift(99);
    assert.deepEqual(silencedIds(), [], 'an unknown silence changes nothing');
  });
});

describe('alert rules: one sentence each', () => {
  // A rule's sentence, as the Rules section shows it.
  const said = (rule) => m.ruleSentence(rule);

  test('threshold: the level with its unit, for_s, a clear level, and its devices', () => {
    assert.equal(said({ above: -15.0, clear: -17.0, devices: ['sensor-01'], for_s: 300, kind: 'threshold', name: 'freezer_warm',
      quantity: 'temperature' }), 'temperature above -15 °C for 5 min, clears at or below -17 °C; device sensor-01');
    // Keys in any order; several devices.
    assert.equal(said({ name: 'freezer_warm', kind: 'threshold', quantity: 'temperature', for_s: 300, clear: -17.5, above: -15,
      devices: ['sensor-01', 'sensor-02'] }), 'temperature above -15 °C for 5 min, clears at or below -17.5 °C; devices sensor-01, sensor-02');
  });

  test('threshold: below, without for_s or a clear level, by label and for every device', () => {
    assert.equal(said({ below: 30, kind: 'threshold', label: 'greenhouse', name: 'too_dry', quantity: 'humidity' }),
      'humidity below 30 %RH; devices labelled "greenhouse"');
    assert.equal(said({ below: 2, clear: 4, kind: 'threshold', name: 'fridge_cold', quantity: 'temperature' }),
      'temperature below 2 °C, clears at or above 4 °C; every device');
    assert.equal(said({ above: 8, devices: [], kind: 'threshold', name: 'fridge_warm', quantity: 'temperature' }),
      'temperature above 8 °C; every device', 'an empty list is every device');
  });

  test('threshold: neither or both levels, an unknown quantity, a list and a label: not described', () => {
    assert.equal(said({ kind: 'threshold', name: 'x', quantity: 'temperature' }), null);
    assert.equal(said({ above: 1, below: 0, kind: 'threshold', name: 'x', quantity: 'temperature' }), null);
    assert.equal(said({ above: 1, kind: 'threshold', name: 'x', quantity: 'pressure' }), null);
    assert.equal(said({ above: 1, kind: 'threshold', name: 'x' }), null);
    assert.equal(said({ above: 1, devices: ['a'], kind: 'threshold', label: 'b', name: 'x', quantity: 'temperature' }), null);
  });

  test('device_offline: its silence, for_s, and its scope', () => {
    assert.equal(said({ kind: 'device_offline', name: 'device_offline', silent_for_s: 600 }),
      'nothing received for 10 min, or offline; every device');
    assert.equal(said({ for_s: 90, kind: 'device_offline', label: 'freezer', name: 'offline', silent_for_s: 5400 }),
      'nothing received for 1 h 30 min, or offline, held for 1 min 30 s; devices labelled "freezer"');
    assert.equal(said({ kind: 'device_offline', name: 'offline' }), null, 'silent_for_s is needed');
  });

  test('certificate_expiry and crl_expiry: within, with and without a clear level', () => {
    assert.equal(said({ kind: 'certificate_expiry', name: 'certificate_expiry', within_days: 30 }),
      'a certificate in use expires within 30 days');
    assert.equal(said({ clear_days: 45, for_s: 3600, kind: 'certificate_expiry', name: 'certs', within_days: 1 }),
      'a certificate in use expires within 1 day, held for 1 h, clears once it has 45 days or more left');
    assert.equal(said({ kind: 'crl_expiry', name: 'crl_expiry', within_hours: 24 }), "the CRL's next update is due within 24 h");
    assert.equal(said({ clear_hours: 36, kind: 'crl_expiry', name: 'crl', within_hours: 24 }),
      "the CRL's next update is due within 24 h, clears once it is 36 h or more ahead");
  });

  test('disk_space: in MiB and GiB', () => {
    assert.equal(said({ below_bytes: 1073741824, clear_bytes: 1288490188.8, kind: 'disk_space', name: 'disk_space' }),
      "less than 1 GiB free on the gateway's disk, clears at 1.2 GiB free or more");
    assert.equal(said({ below_bytes: 500 * 1024 * 1024, for_s: 60, kind: 'disk_space', name: 'disk' }),
      "less than 500 MiB free on the gateway's disk for 1 min");
    assert.equal(m.bytesText(1024), '1,024 bytes');
  });

  test('export_backlog: readings with thousands separated', () => {
    assert.equal(said({ above_readings: 1000000, clear_readings: 100000, for_s: 300, kind: 'export_backlog', name: 'export_backlog' }),
      'more than 1,000,000 readings waiting for InfluxDB for 5 min, clears at or below 100,000');
    assert.equal(said({ above_readings: 5000, kind: 'export_backlog', name: 'backlog' }), 'more than 5,000 readings waiting for InfluxDB');
  });

  test('export_lag: how long the oldest reading waited, in minutes or seconds', () => {
    assert.equal(said({ above_s: 900, clear_s: 60, kind: 'export_lag', name: 'export_lag' }),
      'a reading waiting for InfluxDB for more than 15 min, clears once it waited 1 min or less');
    assert.equal(said({ above_s: 90, for_s: 60, kind: 'export_lag', name: 'lag' }),
      'a reading waiting for InfluxDB for more than 1 min 30 s for 1 min');
  });

  test('event_rate: every event in words, any at all, a clear level; an unknown event not described', () => {
    assert.equal(said({ above_per_minute: 30, event: 'failed_sign_ins', kind: 'event_rate', name: 'sign_in_attack' }),
      'more than 30 failed sign-ins per minute');
    assert.equal(said({ above_per_minute: 30, clear_per_minute: 5, event: 'failed_sign_ins', kind: 'event_rate', name: 'sign_in_attack' }),
      'more than 30 failed sign-ins per minute, clears at or below 5 per minute');
    assert.equal(said({ above_per_minute: 0, event: 'broker_exits', kind: 'event_rate', name: 'broker_exits' }),
      'any broker exits within a minute');
    assert.equal(said({ above_per_minute: 10, event: 'rejected_readings', kind: 'event_rate', name: 'r' }),
      'more than 10 rejected readings and statuses per minute');
    assert.equal(said({ above_per_minute: 10, event: 'https_handshake_failures', kind: 'event_rate', name: 'h' }),
      'more than 10 refused HTTPS handshakes per minute');
    assert.equal(said({ above_per_minute: 10, event: 'mqtt_handshake_failures', for_s: 120, kind: 'event_rate', name: 'q' }),
      'more than 10 refused MQTT handshakes per minute for 2 min');
    assert.equal(said({ above_per_minute: 10, event: 'coffee_breaks', kind: 'event_rate', name: 'q' }), null);
  });

  test('update_failed, rollout_halted and outbox_drops', () => {
    assert.equal(said({ kind: 'update_failed', name: 'update_failed' }),
      "a device's update in its newest rollout failed or rolled back; every device");
    assert.equal(said({ devices: ['sensor-01'], for_s: 60, kind: 'update_failed', name: 'u' }),
      "a device's update in its newest rollout failed or rolled back, held for 1 min; device sensor-01");
    assert.equal(said({ kind: 'rollout_halted', name: 'rollout_halted' }), 'a rollout halted itself, clears when it is resumed or aborted');
    assert.equal(said({ kind: 'outbox_drops', name: 'outbox_drops', quiet_for_s: 3600 }),
      "a device's outbox dropped readings, clears after 1 h without drops; every device");
    assert.equal(said({ kind: 'outbox_drops', label: 'cellular', name: 'drops', quiet_for_s: 86400 }),
      "a device's outbox dropped readings, clears after 1 d without drops; devices labelled \"cellular\"");
    assert.equal(said({ kind: 'superseded_certificate', name: 'superseded_certificate', quiet_for_s: 600 }),
      'a device connected with a certificate issued before its newest one, clears when the old one is revoked, or 10 min after its last use once the device uses its newest; every device');
    assert.equal(said({ kind: 'device_acl_denials', name: 'acl', quiet_for_s: 600, devices: ['sensor-01'] }),
      "the broker refused a device's publishes or deliveries, clears after 10 min without denials; device sensor-01");
  });

  test('a newer gateway\'s kind or key, or a value of the wrong type: not described', () => {
    assert.equal(said({ kind: 'battery_low', name: 'battery', below_percent: 10 }), null, 'an unknown kind');
    assert.equal(said({ kind: 'toString', name: 'x' }), null, 'not a kind: a name of every object');
    assert.equal(said({ kind: 'rollout_halted', name: 'r', wave: 2 }), null, 'an unknown key');
    assert.equal(said({ kind: 'certificate_expiry', name: 'c', within_days: 30, devices: ['a'] }), null, 'a key of another kind');
    assert.equal(said({ kind: 'certificate_expiry', name: 'c', within_days: '30' }), null);
    assert.equal(said({ kind: 'device_offline', name: 'o', silent_for_s: 600, for_s: 1.5 }), null);
    assert.equal(said({ kind: 'device_offline', name: 'o', silent_for_s: 600, devices: [1] }), null);
  });

  test('an answer read defensively: every rule in order, by name and kind, with or without its sentence', () => {
    const views = m.parseAlertRules({ rules: [
      { kind: 'device_offline', name: 'device_offline', silent_for_s: 600 },
      { above: -15.0, clear: -17.0, devices: ['sensor-01'], for_s: 300, kind: 'threshold', name: 'freezer_warm', quantity: 'temperature' },
      { kind: 'battery_low', name: 'battery', below_percent: 10 },
      { kind: 7, name: 'odd' },
      { kind: 'threshold' }, // no name: left out
      null,
      'rule',
    ] });
    assert.deepEqual(views, [
      { name: 'device_offline', kind: 'device offline', kindName: 'device_offline', sentence: 'nothing received for 10 min, or offline; every device' },
      { name: 'freezer_warm', kind: 'threshold', kindName: 'threshold',
        sentence: 'temperature above -15 °C for 5 min, clears at or below -17 °C; device sensor-01' },
      { name: 'battery', kind: 'battery_low', kindName: 'battery_low', sentence: null },
      { name: 'odd', kind: 'unknown kind', kindName: '', sentence: null },
    ]);
    for (const answer of [undefined, null, {}, { rules: 'none' }, [], 'rules']) assert.deepEqual(m.parseAlertRules(answer), []);
    assert.deepEqual(m.parseAlertRules({ rules: [] }), []);
  });

  test('times exact, levels to one decimal', () => {
    assert.equal(m.secondsText(0), '0 s');
    assert.equal(m.secondsText(30), '30 s');
    assert.equal(m.secondsText(600), '10 min');
    assert.equal(m.secondsText(3661), '1 h 1 min 1 s');
    assert.equal(m.secondsText(2 * 86400), '2 d');
    assert.equal(m.levelText(-15), '-15');
    assert.equal(m.levelText(-17.25), '-17.3');
    assert.equal(m.levelText(-0.01), '0');
    assert.equal(m.levelText(1234567.5), '1,234,567.5');
  });
});

describe('alert rules: added ones, their source and the Manage column', () => {
  const ADDED_MS = Date.parse('2026-12-06T03:00:00.000Z'); // 04:00 in Berlin
  const CHANGED_MS = Date.parse('2026-12-07T08:12:30.000Z'); // 09:12 in Berlin
  const answer = {
    rules: [
      { kind: 'device_offline', name: 'device_offline', silent_for_s: 600 },
      { above: 30, devices: ['sensor-02'], kind: 'threshold', name: 'hot_02', quantity: 'temperature' },
      { below: 30, kind: 'threshold', label: 'greenhouse', name: 'too_dry', quantity: 'humidity' },
    ],
    added: {
      hot_02: { created_by: 'olaf', created_ms: ADDED_MS, created: '2026-12-06T03:00:00.000Z', updated_by: 'olaf',
        updated_ms: ADDED_MS, updated: '2026-12-06T03:00:00.000Z' },
      too_dry: { created_by: 'olaf', created_ms: ADDED_MS, updated_by: 'ann', updated_ms: CHANGED_MS },
      gone_meanwhile: { created_by: 'olaf', created_ms: ADDED_MS },
    },
    max_added: 100,
  };

  test('the rules in the gateway\'s order; added ones by the keys of "added", with who and when', () => {
    const list = m.parseRuleList(answer);
    assert.deepEqual(list.rules.map((r) => [r.name, r.added === null ? 'config' : 'added']),
      [['device_offline', 'config'], ['hot_02', 'added'], ['too_dry', 'added']]);
    assert.equal(list.addedCount, 2, 'a name in "added" without its rule is not counted');
    assert.equal(list.maxAdded, 100);
    assert.equal(list.canAdd, true);
    assert.deepEqual(list.rules[1].added, { createdBy: 'olaf', createdMs: ADDED_MS, updatedBy: 'olaf', updatedMs: ADDED_MS });
    assert.equal(list.rules[1].sentence, 'temperature above 30 °C; device sensor-02', 'said like every other rule');
    assert.equal(list.rules[1].rule, answer.rules[1], 'the rule as answered, for the Change form');
    assert.equal(list.rules[1].kind, 'threshold');
  });

  test('"added" and "max_added" read defensively', () => {
    // A gateway from before: no "added", no changes.
    const old = m.parseRuleList({ rules: answer.rules });
    assert.equal(old.canAdd, false);
    assert.equal(old.maxAdded, null);
    assert.ok(old.rules.every((r) => r.added === null));
    for (const added of [null, [], 'hot_02', 7]) {
      const list = m.parseRuleList({ rules: answer.rules, added, max_added: 100 });
      assert.equal(list.canAdd, false, JSON.stringify(added));
      assert.ok(list.rules.every((r) => r.added === null));
    }
    for (const max of [-1, 1.5, '100', null]) assert.equal(m.parseRuleList({ ...answer, max_added: max }).maxAdded, null);
    assert.equal(m.parseRuleList({ ...answer, max_added: 0 }).maxAdded, 0);
    // An entry that is not an object still marks its rule added; what it lacks is unknown.
    const odd = m.parseRuleList({ rules: answer.rules, added: { hot_02: true, too_dry: { created_by: 7, created_ms: 'x' } } });
    assert.deepEqual(odd.rules[1].added, { createdBy: '', createdMs: null, updatedBy: '', updatedMs: null });
    assert.deepEqual(odd.rules[2].added, { createdBy: '', createdMs: null, updatedBy: '', updatedMs: null });
    // Not a name of every object.
    assert.equal(m.parseRuleList({ rules: [{ kind: 'rollout_halted', name: 'toString' }], added: {} }).rules[0].added, null);
    for (const bad of [undefined, null, 'rules', [], { rules: 'none' }]) {
      assert.deepEqual(m.parseRuleList(bad), { rules: [], addedCount: 0, maxAdded: null, canAdd: false });
    }
  });

  test('the Source: the config file, added by whom and when, or the last change (local time, to the minute)', () => {
    const list = m.parseRuleList(answer);
    assert.deepEqual(m.ruleSource(null), { verb: 'config file', by: '', at: '', atMs: null, text: 'config file', title: '' });
    assert.deepEqual(m.ruleSource(list.rules[1].added), {
      verb: 'added', by: 'olaf', at: '2026-12-06 04:00', atMs: ADDED_MS, text: 'added by olaf, 2026-12-06 04:00', title: '' });
    assert.deepEqual(m.ruleSource(list.rules[2].added), {
      verb: 'changed', by: 'ann', at: '2026-12-07 09:12', atMs: CHANGED_MS, text: 'changed by ann, 2026-12-07 09:12',
      title: 'added by olaf, 2026-12-06 04:00' });
    assert.equal(m.ruleSource({ createdBy: '', createdMs: null, updatedBy: '', updatedMs: null }).text, 'added');
  });

  test('operators and admins change rules; viewers never', () => {
    assert.equal(m.mayChangeRules('operator'), true);
    assert.equal(m.mayChangeRules('admin'), true);
    assert.equal(m.mayChangeRules('viewer'), false);
    assert.equal(m.mayChangeRules(undefined), false);
  });

  test('the note for those who change rules: where, and how many more', () => {
    assert.equal(m.rulesNote(2, 100),
      'Rules from the config file are changed in the config file; the ones added here can be changed and removed here. Added here: 2 of at most 100.');
    assert.equal(m.rulesNote(0, null),
      'Rules from the config file are changed in the config file; the ones added here can be changed and removed here.');
  });
});

describe('the rule form: values, the request, refusals', () => {
  // A form's values: a new rule's, with `top` changed and `fields` and `units` as typed.
  const fresh = (top = {}, fields = {}, units = {}) => {
    const values = m.newRuleValues();
    return { ...values, ...top, fields: { ...values.fields, ...fields }, units: { ...values.units, ...units } };
  };
  const spec = (id) => m.ALL_FIELDS.find((field) => field.id === id);

  test('a new rule: a temperature above a level on every device; every other field empty, choices on their first', () => {
    const { fields, units, ...rest } = m.newRuleValues();
    assert.deepEqual(rest, { name: '', kind: 'threshold', scope: 'all', devices: '', label: '' });
    assert.deepEqual(fields, {
      quantity: 'temperature', direction: 'above', level: '', clear: '', silent: '', within_days: '', clear_days: '', within_hours: '',
      clear_hours: '', below_bytes: '', clear_bytes: '', above_readings: '', clear_readings: '', above_s: '', clear_s: '',
      event: 'failed_sign_ins', above_per_minute: '', clear_per_minute: '', quiet: '', quiet_superseded: '', quiet_denials: '',
      for: '',
    });
    assert.deepEqual(units, { silent: 'min', below_bytes: 'GiB', clear_bytes: 'GiB', above_s: 'min', clear_s: 'min', quiet: 'min',
      quiet_superseded: 'min', quiet_denials: 'min', for: 'min' });
    assert.equal(m.unitOf('temperature'), '°C');
    assert.equal(m.unitOf('humidity'), '%RH');
  });

  test('every kind the gateway has, each with the fields of its keys; the devices only for the kinds that watch devices', () => {
    assert.deepEqual(m.FORM_KINDS.map((k) => k.kind), Object.keys(m.ALERT_KINDS));
    const keys = (kind) => m.fieldsOf(kind).flatMap((field) => field.keys);
    assert.deepEqual(Object.fromEntries(m.FORM_KINDS.map((k) => [k.kind, keys(k.kind)])), {
      threshold: ['quantity', 'above', 'below', 'clear', 'for_s'],
      device_offline: ['silent_for_s', 'for_s'],
      certificate_expiry: ['within_days', 'clear_days', 'for_s'],
      crl_expiry: ['within_hours', 'clear_hours', 'for_s'],
      disk_space: ['below_bytes', 'clear_bytes', 'for_s'],
      export_backlog: ['above_readings', 'clear_readings', 'for_s'],
      export_lag: ['above_s', 'clear_s', 'for_s'],
      event_rate: ['event', 'above_per_minute', 'clear_per_minute', 'for_s'],
      update_failed: ['for_s'],
      rollout_halted: ['for_s'],
      outbox_drops: ['quiet_for_s', 'for_s'],
      superseded_certificate: ['quiet_for_s', 'for_s'],
      device_acl_denials: ['quiet_for_s', 'for_s'],
    });
    assert.deepEqual(m.FORM_KINDS.filter((k) => k.scoped).map((k) => k.kind),
      ['threshold', 'device_offline', 'update_failed', 'outbox_drops', 'superseded_certificate', 'device_acl_denials']);
    // Only those without a default must be filled.
    assert.deepEqual(m.ALL_FIELDS.filter((field) => field.required).map((field) => field.id),
      ['quantity', 'direction', 'level', 'below_bytes', 'above_readings', 'event']);
    assert.deepEqual(spec('event').choices.map((c) => c.value),
      ['failed_sign_ins', 'rejected_readings', 'https_handshake_failures', 'broker_exits', 'mqtt_handshake_failures', 'acl_denials']);
    assert.deepEqual(spec('event').choices.map((c) => c.label), ['failed sign-ins', 'rejected readings and statuses',
      'refused HTTPS handshakes', 'broker exits', 'refused MQTT handshakes', 'ACL denials']);
  });

  test('labels say the unit chosen (and "optional"); placeholders and hints the gateway\'s defaults', () => {
    const label = (id, values = fresh()) => m.fieldLabel(spec(id), values);
    assert.equal(label('level'), 'Level (°C)');
    assert.equal(label('level', fresh({}, { quantity: 'humidity' })), 'Level (%RH)');
    assert.equal(label('clear'), 'Clears at (°C, optional)');
    assert.equal(label('quantity'), 'Quantity');
    assert.equal(label('for'), 'Held for (minutes, optional)');
    assert.equal(label('for', fresh({}, {}, { for: 's' })), 'Held for (seconds, optional)');
    assert.equal(label('silent'), 'Fires after nothing received for (minutes, optional)');
    assert.equal(label('within_days'), 'Fires within (days, optional)');
    assert.equal(label('clear_days'), 'Clears at (days left, optional)');
    assert.equal(label('within_hours'), 'Fires within (hours, optional)');
    assert.equal(label('clear_hours'), 'Clears at (hours ahead, optional)');
    assert.equal(label('below_bytes'), 'Fires below (GiB)');
    assert.equal(label('clear_bytes', fresh({}, {}, { clear_bytes: 'MiB' })), 'Clears at (MiB, optional)');
    assert.equal(label('above_readings'), 'Fires above (readings)');
    assert.equal(label('clear_readings'), 'Clears at (readings, optional)');
    assert.equal(label('event'), 'Event');
    assert.equal(label('above_per_minute'), 'Fires above (events per minute, optional)');
    assert.equal(label('clear_per_minute'), 'Clears at (events per minute, optional)');
    assert.equal(label('quiet'), 'Clears after no drops for (minutes, optional)');
    const placeholder = (id, values = fresh()) => m.fieldPlaceholder(spec(id), values);
    assert.deepEqual(['silent', 'within_days', 'within_hours', 'above_per_minute', 'quiet', 'level', 'below_bytes', 'clear', 'for']
      .map((id) => placeholder(id)), ['10', '30', '24', '30', '60', '-15', '', '', '']);
    assert.equal(placeholder('silent', fresh({}, {}, { silent: 's' })), '600', 'in the unit chosen');
    const hint = (id, values = fresh()) => m.fieldHint(spec(id), values);
    assert.match(hint('silent'), /Empty: 10 minutes\.$/);
    assert.match(hint('within_days'), /Empty: 30 days\.$/);
    assert.match(hint('within_hours'), /Empty: 24 hours\.$/);
    assert.match(hint('above_per_minute'), /0: any at all\. Empty: 30\.$/);
    assert.match(hint('quiet'), /Empty: 1 hour\.$/);
    assert.match(hint('for'), /Empty: at once\.$/);
    assert.equal(hint('clear'), 'At or below the level: the alert resolves once readings are back there. Empty: the level itself.');
    assert.match(hint('clear', fresh({}, { direction: 'below' })), /^At or above the level/);
    assert.match(hint('clear_bytes'), /^At or above the level: .* Empty: the level itself\.$/);
    assert.match(hint('clear_readings'), /^At or below the level/);
  });

  test('levels as people type them; anything else is not a number', () => {
    assert.equal(m.parseLevel('-15'), -15);
    assert.equal(m.parseLevel(' 17.5 '), 17.5);
    assert.equal(m.parseLevel('17,5'), 17.5, 'a decimal comma');
    assert.equal(m.parseLevel('\u221215'), -15, 'a typographic minus');
    assert.equal(m.parseLevel('+4'), 4);
    assert.equal(m.parseLevel('.5'), 0.5);
    assert.equal(m.parseLevel('0'), 0);
    for (const bad of ['', ' ', 'abc', '1e3', '--1', '1.2.3', '15 °C', 'Infinity', '0x10', '1,5,0']) assert.equal(m.parseLevel(bad), null, bad);
  });

  test('whole numbers, with or without thousands grouped', () => {
    assert.equal(m.parseWhole('1000000'), 1_000_000);
    assert.equal(m.parseWhole(' 1,000,000 '), 1_000_000);
    assert.equal(m.parseWhole('100 000'), 100_000);
    assert.equal(m.parseWhole('0'), 0);
    for (const bad of ['', '1.5', '1,5', '-1', '1,00', '1e6', 'many', '10000000000000000000']) assert.equal(m.parseWhole(bad), null, bad);
  });

  test('durations in whole minutes or seconds', () => {
    assert.equal(m.parseDuration('5', 'min'), 300);
    assert.equal(m.parseDuration(' 90 ', 's'), 90);
    assert.equal(m.parseDuration('0', 'min'), 0);
    for (const bad of ['', '1.5', '-1', 'ten', '5 min']) assert.equal(m.parseDuration(bad, 'min'), null, bad);
  });

  test('sizes in GiB or MiB, as whole bytes', () => {
    assert.equal(m.parseSize('1', 'GiB'), 1_073_741_824);
    assert.equal(m.parseSize('1,5', 'GiB'), 1_610_612_736);
    assert.equal(m.parseSize('1.2', 'GiB'), 1_288_490_189, '1288490188.8 rounded');
    assert.equal(m.parseSize('500', 'MiB'), 524_288_000);
    assert.equal(m.parseSize('0.5', 'MiB'), 524_288);
    for (const bad of ['', 'lots', '1 GiB', '1e9']) assert.equal(m.parseSize(bad, 'GiB'), null, bad);
  });

  test('a threshold rule\'s body: the keys of its kind, optional ones left out when empty', () => {
    assert.deepEqual(m.ruleRequest(fresh({ name: ' hot_02 ', scope: 'devices', devices: 'sensor-02' }, { level: '30' })),
      { body: { name: 'hot_02', kind: 'threshold', quantity: 'temperature', above: 30, devices: ['sensor-02'] } });
    assert.deepEqual(m.ruleRequest(fresh({ name: 'too_dry', scope: 'label', label: ' greenhouse ' },
      { quantity: 'humidity', direction: 'below', level: '30', clear: '35,5', for: '90' }, { for: 's' })),
    { body: { name: 'too_dry', kind: 'threshold', quantity: 'humidity', below: 30, clear: 35.5, for_s: 90, label: 'greenhouse' } });
    // Several devices, by commas or spaces, each once; "for" 0 is left out as the gateway lists it.
    assert.deepEqual(m.ruleRequest(fresh({ name: 'warm', scope: 'devices', devices: 'sensor-01, sensor-02 sensor-01,,sensor-03' },
      { level: '-15', for: '0' })),
    { body: { name: 'warm', kind: 'threshold', quantity: 'temperature', above: -15, devices: ['sensor-01', 'sensor-02', 'sensor-03'] } });
    // The other scope's text, typed before choosing, is not sent; nor are other kinds' fields.
    assert.deepEqual(m.ruleRequest(fresh({ name: 'warm', scope: 'all', devices: 'sensor-01', label: 'x' },
      { level: '5', silent: '3', within_days: '7', event: 'acl_denials' })),
    { body: { name: 'warm', kind: 'threshold', quantity: 'temperature', above: 5 } });
  });

  test('a device_offline rule\'s body: silent_for_s (left to the gateway when empty), for_s, its scope', () => {
    assert.deepEqual(m.ruleRequest(fresh({ name: 'quiet', kind: 'device_offline', scope: 'label', label: 'freezer' },
      { level: 'ignored', clear: 'x', silent: '30', for: '2' })),
    { body: { name: 'quiet', kind: 'device_offline', silent_for_s: 1800, for_s: 120, label: 'freezer' } });
    assert.deepEqual(m.ruleRequest(fresh({ name: 'quiet', kind: 'device_offline' }, { silent: '45' }, { silent: 's' })),
      { body: { name: 'quiet', kind: 'device_offline', silent_for_s: 45 } });
    assert.deepEqual(m.ruleRequest(fresh({ name: 'quiet', kind: 'device_offline' }, { silent: ' ' })),
      { body: { name: 'quiet', kind: 'device_offline' } });
  });

  test('every other kind\'s body: its keys only, in the gateway\'s units, optional ones left out when empty', () => {
    // What was typed for other kinds, and a scope chosen, are there in every case below.
    const typed = { level: '5', clear: '4', silent: '3', within_days: '7', within_hours: '8', below_bytes: '1', above_readings: '9',
      above_per_minute: '6', quiet: '2' };
    const request = (kind, fields = {}, units = {}, top = {}) =>
      m.ruleRequest(fresh({ name: 'r', kind, scope: 'devices', devices: 'sensor-01', ...top }, { ...typed, ...fields }, units));
    // Nothing typed but `fields`.
    const only = (fields) => ({ ...Object.fromEntries(Object.keys(typed).map((id) => [id, ''])), ...fields });
    const body = (kind, keys) => ({ body: { name: 'r', kind, ...keys } });

    assert.deepEqual(request('certificate_expiry', { within_days: '14', clear_days: '21,5', for: '1' }),
      body('certificate_expiry', { within_days: 14, clear_days: 21.5, for_s: 60 }));
    assert.deepEqual(request('certificate_expiry', only({})), body('certificate_expiry', {}), 'the defaults');
    assert.deepEqual(request('crl_expiry', { within_hours: '36', clear_hours: '48' }),
      body('crl_expiry', { within_hours: 36, clear_hours: 48 }));
    assert.deepEqual(request('crl_expiry', only({})), body('crl_expiry', {}));
    assert.deepEqual(request('disk_space', { below_bytes: '1.5', clear_bytes: '2048' }, { clear_bytes: 'MiB' }),
      body('disk_space', { below_bytes: 1_610_612_736, clear_bytes: 2_147_483_648 }));
    assert.deepEqual(request('disk_space', { below_bytes: '500', for: '30' }, { below_bytes: 'MiB', for: 's' }),
      body('disk_space', { below_bytes: 524_288_000, for_s: 30 }));
    assert.deepEqual(request('export_backlog', { above_readings: '1,000,000', clear_readings: '100 000', for: '5' }),
      body('export_backlog', { above_readings: 1_000_000, clear_readings: 100_000, for_s: 300 }));
    assert.deepEqual(request('export_lag', { above_s: '20', clear_s: '90' }, { clear_s: 's' }),
      body('export_lag', { above_s: 1200, clear_s: 90 }));
    assert.deepEqual(request('export_lag', only({})), body('export_lag', {}), 'the defaults');
    assert.deepEqual(request('event_rate', { event: 'failed_sign_ins', above_per_minute: '10', clear_per_minute: '2' }),
      body('event_rate', { event: 'failed_sign_ins', above_per_minute: 10, clear_per_minute: 2 }));
    // 0: any at all, sent (only "held for" leaves 0 out).
    assert.deepEqual(request('event_rate', only({ event: 'acl_denials', above_per_minute: '0' })),
      body('event_rate', { event: 'acl_denials', above_per_minute: 0 }));
    assert.deepEqual(request('event_rate', only({})), body('event_rate', { event: 'failed_sign_ins' }));
    assert.deepEqual(request('update_failed', { for: '10' }), body('update_failed', { for_s: 600, devices: ['sensor-01'] }));
    assert.deepEqual(request('update_failed', {}, {}, { scope: 'label', label: 'freezer' }), body('update_failed', { label: 'freezer' }));
    assert.deepEqual(request('update_failed', {}, {}, { scope: 'all' }), body('update_failed', {}));
    assert.deepEqual(request('rollout_halted', { for: '15' }), body('rollout_halted', { for_s: 900 }), 'no devices: a rollout');
    assert.deepEqual(request('outbox_drops', { quiet: '90' }, { quiet: 's' }, { scope: 'label', label: 'freezer' }),
      body('outbox_drops', { quiet_for_s: 90, label: 'freezer' }));
    assert.deepEqual(request('outbox_drops', { quiet: '' }), body('outbox_drops', { devices: ['sensor-01'] }));
  });

  test('what is checked before asking the gateway: required fields and numbers, nothing else', () => {
    assert.deepEqual(m.ruleRequest(fresh()), { problems: [
      { field: 'name', text: 'Name the rule.' },
      { field: 'level', text: 'Give the level in °C.' },
    ] });
    assert.deepEqual(m.ruleRequest(fresh({ name: 'x', scope: 'devices', devices: ' , ' },
      { quantity: 'humidity', level: 'high', clear: 'lower', for: '1.5' })), { problems: [
      { field: 'level', text: 'The level must be a number of %RH, like -15 or 17.5.' },
      { field: 'clear', text: 'The clear level must be a number of %RH, or left empty.' },
      { field: 'for', text: '"Held for" must be a whole number of minutes, or left empty.' },
      { field: 'devices', text: 'Name the devices by their ids, or choose every device.' },
    ] });
    assert.deepEqual(m.ruleRequest(fresh({ name: 'x', kind: 'device_offline', scope: 'label' }, { silent: '10.5' }, { silent: 's' })),
      { problems: [
        { field: 'silent', text: '"Nothing received for" must be a whole number of seconds, or left empty.' },
        { field: 'label', text: 'Name the label, or choose every device.' },
      ] });
    const problems = (kind, fields, units = {}) => m.ruleRequest(fresh({ name: 'x', kind }, fields, units)).problems;
    assert.deepEqual(problems('certificate_expiry', { within_days: 'soon', clear_days: '2 weeks' }), [
      { field: 'within_days', text: 'The time left must be a number of days, or left empty.' },
      { field: 'clear_days', text: 'The clear level must be a number of days left, or left empty.' },
    ]);
    assert.deepEqual(problems('crl_expiry', { within_hours: 'x', clear_hours: 'y' }), [
      { field: 'within_hours', text: 'The time ahead must be a number of hours, or left empty.' },
      { field: 'clear_hours', text: 'The clear level must be a number of hours ahead, or left empty.' },
    ]);
    assert.deepEqual(problems('disk_space', {}), [{ field: 'below_bytes', text: 'Give the free space in GiB.' }]);
    assert.deepEqual(problems('disk_space', { below_bytes: 'lots', clear_bytes: '1 GB' }, { clear_bytes: 'MiB' }), [
      { field: 'below_bytes', text: 'The free space must be a number of GiB.' },
      { field: 'clear_bytes', text: 'The clear level must be a number of MiB, or left empty.' },
    ]);
    assert.deepEqual(problems('export_backlog', { clear_readings: '1,5' }), [
      { field: 'above_readings', text: 'Give the backlog in readings.' },
      { field: 'clear_readings', text: 'The clear level must be a whole number of readings, or left empty.' },
    ]);
    assert.deepEqual(problems('export_backlog', { above_readings: '1.5' }), [
      { field: 'above_readings', text: 'The backlog must be a whole number of readings.' },
    ]);
    assert.deepEqual(problems('event_rate', { event: '', above_per_minute: '2.5', clear_per_minute: 'few' }), [
      { field: 'event', text: 'Choose the event.' },
      { field: 'above_per_minute', text: 'The rate must be a whole number of events per minute, or left empty.' },
      { field: 'clear_per_minute', text: 'The clear level must be a whole number of events per minute, or left empty.' },
    ]);
    assert.deepEqual(problems('event_rate', { event: 'nope' }), [{ field: 'event', text: 'Choose the event.' }]);
    assert.deepEqual(problems('outbox_drops', { quiet: '1.5' }), [
      { field: 'quiet', text: '"Clears after no drops for" must be a whole number of minutes, or left empty.' },
    ]);
    assert.deepEqual(problems('rollout_halted', { for: 'soon' }), [
      { field: 'for', text: '"Held for" must be a whole number of minutes, or left empty.' },
    ]);
    // The gateway judges the rest: a name it refuses, a level out of range, a clear level on the
    // wrong side, a duration too long, a size below 0.
    assert.deepEqual(m.ruleRequest(fresh({ name: 'Not A Name!' }, { level: '-2000000000', clear: '100', for: '99999' })),
      { body: { name: 'Not A Name!', kind: 'threshold', quantity: 'temperature', above: -2000000000, clear: 100, for_s: 5999940 } });
    assert.deepEqual(m.ruleRequest(fresh({ name: 'x', kind: 'disk_space' }, { below_bytes: '-1', clear_bytes: '0.5' })),
      { body: { name: 'x', kind: 'disk_space', below_bytes: -1_073_741_824, clear_bytes: 536_870_912 } });
    assert.deepEqual(m.ruleRequest(fresh({ name: 'x', kind: 'certificate_expiry' }, { within_days: '0', clear_days: '-3' })),
      { body: { name: 'x', kind: 'certificate_expiry', within_days: 0, clear_days: -3 } });
  });

  test('an added rule of every kind in the form: its values, and the same rule back from them', () => {
    // As GET /api/v1/alert-rules lists them: every level key, a clear level only apart from it.
    const rules = [
      { above: -15, clear: -17, devices: ['sensor-01', 'sensor-02'], for_s: 300, kind: 'threshold', name: 'freezer_warm',
        quantity: 'temperature' },
      { below: 30, for_s: 90, kind: 'threshold', label: 'greenhouse', name: 'too_dry', quantity: 'humidity' },
      { above: 27.5, kind: 'threshold', name: 'hot', quantity: 'temperature' },
      { kind: 'device_offline', name: 'quiet', silent_for_s: 1800 },
      { for_s: 60, kind: 'device_offline', label: 'freezer', name: 'quiet2', silent_for_s: 45 },
      { kind: 'certificate_expiry', name: 'certs', within_days: 30 },
      { clear_days: 45.5, for_s: 3600, kind: 'certificate_expiry', name: 'certs2', within_days: 14 },
      { kind: 'crl_expiry', name: 'crl', within_hours: 24 },
      { clear_hours: 48, kind: 'crl_expiry', name: 'crl2', within_hours: 12.5 },
      { below_bytes: 1_073_741_824, clear_bytes: 1_288_490_189, kind: 'disk_space', name: 'disk' },
      { below_bytes: 524_288_000, for_s: 30, kind: 'disk_space', name: 'disk2' },
      { below_bytes: 123_456_789, kind: 'disk_space', name: 'disk3' },
      { above_readings: 1_000_000, clear_readings: 100_000, for_s: 300, kind: 'export_backlog', name: 'backlog' },
      { above_s: 900, clear_s: 60, kind: 'export_lag', name: 'lag' },
      { above_s: 45, kind: 'export_lag', name: 'lag2' },
      { above_per_minute: 30, clear_per_minute: 5, event: 'failed_sign_ins', kind: 'event_rate', name: 'sign_in_attack' },
      { above_per_minute: 0, event: 'acl_denials', for_s: 60, kind: 'event_rate', name: 'acl' },
      { kind: 'update_failed', name: 'updates' },
      { devices: ['sensor-01'], for_s: 120, kind: 'update_failed', name: 'updates2' },
      { kind: 'rollout_halted', name: 'halted' },
      { kind: 'outbox_drops', label: 'freezer', name: 'drops', quiet_for_s: 3600 },
      { devices: ['a', 'b'], kind: 'outbox_drops', name: 'drops2', quiet_for_s: 90 },
    ];
    for (const rule of rules) {
      assert.notEqual(m.ruleSentence(rule), null, `${rule.name} is one the dashboard says`);
      assert.deepEqual(m.ruleRequest(m.ruleFormValues(rule)), { body: rule }, rule.name);
    }
    const values = (name) => m.ruleFormValues(rules.find((rule) => rule.name === name));
    assert.deepEqual(values('freezer_warm'), fresh({ name: 'freezer_warm', scope: 'devices', devices: 'sensor-01, sensor-02' },
      { level: '-15', clear: '-17', for: '5' }));
    assert.deepEqual(values('too_dry'), fresh({ name: 'too_dry', scope: 'label', label: 'greenhouse' },
      { quantity: 'humidity', direction: 'below', level: '30', for: '90' }, { for: 's' }));
    assert.deepEqual(values('quiet2'), fresh({ name: 'quiet2', kind: 'device_offline', scope: 'label', label: 'freezer' },
      { silent: '45', for: '1' }, { silent: 's' }));
    assert.deepEqual(values('certs2'), fresh({ name: 'certs2', kind: 'certificate_expiry' },
      { within_days: '14', clear_days: '45.5', for: '60' }));
    assert.deepEqual(values('crl2').fields, { ...m.newRuleValues().fields, within_hours: '12.5', clear_hours: '48' });
    // Sizes in GiB from 1 GiB, else MiB, with the fewest decimals that give the same bytes.
    assert.deepEqual(values('disk'), fresh({ name: 'disk', kind: 'disk_space' }, { below_bytes: '1', clear_bytes: '1.2' }));
    assert.deepEqual(values('disk2'), fresh({ name: 'disk2', kind: 'disk_space' }, { below_bytes: '500', for: '30' },
      { below_bytes: 'MiB', for: 's' }));
    assert.deepEqual([values('disk3').fields.below_bytes, values('disk3').units.below_bytes], ['117.737569', 'MiB'],
      'the fewest decimals that give the same bytes');
    assert.deepEqual(values('backlog').fields,
      { ...m.newRuleValues().fields, above_readings: '1000000', clear_readings: '100000', for: '5' });
    assert.deepEqual(values('acl').fields, { ...m.newRuleValues().fields, event: 'acl_denials', above_per_minute: '0', for: '1' });
    assert.deepEqual(values('drops'), fresh({ name: 'drops', kind: 'outbox_drops', scope: 'label', label: 'freezer' }, { quiet: '60' }));
    assert.deepEqual(values('halted'), fresh({ name: 'halted', kind: 'rollout_halted' }));
    // The gateway lists silent_for_s always: a device_offline rule without it is not one this page can read.
    assert.equal(m.ruleFormValues({ kind: 'device_offline', name: 'o' }), null);
  });

  test('rules the form cannot show faithfully are not offered for Change', () => {
    assert.equal(m.ruleFormValues({ kind: 'pressure_drop', name: 'p', below: 900 }), null, 'a kind from a newer gateway');
    assert.equal(m.ruleFormValues({ above: 1, kind: 'threshold', name: 'x', quantity: 'temperature', hysteresis: 2 }), null, 'an unknown key');
    assert.equal(m.ruleFormValues({ above: 1, kind: 'threshold', name: 'x', quantity: 'pressure' }), null, 'an unknown quantity');
    assert.equal(m.ruleFormValues({ above_per_minute: 3, event: 'coffee_breaks', kind: 'event_rate', name: 'e' }), null, 'an unknown event');
    assert.equal(m.ruleFormValues({ kind: 'certificate_expiry', name: 'c', within_days: 30, devices: ['a'] }), null,
      'a key of another kind');
    assert.equal(m.ruleFormValues({ kind: 'device_offline', name: 'o', silent_for_s: 600, for_s: 1.5 }), null);
    // Said in a sentence, but the form would send something else back: whole readings, events and
    // bytes; no exponents.
    for (const rule of [
      { above_readings: 1000.5, kind: 'export_backlog', name: 'b' },
      { above_per_minute: 2.5, event: 'failed_sign_ins', kind: 'event_rate', name: 'e' },
      { below_bytes: 1_288_490_188.8, kind: 'disk_space', name: 'd' },
      { above: 1e-7, kind: 'threshold', name: 't', quantity: 'temperature' },
    ]) {
      assert.notEqual(m.ruleSentence(rule), null, rule.name);
      assert.equal(m.ruleFormValues(rule), null, rule.name);
    }
  });

  test('paths of added rules, their names encoded', () => {
    assert.equal(m.rulePath('hot_02'), '/api/v1/alert-rules/hot_02');
    assert.equal(m.rulePath('a b/c'), '/api/v1/alert-rules/a%20b%2Fc');
  });

  test('refusals: every problem of invalid_rule with its fields, the conflicts, a rule gone, roles', () => {
    const refusal = (status, code, message = 'for people') => new m.ApiError(status, code, message);
    const context = { name: 'hot_02', maxAdded: 100 };
    assert.deepEqual(m.ruleRefusal('add', refusal(400, 'invalid_rule',
      "above: must be a number from -1000000000 to 1000000000; name: must be 1 to 64 characters of a-z, 0-9, '_' and '-'"), context), {
      text: 'The gateway did not add the rule:',
      problems: ['above: must be a number from -1000000000 to 1000000000', "name: must be 1 to 64 characters of a-z, 0-9, '_' and '-'"],
      fields: ['level', 'name'],
      stale: false,
    });
    const changed = m.ruleRefusal('change', refusal(400, 'invalid_rule',
      'clear: must be at or below above (-15); for_s: must be a whole number from 0 to 604800; below: x; the rule: odd'), context);
    assert.equal(changed.text, 'The gateway did not save the changes:');
    assert.deepEqual(changed.problems, ['clear: must be at or below above (-15)', 'for_s: must be a whole number from 0 to 604800', 'below: x',
      'the rule: odd']);
    assert.deepEqual(changed.fields, ['clear', 'for', 'level'], 'each field once; a problem of no field marks none');
    // Every kind's keys mark their fields.
    const others = m.ruleRefusal('add', refusal(400, 'invalid_rule', ['below_bytes: must be a number from 0 to 1e18',
      'clear_bytes: must be at or above below_bytes (the level where the alert resolves)', 'event: must be one of failed_sign_ins, …',
      'above_per_minute: expected a number', 'clear_per_minute: x', 'within_days: must be a number from 1 to 3650', 'clear_days: x',
      'within_hours: x', 'clear_hours: x', 'above_readings: x', 'clear_readings: x', 'silent_for_s: x', 'quiet_for_s: x',
      'devices: at most 1000 devices', 'label: x', 'kind: must be one of …', 'colour: unknown key'].join('; ')), context);
    assert.deepEqual(others.fields, ['below_bytes', 'clear_bytes', 'event', 'above_per_minute', 'clear_per_minute', 'within_days',
      'clear_days', 'within_hours', 'clear_hours', 'above_readings', 'clear_readings', 'silent', 'quiet', 'devices', 'label', 'kind']);
    assert.equal(others.problems.length, 17);
    assert.equal(m.problemField('quantity: must be one of temperature, humidity'), 'quantity');
    assert.equal(m.problemField('toString: x'), null, 'not a key of the map\'s prototype');
    // quiet_for_s is a field of outbox_drops and one of device_acl_denials: the rule's kind says which.
    assert.equal(m.problemField('quiet_for_s: must be a whole number', 'outbox_drops'), 'quiet');
    assert.equal(m.problemField('quiet_for_s: must be a whole number', 'device_acl_denials'), 'quiet_denials');
    assert.equal(m.problemField('quiet_for_s: must be a whole number', 'superseded_certificate'), 'quiet_superseded');
    assert.equal(m.problemField('for_s: must be a whole number', 'device_acl_denials'), 'for');
    const said = (action, error, ctx = context) => {
      const { text, stale, fields } = m.ruleRefusal(action, error, ctx);
      return [text, stale, fields];
    };
    assert.deepEqual(said('add', refusal(400, 'malformed_json')),
      ['The gateway could not read what this page sent. Reload the page and try again.', false, []]);
    assert.deepEqual(said('add', refusal(409, 'rule_exists')),
      ['A rule named hot_02 exists already. Choose another name.', true, ['name']]);
    assert.deepEqual(said('add', refusal(409, 'too_many_rules')),
      ['The limit of 100 added rules is reached: remove one before adding another.', true, []]);
    assert.deepEqual(said('add', refusal(409, 'too_many_rules'), { name: 'x', maxAdded: null }),
      ['The limit of added rules is reached: remove one before adding another.', true, []]);
    assert.deepEqual(said('change', refusal(404, 'rule_not_found')),
      ['Rule hot_02 was removed meanwhile. Its settings are still in the form: add it again to keep it.', true, []]);
    assert.deepEqual(said('remove', refusal(404, 'rule_not_found')), ['Rule hot_02 was removed meanwhile.', true, []]);
    assert.deepEqual(said('change', refusal(409, 'rule_configured')),
      ["Rule hot_02 comes from the gateway's config file: change it there.", true, []]);
    assert.deepEqual(said('remove', refusal(403, 'forbidden')),
      ['Your role does not allow this any more: changing alert rules needs the operator role.', false, []]);
    assert.deepEqual(said('add', refusal(0, 'network')),
      ['The gateway cannot be reached. Check the connection; the page keeps trying.', false, []]);
    assert.deepEqual(said('add', refusal(418, 'teapot', 'short and stout')),
      ['The gateway refused this (teapot): short and stout', false, []]);
    assert.deepEqual(said('add', new Error('boom')), ['Something went wrong. Reload the page and try again.', false, []]);
  });
});

describe('silences by rule and subject: the Rules section\'s Silence form and the Silences list', () => {
  const rule = (kind, fields = {}) => ({ name: `r_${kind}`, kind, ...fields });
  const refusal = (status, code, message = 'for people') => new m.ApiError(status, code, message);

  test('the subject: "gateway" for the gateway\'s own rules, a device for device rules, else a hint', () => {
    for (const kind of ['crl_expiry', 'disk_space', 'export_backlog', 'event_rate']) {
      const guide = m.subjectGuide(rule(kind));
      assert.equal(guide.prefill, 'gateway', kind);
      assert.equal(guide.fleet, false, kind);
    }
    for (const kind of ['threshold', 'device_offline', 'update_failed', 'outbox_drops']) {
      const guide = m.subjectGuide(rule(kind));
      assert.equal(guide.prefill, '', kind);
      assert.equal(guide.placeholder, 'sensor-01', kind);
      assert.match(guide.hint, /^A device id/, kind);
      assert.equal(guide.fleet, true, `${kind}: every device, so the fleet's ids are suggested`);
    }
    // A rule on one listed device: that device; on several: the first as the example.
    assert.equal(m.subjectGuide(rule('threshold', { devices: ['sensor-07'] })).prefill, 'sensor-07');
    const two = m.subjectGuide(rule('threshold', { devices: ['sensor-01', 'sensor-02'] }));
    assert.deepEqual([two.prefill, two.placeholder, two.fleet], ['', 'sensor-01', false]);
    assert.equal(m.subjectGuide(rule('certificate_expiry')).fleet, true);
    assert.match(m.subjectGuide(rule('certificate_expiry')).hint, /^A certificate's name/);
    assert.equal(m.subjectGuide(rule('rollout_halted')).placeholder, 'rollout-7');
    const unknown = m.subjectGuide(rule('a_future_kind'));
    assert.deepEqual([unknown.prefill, unknown.fleet], ['', false]);
    assert.match(unknown.hint, /"gateway" or "rollout-\{id\}"/);
    assert.equal(m.subjectGuide({ name: 'x' }).prefill, '', 'no kind at all');
  });

  test('the subjects suggested: the rule\'s devices, the fleet\'s (with its label), "gateway"', () => {
    const fleet = m.parseFleet({ devices: [
      { id: 'sensor-01', labels: ['freezer'] }, { id: 'sensor-02' }, { id: 'sensor-03', labels: ['freezer', 7] },
      { id: '' }, { name: 'no id' }, 'sensor-04', null,
    ] });
    assert.deepEqual(fleet, [
      { id: 'sensor-01', labels: ['freezer'] }, { id: 'sensor-02', labels: [] }, { id: 'sensor-03', labels: ['freezer'] },
    ]);
    assert.deepEqual(m.parseFleet(null), []);
    assert.deepEqual(m.parseFleet({ devices: 'none' }), []);
    assert.deepEqual(m.subjectSuggestions(rule('threshold', { devices: ['sensor-02', 'sensor-02', 'sensor-09'] }), fleet),
      ['sensor-02', 'sensor-09'], 'listed, each once, whether or not the fleet has them');
    assert.deepEqual(m.subjectSuggestions(rule('device_offline'), fleet), ['sensor-01', 'sensor-02', 'sensor-03']);
    assert.deepEqual(m.subjectSuggestions(rule('threshold', { label: 'freezer' }), fleet), ['sensor-01', 'sensor-03']);
    assert.deepEqual(m.subjectSuggestions(rule('threshold'), null), [], 'the fleet not read (yet)');
    assert.deepEqual(m.subjectSuggestions(rule('certificate_expiry'), fleet), ['sensor-01', 'sensor-02', 'sensor-03']);
    assert.deepEqual(m.subjectSuggestions(rule('disk_space'), fleet), ['gateway']);
    assert.deepEqual(m.subjectSuggestions(rule('rollout_halted'), fleet), []);
  });

  test('the request: the rule, the subject trimmed, until now plus a duration of the alert silence\'s, the comment', () => {
    const values = { rule: 'freezer_warm', subject: ' sensor-01 ', durationMs: 86_400_000, comment: '  on the bench ' };
    assert.deepEqual(m.silenceAheadRequest(values, T),
      { body: { rule: 'freezer_warm', subject: 'sensor-01', until_ms: T + 86_400_000, comment: 'on the bench' } });
    assert.deepEqual(m.silenceAheadRequest({ ...values, comment: '' }, T + 0.4),
      { body: { rule: 'freezer_warm', subject: 'sensor-01', until_ms: T + 86_400_000 } });
    // Every duration the firing alert's Silence offers, and no other.
    for (const d of m.SILENCE_DURATIONS) {
      assert.equal(m.silenceAheadRequest({ ...values, durationMs: d.ms }, T).body.until_ms, T + d.ms);
    }
    assert.throws(() => m.silenceAheadRequest({ ...values, durationMs: 5_000 }, T), RangeError);
    // No subject: said before asking the gateway; its grammar is the gateway's to check.
    assert.deepEqual(m.silenceAheadRequest({ ...values, subject: '   ' }, T),
      { problem: { field: 'subject', text: 'Name the subject to silence freezer_warm on.' } });
    assert.equal(m.silenceAheadRequest({ ...values, subject: 'bad id!' }, T).body.subject, 'bad id!');
  });

  test('refusals: the gateway\'s reason with the field it names, the rule removed meanwhile, roles, the general ones', () => {
    const subject = m.silenceAheadRefusal(refusal(400, 'invalid_silence',
      '"subject" is a device id, a certificate\'s or service\'s name, "gateway" or "rollout-{id}"'), 'freezer_warm', 'bad id!');
    assert.deepEqual(subject, {
      text: 'freezer_warm could not be silenced: "subject" is a device id, a certificate\'s or service\'s name, "gateway" or "rollout-{id}"',
      field: 'subject',
      stale: false,
    });
    assert.deepEqual(m.silenceAheadRefusal(refusal(400, 'invalid_silence', '"comment" is one line without control characters'),
      'freezer_warm', 'sensor-01'),
    { text: 'freezer_warm on sensor-01 could not be silenced: "comment" is one line without control characters', field: 'comment', stale: false });
    assert.equal(m.silenceAheadRefusal(refusal(400, 'invalid_silence', '"until_ms" must be in the next 90 days'), 'r', 's').field,
      'duration');
    assert.equal(m.silenceAheadRefusal(refusal(400, 'invalid_silence', 'something new'), 'r', 's').field, null);
    assert.deepEqual(m.silenceAheadRefusal(refusal(404, 'rule_not_found'), 'warm_02', 'sensor-02'),
      { text: 'Rule warm_02 was removed meanwhile: nothing was silenced.', field: null, stale: true });
    assert.equal(m.silenceAheadRefusal(refusal(403, 'forbidden'), 'r', 's').text,
      'Your role does not allow this any more: silencing an alert needs the operator role.');
    assert.match(m.silenceAheadRefusal(refusal(400, 'invalid_request', '"until" is not a silence\'s key'), 'r', 's').text,
      /^The gateway refused this \(invalid_request\): "until" is not/);
    assert.match(m.silenceAheadRefusal(refusal(0, 'network'), 'r', 's').text, /cannot be reached/);
    assert.match(m.silenceAheadRefusal(new Error('boom'), 'r', 's').text, /Something went wrong/);
  });

  test('the Silences list: read defensively, by rule then subject; until, by whom, the comment; Lift for operators', () => {
    const answer = { silences: [
      silence(5, { rule: 'freezer_warm', subject: 'sensor-02' }),
      silence(4, { rule: 'disk_space', subject: 'gateway', comment: undefined, created_by: undefined, until: undefined }),
      silence(3),
      silence(3, { subject: 'twice' }),
      { id: '6', rule: 'r', subject: 's', until_ms: UNTIL },
      { id: 7, rule: '', subject: 's', until_ms: UNTIL },
      { id: 8, rule: 'r', subject: 's', until_ms: 'tomorrow' },
      null, 'silence',
    ] };
    const silences = m.parseSilences(answer);
    assert.deepEqual(silences.map((s) => [s.id, s.rule, s.subject]),
      [[4, 'disk_space', 'gateway'], [3, 'freezer_warm', 'sensor-01'], [5, 'freezer_warm', 'sensor-02']]);
    assert.equal(silences[0].comment, '');
    assert.equal(silences[0].created_by, '');
    assert.deepEqual(m.parseSilences({}), []);
    assert.deepEqual(m.parseSilences({ silences: {} }), []);
    assert.deepEqual(m.parseSilences(undefined), []);

    const row = m.silenceListRow(silences[1], 'operator');
    assert.deepEqual(row, {
      id: 3, until: '2026-12-06 09:00', untilIso: '2026-12-06T08:00:00.000Z', by: 'ann', comment: 'defrosting',
      text: 'Silenced until 2026-12-06 09:00 by ann: defrosting',
      rule: 'freezer_warm', subject: 'sensor-01', name: 'freezer_warm on sensor-01', canLift: true,
    });
    assert.equal(m.silenceListRow(silences[1], 'admin').canLift, true);
    assert.equal(m.silenceListRow(silences[1], 'viewer').canLift, false);
    assert.equal(m.silenceListRow(silences[1], undefined).canLift, false);
    assert.equal(m.silenceListRow(silences[0], 'viewer').untilIso, '2026-12-06T08:00:00.000Z', 'from until_ms when `until` is missing');
  });

  test('what is said: silenced until when (local, to the minute), lifted, a lift of a silence over already', () => {
    const s = silence(3, { rule: 'freezer_warm', subject: 'sensor-01' });
    assert.equal(m.silencedText(s), 'Silenced freezer_warm on sensor-01 until 2026-12-06 09:00.');
    assert.equal(m.liftedText(s), 'Lifted the silence on freezer_warm on sensor-01.');
    assert.equal(m.liftMessage(refusal(404, 'silence_not_found'), s),
      'The silence on freezer_warm on sensor-01 is over already: it ended, or someone lifted it.');
    assert.equal(m.mayAct('operator'), true);
    assert.equal(m.mayAct('viewer'), false);
  });
});
