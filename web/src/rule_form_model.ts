// The Rules section's form, apart from the DOM so it can be tested on its own
// (test/alerts_model.test.mjs): who may add, change and remove alert rules, the fields of each kind
// of rule, the form's values for a new rule and for an added rule being changed, the body of
// POST /api/v1/alert-rules and PUT /api/v1/alert-rules/{name} built from them, and what each
// refusal says (docs/api.md).
//
// The form covers every kind the gateway has (docs/alerts.md, "Rules"), each with the fields of its
// keys. One table (FORM_KINDS) says them: it drives the form's fields, the values read from a rule,
// the body sent and the fields the gateway's problems are about. The form checks only what is cheap
// and certain — a field that must be filled, a number that is not one — and leaves the rest (names,
// ranges, a clear level on the wrong side) to the gateway, whose 400 invalid_rule lists every
// problem.

import { ApiError } from './api';
import { EVENT_WORDS, GIB, MIB, ruleSentence } from './alert_rules_model';
import { generalMessage } from './messages';
import { parseDeviceList } from './rollouts_model';

// Operators and admins change rules (the gateway decides again: 403 forbidden).
export function mayChangeRules(role: string | undefined): boolean {
  return role === 'operator' || role === 'admin';
}

export type FormKind =
  | 'threshold' | 'device_offline' | 'certificate_expiry' | 'crl_expiry' | 'disk_space' | 'export_backlog' | 'export_lag'
  | 'event_rate' | 'update_failed' | 'rollout_halted' | 'outbox_drops' | 'superseded_certificate' | 'device_acl_denials';
export type Quantity = 'temperature' | 'humidity';
export type Direction = 'above' | 'below';
export type TimeUnit = 'min' | 's';
export type SizeUnit = 'GiB' | 'MiB';
export type Unit = TimeUnit | SizeUnit;
export type Scope = 'all' | 'devices' | 'label';

// The fields of the kinds: each named after the key it gives, except threshold's level (above or
// below, by its direction), the direction itself (no key) and the durations (silent_for_s,
// quiet_for_s, for_s). Three kinds give quiet_for_s, each with a field of its own (its label and
// default differ): quiet (outbox_drops), quiet_denials (device_acl_denials) and quiet_superseded
// (superseded_certificate).
export type FieldId =
  | 'quantity' | 'direction' | 'level' | 'clear' | 'silent' | 'within_days' | 'clear_days' | 'within_hours' | 'clear_hours'
  | 'below_bytes' | 'clear_bytes' | 'above_readings' | 'clear_readings' | 'above_s' | 'clear_s' | 'event' | 'above_per_minute'
  | 'clear_per_minute'
  | 'quiet' | 'quiet_denials' | 'quiet_superseded' | 'for';

// How a field's text is read: 'choice', a select's value; 'number', a number as people type it
// (-15, 17,5); 'whole', a whole number 0 or more (1,000,000); 'duration', whole minutes or seconds,
// sent in seconds; 'size', MiB or GiB, sent in whole bytes.
export type FieldType = 'choice' | 'number' | 'whole' | 'duration' | 'size';

export interface Choice {
  value: string;
  label: string;
}

export interface FieldSpec {
  id: FieldId;
  // The rule's keys it gives: one; threshold's level either of above and below, as its direction
  // says; none for the direction.
  keys: readonly string[];
  type: FieldType;
  label: string; // without its unit: the form says "Level (°C)", "Held for (minutes, optional)"
  unit?: string | ((values: RuleFormValues) => string); // of a number; durations and sizes say their unit chosen
  named: string; // in problems: "the level", '"Held for"'
  required?: boolean; // an optional field left empty is left out of the body: the gateway's default
  choices?: readonly Choice[];
  fallback?: number; // the gateway's default, in the key's unit: the placeholder of an optional field
  placeholder?: string; // an example, for a required field
  example?: string; // said with the problem of a value that is not a number
  signed?: boolean; // may be below 0 (a phone's numeric keyboard may have no minus)
  hint?: string | ((values: RuleFormValues) => string);
  leaveOutZero?: boolean; // 0 is left out of the body too, as the gateway lists it (for_s)
}

