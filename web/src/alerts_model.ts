// The alerts page's and badge's model, apart from the DOM so it can be tested on its own
// (test/alerts_model.test.mjs): what each alert reads as, which subjects are devices, who may
// acknowledge, silence and lift what, durations, silences' ends and sentences, the badge's count
// and label (silenced alerts left out), the refusals of the alert actions, and reading the alerts —
// every firing one, the resolved ones newest first a page at a time (GET /api/v1/alerts, docs/api.md
// "Alerts").

import { ApiError } from './api';
import { formatLocalDateTime, formatLocalTime } from './format';
import { generalMessage } from './messages';
import type { Alert, AlertsAnswer, Silence } from './types';

// docs/alerts.md, "Rules": every kind the gateway has.
export const ALERT_KINDS: Record<string, string> = {
  threshold: 'threshold',
  device_offline: 'device offline',
  certificate_expiry: 'certificate expiry',
  crl_expiry: 'CRL expiry',
  disk_space: 'disk space',
  export_backlog: 'export backlog',
  export_lag: 'export lag',
  event_rate: 'event rate',
  update_failed: 'update failed',
  rollout_halted: 'rollout halted',
  outbox_drops: 'outbox drops',
  superseded_certificate: 'superseded certificate',
  device_acl_denials: 'device ACL denials',
};

export function kindText(kind: string): string {
  return ALERT_KINDS[kind] ?? kind;
}

// The kinds whose subject is a device id (docs/alerts.md). A certificate_expiry alert's subject is
// a certificate's common name: a device's, or the CA's, the server's or a service's; the API does
// not say which, so it is not linked. A rollout_halted alert's subject is "rollout-{id}".
const DEVICE_KINDS = new Set(['threshold', 'device_offline', 'update_failed', 'outbox_drops', 'superseded_certificate',
  'device_acl_denials']);

// Whether the alerts of a rule of `kind` are about devices (their subject a device id).
export function isDeviceKind(kind: string): boolean {
  return DEVICE_KINDS.has(kind);
}

export function subjectIsDevice(alert: Pick<Alert, 'kind' | 'subject'>): boolean {
  return isDeviceKind(alert.kind) && alert.subject !== '';
}

// The roles that act on alerts: acknowledge, silence (a firing alert, or a rule on a subject ahead
// of an alert), lift a silence (viewers only read them).
export function mayAct(role: string | undefined): boolean {
  return role === 'operator' || role === 'admin';
}

// Operators and admins may acknowledge an alert, firing or resolved, once (the gateway decides
// again: 409 alert_acknowledged, 403 forbidden).
export function canAcknowledge(alert: Pick<Alert, 'acknowledged_by'>, role: string | undefined): boolean {
  return mayAct(role) && (alert.acknowledged_by === null || alert.acknowledged_by === undefined);
}

// The silence holding back an alert's notifications, or null (also from a gateway that sends none).
export function silenceOf(alert: Pick<Alert, 'silence'>): Silence | null {
  return alert.silence ?? null;
}

// Operators and admins may silence a firing alert that is not silenced (its rule and subject: later
// alerts of both too). A resolved alert notifies no more, so it is not offered.
export function canSilence(alert: Pick<Alert, 'state' | 'silence'>, role: string | undefined): boolean {
  return mayAct(role) && alert.state !== 'resolved' && silenceOf(alert) === null;
}

// Operators and admins may lift the silence of a silenced alert.
export function canLift(alert: Pick<Alert, 'silence'>, role: string | undefined): boolean {
  return mayAct(role) && silenceOf(alert) !== null;
}

const HOUR_MS = 3_600_000;

// What the Silence control offers, the first the default. The gateway takes any end up to 90 days
// ahead; these are the ones people want.
export const SILENCE_DURATIONS: readonly { label: string; ms: number }[] = [
  { label: '1 hour', ms: HOUR_MS },
  { label: '8 hours', ms: 8 * HOUR_MS },
  { label: '24 hours', ms: 24 * HOUR_MS },
  { label: '7 days', ms: 7 * 24 * HOUR_MS },
];

// The gateway's longest comment (400 invalid_silence beyond).
export const SILENCE_COMMENT_MAX = 200;

