// The alerts page's Silences section (docs/dashboard.md, "Alerts"): the silences lasting now
// (GET /api/v1/silences) — rule, subject, until when, by whom, why — whether set on a firing alert
// or ahead of one from the Rules section. Every signed-in user reads them; operators and admins lift
// one ("Lift", DELETE /api/v1/silences/{id}). Read with the alerts (every 5 s while the tab is
// shown) and after each silence or lift made on the page; rows are kept and changed in place (only
// when their silence changed), so a focused Lift button stays. The model is src/silence_model.ts.

import { api } from '../api';
import type { AppContext } from '../app';
import { liftedText, liftMessage, mayAct } from '../alerts_model';
import { h, setText } from '../dom';
import { generalMessage } from '../messages';
import { parseSilences, silenceListRow, type SilenceListRow } from '../silence_model';
import type { Silence } from '../types';

export interface SilencesSection {
  element: HTMLElement;
  // Reads the silences and shows them; never throws (a failure is said in the section).
  refresh(): Promise<void>;
  dispose(): void;
}

const COLUMNS = ['Rule', 'Subject', 'Until', 'By', 'Comment'];

interface RowEntry {
  tr: HTMLTableRowElement;
  signature: string;
}

// `lifted` is told after a silence was lifted here (the alerts it covered notify again).
export function silencesSection(context: AppContext, lifted: () => void): SilencesSection {
  const role = context.session?.role;
  const editor = mayAct(role);
  let disposed = false;
  // Each reading's number: only the latest one started is shown (a reading begun before a lift
  // would bring the lifted silence back).
  let readings = 0;

  const status = h('p', { class: 'status', 'data-testid': 'silences-status' }, 'Loading…');
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'silences-message' });
  const empty = h('p', { class: 'empty', hidden: true, 'data-testid': 'silences-empty' }, 'No silences.');
  const body = h('tbody');
  const columns = editor ? [...COLUMNS, 'Manage'] : COLUMNS;
  const table = h('table', { class: 'data stack alerts silences', 'data-testid': 'silences' },
    h('caption', { class: 'visually-hidden' }, 'Silences lasting now'),
    h('thead', {}, h('tr', {}, ...columns.map((title) => h('th', { scope: 'col' }, title)))),
    body);
  const wrap = h('div', { class: 'table-wrap', hidden: true }, table);
  // What became of a lift: done (a status) or refused (an alert); focused, since its row goes.
  const done = h('p', { class: 'message success', role: 'status', tabindex: '-1', hidden: true, 'data-testid': 'silences-done' });
  const refused = h('p', { class: 'message error', role: 'alert', tabindex: '-1', hidden: true, 'data-testid': 'silences-refused' });

  const element = h('section', { 'aria-labelledby': 'silences-heading', 'data-testid': 'silences-section' },
    h('h2', { id: 'silences-heading' }, 'Silences'),
    h('p', { class: 'muted' },
      'Notifications held back, by rule and subject, until a time: the alerts still fire and are listed.',
      editor ? ' Silence a firing alert above, or a rule on a subject ahead of an alert in its row under Rules.' : ''),
    status, message, empty, wrap, done, refused);

  const rows = new Map<number, RowEntry>();

  function buildRow(row: SilenceListRow, silence: Silence): HTMLTableRowElement {
    return h('tr', { 'data-silence': String(row.id), 'data-rule': row.rule, 'data-subject': row.subject },
      h('td', { 'data-label': 'Rule', class: 'nowrap' }, h('span', { class: 'rule' }, row.rule)),
      h('td', { 'data-label': 'Subject', class: 'nowrap' }, row.subject),
      h('td', { 'data-label': 'Until', class: 'when' }, h('time', { datetime: row.untilIso }, row.until)),
      h('td', { 'data-label': 'By' }, row.by || '–'),
      h('td', { 'data-label': 'Comment', class: 'detail' }, row.comment || h('span', { class: 'muted' }, '–')),
      row.canLift ? h('td', { 'data-label': 'Manage', class: 'manage-cell' }, liftButton(row, silence)) : null);
  }

  function liftButton(row: SilenceListRow, silence: Silence): HTMLButtonElement {
    const button = h('button', { type: 'button', class: 'secondary', 'data-testid': 'silence-lift',
      'aria-label': `Lift the silence on ${row.name}` }, 'Lift');
    button.addEventListener('click', () => void lift(button, silence));
    return button;
  }

  // Brings the table to `silences`, rebuilding only the rows whose silence changed, keeping the focus.
  function show(silences: Silence[]): void {
    const active = document.activeElement;
    const wanted = silences.map((silence) => {
      const signature = JSON.stringify(silence);
      let entry = rows.get(silence.id);
      if (!entry || entry.signature !== signature) {
        entry = { tr: buildRow(silenceListRow(silence, role), silence), signature };
        rows.set(silence.id, entry);
      }
      return entry.tr;
    });
    const keep = new Set(silences.map((s) => s.id));
    for (const id of [...rows.keys()]) if (!keep.has(id)) rows.delete(id);
    const shown = [...body.children];
    if (shown.length !== wanted.length || shown.some((tr, i) => tr !== wanted[i])) {
      body.replaceChildren(...wanted);
      if (active instanceof HTMLElement && active.isConnected && document.activeElement !== active) active.focus();
    }
    wrap.hidden = silences.length === 0;
    empty.hidden = silences.length > 0;
  }

  async function refresh(): Promise<void> {
    const reading = ++readings;
    try {
      const silences = parseSilences(await api<unknown>('GET', '/api/v1/silences'));
      if (disposed || reading !== readings) return;
      message.hidden = true;
      show(silences);
    } catch (error) {
      if (disposed || reading !== readings) return;
      setText(message, `The silences could not be read: ${generalMessage(error)}`);
      message.hidden = false;
    } finally {
      if (reading === readings) status.remove();
    }
  }

  async function lift(button: HTMLButtonElement, silence: Silence): Promise<void> {
    done.hidden = true;
    refused.hidden = true;
    button.disabled = true;
    button.textContent = 'Lifting…';
    let said: HTMLElement;
    try {
      await api<void>('DELETE', `/api/v1/silences/${silence.id}`);
      done.textContent = liftedText(silence);
      said = done;
    } catch (error) {
      // Over already (404) or refused: said; the list as the gateway has it now.
      refused.textContent = liftMessage(error, silence);
      said = refused;
    }
    if (disposed) return;
    said.hidden = false;
    await refresh();
    if (disposed) return;
    // The focus on what happened once the row (and its button) went.
    if (button.isConnected) {
      button.disabled = false;
      button.textContent = 'Lift';
    } else {
      said.focus();
    }
    lifted();
  }

  return {
    element,
    refresh,
    dispose() {
      disposed = true;
    },
  };
}