export interface KindSpec {
  kind: FormKind;
  label: string; // in the Kind select
  fields: readonly FieldSpec[]; // its own, in the form's order; "Held for" follows for every kind
  scoped: boolean; // takes devices or a label (otherwise its subject is the gateway, a certificate or a rollout)
}

export const QUANTITIES: readonly { quantity: Quantity; label: string; unit: string }[] = [
  { quantity: 'temperature', label: 'temperature (°C)', unit: '°C' },
  { quantity: 'humidity', label: 'humidity (%RH)', unit: '%RH' },
];

export function unitOf(quantity: Quantity): string {
  return quantity === 'humidity' ? '%RH' : '°C';
}

// The units offered beside a duration's or a size's number, the first for a new rule.
export const UNITS: Record<'duration' | 'size', readonly Unit[]> = { duration: ['min', 's'], size: ['GiB', 'MiB'] };

const UNIT_BYTES: Record<SizeUnit, number> = { GiB: GIB, MiB: MIB };

// A clear level (optional; the fire level when left empty): `side`, where it is from the fire
// level; `back`, what resolves the alert.
function clearField(id: FieldId, type: FieldType, unit: FieldSpec['unit'], side: (values: RuleFormValues) => Direction,
  back: string): FieldSpec {
  return {
    id, keys: [id], type, unit, label: 'Clears at', named: 'the clear level',
    hint: (values) => `At or ${side(values)} the level: the alert resolves once ${back}. Empty: the level itself.`,
  };
}

const quantityUnit = (values: RuleFormValues) => unitOf(values.fields.quantity as Quantity);
const below = () => 'below' as const;
const above = () => 'above' as const;

// "Held for": every kind's for_s.
export const HELD: FieldSpec = {
  id: 'for', keys: ['for_s'], type: 'duration', label: 'Held for', named: '"Held for"', leaveOutZero: true,
  hint: 'How long the condition must last before the alert fires. Empty: at once.',
};

