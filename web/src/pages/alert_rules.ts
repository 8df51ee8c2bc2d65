// The alerts page's Rules section (docs/dashboard.md, "Alerts"): every rule the gateway watches
// (GET /api/v1/alert-rules), each in a sentence, with where it comes from — the gateway's config
// file, or added by an operator (who, when; the last change) — read when the page opens, every 15 s
// while the tab is shown (a rule another operator adds, changes or removes shows without a reload)
// and after each change made here. Operators and admins add a rule of any kind with an inline form
// (the fields of the kind chosen, from src/rule_form_model.ts's table), change an added rule with the
// same form (its name and kind stay) and remove an added rule after a confirmation; the config
// file's rules are changed in the config file and get neither button. Every rule's row, configured
// or added, also has "Silence…" for operators and admins: a small form in a row below it silences
// the rule on a subject (a device, a certificate, the gateway, a rollout) for a while, ahead of an
// alert (POST /api/v1/silences). Viewers see the rules only. The model is src/alert_rules_model.ts,
// src/rule_form_model.ts and src/silence_model.ts.
//
// One rule form at a time, below the table, and one silence form at a time, below its rule's row;
// each is built afresh for each opening and stays, with what was typed, until it is sent
// successfully or cancelled. A reading of the rules changes the table only: rows are kept, and
// redrawn only when their rule changed, so neither form, what was typed in it nor the focus is
// touched. Each change takes effect on the gateway at once; the page then reads the rules and,
// through `alertsChanged`, the alerts and silences (removing a rule resolves its firing alerts; a
// silence set holds back the notifications of an alert firing already).

import { api, ApiError } from '../api';
import type { AppContext } from '../app';
import { parseRuleList, type RuleEntry, type RuleList, ruleSentence, ruleSource } from '../alert_rules_model';
import { kindText, SILENCE_COMMENT_MAX, SILENCE_DURATIONS, silencedText } from '../alerts_model';
import { h, replace, setText } from '../dom';
import { generalMessage } from '../messages';
import { poll } from '../poll';
import {
  type FieldId, fieldHint, fieldLabel, fieldPlaceholder, type FieldSpec, FORM_KINDS, type FormKind, HELD, kindSpec, mayChangeRules,
  newRuleValues, type RuleField, type RuleFormValues, type RuleRefusal, ruleFormValues, rulePath, ruleRefusal, ruleRequest, rulesNote,
  type Scope, type Unit, unitChosen, UNITS,
} from '../rule_form_model';
import {
  type FleetDevice, parseFleet, type SilenceField, silenceAheadRefusal, silenceAheadRequest, type SilenceRefusal,
  subjectGuide, subjectSuggestions,
} from '../silence_model';
import type { Silence } from '../types';
import { confirmStep } from '../widgets';

const COLUMNS = ['Rule', 'Condition', 'Source'];

// How often the rules are read again while the tab is shown: they change seldom, and by hand.
const REFRESH_MS = 15_000;

export interface RulesSection {
  element: HTMLElement;
  dispose(): void;
}

type FormMode = 'add' | 'change';

// The open form: what it is for and the button that opened it (focused again when it is cancelled).
interface OpenForm {
  mode: FormMode;
  name: string; // the rule changed; '' when adding
  element: HTMLFormElement;
  opener: HTMLButtonElement;
  // Says a refusal in the form, marks the fields it is about and focuses the first of them (or it).
  refuse(refusal: RuleRefusal): void;
}

// The open silence form: the rule it silences, its row below the rule's, and the rule's button
// that opened it (redrawn with the rules: found again by the rule's name).
interface OpenSilence {
  rule: string;
  row: HTMLTableRowElement;
  opener: HTMLButtonElement;
}

// "A threshold", "An event rate".
function article(words: string): string {
  return `${/^[aeiou]/.test(words) ? 'An' : 'A'} ${words}`;
}

// A rule's row as drawn, and what it was drawn from (its rule and origin, as JSON).
interface DrawnRow {
  tr: HTMLTableRowElement;
  signature: string;
}

// Puts `wanted` into `parent` in this order: what is no longer wanted goes, what is new comes in,
// and only what is out of place moves (moving an element takes the focus from it).
function arrange(parent: HTMLElement, wanted: readonly Element[]): void {
  const keep = new Set(wanted);
  for (const child of [...parent.children]) if (!keep.has(child)) child.remove();
  let at = parent.firstElementChild;
  for (const child of wanted) {
    if (child === at) at = at.nextElementSibling;
    else parent.insertBefore(child, at);
  }
}

