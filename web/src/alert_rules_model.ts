// The alerts page's Rules section, apart from the DOM so it can be tested on its own
// (test/alerts_model.test.mjs): reading GET /api/v1/alert-rules defensively (docs/api.md) — the
// rules, which of them operators added (and who, when) and how many may be added — and saying each
// rule in one sentence — when it fires, when it clears and which devices it watches — from the keys
// of its [[alerts.rule]] table (docs/alerts.md, "Rules"). A rule this dashboard cannot read (a
// kind, key, quantity or event from a newer gateway, a value of the wrong type) is shown by its name
// and kind only: a sentence that left out what it did not know could mislead. The form that adds
// and changes rules is src/rule_form_model.ts.

import { kindText } from './alerts_model';
import { formatLocalTime } from './format';

// One rule as the page shows it.
export interface RuleView {
  name: string;
  kind: string; // in words
  kindName: string; // as the API names it
  // When it fires and clears, and its scope: "temperature above -15 °C for 5 min, clears at or below
  // -17 °C; device sensor-01". null when the rule could not be read.
  sentence: string | null;
}

// The rules of an answer of GET /api/v1/alert-rules, in the gateway's order (the configuration's).
// Anything that is not a rule with a name is left out; never throws.
export function parseAlertRules(answer: unknown): RuleView[] {
  const rules = isRecord(answer) ? answer.rules : undefined;
  if (!Array.isArray(rules)) return [];
  return rules.filter((rule): rule is Record<string, unknown> => isRecord(rule) && typeof rule.name === 'string')
    .map(ruleView);
}

// Who added a rule through the API and who changed it last (GET /api/v1/alert-rules' "added"); a
// time or name the answer lacks is null or ''.
export interface RuleOrigin {
  createdBy: string;
  createdMs: number | null;
  updatedBy: string;
  updatedMs: number | null;
}

// A rule of the list with what the page needs to change it.
export interface RuleEntry extends RuleView {
  rule: Record<string, unknown>; // as the gateway answered it: the Change form starts from it
  added: RuleOrigin | null; // null: from the gateway's config file (changed there, never here)
}

export interface RuleList {
  rules: RuleEntry[]; // the config file's first, then the added ones in the order they were added
  addedCount: number;
  maxAdded: number | null; // how many may be added; null when the answer does not say
  // The gateway lists which rules were added: it takes added rules (a gateway from before that
  // lists its configured rules only, and has no routes to change them).
  canAdd: boolean;
}

// An answer of GET /api/v1/alert-rules, read defensively like parseAlertRules: a rule is added
// (may be changed and removed) only when its name is a key of "added"; never throws.
export function parseRuleList(answer: unknown): RuleList {
  const record = isRecord(answer) ? answer : {};
  const added = isRecord(record.added) ? record.added : null;
  const rules = Array.isArray(record.rules) ? record.rules : [];
  const entries = rules.filter((rule): rule is Record<string, unknown> => isRecord(rule) && typeof rule.name === 'string')
    .map((rule): RuleEntry => ({
      ...ruleView(rule),
      rule,
      added: added !== null && own(added, String(rule.name)) ? ruleOrigin(added[String(rule.name)]) : null,
    }));
  const max = record.max_added;
  return {
    rules: entries,
    addedCount: entries.filter((entry) => entry.added !== null).length,
    maxAdded: typeof max === 'number' && Number.isInteger(max) && max >= 0 ? max : null,
    canAdd: added !== null,
  };
}

function ruleOrigin(value: unknown): RuleOrigin {
  const record = isRecord(value) ? value : {};
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const ms = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const createdMs = ms(record.created_ms);
  return {
    createdBy: text(record.created_by),
    createdMs,
    updatedBy: text(record.updated_by) || text(record.created_by),
    updatedMs: ms(record.updated_ms) ?? createdMs,
  };
}

// A rule's Source cell: "config file"; "added by olaf, 2026-12-06 04:00"; once changed since,
// the last change, "changed by ann, 2026-12-07 09:12" (with when it was added in `title`). Times to
// the minute in the browser's time zone.
export interface RuleSource {
  verb: 'config file' | 'added' | 'changed';
  by: string; // '' for the config file, or when the answer does not say
  at: string; // local, to the minute; '' when not known
  atMs: number | null;
  text: string;
  title: string; // for a changed rule, when it was added; '' otherwise
}

export function ruleSource(origin: RuleOrigin | null): RuleSource {
  if (origin === null) return { verb: 'config file', by: '', at: '', atMs: null, text: 'config file', title: '' };
  const changed = origin.updatedMs !== null && origin.createdMs !== null && origin.updatedMs > origin.createdMs;
  const say = (verb: string, by: string, ms: number | null) =>
    [by ? `${verb} by ${by}` : verb, ms === null ? '' : formatLocalTime(ms)].filter(Boolean).join(', ');
  const by = changed ? origin.updatedBy : origin.createdBy;
  const atMs = changed ? origin.updatedMs : origin.createdMs;
  return {
    verb: changed ? 'changed' : 'added',
    by,
    at: atMs === null ? '' : formatLocalTime(atMs),
    atMs,
    text: say(changed ? 'changed' : 'added', by, atMs),
    title: changed ? say('added', origin.createdBy, origin.createdMs) : '',
  };
}

