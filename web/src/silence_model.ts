// Silences by rule and subject, apart from the DOM so they can be tested on their own
// (test/alerts_model.test.mjs): the Rules section's "Silence…" form, which silences a rule on a
// subject ahead of an alert (POST /api/v1/silences, docs/api.md) — the subject each kind of rule is
// about (prefilled for the gateway's own rules), the ids it suggests, the request built from the
// form and what each refusal says — and the alerts page's Silences list (GET /api/v1/silences),
// read defensively. The durations, the comment's limit, the request's end and the sentences shared
// with the silence of a firing alert (silenced, lifted, a lift refused) are src/alerts_model.ts's.

import { ApiError } from './api';
import {
  alertName, isDeviceKind, mayAct, silenceMessage, silenceRequest, silenceView, type SilenceView,
} from './alerts_model';
import type { Silence } from './types';

// The subject of the gateway's own rules' alerts (docs/alerts.md, "Rules").
export const GATEWAY_SUBJECT = 'gateway';
const GATEWAY_KINDS = new Set(['crl_expiry', 'disk_space', 'export_backlog', 'export_lag', 'event_rate']);

// What a rule's alerts are about, for the subject field: what it starts with, an example, a hint,
// and whether the fleet's device ids are worth suggesting.
export interface SubjectGuide {
  prefill: string; // '' : nothing
  placeholder: string;
  hint: string;
  fleet: boolean;
}

// The guide for `rule` (as GET /api/v1/alert-rules answered it). The gateway's rules are prefilled
// with "gateway"; a device rule that watches one listed device, with that device.
export function subjectGuide(rule: Record<string, unknown>): SubjectGuide {
  const kind = typeof rule.kind === 'string' ? rule.kind : '';
  if (GATEWAY_KINDS.has(kind)) {
    return { prefill: GATEWAY_SUBJECT, placeholder: GATEWAY_SUBJECT, hint: 'This rule\'s alerts are about the gateway itself: "gateway".', fleet: false };
  }
  if (isDeviceKind(kind)) {
    const listed = listedDevices(rule);
    return {
      prefill: listed.length === 1 ? listed[0] : '',
      placeholder: listed[0] ?? 'sensor-01',
      hint: 'A device id: the device this rule watches whose notifications to hold back.',
      fleet: listed.length === 0,
    };
  }
  if (kind === 'certificate_expiry') {
    return { prefill: '', placeholder: 'sensor-01', hint: "A certificate's name: a device id, or the CA's, the server's or a service's name.", fleet: true };
  }
  if (kind === 'rollout_halted') {
    return { prefill: '', placeholder: 'rollout-7', hint: 'A rollout, as "rollout-" and its number: rollout-7.', fleet: false };
  }
  return {
    prefill: '', placeholder: '',
    hint: 'What the rule\'s alerts are about: a device id, a certificate\'s or service\'s name, "gateway" or "rollout-{id}".',
    fleet: false,
  };
}

function listedDevices(rule: Record<string, unknown>): string[] {
  return Array.isArray(rule.devices) ? rule.devices.filter((d): d is string => typeof d === 'string' && d !== '') : [];
}

// A device of the fleet as the suggestions need it: its id and labels.
export interface FleetDevice {
  id: string;
  labels: string[];
}

// The devices of an answer of GET /api/v1/devices, read defensively; never throws.
export function parseFleet(answer: unknown): FleetDevice[] {
  const devices = isRecord(answer) && Array.isArray(answer.devices) ? answer.devices : [];
  return devices.filter((d): d is Record<string, unknown> => isRecord(d) && typeof d.id === 'string' && d.id !== '')
    .map((d) => ({
      id: d.id as string,
      labels: Array.isArray(d.labels) ? d.labels.filter((l): l is string => typeof l === 'string') : [],
    }));
}

// The subjects suggested for `rule` (a <datalist>): a device rule's listed devices, or the
// fleet's devices it watches (those with its label, or all); "gateway" for the gateway's rules;
// for certificate_expiry the fleet's ids (a device's certificate is named after it). In order,
// each once. `fleet` is null until read (or when it could not be).
export function subjectSuggestions(rule: Record<string, unknown>, fleet: FleetDevice[] | null): string[] {
  const guide = subjectGuide(rule);
  const kind = typeof rule.kind === 'string' ? rule.kind : '';
  let ids: string[] = [];
  if (guide.prefill === GATEWAY_SUBJECT) {
    ids = [GATEWAY_SUBJECT];
  } else if (isDeviceKind(kind) && listedDevices(rule).length > 0) {
    ids = listedDevices(rule);
  } else if (guide.fleet && fleet !== null) {
    const label = isDeviceKind(kind) && typeof rule.label === 'string' ? rule.label : null;
    ids = fleet.filter((d) => label === null || d.labels.includes(label)).map((d) => d.id);
  }
  return [...new Set(ids)];
}