// Marks a form's field as one a problem is about, described by the form's `problems` message too;
// or unmarks it.
function markInvalid(control: Element, problems: HTMLElement, invalid: boolean): void {
  const described = (control.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && id !== problems.id);
  if (invalid) described.push(problems.id);
  if (described.length > 0) control.setAttribute('aria-describedby', described.join(' '));
  else control.removeAttribute('aria-describedby');
  if (invalid) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
}

// A field of the rule form: its spec and its elements.
interface FieldControl {
  spec: FieldSpec;
  element: HTMLElement;
  control: HTMLInputElement | HTMLSelectElement;
  unit: HTMLSelectElement | null; // a duration's or size's
  label: HTMLLabelElement;
  hint: HTMLElement | null;
}

// A field's label, hint and placeholder as the form's values now say: the unit chosen, the
// quantity's unit, the clear level's side of the direction.
function formFollow(field: FieldControl, values: RuleFormValues): void {
  setText(field.label, fieldLabel(field.spec, values));
  if (field.hint) setText(field.hint, fieldHint(field.spec, values));
  const placeholder = fieldPlaceholder(field.spec, values);
  if (field.control instanceof HTMLInputElement && field.control.placeholder !== placeholder) field.control.placeholder = placeholder;
}

// The first control of `form` that is shown (the other kind's fields are hidden).
function firstShown(form: HTMLElement): HTMLElement | null {
  return [...form.querySelectorAll<HTMLElement>('input:not([type=radio]), select')].find((c) => c.offsetParent !== null) ?? null;
}