export function ruleView(rule: Record<string, unknown>): RuleView {
  const kindName = typeof rule.kind === 'string' ? rule.kind : '';
  return {
    name: String(rule.name),
    kind: kindName === '' ? 'unknown kind' : kindText(kindName),
    kindName,
    sentence: ruleSentence(rule),
  };
}

// The sentence of a rule (see RuleView.sentence); null when its kind is unknown, a key is unknown to
// its kind, a key it needs is missing, or a value is not of its type or range.
export function ruleSentence(rule: Record<string, unknown>): string | null {
  const describe = typeof rule.kind === 'string' && own(DESCRIBERS, rule.kind) ? DESCRIBERS[rule.kind] : undefined;
  if (!describe) return null;
  const reader = new RuleReader(rule);
  reader.string('name');
  reader.string('kind');
  const forS = reader.seconds('for_s', true) ?? 0;
  const sentence = describe(reader, forS > 0 ? secondsText(forS) : '');
  return reader.readAll() ? sentence : null;
}

// How long a rule's time is, exactly (unlike durationText, which rounds down how long an alert
// fired): "30 s", "10 min", "1 h 30 min", "2 d".
export function secondsText(seconds: number): string {
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [size, unit] of [[86_400, 'd'], [3_600, 'h'], [60, 'min'], [1, 's']] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.length ? parts.join(' ') : '0 s';
}

// A level as the gateway's summaries say it: at most one decimal, none when whole, thousands
// separated ("-15", "17.5", "1,000,000").
export function levelText(value: number): string {
  const text = value.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return text === '-0' ? '0' : text;
}

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

// Free space for people: "1 GiB", "1.2 GiB", "500 MiB"; under 1 MiB in bytes.
export function bytesText(bytes: number): string {
  if (bytes >= GIB) return `${levelText(bytes / GIB)} GiB`;
  if (bytes >= MIB) return `${levelText(bytes / MIB)} MiB`;
  return `${levelText(bytes)} bytes`;
}

// "30 days", "1 day" (also "1 h", kept short).
function plural(value: number, unit: string): string {
  const said = levelText(value);
  return `${said} ${said === '1' ? unit : `${unit}s`}`;
}

// A rule's keys, read one by one: each read marks its key as known; a key missing (unless
// optional) or of the wrong type marks the rule unreadable. readAll() says whether every key of the
// rule was read and was right.
class RuleReader {
  private readonly read = new Set<string>();
  private ok = true;

  constructor(private readonly rule: Record<string, unknown>) {}

  private take(key: string, optional: boolean, valid: (value: unknown) => boolean): unknown {
    this.read.add(key);
    const value = this.rule[key];
    if (value === undefined ? !optional : !valid(value)) this.ok = false;
    return value !== undefined && valid(value) ? value : undefined;
  }

  fail(): void {
    this.ok = false;
  }

  string(key: string, optional = false): string | undefined {
    return this.take(key, optional, (v) => typeof v === 'string' && v !== '') as string | undefined;
  }

  number(key: string, optional = false): number | undefined {
    return this.take(key, optional, (v) => typeof v === 'number' && Number.isFinite(v)) as number | undefined;
  }