// The form's fields as typed.
export interface SilenceAheadValues {
  rule: string;
  subject: string;
  durationMs: number; // one of SILENCE_DURATIONS (the select's value)
  comment: string;
}

export type SilenceField = 'subject' | 'duration' | 'comment';

// POST /api/v1/silences' body.
export interface SilenceAheadBody {
  rule: string;
  subject: string;
  until_ms: number;
  comment?: string;
}

export type SilenceAheadRequest = { body: SilenceAheadBody } | { problem: { field: SilenceField; text: string } };

// The body silencing `values.rule` on the subject typed (trimmed) for the duration chosen from
// `nowMs`, the comment trimmed and left out when empty (as silenceRequest); or the one problem found
// without asking the gateway: no subject. Its grammar is the gateway's to check. Throws RangeError
// for a duration not offered, as silenceRequest.
export function silenceAheadRequest(values: SilenceAheadValues, nowMs: number): SilenceAheadRequest {
  const subject = values.subject.trim();
  const end = silenceRequest(nowMs, values.durationMs, values.comment);
  if (subject === '') return { problem: { field: 'subject', text: `Name the subject to silence ${values.rule} on.` } };
  return { body: { rule: values.rule, subject, ...end } };
}

// What a refused silence says in the form, the field it is about (marked; null: none) and whether
// the rules are out of date (read them again: the rule was removed meanwhile).
export interface SilenceRefusal {
  text: string;
  field: SilenceField | null;
  stale: boolean;
}

// The keys invalid_silence's message starts with ("\"subject\" is a device id, …") and their fields.
const KEY_FIELDS: Record<string, SilenceField> = { subject: 'subject', until_ms: 'duration', comment: 'comment' };

// A refused silence of `rule` on `subject`. Branches on the code; invalid_silence's message (the
// gateway's reason) is shown as it is, and names the key it is about first.
export function silenceAheadRefusal(error: unknown, rule: string, subject: string): SilenceRefusal {
  if (error instanceof ApiError && error.code === 'rule_not_found') {
    return { text: `Rule ${rule} was removed meanwhile: nothing was silenced.`, field: null, stale: true };
  }
  if (error instanceof ApiError && error.code === 'invalid_silence') {
    const key = /^"([a-z_]+)"/.exec(error.message)?.[1];
    const field = key !== undefined && Object.prototype.hasOwnProperty.call(KEY_FIELDS, key) ? KEY_FIELDS[key] : null;
    // A subject the gateway refused is not repeated in the sentence.
    const text = field === 'subject' ? `${rule} could not be silenced: ${error.message}` : silenceMessage(error, { rule, subject });
    return { text, field, stale: false };
  }
  return { text: silenceMessage(error, { rule, subject }), field: null, stale: false };
}

// The silences of an answer of GET /api/v1/silences, by rule then subject; anything that is not a
// silence (an id, a rule, a subject and an end) is left out, and what a silence lacks besides is
// read as empty. Never throws.
export function parseSilences(answer: unknown): Silence[] {
  const list = isRecord(answer) && Array.isArray(answer.silences) ? answer.silences : [];
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const silences = list
    .filter((s): s is Record<string, unknown> => isRecord(s) && Number.isInteger(s.id) && typeof s.rule === 'string' && s.rule !== ''
      && typeof s.subject === 'string' && s.subject !== '' && typeof s.until_ms === 'number' && Number.isFinite(s.until_ms))
    .map((s): Silence => ({
      id: s.id as number,
      rule: s.rule as string,
      subject: s.subject as string,
      until: text(s.until),
      until_ms: s.until_ms as number,
      created_by: text(s.created_by),
      created: text(s.created),
      created_ms: typeof s.created_ms === 'number' ? s.created_ms : Number.NaN,
      comment: text(s.comment),
    }));
  const seen = new Set<number>();
  return silences.filter((s) => !seen.has(s.id) && seen.add(s.id))
    .sort((a, b) => compare(a.rule, b.rule) || compare(a.subject, b.subject) || a.id - b.id);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// One silence of the Silences list: its rule, subject, until when (local, to the minute), by whom,
// its comment, and whether the user may lift it (operators and admins).
export interface SilenceListRow extends SilenceView {
  rule: string;
  subject: string;
  name: string; // "freezer_warm on sensor-01"
  canLift: boolean;
}

export function silenceListRow(silence: Silence, role: string | undefined): SilenceListRow {
  return { ...silenceView(silence), rule: silence.rule, subject: silence.subject, name: alertName(silence), canLift: mayAct(role) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