export function alertRulesSection(context: AppContext, alertsChanged: () => void): RulesSection {
  const editor = mayChangeRules(context.session?.role);
  let disposed = false;
  let list: RuleList = { rules: [], addedCount: 0, maxAdded: null, canAdd: false };
  let open: OpenForm | null = null;
  let silenceOpen: OpenSilence | null = null;
  let rows = new Map<string, DrawnRow>();
  // Each reading's number: only the latest one begun is shown.
  let readings = 0;
  // The fleet's devices, read once for the silence form's suggestions (when a rule's need them).
  let fleet: Promise<FleetDevice[] | null> | null = null;

  const status = h('p', { class: 'status', 'data-testid': 'alert-rules-status' }, 'Loading…');
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'alert-rules-message' });
  const empty = h('p', { class: 'empty', hidden: true, 'data-testid': 'alert-rules-empty' },
    'The gateway has no alert rules: it raises no alerts.');
  const columns = editor ? [...COLUMNS, 'Manage'] : COLUMNS;
  const body = h('tbody');
  const table = h('table', { class: 'data stack alerts alert-rules', 'data-testid': 'alert-rules' },
    h('caption', { class: 'visually-hidden' }, 'Alert rules'),
    h('thead', {}, h('tr', {}, ...columns.map((title) => h('th', { scope: 'col' }, title)))),
    body);
  const wrap = h('div', { class: 'table-wrap', hidden: true }, table);
  const note = h('p', { class: 'muted rules-note', hidden: true, 'data-testid': 'alert-rules-note' });
  // What became of a change: done (a status) or refused (an alert); focused when what asked for it
  // is gone (a sent form, a removed row).
  const done = h('p', { class: 'message success', role: 'status', tabindex: '-1', hidden: true, 'data-testid': 'alert-rules-done' });
  const refused = h('p', { class: 'message error', role: 'alert', tabindex: '-1', hidden: true, 'data-testid': 'alert-rules-refused' });
  const addButton = h('button', { type: 'button', hidden: true, 'data-testid': 'alert-rule-add' }, 'Add rule');
  const formSlot = h('div', { class: 'rule-form-slot' });

  const element = h('section', { 'aria-labelledby': 'alert-rules-heading', 'data-testid': 'alert-rules-section' },
    h('h2', { id: 'alert-rules-heading' }, 'Rules'),
    h('p', { class: 'muted' },
      'When the gateway raises an alert and when it clears it: the rules of its config file, then those operators added here.'),
    status, message, empty, wrap, note, done, refused,
    editor ? h('div', { class: 'actions' }, addButton) : null,
    formSlot);

  function say(which: HTMLElement, text: string): void {
    done.hidden = true;
    refused.hidden = true;
    which.textContent = text;
    which.hidden = false;
  }

  // ---- the list --------------------------------------------------------------------------------

  // One rule's row: its name (with its kind in words, unless named after it), its sentence (or that
  // this dashboard cannot say it), where it comes from, and for operators its buttons.
  function ruleRow(entry: RuleEntry): HTMLTableRowElement {
    const source = ruleSource(entry.added);
    const sourceCell = h('td', { 'data-label': 'Source', class: 'source' });
    if (entry.added === null) {
      sourceCell.append(h('span', { class: 'muted' }, source.text));
    } else {
      sourceCell.append(h('span', { 'data-testid': 'alert-rule-source', title: source.title || null },
        source.verb, source.by ? ' by ' : '', source.by ? h('strong', {}, source.by) : null,
        source.atMs !== null ? ', ' : '',
        source.atMs !== null ? h('time', { datetime: new Date(source.atMs).toISOString() }, source.at) : null));
    }
    return h('tr', { 'data-rule': entry.name, 'data-kind': entry.kindName, 'data-added': entry.added !== null ? 'true' : 'false' },
      h('td', { 'data-label': 'Rule', class: 'nowrap' }, h('span', { class: 'rule' }, entry.name),
        entry.name !== entry.kindName ? h('span', { class: 'muted small' }, ` ${entry.kind}`) : null),
      h('td', { 'data-label': 'Condition', class: 'detail' }, entry.sentence ??
        h('span', { class: 'muted' }, 'Not described: this version of the dashboard does not know all of its settings.')),
      sourceCell,
      editor ? manageCell(entry) : null);
  }

  // "Silence…" for every rule; Change (for the kinds the form has, when it can show every setting)
  // and Remove for an added rule, not for a configured one (its Source says where it is changed).
  function manageCell(entry: RuleEntry): HTMLTableCellElement {
    const cell = h('td', { class: 'manage-cell', 'data-label': 'Manage' });
    const slot = h('div', { class: 'rule-actions' });
    const silence = h('button', { type: 'button', class: 'secondary', 'data-testid': 'alert-rule-silence',
      'aria-label': `Silence rule ${entry.name} on a subject`, 'aria-expanded': 'false' }, 'Silence…');
    silence.addEventListener('click', () => {
      if (silenceOpen?.rule === entry.name) closeSilence(false);
      else openSilence(entry, silence);
    });
    slot.append(silence);
    cell.append(slot);
    if (entry.added === null) return cell;
    const values = ruleFormValues(entry.rule);
    if (values !== null) {
      const change = h('button', { type: 'button', class: 'secondary', 'data-testid': 'alert-rule-change',
        'aria-label': `Change rule ${entry.name}` }, 'Change');
      change.addEventListener('click', () => openForm('change', values, change, entry.name));
      slot.append(change);
    }
    const removeSlot = h('div', { class: 'slot' });
    const remove = h('button', { type: 'button', class: 'secondary', 'data-testid': 'alert-rule-remove',
      'aria-label': `Remove rule ${entry.name}` }, 'Remove');
    remove.addEventListener('click', () => confirmRemove(entry, remove, removeSlot));
    removeSlot.append(remove);
    slot.append(removeSlot);
    return cell;
  }

  // Shows `next` in the table. A rule's row is kept while its rule and origin are the same (its
  // buttons, an open confirmation and the focus stay) and drawn anew otherwise, the focus, when it
  // was in it, on the same button of the new row; the open silence form stays below its rule's row
  // and goes with its rule. Nothing outside the table is touched, the rule form least of all.
  function show(next: RuleList): void {
    list = next;
    const active = document.activeElement;
    let refocus: { tr: HTMLTableRowElement; testid: string } | null = null;
    const drawn = new Map<string, DrawnRow>();
    const wanted: HTMLTableRowElement[] = [];
    for (const entry of list.rules) {
      const signature = JSON.stringify([entry.rule, entry.added]);
      const old = rows.get(entry.name);
      const tr = old !== undefined && old.signature === signature ? old.tr : ruleRow(entry);
      if (old !== undefined && tr !== old.tr && active instanceof HTMLElement && old.tr.contains(active)) {
        refocus = { tr, testid: active.dataset.testid ?? '' };
      }
      drawn.set(entry.name, { tr, signature });
      wanted.push(tr);
      if (silenceOpen?.rule === entry.name) wanted.push(silenceOpen.row);
    }
    rows = drawn;
    arrange(body, wanted);
    keepSilenceForm();
    // A confirmation's buttons have no test id: its row's Remove button then.
    refocus?.tr.querySelector<HTMLElement>(`[data-testid="${refocus.testid || 'alert-rule-remove'}"]`)?.focus();
    wrap.hidden = list.rules.length === 0;
    empty.hidden = list.rules.length > 0;
    note.hidden = !editor || !list.canAdd;
    setText(note, rulesNote(list.addedCount, list.maxAdded));
    addButton.hidden = !editor || !list.canAdd || open !== null;
  }

  // Reads the rules (when the page opens, every REFRESH_MS and after each change) and shows them,
  // only the latest reading begun: one begun before a change could answer after the change's own.
  // A failure is said above the table and keeps the rules shown before.
  async function load(): Promise<void> {
    const reading = ++readings;
    try {
      const next = parseRuleList(await api<unknown>('GET', '/api/v1/alert-rules'));
      if (disposed || reading !== readings) return;
      message.hidden = true;
      show(next);
    } catch (error) {
      if (disposed || reading !== readings) return;
      setText(message, `The alert rules could not be read: ${generalMessage(error)}`);
      message.hidden = false;
    } finally {
      status.remove();
    }
  }

  // After a change went through: the rules and the alerts as they are now.
  async function changed(): Promise<void> {
    await load();
    if (!disposed) alertsChanged();
  }

  // ---- silencing a rule on a subject -----------------------------------------------------------

  // The rule's row of the table as drawn now, or null.
  function rowOf(rule: string): HTMLTableRowElement | null {
    return body.querySelector<HTMLTableRowElement>(`tr[data-rule="${CSS.escape(rule)}"]`);
  }

  // After the rules were drawn again: the open silence form's opener is its rule's Silence… button
  // as drawn now; the form went with its rule.
  function keepSilenceForm(): void {
    if (silenceOpen === null) return;
    const opener = rowOf(silenceOpen.rule)?.querySelector<HTMLButtonElement>('[data-testid=alert-rule-silence]');
    if (!opener || !silenceOpen.row.isConnected) {
      silenceOpen = null;
      return;
    }
    silenceOpen.opener = opener;
    opener.setAttribute('aria-expanded', 'true');
  }

  function closeSilence(focusOpener: boolean): void {
    const was = silenceOpen;
    silenceOpen = null;
    if (was === null) return;
    was.row.remove();
    was.opener.setAttribute('aria-expanded', 'false');
    if (focusOpener && was.opener.isConnected) was.opener.focus();
  }

  // The fleet's devices (read once; null when they could not be read: no suggestions then).
  function fleetDevices(): Promise<FleetDevice[] | null> {
    fleet ??= api<unknown>('GET', '/api/v1/devices').then(parseFleet, () => {
      fleet = null; // asked again at the next opening
      return null;
    });
    return fleet;
  }

  // Opens the silence form below `entry`'s row (in place of one open already), focused on its
  // subject: the subject (prefilled for the gateway's own rules; suggestions in a datalist), how
  // long (the durations of a firing alert's silence) and an optional comment.
  function openSilence(entry: RuleEntry, opener: HTMLButtonElement): void {
    closeSilence(false);
    done.hidden = true;
    refused.hidden = true;
    const { name } = entry;
    const guide = subjectGuide(entry.rule);
    const suggestions = h('datalist', { id: 'rule-silence-subjects' });
    const suggest = (ids: string[]) => suggestions.replaceChildren(...ids.map((id) => h('option', { value: id })));
    suggest(subjectSuggestions(entry.rule, null));
    if (guide.fleet) {
      void fleetDevices().then((devices) => {
        if (silenceOpen?.row === row && devices !== null) suggest(subjectSuggestions(entry.rule, devices));
      });
    }
    const subject = h('input', { id: 'rule-silence-subject', type: 'text', required: true, autocomplete: 'off',
      autocapitalize: 'none', spellcheck: 'false', value: guide.prefill, placeholder: guide.placeholder || null,
      list: 'rule-silence-subjects', 'aria-describedby': 'rule-silence-subject-hint', 'data-testid': 'rule-silence-subject' });
    const duration = h('select', { id: 'rule-silence-duration', 'data-testid': 'rule-silence-duration' },
      ...SILENCE_DURATIONS.map((d) => h('option', { value: String(d.ms) }, d.label)));
    const comment = h('input', { id: 'rule-silence-comment', type: 'text', maxlength: SILENCE_COMMENT_MAX, autocomplete: 'off',
      'data-testid': 'rule-silence-comment' });
    const problems = h('p', { class: 'message error', role: 'alert', tabindex: '-1', hidden: true, id: 'rule-silence-message',
      'data-testid': 'rule-silence-message' });
    const submit = h('button', { type: 'submit', 'data-testid': 'rule-silence-submit' }, 'Silence');
    const cancel = h('button', { type: 'button', class: 'secondary', 'data-testid': 'rule-silence-cancel' }, 'Cancel');
    const form = h('form', { class: 'rule-form rule-silence-form', novalidate: true, 'aria-labelledby': 'rule-silence-title',
      'data-testid': 'rule-silence-form' },
    h('h3', { id: 'rule-silence-title' }, `Silence rule ${name}`),
    h('p', { class: 'muted' },
      'Its notifications about one subject are held back until the time chosen, whether or not it fires meanwhile.'),
    h('div', { class: 'form-row' },
      field('rule-silence-subject', 'Subject', subject, h('p', { class: 'hint', id: 'rule-silence-subject-hint' }, guide.hint)),
      field('rule-silence-duration', 'Silence for', duration),
      field('rule-silence-comment', 'Comment (optional)', comment)),
    suggestions, problems,
    h('div', { class: 'actions' }, submit, cancel));
    const row = h('tr', { class: 'rule-silence-row', 'data-silence-for': name },
      h('td', { colspan: String(columns.length) }, form));

    const fields: Record<SilenceField, HTMLElement> = { subject, duration, comment };
    // Marks the field a refusal is about (described by the message too) and says it; the field,
    // or else the message, gets the focus.
    const refuse = (refusal: Pick<SilenceRefusal, 'text' | 'field'>) => {
      for (const [key, control] of Object.entries(fields)) markInvalid(control, problems, key === refusal.field);
      problems.textContent = refusal.text;
      problems.hidden = false;
      (refusal.field !== null ? fields[refusal.field] : problems).focus();
    };
    // An edited field is no longer marked.
    form.addEventListener('input', (event) => {
      (event.target as Element).removeAttribute('aria-invalid');
    });
    cancel.addEventListener('click', () => closeSilence(true));

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      // The end counts from when it is sent.
      const request = silenceAheadRequest({ rule: name, subject: subject.value, durationMs: Number(duration.value),
        comment: comment.value }, Date.now());
      if ('problem' in request) {
        refuse(request.problem);
        return;
      }
      problems.hidden = true;
      submit.disabled = true;
      submit.textContent = 'Silencing…';
      void (async () => {
        try {
          const silence = await api<Silence>('POST', '/api/v1/silences', { body: request.body });
          if (disposed) return;
          if (silenceOpen?.row === row) closeSilence(false);
          say(done, silencedText(silence));
          done.focus();
          alertsChanged();
          return;
        } catch (error) {
          if (disposed || silenceOpen?.row !== row) return;
          submit.disabled = false;
          submit.textContent = 'Silence';
          const refusal = silenceAheadRefusal(error, name, request.body.subject);
          if (refusal.stale) await load();
          if (disposed) return;
          if (silenceOpen?.row !== row) {
            // The rule went with the rules read again: said under the table.
            say(refused, refusal.text);
            refused.focus();
            return;
          }
          refuse(refusal);
        }
      })();
    });

    silenceOpen = { rule: name, row, opener };
    opener.setAttribute('aria-expanded', 'true');
    rowOf(name)?.after(row);
    subject.focus();
  }

  // ---- removing --------------------------------------------------------------------------------

  function confirmRemove(entry: RuleEntry, button: HTMLButtonElement, slot: HTMLElement): void {
    const { name } = entry;
    confirmStep(slot, button, {
      prompt: `Remove rule ${name}? The gateway stops watching it at once and resolves its firing alerts.`,
      confirm: `Remove ${name}`,
      danger: true,
      onConfirm: async () => {
        try {
          await api<void>('DELETE', rulePath(name));
          if (disposed) return;
          if (open?.mode === 'change' && open.name === name) closeForm(false);
          await changed();
          if (disposed) return;
          say(done, `Removed rule ${name}. Its firing alerts, if any, are resolved.`);
          done.focus();
        } catch (error) {
          if (disposed) return;
          const refusal = ruleRefusal('remove', error, { name, maxAdded: list.maxAdded });
          if (refusal.stale) await load();
          if (disposed) return;
          say(refused, refusal.text);
          refused.focus();
        }
      },
    });
  }

  // ---- the form --------------------------------------------------------------------------------

  addButton.addEventListener('click', () => openForm('add', newRuleValues(), addButton, ''));

  function closeForm(focusOpener: boolean): void {
    const was = open;
    open = null;
    replace(formSlot);
    addButton.hidden = !editor || !list.canAdd;
    if (!focusOpener || was === null) return;
    // The row's Change button may have been redrawn since: the one of the same rule, or Add.
    const opener = was.opener.isConnected ? was.opener
      : was.mode === 'change' ? body.querySelector<HTMLButtonElement>(`tr[data-rule="${CSS.escape(was.name)}"] [data-testid=alert-rule-change]`)
        : null;
    (opener ?? addButton).focus();
  }

  // Opens the form (in place of one open already) with `values`, focused on its first field.
  function openForm(mode: FormMode, values: RuleFormValues, opener: HTMLButtonElement, name: string): OpenForm {
    done.hidden = true;
    refused.hidden = true;
    const form = buildForm(mode, values, opener, name);
    open = form;
    replace(formSlot, form.element);
    addButton.hidden = true;
    firstShown(form.element)?.focus();
    return form;
  }

  // A labelled field: its label, the control (or a row of controls) and an optional hint.
  function field(id: string, label: string | HTMLElement, control: HTMLElement, hint?: HTMLElement): HTMLElement {
    return h('div', { class: 'field' }, typeof label === 'string' ? h('label', { for: id }, label) : label, control, hint ?? null);
  }

  function options<T extends string>(choices: readonly { value: T; label: string }[], selected: T): HTMLOptionElement[] {
    return choices.map((choice) => h('option', { value: choice.value, selected: choice.value === selected }, choice.label));
  }

  // One field of a kind (FORM_KINDS): its label, which says its unit ("Level (°C)", "Held for
  // (minutes, optional)"), its control — a select, or a text field with, for a duration or a size,
  // its unit's select beside it — and its hint (with the gateway's default). Labels, hints and
  // placeholders follow the choices made in the form (formFollow).
  function fieldControl(spec: FieldSpec, values: RuleFormValues): FieldControl {
    const id = `rule-form-${spec.id}`;
    const hint = spec.hint !== undefined ? h('p', { class: 'hint', id: `${id}-hint` }) : null;
    const describedBy = hint?.id ?? null;
    const control = spec.choices !== undefined
      ? h('select', { id, 'aria-describedby': describedBy, 'data-testid': id }, ...options(spec.choices, values.fields[spec.id]))
      : h('input', { id, type: 'text', autocomplete: 'off', value: values.fields[spec.id], 'aria-describedby': describedBy,
        inputmode: spec.type === 'whole' || spec.type === 'duration' ? 'numeric' : spec.signed ? null : 'decimal', 'data-testid': id });
    const units = spec.type === 'duration' || spec.type === 'size' ? UNITS[spec.type] : null;
    const unit = units === null ? null
      : h('select', { id: `${id}-unit`, 'aria-label': `Unit of “${spec.label}”`, 'data-testid': `${id}-unit` },
        ...options(units.map((u) => ({ value: u, label: u })), unitChosen(spec, values)));
    const label = h('label', { for: id });
    const element = h('div', { class: 'field' }, label, unit ? h('div', { class: 'amount' }, control, unit) : control, hint);
    return { spec, element, control, unit, label, hint };
  }

  function buildForm(mode: FormMode, values: RuleFormValues, opener: HTMLButtonElement, name: string): OpenForm {
    const adding = mode === 'add';
    const title = h('h3', { id: 'rule-form-title', tabindex: '-1' }, adding ? 'Add a rule' : `Change rule ${name}`);

    const nameInput = h('input', { id: 'rule-form-name', type: 'text', required: true, maxlength: '64', autocomplete: 'off',
      autocapitalize: 'none', spellcheck: 'false', value: values.name, 'aria-describedby': 'rule-form-name-hint',
      'data-testid': 'rule-form-name' });
    const kindSelect = h('select', { id: 'rule-form-kind', 'data-testid': 'rule-form-kind' },
      ...options(FORM_KINDS.map((k) => ({ value: k.kind, label: k.label })), values.kind));

    // Each kind's own fields in a row of their own, shown while the kind is chosen (changing a rule:
    // its kind's only); then "Held for", every kind's.
    const controls = new Map<FieldId, FieldControl>();
    const kindRows = FORM_KINDS.filter((k) => k.fields.length > 0 && (adding || k.kind === values.kind)).map((k) => ({
      kind: k.kind,
      row: h('div', { class: 'form-row', 'data-testid': `rule-form-fields-${k.kind}` }, ...k.fields.map((spec) => {
        const control = fieldControl(spec, values);
        controls.set(spec.id, control);
        return control.element;
      })),
    }));
    const held = fieldControl(HELD, values);
    controls.set(HELD.id, held);

    // The devices watched, for the kinds that watch devices.
    const scopeRadio = (value: Scope, id: string) =>
      h('input', { type: 'radio', name: 'rule-form-scope', id, value, checked: values.scope === value, 'data-testid': id });
    const all = scopeRadio('all', 'rule-form-scope-all');
    const some = scopeRadio('devices', 'rule-form-scope-devices');
    const labelled = scopeRadio('label', 'rule-form-scope-label');
    const devices = h('input', { id: 'rule-form-devices', type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
      value: values.devices, placeholder: 'sensor-01, sensor-02', 'aria-label': 'Device ids',
      'aria-describedby': 'rule-form-devices-hint', 'data-testid': 'rule-form-devices' });
    const label = h('input', { id: 'rule-form-label', type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
      value: values.label, placeholder: 'freezer', 'aria-label': 'Label', 'data-testid': 'rule-form-label' });
    devices.addEventListener('input', () => { some.checked = true; });
    label.addEventListener('input', () => { labelled.checked = true; });
    const scope = h('fieldset', { class: 'field scope', 'data-testid': 'rule-form-scope' }, h('legend', {}, 'Devices'),
      h('label', { for: 'rule-form-scope-all' }, all, ' every device'),
      h('label', { for: 'rule-form-scope-devices' }, some, ' these devices:'), devices,
      h('p', { class: 'hint', id: 'rule-form-devices-hint' }, 'Device ids, separated by commas or spaces.'),
      h('label', { for: 'rule-form-scope-label' }, labelled, ' the devices with the label:'), label);

    const problems = h('div', { class: 'message error', role: 'alert', tabindex: '-1', hidden: true, id: 'rule-form-message',
      'data-testid': 'rule-form-message' });
    const submit = h('button', { type: 'submit', 'data-testid': 'rule-form-submit' }, adding ? 'Add rule' : 'Save changes');
    const cancel = h('button', { type: 'button', class: 'secondary', 'data-testid': 'rule-form-cancel' }, 'Cancel');

    const element = h('form', { class: 'card rule-form', id: 'alert-rule-form', novalidate: true, 'aria-labelledby': 'rule-form-title',
      'data-testid': 'alert-rule-form' },
    title,
    adding
      ? h('div', { class: 'form-row' },
        field('rule-form-name', 'Name', nameInput,
          h('p', { class: 'hint', id: 'rule-form-name-hint' }, "1 to 64 characters: a–z, 0–9, '_' and '-'.")),
        field('rule-form-kind', 'Kind', kindSelect))
      : h('p', { class: 'muted' }, `${article(kindText(values.kind))} rule. Its name and kind stay: for others, remove it and add a new one.`),
    ...kindRows.map((k) => k.row),
    h('div', { class: 'form-row' }, held.element),
    scope,
    problems,
    h('div', { class: 'actions' }, submit, cancel));

    // The controls a problem may be about (changing a rule, only its kind's fields are there).
    const fields: Partial<Record<RuleField, HTMLElement>> = { name: nameInput, kind: kindSelect, devices, label };
    for (const [id, control] of controls) fields[id] = control.control;

    const read = (): RuleFormValues => {
      const typed = newRuleValues();
      for (const [id, control] of controls) {
        typed.fields[id] = control.control.value;
        if (control.unit) typed.units[id] = control.unit.value as Unit;
      }
      return {
        ...typed,
        name: adding ? nameInput.value : name,
        kind: adding ? kindSelect.value as FormKind : values.kind,
        scope: some.checked ? 'devices' : labelled.checked ? 'label' : 'all',
        devices: devices.value,
        label: label.value,
      };
    };

    // The fields of the kind chosen, and the labels, hints and placeholders of the units, quantity
    // and direction chosen.
    const follow = () => {
      const now = read();
      for (const { kind, row } of kindRows) row.hidden = kind !== now.kind;
      scope.hidden = !kindSpec(now.kind).scoped;
      for (const control of controls.values()) formFollow(control, now);
    };
    follow();
    element.addEventListener('change', follow);

    const mark = (control: Element, invalid: boolean) => markInvalid(control, problems, invalid);
    // Marks the fields a problem is about (until they are edited) and says the problems.
    const showProblems = (text: string, list: string[], marked: RuleField[]) => {
      for (const control of Object.values(fields)) if (control) mark(control, false);
      const shown = marked.map((key) => fields[key]).filter((control): control is HTMLElement => control !== undefined);
      for (const control of shown) mark(control, true);
      replace(problems, text, list.length > 0 ? h('ul', {}, ...list.map((problem) => h('li', {}, problem))) : null);
      problems.hidden = false;
      // The first marked field that is shown, to fix it; otherwise the message.
      (shown.find((control) => control.offsetParent !== null) ?? problems).focus();
    };
    // An edited field is no longer marked; once none is, a message about fields no longer applies.
    element.addEventListener('input', (event) => {
      const target = event.target as Element;
      if (target.getAttribute('aria-invalid') !== 'true') return;
      mark(target, false);
      if (!element.querySelector('[aria-invalid="true"]')) problems.hidden = true;
    });

    cancel.addEventListener('click', () => closeForm(true));

    const form: OpenForm = {
      mode, name, element, opener,
      refuse: (refusal) => showProblems(refusal.text, refusal.problems, refusal.fields),
    };

    element.addEventListener('submit', (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      const request = ruleRequest(read());
      if ('problems' in request) {
        showProblems(request.problems.length === 1 ? request.problems[0].text : 'Check these fields first:',
          request.problems.length === 1 ? [] : request.problems.map((p) => p.text), request.problems.map((p) => p.field));
        return;
      }
      problems.hidden = true;
      submit.disabled = true;
      submit.textContent = adding ? 'Adding…' : 'Saving…';
      const ruleName = String(request.body.name);
      const ruleKind = read().kind;
      void (async () => {
        let failure: unknown;
        try {
          const stored = adding
            ? await api<unknown>('POST', '/api/v1/alert-rules', { body: request.body })
            : await api<unknown>('PUT', rulePath(name), { body: request.body });
          if (disposed) return;
          closeForm(false);
          await changed();
          if (disposed) return;
          const sentence = stored !== null && typeof stored === 'object' ? ruleSentence(stored as Record<string, unknown>) : null;
          say(done, `${adding ? 'Added' : 'Changed'} rule ${ruleName}${sentence ? `: ${sentence}` : ''}.`);
          done.focus();
          return;
        } catch (error) {
          failure = error;
        }
        if (disposed || open !== form) return;
        submit.disabled = false;
        submit.textContent = adding ? 'Add rule' : 'Save changes';
        const refusal = ruleRefusal(mode, failure, { name: ruleName, maxAdded: list.maxAdded, kind: ruleKind });
        if (refusal.stale) await load();
        if (disposed || open !== form) return;
        if (!adding && failure instanceof ApiError && failure.code === 'rule_not_found') {
          // Removed meanwhile: the same settings in the form for adding, to add it again.
          openForm('add', read(), addButton, '').refuse(refusal);
          return;
        }
        form.refuse(refusal);
      })();
    });
    return form;
  }

  const stop = poll(load, REFRESH_MS);
  return {
    element,
    dispose() {
      disposed = true;
      stop();
    },
  };
}