// docs/alerts.md's "Rules" table: every kind, its keys and the gateway's defaults.
export const FORM_KINDS: readonly KindSpec[] = [
  { kind: 'threshold', label: 'threshold: a temperature or humidity level', scoped: true, fields: [
    { id: 'quantity', keys: ['quantity'], type: 'choice', label: 'Quantity', named: 'the quantity', required: true,
      choices: QUANTITIES.map((q) => ({ value: q.quantity, label: q.label })) },
    { id: 'direction', keys: [], type: 'choice', label: 'Fires when a reading is', named: 'above or below', required: true,
      choices: [{ value: 'above', label: 'above the level' }, { value: 'below', label: 'below the level' }] },
    { id: 'level', keys: ['above', 'below'], type: 'number', label: 'Level', unit: quantityUnit, named: 'the level', required: true,
      signed: true, placeholder: '-15', example: '-15 or 17.5' },
    { ...clearField('clear', 'number', quantityUnit, (values) => (values.fields.direction === 'below' ? 'above' : 'below'),
      'readings are back there'), signed: true },
  ] },
  { kind: 'device_offline', label: 'device offline: nothing received from a device', scoped: true, fields: [
    { id: 'silent', keys: ['silent_for_s'], type: 'duration', label: 'Fires after nothing received for', named: '"Nothing received for"',
      fallback: 600, hint: 'Or when the device says it is offline. Empty: 10 minutes.' },
  ] },
  { kind: 'certificate_expiry', label: 'certificate expiry: a certificate in use expires soon', scoped: false, fields: [
    { id: 'within_days', keys: ['within_days'], type: 'number', label: 'Fires within', unit: 'days', named: 'the time left', fallback: 30,
      hint: 'Before any certificate in use (the CA, the server, services, devices) expires; also once expired. Empty: 30 days.' },
    clearField('clear_days', 'number', 'days left', above, 'the certificate has that long left (renewed)'),
  ] },
  { kind: 'crl_expiry', label: "CRL expiry: the revocation list's next update is due soon", scoped: false, fields: [
    { id: 'within_hours', keys: ['within_hours'], type: 'number', label: 'Fires within', unit: 'hours', named: 'the time ahead',
      fallback: 24, hint: "Before the CRL's next update is due (past it, the broker refuses every device). Empty: 24 hours." },
    clearField('clear_hours', 'number', 'hours ahead', above, 'the next update is that far ahead'),
  ] },
  { kind: 'disk_space', label: "disk space: little free space on the gateway's disk", scoped: false, fields: [
    { id: 'below_bytes', keys: ['below_bytes'], type: 'size', label: 'Fires below', named: 'the free space', required: true,
      hint: "Free space on the file system of the gateway's state directory." },
    clearField('clear_bytes', 'size', undefined, above, 'that much is free again'),
  ] },
  { kind: 'export_backlog', label: 'export backlog: readings waiting for InfluxDB', scoped: false, fields: [
    { id: 'above_readings', keys: ['above_readings'], type: 'whole', label: 'Fires above', unit: 'readings', named: 'the backlog',
      required: true, hint: 'Readings waiting for InfluxDB; without an exporter it never fires.' },
    clearField('clear_readings', 'whole', 'readings', below, 'the backlog is down there'),
  ] },
  { kind: 'export_lag', label: 'export lag: a reading has waited long for InfluxDB', scoped: false, fields: [
    { id: 'above_s', keys: ['above_s'], type: 'duration', label: 'Fires when the oldest has waited over', named: 'the wait',
      fallback: 900, hint: 'How long the oldest reading not yet in InfluxDB has waited; without an exporter it never fires. Empty: 15 minutes.' },
    clearField('clear_s', 'duration', undefined, below, 'the oldest has waited no longer than that'),
  ] },
  { kind: 'event_rate', label: 'event rate: failed sign-ins, refused handshakes and other events', scoped: false, fields: [
    { id: 'event', keys: ['event'], type: 'choice', label: 'Event', named: 'the event', required: true,
      choices: Object.entries(EVENT_WORDS).map(([value, label]) => ({ value, label })) },
    { id: 'above_per_minute', keys: ['above_per_minute'], type: 'whole', label: 'Fires above', unit: 'events per minute', named: 'the rate',
      fallback: 30, hint: 'More than this many in the last minute; 0: any at all. Empty: 30.' },
    clearField('clear_per_minute', 'whole', 'events per minute', below, 'the rate is down there'),
  ] },
  { kind: 'update_failed', label: "update failed: a device's update failed or rolled back", scoped: true, fields: [] },
  { kind: 'rollout_halted', label: 'rollout halted: a rollout stopped itself', scoped: false, fields: [] },
  { kind: 'outbox_drops', label: "outbox drops: a device's outbox dropped readings", scoped: true, fields: [
    { id: 'quiet', keys: ['quiet_for_s'], type: 'duration', label: 'Clears after no drops for', named: '"Clears after no drops for"',
      fallback: 3600, hint: 'It fires when the count of readings a device dropped (its outbox full) grows. Empty: 1 hour.' },
  ] },
  { kind: 'superseded_certificate', label: 'superseded certificate: a device connected with a certificate it was reissued',
    scoped: true, fields: [
      { id: 'quiet_superseded', keys: ['quiet_for_s'], type: 'duration', label: 'Clears after no old certificate for',
        named: '"Clears after no old certificate for"', fallback: 600,
        hint: 'It fires while a device connects with a certificate issued before its newest one that is still valid. Empty: 10 minutes.' },
    ] },
  { kind: 'device_acl_denials', label: "device ACL denials: the broker refused a device's publishes or deliveries", scoped: true, fields: [
    { id: 'quiet_denials', keys: ['quiet_for_s'], type: 'duration', label: 'Clears after no denials for', named: '"Clears after no denials for"',
      fallback: 600, hint: 'It fires when the broker refuses a device a publish or a delivery outside its own topics. Empty: 10 minutes.' },
  ] },
];

