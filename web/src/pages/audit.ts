// The audit log (admins): who did what, when, from where and with what result, newest first, in
// the browser's time zone. The newest entries are read first and older ones on demand
// (audit_model.ts says how, since GET /api/v1/audit reads oldest first); the filter looks through
// the entries read so far. On a phone each entry is a block of labelled lines.

import { api, ApiError } from '../api';
import type { AppContext, Page } from '../app';
import { AUDIT_RESULTS, AuditLog, auditRow, type AuditRow, filterAudit, type ResultFilter } from '../audit_model';
import { h, replace, setText } from '../dom';
import { formatLocalDateTime } from '../format';
import { generalMessage } from '../messages';
import type { AuditPage } from '../types';
import { adminOnlyNotice } from '../widgets';

const COLUMNS = ['When', 'Who', 'From', 'What', 'Target', 'Result', 'Detail'];

const RESULT_CHOICES: [ResultFilter, string][] = [
  ['', 'All results'],
  ['problems', 'Failed or denied'],
  ['ok', 'ok'],
  ['failed', 'failed'],
  ['denied', 'denied'],
];

// Kept across visits, like the fleet's filter.
const view: { filter: string; result: ResultFilter } = { filter: '', result: '' };

function buildRow(row: AuditRow): HTMLTableRowElement {
  return h('tr', { 'data-id': String(row.id), 'data-action': row.action, 'data-result': row.result },
    h('td', { 'data-label': 'When', class: 'when' }, h('time', { datetime: row.at }, row.when)),
    h('td', { 'data-label': 'Who' }, row.who),
    h('td', { 'data-label': 'From' }, row.from),
    h('td', { 'data-label': 'What', title: row.action }, row.what),
    h('td', { 'data-label': 'Target' }, row.target || '–'),
    h('td', { 'data-label': 'Result' },
      h('span', { class: `badge result-${row.resultLevel}`, title: AUDIT_RESULTS[row.result] ?? null }, row.result)),
    h('td', { 'data-label': 'Detail', class: 'detail' }, row.detail || '–'),
  );
}

export function auditPage(context: AppContext): Page {
  let disposed = false;
  let busy = false;
  const log = new AuditLog(async (query) => {
    const parameters = new URLSearchParams(Object.entries(query).map(([name, value]) => [name, String(value)]));
    const answer = await api<AuditPage>('GET', `/api/v1/audit?${parameters}`);
    return Array.isArray(answer?.entries) ? answer.entries : [];
  });
  const models = new Map<number, AuditRow>();
  const elements = new Map<number, HTMLTableRowElement>();
  let rows: AuditRow[] = [];

  const filter = h('input', {
    type: 'search', id: 'audit-filter', value: view.filter, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'User, action, address, detail…',
  });
  const result = h('select', { id: 'audit-result' },
    ...RESULT_CHOICES.map(([value, label]) => h('option', { value, selected: value === view.result }, label)));
  const refresh = h('button', { type: 'button', class: 'secondary', onclick: () => void run(() => log.loadNewer()) }, 'Refresh');
  const count = h('p', { class: 'count', role: 'status', 'data-testid': 'audit-count' }, 'Loading…');
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'audit-message' });
  const tbody = h('tbody', {});
  const table = h('table', { class: 'data stack audit', 'data-testid': 'audit-table', hidden: true },
    h('thead', {}, h('tr', {}, ...COLUMNS.map((title) => h('th', { scope: 'col' }, title)))), tbody);
  const empty = h('p', { class: 'empty', hidden: true, 'data-testid': 'audit-empty' });
  const older = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => void run(() => log.loadOlder()) },
    'Show older entries');
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  replace(context.main,
    h('section', { class: 'page audit-page' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Audit log'), refresh),
      h('p', { class: 'muted' },
        `Every sign-in, refusal and change of users or settings, newest first. Times are in your browser's time zone${zone ? ` (${zone})` : ''}.`),
      h('div', { class: 'filters' },
        h('div', { class: 'field' }, h('label', { for: 'audit-filter' }, 'Filter'), filter),
        h('div', { class: 'field' }, h('label', { for: 'audit-result' }, 'Result'), result),
      ),
      count,
      message,
      h('div', { class: 'table-wrap' }, table),
      empty,
      h('div', { class: 'actions' }, older),
    ));

  filter.addEventListener('input', () => {
    view.filter = filter.value;
    render();
  });
  result.addEventListener('change', () => {
    view.result = result.value as ResultFilter;
    render();
  });

  function render(): void {
    const shown = filterAudit(rows, view.filter, view.result);
    tbody.replaceChildren(...shown.map((row) => {
      let tr = elements.get(row.id);
      if (!tr) {
        tr = buildRow(row);
        elements.set(row.id, tr);
      }
      return tr;
    }));
    const filtered = view.filter.trim() !== '' || view.result !== '';
    const loaded = `${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}`;
    setText(count, filtered
      ? `${shown.length} of the ${loaded} read match.`
      : log.hasOlder ? `The newest ${loaded}; older ones below.` : `${loaded}, the whole log.`);
    table.hidden = shown.length === 0;
    empty.hidden = shown.length > 0;
    setText(empty, rows.length === 0
      ? 'The audit log is empty.'
      : `No entry read so far matches.${log.hasOlder ? ' Show older entries to look further back.' : ''}`);
    older.hidden = !log.hasOlder;
  }

  function forbidden(): void {
    context.refreshSession().catch(() => {}).finally(() => {
      if (!disposed) replace(context.main, adminOnlyNotice(context, 'Audit log'));
    });
  }

  async function run(step: () => Promise<unknown>): Promise<void> {
    if (busy) return;
    busy = true;
    refresh.disabled = true;
    older.disabled = true;
    try {
      await step();
      if (disposed) return;
      // Made an admin since signing in: the header gains the admin links.
      if (context.session?.role !== 'admin') context.refreshSession().catch(() => {});
      rows = log.entries().map((entry) => {
        let row = models.get(entry.id);
        if (!row) {
          row = auditRow(entry);
          models.set(entry.id, row);
        }
        return row;
      });
      message.hidden = true;
      render();
      refresh.title = `Read at ${formatLocalDateTime(Date.now())}`;
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && error.code === 'forbidden') return forbidden();
      message.hidden = false;
      message.textContent = `The audit log could not be read: ${generalMessage(error)}`;
      if (rows.length === 0) setText(count, '');
    } finally {
      busy = false;
      refresh.disabled = false;
      older.disabled = false;
    }
  }

  void run(() => log.loadNewest());
  return {
    dispose() {
      disposed = true;
    },
  };
}
