// The Rules section's form, apart from the DOM so it can be tested on its own
// (test/alerts_model.test.mjs): who may add, change and remove alert rules, the form's values for a
// new rule and for an added rule being changed, the body of POST /api/v1/alert-rules and
// PUT /api/v1/alert-rules/{name} built from them, and what each refusal says (docs/api.md).
//
// The form covers the two kinds operators add most, threshold and device_offline (docs/alerts.md,
// "Rules"). It checks only what is cheap and certain — a field that must be filled, a number that
// is not one — and leaves the rest (names, ranges, a clear level on the wrong side) to the gateway,
// whose 400 invalid_rule lists every problem.

import { ApiError } from './api';
import { ruleSentence } from './alert_rules_model';
import { generalMessage } from './messages';
import { parseDeviceList } from './rollouts_model';

// Operators and admins change rules (the gateway decides again: 403 forbidden).
export function mayChangeRules(role: string | undefined): boolean {
  return role === 'operator' || role === 'admin';
}

export type FormKind = 'threshold' | 'device_offline';
export type Quantity = 'temperature' | 'humidity';
export type Direction = 'above' | 'below';
export type TimeUnit = 'min' | 's';
export type Scope = 'all' | 'devices' | 'label';

// The kinds the form offers, in words (the select's options).
export const FORM_KINDS: readonly { kind: FormKind; label: string }[] = [
  { kind: 'threshold', label: 'threshold: a temperature or humidity level' },
  { kind: 'device_offline', label: 'device offline: nothing received from a device' },
];

export const QUANTITIES: readonly { quantity: Quantity; label: string; unit: string }[] = [
  { quantity: 'temperature', label: 'temperature (°C)', unit: '°C' },
  { quantity: 'humidity', label: 'humidity (%RH)', unit: '%RH' },
];

export function unitOf(quantity: Quantity): string {
  return quantity === 'humidity' ? '%RH' : '°C';
}

// The gateway's silent_for_s when the rule has none (docs/alerts.md).
export const DEFAULT_SILENT_S = 600;

// The form's fields as typed (text stays text until the form is sent, so nothing typed is lost).
export interface RuleFormValues {
  name: string;
  kind: FormKind;
  quantity: Quantity;
  direction: Direction;
  level: string;
  clear: string; // '' : the level itself
  forValue: string; // '' : at once
  forUnit: TimeUnit;
  silentValue: string; // '' : the gateway's default (10 min)
  silentUnit: TimeUnit;
  scope: Scope;
  devices: string; // ids separated by commas, spaces or new lines
  label: string;
}

// A new rule's form: a temperature above a level, every device; offline after 10 min.
export function newRuleValues(): RuleFormValues {
  return {
    name: '', kind: 'threshold', quantity: 'temperature', direction: 'above', level: '', clear: '',
    forValue: '', forUnit: 'min', silentValue: String(DEFAULT_SILENT_S / 60), silentUnit: 'min',
    scope: 'all', devices: '', label: '',
  };
}

// Whole seconds as the form shows them: in minutes when whole minutes, otherwise in seconds; ''
// for 0 or none.
function durationValue(seconds: number | undefined): { value: string; unit: TimeUnit } {
  if (seconds === undefined || seconds === 0) return { value: '', unit: 'min' };
  return seconds % 60 === 0 ? { value: String(seconds / 60), unit: 'min' } : { value: String(seconds), unit: 's' };
}

// The form's values for changing `rule` (as GET /api/v1/alert-rules answered it), or null when the
// form cannot show it faithfully: another kind, or a key or value this dashboard does not know
// (the same rules it cannot put in a sentence), which sending the form back would drop.
export function ruleFormValues(rule: Record<string, unknown>): RuleFormValues | null {
  if ((rule.kind !== 'threshold' && rule.kind !== 'device_offline') || ruleSentence(rule) === null) return null;
  const values = newRuleValues();
  values.name = String(rule.name);
  values.kind = rule.kind;
  const forS = durationValue(rule.for_s as number | undefined);
  values.forValue = forS.value;
  values.forUnit = forS.unit;
  const devices = Array.isArray(rule.devices) ? (rule.devices as string[]) : [];
  if (typeof rule.label === 'string') {
    values.scope = 'label';
    values.label = rule.label;
  } else if (devices.length > 0) {
    values.scope = 'devices';
    values.devices = devices.join(', ');
  }
  if (rule.kind === 'threshold') {
    values.quantity = rule.quantity as Quantity;
    values.direction = rule.above !== undefined ? 'above' : 'below';
    values.level = String(rule.above ?? rule.below);
    values.clear = rule.clear === undefined ? '' : String(rule.clear);
  } else {
    const silent = durationValue((rule.silent_for_s as number | undefined) ?? DEFAULT_SILENT_S);
    values.silentValue = silent.value;
    values.silentUnit = silent.unit;
  }
  return values;
}