// Every field once: every kind's, then "Held for".
export const ALL_FIELDS: readonly FieldSpec[] = [...FORM_KINDS.flatMap((k) => k.fields), HELD];

export function isFormKind(kind: unknown): kind is FormKind {
  return FORM_KINDS.some((k) => k.kind === kind);
}

export function kindSpec(kind: FormKind): KindSpec {
  return FORM_KINDS.find((k) => k.kind === kind) ?? FORM_KINDS[0];
}

// The fields a rule of `kind` is made of, in the form's order.
export function fieldsOf(kind: FormKind): readonly FieldSpec[] {
  return [...kindSpec(kind).fields, HELD];
}

// The form's fields as typed (text stays text until the form is sent, so nothing typed is lost):
// every kind's, so that choosing another kind and back keeps what was typed.
export interface RuleFormValues {
  name: string;
  kind: FormKind;
  fields: Record<FieldId, string>; // '' : left empty; a choice's value
  units: Partial<Record<FieldId, Unit>>; // of the durations and sizes
  scope: Scope;
  devices: string; // ids separated by commas, spaces or new lines
  label: string;
}

// A new rule's form: a temperature above a level, every device; every other field empty (the
// gateway's defaults), choices on their first.
export function newRuleValues(): RuleFormValues {
  const fields = {} as Record<FieldId, string>;
  const units: Partial<Record<FieldId, Unit>> = {};
  for (const spec of ALL_FIELDS) {
    fields[spec.id] = spec.choices?.[0]?.value ?? '';
    if (spec.type === 'duration' || spec.type === 'size') units[spec.id] = UNITS[spec.type][0];
  }
  return { name: '', kind: 'threshold', fields, units, scope: 'all', devices: '', label: '' };
}

// The unit chosen beside a duration or size.
export function unitChosen(spec: FieldSpec, values: RuleFormValues): Unit {
  return values.units[spec.id] ?? UNITS[spec.type === 'size' ? 'size' : 'duration'][0];
}

// A field's unit in words: "°C", "minutes", "GiB", "days"; '' for a choice.
export function unitText(spec: FieldSpec, values: RuleFormValues): string {
  if (spec.type === 'duration') return unitChosen(spec, values) === 's' ? 'seconds' : 'minutes';
  if (spec.type === 'size') return unitChosen(spec, values);
  return typeof spec.unit === 'function' ? spec.unit(values) : spec.unit ?? '';
}

// A field's label: "Level (°C)", "Held for (minutes, optional)", "Event".
export function fieldLabel(spec: FieldSpec, values: RuleFormValues): string {
  const said = [unitText(spec, values), spec.required ? '' : 'optional'].filter(Boolean).join(', ');
  return said ? `${spec.label} (${said})` : spec.label;
}

export function fieldHint(spec: FieldSpec, values: RuleFormValues): string {
  return typeof spec.hint === 'function' ? spec.hint(values) : spec.hint ?? '';
}

// What an empty field shows: the gateway's default in the unit chosen ("10" minutes, "600"
// seconds), or an example.
export function fieldPlaceholder(spec: FieldSpec, values: RuleFormValues): string {
  if (spec.fallback === undefined) return spec.placeholder ?? '';
  if (spec.type === 'duration' && unitChosen(spec, values) === 'min') return String(spec.fallback / 60);
  return String(spec.fallback);
}

// Whole seconds as the form shows them: in minutes when whole minutes, otherwise in seconds; ''
// for 0.
function durationValue(seconds: number): { text: string; unit: TimeUnit } {
  if (seconds === 0) return { text: '', unit: 'min' };
  return seconds % 60 === 0 ? { text: String(seconds / 60), unit: 'min' } : { text: String(seconds), unit: 's' };
}