  // Whole seconds, 0 or more.
  seconds(key: string, optional = false): number | undefined {
    return this.take(key, optional, (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0) as number | undefined;
  }

  stringList(key: string, optional = false): string[] | undefined {
    return this.take(key, optional, (v) => Array.isArray(v) && v.every((s) => typeof s === 'string')) as string[] | undefined;
  }

  readAll(): boolean {
    return this.ok && Object.keys(this.rule).every((key) => this.read.has(key));
  }
}

// The devices a device rule watches: "every device", "device sensor-01", "devices sensor-01,
// sensor-02", 'devices labelled "freezer"'. Both a list and a label is not a rule the gateway has.
function scopeText(reader: RuleReader): string {
  const devices = reader.stringList('devices', true) ?? [];
  const label = reader.string('label', true);
  if (label !== undefined && devices.length > 0) reader.fail();
  if (label !== undefined) return `devices labelled "${label}"`;
  if (devices.length === 0) return 'every device';
  return `${devices.length === 1 ? 'device' : 'devices'} ${devices.join(', ')}`;
}

// ", held for 2 min": the rule's for_s, where "for" alone would read as part of the condition.
function held(forText: string): string {
  return forText ? `, held for ${forText}` : '';
}

// " for 5 min": the rule's for_s after a level.
function lasting(forText: string): string {
  return forText ? ` for ${forText}` : '';
}

const QUANTITY_UNITS: Record<string, string> = { temperature: '°C', humidity: '%RH' };

// docs/alerts.md's event_rate events, as the gateway's summaries name them (also the rule form's
// choices, in this order).
export const EVENT_WORDS: Record<string, string> = {
  failed_sign_ins: 'failed sign-ins',
  rejected_readings: 'rejected readings and statuses',
  https_handshake_failures: 'refused HTTPS handshakes',
  broker_exits: 'broker exits',
  mqtt_handshake_failures: 'refused MQTT handshakes',
  acl_denials: 'ACL denials',
};

// Each kind's sentence from its keys (`forText`: the rule's for_s in words, '' without one). A clear
// level is said only when the rule has one apart from its fire level: otherwise the alert clears
// when its condition no longer holds.
type Describer = (reader: RuleReader, forText: string) => string;

const DESCRIBERS: Record<string, Describer> = {
  threshold(reader, forText) {
    const quantity = reader.string('quantity') ?? '';
    const above = reader.number('above', true);
    const below = reader.number('below', true);
    const clear = reader.number('clear', true);
    const unit = own(QUANTITY_UNITS, quantity) ? QUANTITY_UNITS[quantity] : undefined;
    if (unit === undefined || (above === undefined) === (below === undefined)) reader.fail();
    const level = (value: number) => `${levelText(value)} ${unit}`;
    const fire = above !== undefined ? `above ${level(above)}` : `below ${level(below ?? 0)}`;
    const clears = clear === undefined ? '' : `, clears at or ${above !== undefined ? 'below' : 'above'} ${level(clear)}`;
    return `${quantity} ${fire}${lasting(forText)}${clears}; ${scopeText(reader)}`;
  },
  device_offline(reader, forText) {
    const silent = reader.seconds('silent_for_s') ?? 0;
    return `nothing received for ${secondsText(silent)}, or offline${held(forText)}; ${scopeText(reader)}`;
  },
  certificate_expiry(reader, forText) {
    const within = reader.number('within_days') ?? 0;
    const clear = reader.number('clear_days', true);
    const clears = clear === undefined ? '' : `, clears once it has ${plural(clear, 'day')} or more left`;
    return `a certificate in use expires within ${plural(within, 'day')}${held(forText)}${clears}`;
  },
  crl_expiry(reader, forText) {
    const within = reader.number('within_hours') ?? 0;
    const clear = reader.number('clear_hours', true);
    const clears = clear === undefined ? '' : `, clears once it is ${levelText(clear)} h or more ahead`;
    return `the CRL's next update is due within ${levelText(within)} h${held(forText)}${clears}`;
  },
  disk_space(reader, forText) {
    const below = reader.number('below_bytes') ?? 0;
    const clear = reader.number('clear_bytes', true);
    const clears = clear === undefined ? '' : `, clears at ${bytesText(clear)} free or more`;
    return `less than ${bytesText(below)} free on the gateway's disk${lasting(forText)}${clears}`;
  },
  export_backlog(reader, forText) {
    const above = reader.number('above_readings') ?? 0;
    const clear = reader.number('clear_readings', true);
    const clears = clear === undefined ? '' : `, clears at or below ${levelText(clear)}`;
    return `more than ${levelText(above)} readings waiting for InfluxDB${lasting(forText)}${clears}`;
  },
  export_lag(reader, forText) {
    const above = reader.seconds('above_s') ?? 0;
    const clear = reader.seconds('clear_s', true);
    const clears = clear === undefined ? '' : `, clears once it waited ${secondsText(clear)} or less`;
    return `a reading waiting for InfluxDB for more than ${secondsText(above)}${lasting(forText)}${clears}`;
  },
  event_rate(reader, forText) {
    const event = reader.string('event') ?? '';
    const above = reader.number('above_per_minute') ?? 0;
    const clear = reader.number('clear_per_minute', true);
    const words = own(EVENT_WORDS, event) ? EVENT_WORDS[event] : undefined;
    if (words === undefined) reader.fail();
    // More than 0: any at all.
    const fires = above === 0 ? `any ${words} within a minute` : `more than ${levelText(above)} ${words} per minute`;
    const clears = clear === undefined ? '' : `, clears at or below ${levelText(clear)} per minute`;
    return `${fires}${lasting(forText)}${clears}`;
  },
  update_failed(reader, forText) {
    return `a device's update in its newest rollout failed or rolled back${held(forText)}; ${scopeText(reader)}`;
  },
  rollout_halted(_reader, forText) {
    return `a rollout halted itself${held(forText)}, clears when it is resumed or aborted`;
  },
  outbox_drops(reader, forText) {
    const quiet = reader.seconds('quiet_for_s') ?? 0;
    return `a device's outbox dropped readings${held(forText)}, clears after ${secondsText(quiet)} without drops; ${scopeText(reader)}`;
  },
  superseded_certificate(reader, forText) {
    const quiet = reader.seconds('quiet_for_s') ?? 0;
    return `a device connected with a certificate issued before its newest one${held(forText)}, clears when the old one is revoked, or ${secondsText(quiet)} after its last use once the device uses its newest; ${scopeText(reader)}`;
  },
  device_acl_denials(reader, forText) {
    const quiet = reader.seconds('quiet_for_s') ?? 0;
    return `the broker refused a device's publishes or deliveries${held(forText)}, clears after ${secondsText(quiet)} without denials; ${scopeText(reader)}`;
  },
};

// Whether `key` is one of `table`'s own (not "constructor" or "toString" from its prototype).
// Object.hasOwn would do, but Safari before 15.4 has none.
function own(table: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, key);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