// POST /api/v1/alerts/{id}/silence's body (POST /api/v1/silences' with the rule and subject:
// src/silence_model.ts).
export interface SilenceRequest {
  until_ms: number;
  comment?: string;
}

// The body silencing for `durationMs` from `nowMs`: until_ms in whole ms, the comment trimmed and
// left out when empty. Throws RangeError for a duration that is not one of SILENCE_DURATIONS (a
// select's value is text; nothing else may reach the gateway).
export function silenceRequest(nowMs: number, durationMs: number, comment = ''): SilenceRequest {
  if (!SILENCE_DURATIONS.some((d) => d.ms === durationMs)) throw new RangeError(`not a silence duration: ${durationMs}`);
  const text = comment.trim();
  return text === '' ? { until_ms: Math.round(nowMs + durationMs) } : { until_ms: Math.round(nowMs + durationMs), comment: text };
}

// How long an alert fired: "less than a minute", "12 min", "2 h 5 min", "3 d 4 h"; "–" without one.
export function durationText(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '–';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

// Firing alerts: the unacknowledged ones first (they want a person), then the newest first.
export function firingOrder(a: Alert, b: Alert): number {
  const acknowledged = Number(a.acknowledged_by !== null) - Number(b.acknowledged_by !== null);
  return acknowledged || b.id - a.id;
}

// Resolved alerts newest first (the largest id: the latest start), as the API pages them.
export function historyOrder(a: Alert, b: Alert): number {
  return b.id - a.id;
}

// Splits alerts into firing and resolved, each once and in its order. An id given twice (read while
// it resolved) counts as resolved: an alert only ever goes from firing to resolved.
export function partitionAlerts(alerts: Alert[]): { firing: Alert[]; resolved: Alert[] } {
  const byId = new Map<number, Alert>();
  for (const alert of alerts) {
    if (typeof alert?.id !== 'number') continue;
    const known = byId.get(alert.id);
    if (!known || alert.state === 'resolved' || known.state !== 'resolved') byId.set(alert.id, alert);
  }
  const all = [...byId.values()];
  return {
    firing: all.filter((a) => a.state !== 'resolved').sort(firingOrder),
    resolved: all.filter((a) => a.state === 'resolved').sort(historyOrder),
  };
}

// One alert as the page shows it.
export interface AlertRow {
  id: number;
  rule: string;
  kind: string; // in words
  kindName: string; // as the API names it
  subject: string;
  device: string | null; // the subject, when it is a device (linked to its page)
  summary: string;
  firing: boolean;
  started: string; // local, to the second
  startedIso: string;
  ended: string; // local; '' while firing
  endedIso: string;
  duration: string; // firing: "for 12 min" (until now); resolved: "12 min"
  resolution: string;
  acknowledgedBy: string | null;
  acknowledged: string; // "by olaf, 2026-12-05 18:41:30"; '' until acknowledged
  acknowledgedAt: string; // local, to the second; '' until acknowledged
  acknowledgedIso: string;
  canAcknowledge: boolean;
  silence: SilenceView | null;
  canSilence: boolean;
  canLift: boolean;
}

// A silence as the page shows it.
export interface SilenceView {
  id: number;
  until: string; // local, to the minute
  untilIso: string;
  by: string;
  comment: string; // '' without one
  text: string; // "Silenced until 2026-12-06 09:00 by ann: defrosting"
}

export function silenceView(silence: Silence): SilenceView {
  const until = formatLocalTime(silence.until_ms);
  const comment = (silence.comment ?? '').trim();
  return {
    id: silence.id,
    until,
    untilIso: iso(silence.until, silence.until_ms),
    by: silence.created_by,
    comment,
    text: `Silenced until ${until} by ${silence.created_by}${comment ? `: ${comment}` : ''}`,
  };
}

// What is said once a silence is set, from the gateway's answer: "Silenced freezer_warm on
// sensor-01 until 2026-12-06 09:00." (local, to the minute).
export function silencedText(silence: Pick<Silence, 'rule' | 'subject' | 'until_ms'>): string {
  return `Silenced ${alertName(silence)} until ${formatLocalTime(silence.until_ms)}.`;
}

// What is said once a silence is lifted: "Lifted the silence on freezer_warm on sensor-01."
export function liftedText(silence: Pick<Silence, 'rule' | 'subject'>): string {
  return `Lifted the silence on ${alertName(silence)}.`;
}

function iso(text: string | null | undefined, ms: number | null | undefined): string {
  if (text) return text;
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

export function alertRow(alert: Alert, nowMs: number, role: string | undefined): AlertRow {
  const firing = alert.state !== 'resolved';
  const lasted = (firing ? nowMs : alert.ended_ms ?? Number.NaN) - alert.started_ms;
  return {
    id: alert.id,
    rule: alert.rule,
    kind: kindText(alert.kind),
    kindName: alert.kind,
    subject: alert.subject,
    device: subjectIsDevice(alert) ? alert.subject : null,
    summary: alert.summary,
    firing,
    started: formatLocalDateTime(alert.started_ms),
    startedIso: iso(alert.started, alert.started_ms),
    ended: firing ? '' : formatLocalDateTime(alert.ended_ms),
    endedIso: firing ? '' : iso(alert.ended, alert.ended_ms),
    duration: firing ? `for ${durationText(Math.max(0, lasted))}` : durationText(lasted),
    resolution: alert.resolution ?? '',
    acknowledgedBy: alert.acknowledged_by ?? null,
    acknowledged: alert.acknowledged_by ? `by ${alert.acknowledged_by}, ${formatLocalDateTime(alert.acknowledged_ms)}` : '',
    acknowledgedAt: alert.acknowledged_by ? formatLocalDateTime(alert.acknowledged_ms) : '',
    acknowledgedIso: alert.acknowledged_by ? iso(alert.acknowledged, alert.acknowledged_ms) : '',
    canAcknowledge: canAcknowledge(alert, role),
    silence: silenceOf(alert) === null ? null : silenceView(alert.silence as Silence),
    canSilence: canSilence(alert, role),
    canLift: canLift(alert, role),
  };
}

// The navigation's badge: the firing alerts not silenced (a silenced one is in hand: it is not
// counted), how many of those nobody acknowledged, how many firing ones are silenced, and whether
// the gateway has more than it answered (over 1,000 firing).
export interface FiringSummary {
  count: number;
  unacknowledged: number;
  silenced: number;
  more: boolean;
}

export function firingSummary(firing: Alert[], more = false): FiringSummary {
  const alerts = firing.filter((a) => a.state !== 'resolved');
  const counted = alerts.filter((a) => silenceOf(a) === null);
  return {
    count: counted.length,
    unacknowledged: counted.filter((a) => a.acknowledged_by === null).length,
    silenced: alerts.length - counted.length,
    more,
  };
}

// The badge's text: '' when nothing fires (the badge is hidden), "3", "1000+", never wider than that.
export function badgeText(summary: FiringSummary | null): string {
  if (!summary || summary.count === 0) return '';
  if (summary.more || summary.count > 999) return `${Math.min(summary.count, 999)}+`;
  return String(summary.count);
}

// What the badge says to screen readers and on hover: "3 alerts firing", with how many want a person
// and how many more fire silenced ("…, plus 1 silenced"), since the badge's number leaves them out.
export function firingLabel(summary: FiringSummary | null): string {
  if (!summary) return 'Alerts: the count could not be read';
  const { silenced } = summary;
  if (summary.count === 0) return silenced ? `No alerts firing except ${silenced} silenced` : 'No alerts firing';
  const count = `${summary.count.toLocaleString('en-US')}${summary.more ? '+' : ''}`;
  const base = `${count} alert${summary.count === 1 && !summary.more ? '' : 's'} firing`;
  const plus = silenced ? `, plus ${silenced} silenced` : '';
  if (summary.unacknowledged === 0) return `${base}, ${summary.count === 1 ? 'acknowledged' : 'all acknowledged'}${plus}`;
  if (summary.unacknowledged < summary.count) return `${base}, ${summary.unacknowledged} not acknowledged${plus}`;
  return `${base}${plus}`;
}

// The alerts page's count beside "Firing", of every firing alert listed: "(3)", "(3, 1 not
// acknowledged)", "(2, all acknowledged)"; with silenced ones "(3, 1 silenced, 1 not acknowledged)",
// "(2, all silenced)" (the acknowledgements then in numbers: "acknowledged" alone would be ambiguous).
export function firingCountText(summary: FiringSummary): string {
  const { silenced } = summary;
  const total = summary.count + silenced;
  const count = `${total.toLocaleString('en-US')}${summary.more ? '+' : ''}`;
  if (silenced > 0) {
    if (summary.count === 0 && !summary.more) return `(${count}, all silenced)`;
    return summary.unacknowledged > 0
      ? `(${count}, ${silenced} silenced, ${summary.unacknowledged} not acknowledged)`
      : `(${count}, ${silenced} silenced)`;
  }
  if (summary.count === 0 || summary.unacknowledged === summary.count) return `(${count})`;
  if (summary.unacknowledged === 0) return `(${count}, ${summary.count === 1 ? 'acknowledged' : 'all acknowledged'})`;
  return `(${count}, ${summary.unacknowledged} not acknowledged)`;
}

// "freezer_warm on sensor-01": an alert in a sentence.
export function alertName(alert: Pick<Alert, 'rule' | 'subject'>): string {
  return `${alert.rule} on ${alert.subject}`;
}

// What each action on an alert is, in a sentence about roles.
const ACTION_WORDS = {
  acknowledge: 'acknowledging an alert',
  silence: 'silencing an alert',
  lift: 'lifting a silence',
} as const;
export type AlertAction = keyof typeof ACTION_WORDS;

// The refusals every action on an alert may meet: the alert gone, a role lowered since signing in,
// and the general ones.
function alertRefusal(error: unknown, alert: Pick<Alert, 'rule' | 'subject'>, action: AlertAction): string {
  if (!(error instanceof ApiError)) return generalMessage(error);
  switch (error.code) {
    case 'alert_not_found':
      return `${alertName(alert)} is gone: the gateway deletes resolved alerts after their history period.`;
    case 'forbidden':
      return `Your role does not allow this any more: ${ACTION_WORDS[action]} needs the operator role.`;
    default:
      return generalMessage(error);
  }
}

// A refused acknowledgement, said in place. `current` is the alert as read again after the refusal
// (a 409 names who acknowledged it only in its message, which is for people, not for branching).
export function acknowledgeMessage(error: unknown, alert: Pick<Alert, 'id' | 'rule' | 'subject'>,
  current: Alert | null = null): string {
  if (error instanceof ApiError && error.code === 'alert_acknowledged') {
    const name = alertName(alert);
    return current?.acknowledged_by
      ? `${name} was acknowledged already, by ${current.acknowledged_by} at ${formatLocalDateTime(current.acknowledged_ms)}.`
      : `${name} was acknowledged already by someone else.`;
  }
  return alertRefusal(error, alert, 'acknowledge');
}

// A refused silence, said in place. The gateway's message says what was wrong with it (an end in
// the past or beyond 90 days, a comment too long).
export function silenceMessage(error: unknown, alert: Pick<Alert, 'rule' | 'subject'>): string {
  if (error instanceof ApiError && error.code === 'invalid_silence') {
    return `${alertName(alert)} could not be silenced: ${error.message}`;
  }
  return alertRefusal(error, alert, 'silence');
}

// A refused lift, said in place: a silence that ended or that someone lifted meanwhile is no more.
export function liftMessage(error: unknown, alert: Pick<Alert, 'rule' | 'subject'>): string {
  if (error instanceof ApiError && error.code === 'silence_not_found') {
    return `The silence on ${alertName(alert)} is over already: it ended, or someone lifted it.`;
  }
  return alertRefusal(error, alert, 'lift');
}

// Whether a refusal means the page's alerts are out of date (read them again before saying it):
// someone else acted first, or what was acted on is gone.
export function refusalIsStale(error: unknown): boolean {
  return error instanceof ApiError && ['alert_acknowledged', 'alert_not_found', 'silence_not_found'].includes(error.code);
}

// GET /api/v1/alerts with these parameters.
export interface AlertsQuery {
  state: 'firing' | 'resolved';
  before?: number;
  limit: number;
}
export type AlertsFetch = (query: AlertsQuery) => Promise<AlertsAnswer>;

export const HISTORY_PAGE = 50;
const MAX_LIMIT = 1000; // the API's largest page

// The alerts as far as they have been read: every firing one (up to 1,000), and the resolved ones
// from the newest back to as far as the user paged. refresh() reads the firing ones and the resolved
// ones as far back as read so far (one request each); loadOlder() the page before the oldest.
export class AlertBoard {
  private firingAlerts: Alert[] = [];
  private firingMore = false;
  private readonly history = new Map<number, Alert>();
  private older = false; // the oldest page read was full: there may be more before it

  constructor(private readonly fetchAlerts: AlertsFetch, private readonly pageSize = HISTORY_PAGE) {}

  get hasOlder(): boolean {
    return this.older;
  }

  // More than 1,000 alerts fire: only the newest 1,000 are shown.
  get moreFiring(): boolean {
    return this.firingMore;
  }

  // Firing: the unacknowledged first, then newest first.
  firing(): Alert[] {
    return this.firingAlerts;
  }

  // Resolved, newest first.
  resolved(): Alert[] {
    return [...this.history.values()].sort(historyOrder);
  }

  summary(): FiringSummary {
    return firingSummary(this.firingAlerts, this.firingMore);
  }

  private oldestResolved(): number {
    let oldest = 0;
    for (const id of this.history.keys()) if (oldest === 0 || id < oldest) oldest = id;
    return oldest;
  }

  async refresh(): Promise<void> {
    const firing = await this.fetchAlerts({ state: 'firing', limit: MAX_LIMIT });
    const limit = Math.min(MAX_LIMIT, Math.max(this.pageSize, this.history.size));
    const resolved = await this.fetchAlerts({ state: 'resolved', limit });
    const page = (resolved?.alerts ?? []).filter((a) => typeof a?.id === 'number');
    if (resolved?.next_before === null || resolved?.next_before === undefined) {
      // The whole history: nothing else is kept (older ones were deleted after history_days).
      this.history.clear();
      this.older = false;
    } else {
      const last = Math.min(...page.map((a) => a.id));
      for (const id of [...this.history.keys()]) if (id >= last) this.history.delete(id);
      // Nothing read before this page yet: the gateway says there may be more.
      if (this.oldestResolved() === 0) this.older = true;
    }
    for (const alert of page) this.history.set(alert.id, alert);
    // An alert that resolved between the two requests is resolved.
    this.firingAlerts = partitionAlerts(firing?.alerts ?? []).firing.filter((a) => !this.history.has(a.id));
    this.firingMore = firing?.next_before !== null && firing?.next_before !== undefined;
  }

  // Reads the page of resolved alerts before the oldest read so far.
  async loadOlder(): Promise<void> {
    const oldest = this.oldestResolved();
    if (!this.older || oldest <= 1) {
      this.older = false;
      return;
    }
    const answer = await this.fetchAlerts({ state: 'resolved', before: oldest, limit: this.pageSize });
    for (const alert of answer?.alerts ?? []) if (typeof alert?.id === 'number') this.history.set(alert.id, alert);
    this.older = answer?.next_before !== null && answer?.next_before !== undefined;
  }

  // Takes a silence as the gateway answered it: every alert read of its rule and subject is silenced
  // by it (the gateway's GET /api/v1/alerts says so too from now on).
  silence(silence: Silence): void {
    this.setSilence((a) => a.rule === silence.rule && a.subject === silence.subject, silence);
  }

  // The silence `id` was lifted: the alerts it covered are silenced no more.
  lift(id: number): void {
    this.setSilence((a) => silenceOf(a)?.id === id, null);
  }

  private setSilence(covers: (alert: Alert) => boolean, silence: Silence | null): void {
    const set = (a: Alert): Alert => (covers(a) ? { ...a, silence } : a);
    this.firingAlerts = this.firingAlerts.map(set);
    for (const [id, alert] of this.history) this.history.set(id, set(alert));
  }

  // Takes an alert as the gateway answered it (an acknowledgement): replaces the one read before.
  update(alert: Alert): void {
    if (alert.state === 'resolved') {
      this.firingAlerts = this.firingAlerts.filter((a) => a.id !== alert.id);
      // Kept where it falls among the alerts read (not beyond the oldest page read, which would
      // leave a gap before it).
      if (this.history.has(alert.id) || !this.older || alert.id > this.oldestResolved()) this.history.set(alert.id, alert);
      return;
    }
    this.firingAlerts = this.firingAlerts.map((a) => (a.id === alert.id ? alert : a)).sort(firingOrder);
  }

  find(id: number): Alert | null {
    return this.firingAlerts.find((a) => a.id === id) ?? this.history.get(id) ?? null;
  }
}