// Bytes as the form shows them: in GiB from 1 GiB, otherwise in MiB, with the fewest decimals that
// give the same whole bytes back ("1.2" GiB for 1288490189, which is what 1.2 GiB is sent as).
function sizeValue(bytes: number): { text: string; unit: SizeUnit } {
  const unit: SizeUnit = bytes >= GIB ? 'GiB' : 'MiB';
  const size = UNIT_BYTES[unit];
  for (let digits = 0; digits <= 10; digits += 1) {
    const text = String(Number((bytes / size).toFixed(digits)));
    if (Math.round(Number(text) * size) === bytes) return { text, unit };
  }
  return { text: String(bytes / size), unit };
}

// A level as typed: "-15", "17.5", "17,5" (a decimal comma), "−15" (a typographic minus), with
// spaces around; null when it is not a number.
export function parseLevel(text: string): number | null {
  const cleaned = text.trim().replace(/^\u2212/, '-').replace(',', '.');
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return null;
  const value = Number(cleaned);
  return Number.isFinite(value) ? value : null;
}

// A whole number 0 or more as typed: "1000000", "1,000,000" or "1 000 000" (thousands grouped);
// null when it is not one.
export function parseWhole(text: string): number | null {
  const cleaned = text.trim();
  if (!/^(\d+|\d{1,3}([,\s\u00a0\u202f]\d{3})+)$/.test(cleaned)) return null;
  const value = Number(cleaned.replace(/[^\d]/g, ''));
  return Number.isSafeInteger(value) ? value : null;
}

// A duration as typed, in whole units: seconds, or null when it is not a whole number 0 or more.
export function parseDuration(text: string, unit: TimeUnit): number | null {
  const cleaned = text.trim();
  if (!/^\d+$/.test(cleaned)) return null;
  return Number(cleaned) * (unit === 'min' ? 60 : 1);
}

// A size as typed in MiB or GiB ("1.5", "1,5"): whole bytes, or null when it is not a number.
export function parseSize(text: string, unit: SizeUnit): number | null {
  const value = parseLevel(text);
  return value === null ? null : Math.round(value * UNIT_BYTES[unit]);
}

// A field's value for the body from its text, or null when the text is not one.
function parseField(spec: FieldSpec, text: string, values: RuleFormValues): string | number | null {
  switch (spec.type) {
    case 'choice':
      return spec.choices?.some((choice) => choice.value === text) ? text : null;
    case 'number':
      return parseLevel(text);
    case 'whole':
      return parseWhole(text);
    case 'duration':
      return parseDuration(text, unitChosen(spec, values) as TimeUnit);
    case 'size':
      return parseSize(text, unitChosen(spec, values) as SizeUnit);
  }
}

// The key a field gives: its own; threshold's level the one of its direction.
function keyOf(spec: FieldSpec, values: RuleFormValues): string | undefined {
  return spec.keys.length > 1 ? spec.keys.find((key) => key === values.fields.direction) : spec.keys[0];
}

// The form's fields, for marking the ones a problem is about.
export type RuleField = 'name' | 'kind' | 'devices' | 'label' | FieldId;

export interface FieldProblem {
  field: RuleField;
  text: string;
}

export type RuleRequest = { body: Record<string, unknown> } | { problems: FieldProblem[] };

// What is wrong with a field: left empty though it must be filled, or not a number.
function fieldProblem(spec: FieldSpec, values: RuleFormValues, empty: boolean): string {
  const unit = unitText(spec, values);
  if (spec.type === 'choice') return `Choose ${spec.named}.`;
  if (empty) return `Give ${spec.named} in ${unit}.`;
  const whole = spec.type === 'whole' || spec.type === 'duration';
  const named = spec.named.charAt(0).toUpperCase() + spec.named.slice(1);
  return `${named} must be ${whole ? 'a whole number' : 'a number'} of ${unit}${spec.example ? `, like ${spec.example}` : ''}` +
    `${spec.required ? '' : ', or left empty'}.`;
}