// A level as typed: "-15", "17.5", "17,5" (a decimal comma), "−15" (a typographic minus), with
// spaces around; null when it is not a number.
export function parseLevel(text: string): number | null {
  const cleaned = text.trim().replace(/^\u2212/, '-').replace(',', '.');
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return null;
  const value = Number(cleaned);
  return Number.isFinite(value) ? value : null;
}

// A duration as typed, in whole units: seconds, or null when it is not a whole number 0 or more.
export function parseDuration(text: string, unit: TimeUnit): number | null {
  const cleaned = text.trim();
  if (!/^\d+$/.test(cleaned)) return null;
  return Number(cleaned) * (unit === 'min' ? 60 : 1);
}

// The form's fields, for marking the ones a problem is about.
export type RuleField = 'name' | 'kind' | 'quantity' | 'level' | 'clear' | 'for' | 'silent' | 'devices' | 'label';

export interface FieldProblem {
  field: RuleField;
  text: string;
}

export type RuleRequest = { body: Record<string, unknown> } | { problems: FieldProblem[] };

const UNIT_WORDS: Record<TimeUnit, string> = { min: 'minutes', s: 'seconds' };

// The body for POST /api/v1/alert-rules (or PUT /api/v1/alert-rules/{name}, the same keys) from
// the form's values, with the keys of its kind only; or the problems found without asking the
// gateway, in the form's order. Optional fields left empty are left out (the gateway's defaults);
// a "for" of 0 too, as the gateway lists it.
export function ruleRequest(values: RuleFormValues): RuleRequest {
  const problems: FieldProblem[] = [];
  const body: Record<string, unknown> = {};
  const name = values.name.trim();
  if (name === '') problems.push({ field: 'name', text: 'Name the rule.' });
  body.name = name;
  body.kind = values.kind;
  if (values.kind === 'threshold') {
    const unit = unitOf(values.quantity);
    body.quantity = values.quantity;
    const level = parseLevel(values.level);
    if (values.level.trim() === '') {
      problems.push({ field: 'level', text: `Give the level in ${unit}.` });
    } else if (level === null) {
      problems.push({ field: 'level', text: `The level must be a number of ${unit}, like -15 or 17.5.` });
    }
    body[values.direction] = level;
    if (values.clear.trim() !== '') {
      const clear = parseLevel(values.clear);
      if (clear === null) problems.push({ field: 'clear', text: `The clear level must be a number of ${unit}, or left empty.` });
      body.clear = clear;
    }
  } else if (values.silentValue.trim() !== '') {
    const silent = parseDuration(values.silentValue, values.silentUnit);
    if (silent === null) {
      problems.push({ field: 'silent', text: `"Nothing received for" must be a whole number of ${UNIT_WORDS[values.silentUnit]}, or left empty.` });
    }
    body.silent_for_s = silent;
  }
  if (values.forValue.trim() !== '') {
    const forS = parseDuration(values.forValue, values.forUnit);
    if (forS === null) {
      problems.push({ field: 'for', text: `"Held for" must be a whole number of ${UNIT_WORDS[values.forUnit]}, or left empty.` });
    } else if (forS > 0) {
      body.for_s = forS;
    }
  }
  if (values.scope === 'devices') {
    const devices = parseDeviceList(values.devices);
    if (devices.length === 0) problems.push({ field: 'devices', text: 'Name the devices by their ids, or choose every device.' });
    body.devices = devices;
  } else if (values.scope === 'label') {
    const label = values.label.trim();
    if (label === '') problems.push({ field: 'label', text: 'Name the label, or choose every device.' });
    body.label = label;
  }
  return problems.length > 0 ? { problems } : { body };
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

// The keys of a rule (as invalid_rule's problems name them, "above: must be …") and their fields.
const KEY_FIELDS: Record<string, RuleField> = {
  name: 'name',
  kind: 'kind',
  quantity: 'quantity',
  above: 'level',
  below: 'level',
  clear: 'clear',
  for_s: 'for',
  silent_for_s: 'silent',
  devices: 'devices',
  label: 'label',
};

export interface RuleRefusalContext {
  name: string; // the rule's, as the form or row had it
  maxAdded: number | null; // from the last reading of the rules
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
        const key = /^([a-z_]+)\s*:/.exec(problem)?.[1];
        const field = key !== undefined && Object.prototype.hasOwnProperty.call(KEY_FIELDS, key) ? KEY_FIELDS[key] : undefined;
        if (field !== undefined && !fields.includes(field)) fields.push(field);
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
