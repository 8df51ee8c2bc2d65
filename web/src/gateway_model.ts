// The gateway page's model: GET /api/v1/gateway/status (gateway-stats.json, docs/gateway.md
// "Statistics") in sections of labelled values, each flagged when it needs attention, apart from
// the DOM so it can be tested on its own (test/pages_model.test.mjs). Rates come from two answers.

import { formatCount, formatDuration, formatLocalDateTime, formatRate } from './format';
import type { GatewayStatus } from './types';

export type Level = 'ok' | 'warn' | 'bad';

export interface Stat {
  key: string; // the statistic's key (data-stat in the page, for tests)
  label: string;
  value: string;
  note?: string; // a rate, what it means, or the counters beside it
  level?: Level;
}

export interface Section {
  id: string;
  title: string;
  stats: Stat[];
  note?: string; // said instead of, or under, the values
}

// Statistics older than this mean the gateway stopped writing them.
export const STALE_MS = 10_000;

type Bag = Record<string, unknown>;

function number(bag: Bag | undefined, key: string): number | null {
  const value = bag?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function object(bag: Bag, key: string): Bag | undefined {
  const value = bag[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Bag) : undefined;
}

// A stat flagged `level` when its counter is above zero.
function counter(bag: Bag | undefined, key: string, label: string, options: { note?: string; above0?: Level } = {}): Stat {
  const n = number(bag, key);
  const stat: Stat = { key, label, value: formatCount(n) };
  if (options.note) stat.note = options.note;
  if (options.above0 && n !== null && n > 0) stat.level = options.above0;
  return stat;
}

function withRate(stat: Stat, bag: Bag | undefined, previous: Bag | undefined, elapsedMs: number): Stat {
  const rate = formatRate(number(previous, stat.key), number(bag, stat.key), elapsedMs);
  return rate ? { ...stat, note: rate } : stat;
}

function percentiles(status: Bag, prefix: string, label: string): Stat {
  const p50 = number(status, `${prefix}_p50_ms`);
  const p99 = number(status, `${prefix}_p99_ms`);
  return {
    key: `${prefix}_p50_ms`,
    label,
    value: p50 === null ? '–' : `${formatDuration(p50)} median`,
    note: p99 === null ? undefined : `99 % within ${formatDuration(p99)}`,
  };
}

// The keys the sections show; the rest are listed under "Other counters".
const SHOWN = new Set([
  'time_ms', 'version', 'started_ms', 'connected', 'broker_restarts', 'broker_pid', 'messages', 'readings_accepted', 'readings_stored',
  'duplicates', 'readings_given_up', 'rejected_total', 'commits', 'commit_failures', 'acks_published',
  'ack_failures', 'status_updates', 'status_rejected', 'status_ignored', 'refused_while_full', 'latency_p50_ms',
  'latency_p99_ms', 'arrival_latency_p50_ms', 'arrival_latency_p99_ms', 'commit_duration_p50_ms',
  'commit_duration_p99_ms',
]);

// `previous`: the answer before, for rates (null at first).
export function gatewaySections(status: GatewayStatus, previous: GatewayStatus | null): Section[] {
  const s = status as Bag;
  const p = previous as Bag | null;
  const elapsed = previous ? status.time_ms - previous.time_ms : 0;
  const sections: Section[] = [];

  const started = number(s, 'started_ms');
  sections.push({
    id: 'gateway',
    title: 'Gateway',
    stats: [
      { key: 'version', label: 'Version', value: typeof s.version === 'string' ? `kelvin-gateway ${s.version}` : '–' },
      {
        key: 'started_ms',
        label: 'Running since',
        value: started === null ? '–' : formatLocalDateTime(started),
        note: started === null ? undefined : `up ${formatDuration(status.time_ms - started)}`,
      },
    ],
  });

  const connected = number(s, 'connected') === 1;
  const pid = number(s, 'broker_pid');
  sections.push({
    id: 'broker',
    title: 'Broker',
    stats: [
      { key: 'connected', label: 'Connection', value: connected ? 'connected' : 'not connected', level: connected ? 'ok' : 'bad' },
      counter(s, 'broker_restarts', 'Restarts', { note: 'since the gateway started', above0: 'warn' }),
      { key: 'broker_pid', label: 'Managed broker', value: pid !== null && pid > 0 ? `running, pid ${pid}` : 'none (an external broker)' },
    ],
  });

  sections.push({
    id: 'ingest',
    title: 'Ingest',
    stats: [
      withRate(counter(s, 'readings_stored', 'Readings stored'), s, p ?? undefined, elapsed),
      counter(s, 'readings_accepted', 'Readings accepted', { note: 'validated' }),
      counter(s, 'duplicates', 'Duplicates', { note: 'resent readings stored before' }),
      counter(s, 'rejected_total', 'Rejected', { above0: 'warn' }),
      counter(s, 'readings_given_up', 'Given up', { note: 'dropped by full device outboxes', above0: 'warn' }),
      counter(s, 'messages', 'Messages received'),
      counter(s, 'commits', 'Store commits'),
      counter(s, 'commit_failures', 'Commit failures', { above0: 'bad' }),
      counter(s, 'acks_published', 'Acks published', { note: `${formatCount(number(s, 'ack_failures') ?? 0)} failed` }),
      counter(s, 'status_updates', 'Status updates', {
        note: `${formatCount(number(s, 'status_rejected') ?? 0)} rejected, ${formatCount(number(s, 'status_ignored') ?? 0)} ignored`,
      }),
      counter(s, 'refused_while_full', 'Refused while the store was behind', { above0: 'warn' }),
    ],
  });

  sections.push({
    id: 'latency',
    title: 'Latency',
    note: 'Over the readings stored in the last minute or two.',
    stats: [
      percentiles(s, 'latency', 'Reading taken → stored'),
      percentiles(s, 'arrival_latency', 'Reading taken → received'),
      percentiles(s, 'commit_duration', 'One store commit'),
    ],
  });

  const reasons = Object.entries(object(s, 'rejected') ?? {})
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  sections.push({
    id: 'rejected',
    title: 'Rejected readings by reason',
    stats: reasons.map(([reason, n]) => ({
      key: `rejected.${reason}`,
      label: reason.replaceAll('_', ' '),
      value: formatCount(n),
      level: 'warn' as Level,
    })),
    note: reasons.length ? undefined : 'None since the gateway started.',
  });

  const exported = object(s, 'export');
  if (exported) {
    const retrying = exported.retrying === true;
    const lag = number(exported, 'lag_s');
    const lastError = typeof exported.last_error === 'string' ? exported.last_error : '';
    const stats: Stat[] = [
      { key: 'export.retrying', label: 'State', value: retrying ? 'retrying' : 'ok', level: retrying ? 'bad' : 'ok' },
      counter(exported, 'backlog_readings', 'Readings waiting'),
      {
        key: 'export.lag_s',
        label: 'Lag',
        value: lag === null ? '–' : formatDuration(lag * 1000),
        note: 'how long the oldest waiting reading has waited',
        level: lag !== null && lag > 60 ? 'warn' : undefined,
      },
      withRate(counter(exported, 'readings_exported', 'Readings exported'), exported, p ? object(p, 'export') : undefined, elapsed),
      counter(exported, 'statuses_exported', 'Statuses exported'),
      counter(exported, 'points_rejected', 'Refused by InfluxDB', { above0: 'warn' }),
      counter(exported, 'readings_expired', 'Deleted by retention first', { above0: 'warn' }),
      counter(exported, 'writes', 'Writes', { note: `${formatCount(number(exported, 'write_failures') ?? 0)} failed` }),
    ];
    if (lastError) stats.push({ key: 'export.last_error', label: 'Last error', value: lastError, level: 'bad' });
    for (const stat of stats) if (!stat.key.startsWith('export.')) stat.key = `export.${stat.key}`;
    sections.push({ id: 'export', title: 'InfluxDB export', stats });
  } else {
    sections.push({
      id: 'export',
      title: 'InfluxDB export',
      stats: [],
      note: 'Not configured: this gateway exports to no InfluxDB ([export.influxdb] in gateway.toml).',
    });
  }

  const http = object(s, 'http');
  if (http) {
    const previousHttp = p ? object(p, 'http') : undefined;
    const stats: Stat[] = [
      { key: 'port', label: 'Port', value: String(number(http, 'port') ?? '–') },
      withRate(counter(http, 'requests', 'Requests'), http, previousHttp, elapsed),
      counter(http, 'responses_2xx', 'Responses 2xx'),
      counter(http, 'responses_3xx', 'Responses 3xx'),
      counter(http, 'responses_4xx', 'Responses 4xx'),
      counter(http, 'responses_5xx', 'Responses 5xx', { above0: 'warn' }),
      counter(http, 'connections_active', 'Connections open'),
      counter(http, 'connections_accepted', 'Connections accepted'),
      counter(http, 'connections_refused', 'Connections refused', { note: 'too many open', above0: 'warn' }),
      counter(http, 'handshake_failures', 'TLS handshake failures'),
      counter(http, 'timeouts', 'Timeouts'),
      counter(http, 'handler_exceptions', 'Handler exceptions', { above0: 'bad' }),
    ];
    for (const stat of stats) stat.key = `http.${stat.key}`;
    sections.push({ id: 'http', title: 'HTTPS server', stats });
  }

  const peers = object(s, 'peers');
  if (peers) {
    const stats: Stat[] = [
      {
        key: 'ready',
        label: 'Taking telemetry',
        value: peers.ready === true ? 'yes' : 'not yet',
        level: peers.ready === true ? 'ok' : 'warn',
      },
      counter(peers, 'online', 'Other gateways online'),
      counter(peers, 'notices_sent', 'Notices sent'),
      counter(peers, 'notices_received', 'Notices received'),
      counter(peers, 'notices_rejected', 'Notices rejected', { above0: 'warn' }),
      counter(peers, 'presence_rejected', 'Presence messages rejected', { above0: 'warn' }),
      counter(peers, 'summaries_sent', 'Summaries sent'),
      counter(peers, 'publish_failures', 'Publish failures', { above0: 'warn' }),
    ];
    for (const stat of stats) stat.key = `peers.${stat.key}`;
    sections.push({ id: 'peers', title: 'Gateways sharing the broker', stats });
  }

  // Every other top-level counter, by key: nothing the gateway counts is hidden.
  const others = Object.keys(s)
    .filter((key) => !SHOWN.has(key) && number(s, key) !== null)
    .sort();
  sections.push({
    id: 'other',
    title: 'Other counters',
    stats: others.map((key) => ({ key, label: key.replaceAll('_', ' '), value: formatCount(number(s, key)) })),
  });
  return sections;
}

// When the statistics were taken, and whether they are too old to trust.
export function statusTaken(status: GatewayStatus, nowMs: number): { text: string; stale: boolean } {
  const age = nowMs - status.time_ms;
  const at = formatLocalDateTime(status.time_ms);
  if (!Number.isFinite(age)) return { text: 'Statistics of unknown age', stale: true };
  if (age > STALE_MS) {
    return { text: `Statistics taken ${formatDuration(age)} ago (${at}): the gateway has stopped updating them.`, stale: true };
  }
  return { text: `Statistics taken at ${at}`, stale: false };
}

// What needs attention, worst first ("Broker: Connection not connected"), and how bad the worst is.
// Rejections by reason are left out: "Ingest: Rejected" says it once.
export function attention(sections: Section[]): { level: Level; items: string[] } {
  const flagged = (level: Level) =>
    sections
      .filter((section) => section.id !== 'rejected')
      .flatMap((section) =>
        section.stats.filter((stat) => stat.level === level).map((stat) => `${section.title}: ${stat.label} ${stat.value}`));
  const bad = flagged('bad');
  const warn = flagged('warn');
  return { level: bad.length ? 'bad' : warn.length ? 'warn' : 'ok', items: [...bad, ...warn] };
}