// The body for POST /api/v1/alert-rules (or PUT /api/v1/alert-rules/{name}, the same keys) from
// the form's values, with the keys of its kind only; or the problems found without asking the
// gateway, in the form's order. Optional fields left empty are left out (the gateway's defaults);
// a "held for" of 0 too, as the gateway lists it.
export function ruleRequest(values: RuleFormValues): RuleRequest {
  const problems: FieldProblem[] = [];
  const body: Record<string, unknown> = {};
  const name = values.name.trim();
  if (name === '') problems.push({ field: 'name', text: 'Name the rule.' });
  body.name = name;
  body.kind = values.kind;
  for (const spec of fieldsOf(values.kind)) {
    const text = values.fields[spec.id].trim();
    if (text === '') {
      if (spec.required) problems.push({ field: spec.id, text: fieldProblem(spec, values, true) });
      continue;
    }
    const value = parseField(spec, text, values);
    const key = keyOf(spec, values);
    if (value === null) problems.push({ field: spec.id, text: fieldProblem(spec, values, false) });
    else if (key !== undefined && !(spec.leaveOutZero && value === 0)) body[key] = value;
  }
  if (kindSpec(values.kind).scoped) readScope(values, body, problems);
  return problems.length > 0 ? { problems } : { body };
}

// The devices watched: every device (no key), a list or a label.
function readScope(values: RuleFormValues, body: Record<string, unknown>, problems: FieldProblem[]): void {
  if (values.scope === 'devices') {
    const devices = parseDeviceList(values.devices);
    if (devices.length === 0) problems.push({ field: 'devices', text: 'Name the devices by their ids, or choose every device.' });
    body.devices = devices;
  } else if (values.scope === 'label') {
    const label = values.label.trim();
    if (label === '') problems.push({ field: 'label', text: 'Name the label, or choose every device.' });
    body.label = label;
  }
}

// The text (and unit) of the value of a field's key, as the form shows it.
function fieldText(spec: FieldSpec, value: unknown): { text: string; unit?: Unit } {
  if (spec.type === 'duration' && typeof value === 'number') return durationValue(value);
  if (spec.type === 'size' && typeof value === 'number') return sizeValue(value);
  return { text: String(value) };
}

// The form's values for changing `rule` (as GET /api/v1/alert-rules answered it), or null when the
// form cannot show it faithfully: a rule this dashboard cannot put in a sentence (an unknown kind,
// key or value), or one that sending the form back unchanged would not give again (a fraction of a
// byte, of a reading or of an event; a number in exponent notation), which Change would alter
// unasked.
export function ruleFormValues(rule: Record<string, unknown>): RuleFormValues | null {
  if (!isFormKind(rule.kind) || ruleSentence(rule) === null) return null;
  const values = newRuleValues();
  values.name = String(rule.name);
  values.kind = rule.kind;
  // A threshold's level is its above or its below (the other kinds have no below).
  values.fields.direction = rule.below !== undefined ? 'below' : 'above';
  for (const spec of fieldsOf(rule.kind)) {
    const key = keyOf(spec, values);
    if (key === undefined || rule[key] === undefined) continue;
    const shown = fieldText(spec, rule[key]);
    values.fields[spec.id] = shown.text;
    if (shown.unit !== undefined) values.units[spec.id] = shown.unit;
  }
  const devices = Array.isArray(rule.devices) ? (rule.devices as string[]) : [];
  if (typeof rule.label === 'string') {
    values.scope = 'label';
    values.label = rule.label;
  } else if (devices.length > 0) {
    values.scope = 'devices';
    values.devices = devices.join(', ');
  }
  const back = ruleRequest(values);
  return 'body' in back && sameRule(back.body, rule) ? values : null;
}

// Whether two rules have the same keys with the same values.
function sameRule(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a).sort();
  return JSON.stringify(keys) === JSON.stringify(Object.keys(b).sort()) &&
    keys.every((key) => JSON.stringify(a[key]) === JSON.stringify(b[key]));
}

// The path of an added rule.
export function rulePath(name: string): string {
  return `/api/v1/alert-rules/${encodeURIComponent(name)}`;
}

export type RuleAction = 'add' | 'change' | 'remove';

// What a refusal of an action on a rule says: a sentence, the gateway's problems one by one (400
// invalid_rule), the form's fields they are about, and whether the list is out of date (read it
// again: someone else changed the rules meanwhile).
export interface RuleRefusal {
  text: string;
  problems: string[];
  fields: RuleField[];
  stale: boolean;
}

// The keys of a rule (as invalid_rule's problems name them, "above: must be …") and their fields:
// each field's keys, from the table; a key two kinds give, the first kind's field.
const KEY_FIELDS: Record<string, RuleField> = Object.fromEntries<RuleField>([
  ['name', 'name'], ['kind', 'kind'], ['devices', 'devices'], ['label', 'label'],
  ...ALL_FIELDS.flatMap((spec) => spec.keys.map((key): [string, RuleField] => [key, spec.id])).reverse(),
]);

// The field invalid_rule's `problem` is about ("below_bytes: must be …"), or null. Kinds may give one
// key with fields of their own (quiet_for_s): the field of `kind`, when it has one of that key.
export function problemField(problem: string, kind?: FormKind): RuleField | null {
  const key = /^([a-z_]+)\s*:/.exec(problem)?.[1];
  if (key === undefined) return null;
  const own = kind === undefined ? undefined : fieldsOf(kind).find((field) => field.keys.includes(key));
  if (own !== undefined) return own.id;
  return Object.prototype.hasOwnProperty.call(KEY_FIELDS, key) ? KEY_FIELDS[key] : null;
}

export interface RuleRefusalContext {
  name: string; // the rule's, as the form or row had it
  maxAdded: number | null; // from the last reading of the rules
  kind?: FormKind; // the rule's, as the form had it (which field a key's problem is about)
}

// A refused add, change or remove, said in place. Branches on the code, never on the message: only
// invalid_rule's message is shown as it is (it is the gateway's list of what is wrong).
export function ruleRefusal(action: RuleAction, error: unknown, context: RuleRefusalContext): RuleRefusal {
  const refusal = (text: string, stale = false, fields: RuleField[] = []): RuleRefusal => ({ text, problems: [], fields, stale });
  if (!(error instanceof ApiError)) return refusal(generalMessage(error));
  const { name } = context;
  switch (error.code) {
    case 'invalid_rule': {
      const problems = error.message.split(';').map((problem) => problem.trim()).filter(Boolean);
      const fields: RuleField[] = [];
      for (const problem of problems) {
        const field = problemField(problem, context.kind);
        if (field !== null && !fields.includes(field)) fields.push(field);
      }
      return {
        text: action === 'add' ? 'The gateway did not add the rule:' : 'The gateway did not save the changes:',
        problems, fields, stale: false,
      };
    }
    case 'malformed_json':
      return refusal('The gateway could not read what this page sent. Reload the page and try again.');
    case 'rule_exists':
      return refusal(`A rule named ${name} exists already. Choose another name.`, true, ['name']);
    case 'too_many_rules':
      return refusal(context.maxAdded !== null
        ? `The limit of ${context.maxAdded} added rules is reached: remove one before adding another.`
        : 'The limit of added rules is reached: remove one before adding another.', true);
    case 'rule_not_found':
      return refusal(action === 'change'
        ? `Rule ${name} was removed meanwhile. Its settings are still in the form: add it again to keep it.`
        : `Rule ${name} was removed meanwhile.`, true);
    case 'rule_configured':
      return refusal(`Rule ${name} comes from the gateway's config file: change it there.`, true);
    case 'forbidden':
      return refusal('Your role does not allow this any more: changing alert rules needs the operator role.');
    default:
      return refusal(generalMessage(error));
  }
}

// The note under the rules for those who may change them: where each rule is changed, and how many
// more may be added.
export function rulesNote(addedCount: number, maxAdded: number | null): string {
  const count = maxAdded === null ? '' : ` Added here: ${addedCount} of at most ${maxAdded}.`;
  return `Rules from the config file are changed in the config file; the ones added here can be changed and removed here.${count}`;
}
