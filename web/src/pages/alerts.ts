// The gateway's alerts (docs/dashboard.md, "Alerts"; docs/alerts.md): the firing ones first (the
// unacknowledged before the acknowledged, newest first), then the history of resolved ones, newest
// first, 50 at a time with "Show older alerts". Every signed-in user reads them and sees which firing
// ones are silenced (their notifications held back) until when and by whom; operators and admins
// acknowledge an alert not acknowledged yet, silence a firing one for a chosen time and lift a
// silence. Read again every 5 s while the tab is shown; rows are kept and changed in place (only
// when their alert changed), so a focused button stays. The header's badge is told the firing
// alerts at each reading and after each action. Then the Silences section (pages/silences.ts): the
// silences lasting now (GET /api/v1/silences), read with the alerts and after each silence or lift
// made on the page. Below, the Rules section (pages/alert_rules.ts): the rules the gateway watches,
// each in a sentence (GET /api/v1/alert-rules), read when the page opens and again after an
// operator adds, changes or removes one there (the alerts too then: removing a rule resolves its
// alerts), where operators also silence a rule on a subject ahead of an alert (the alerts and
// silences are read again then).

import { api } from '../api';
import { type AppContext, deviceHash, type Page } from '../app';
import {
  acknowledgeMessage, AlertBoard, alertName, alertRow, type AlertRow, firingCountText, liftedText, liftMessage,
  refusalIsStale, SILENCE_COMMENT_MAX, SILENCE_DURATIONS, silencedText, silenceMessage, silenceRequest, type SilenceRequest,
} from '../alerts_model';
import { append, h, replace, setText } from '../dom';
import { formatLocalDateTime } from '../format';
import { generalMessage } from '../messages';
import { poll } from '../poll';
import type { Alert, AlertsAnswer, Silence } from '../types';
import { alertRulesSection } from './alert_rules';
import { silencesSection } from './silences';

const REFRESH_MS = 5000;

const FIRING_COLUMNS = ['Alert', 'Subject', 'Summary', 'Since', 'Firing for', 'Acknowledged', 'Silence'];
const HISTORY_COLUMNS = ['Alert', 'Subject', 'Summary', 'Resolution', 'Started', 'Ended', 'Lasted', 'Acknowledged'];

interface RowEntry {
  tr: HTMLTableRowElement;
  signature: string; // the alert as it was drawn: redrawn only when it changes
  duration: HTMLElement; // "for 12 min": changes with the clock
}

function table(name: string, caption: string, columns: string[]): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h('tbody');
  return {
    body,
    table: h('table', { class: `data stack alerts ${name}`, 'data-testid': name },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...columns.map((title) => h('th', { scope: 'col' }, title)))),
      body),
  };
}

export function alertsPage(context: AppContext): Page {
  const role = context.session?.role;
  let disposed = false;
  let loaded = false;
  const board = new AlertBoard(async (query) => {
    const parameters = new URLSearchParams({ state: query.state, limit: String(query.limit) });
    if (query.before !== undefined) parameters.set('before', String(query.before));
    return api<AlertsAnswer>('GET', `/api/v1/alerts?${parameters}`);
  });

  const status = h('p', { class: 'status', 'data-testid': 'alerts-status' }, 'Loading…');
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'alerts-message' });
  // What became of an action on an alert: done (a status) or refused (an alert); focused when the
  // button that asked is gone.
  const done = h('p', { class: 'message success', role: 'status', tabindex: '-1', hidden: true, 'data-testid': 'alerts-done' });
  const refused = h('p', { class: 'message error', role: 'alert', tabindex: '-1', hidden: true, 'data-testid': 'alerts-refused' });
  const firingCount = h('span', { class: 'muted heading-count', 'data-testid': 'alerts-firing-count' });
  const firingEmpty = h('p', { class: 'empty', hidden: true, 'data-testid': 'alerts-firing-empty' }, 'Nothing is firing.');
  const firingMore = h('p', { class: 'message attention', hidden: true },
    'More than 1,000 alerts are firing: the newest 1,000 are shown.');
  const firing = table('alerts-firing', 'Firing alerts', FIRING_COLUMNS);
  const historyCount = h('p', { class: 'count', 'data-testid': 'alerts-history-count' });
  const historyEmpty = h('p', { class: 'empty', hidden: true, 'data-testid': 'alerts-history-empty' }, 'No alert has resolved yet.');
  const history = table('alerts-history', 'Resolved alerts', HISTORY_COLUMNS);
  const older = h('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'alerts-older' }, 'Show older alerts');
  const firingWrap = h('div', { class: 'table-wrap', hidden: true }, firing.table);
  const historyWrap = h('div', { class: 'table-wrap', hidden: true }, history.table);
  // The alerts (and silences) are read again after a change of the rules or a silence set there,
  // or a silence lifted in the list (declared below; it runs later).
  const silences = silencesSection(context, () => void load());
  const rules = alertRulesSection(context, () => void load());
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  replace(context.main,
    h('section', { class: 'page alerts-page' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Alerts'), status),
      h('p', { class: 'muted' },
        `What the gateway raised about the devices, certificates and itself. Times are in your browser's time zone${zone ? ` (${zone})` : ''}.`),
      message, done, refused,
      h('h2', {}, 'Firing ', firingCount),
      firingMore, firingEmpty, firingWrap,
      h('h2', {}, 'History'),
      historyCount, historyEmpty, historyWrap,
      h('div', { class: 'actions' }, older),
      silences.element,
      rules.element));

  const firingRows = new Map<number, RowEntry>();
  const historyRows = new Map<number, RowEntry>();

  // One change at a time: a reading, older alerts or an action on an alert.
  let queue: Promise<void> = Promise.resolve();
  const run = (step: () => Promise<void>): Promise<void> => {
    queue = queue.then(() => (disposed ? undefined : step()));
    return queue;
  };

  function ackCell(row: AlertRow, alert: Alert): HTMLTableCellElement {
    const cell = h('td', { 'data-label': 'Acknowledged', class: 'ack' });
    if (row.acknowledgedBy !== null) {
      cell.append(h('span', { 'data-testid': 'alert-acknowledged' }, 'by ', h('strong', {}, row.acknowledgedBy), ', ',
        h('time', { datetime: row.acknowledgedIso }, row.acknowledgedAt)));
    } else if (row.canAcknowledge) {
      const button = h('button', { type: 'button', class: 'secondary', 'data-testid': 'alert-acknowledge',
        'aria-label': `Acknowledge ${alertName(alert)}` }, 'Acknowledge');
      button.addEventListener('click', () => void run(() => act(button, 'Acknowledging…', acknowledging(alert))));
      cell.append(button);
    } else {
      cell.append(h('span', { class: 'muted' }, 'not yet'));
    }
    return cell;
  }

  // A firing alert's silence: until when and by whom (with its comment) and, for operators and
  // admins, "Lift silence"; not silenced, their Silence control (a duration and an optional comment).
  function silenceCell(row: AlertRow, alert: Alert): HTMLTableCellElement {
    const cell = h('td', { 'data-label': 'Silence', class: 'silence' });
    const name = alertName(alert);
    if (row.silence !== null) {
      const { silence } = row;
      append(cell, [h('span', { 'data-testid': 'alert-silenced' }, 'Silenced until ',
        h('time', { datetime: silence.untilIso }, silence.until), ' by ', h('strong', {}, silence.by)),
      silence.comment && h('span', { class: 'comment', 'data-testid': 'alert-silence-comment' }, silence.comment)]);
      if (row.canLift) {
        const button = h('button', { type: 'button', class: 'secondary', 'data-testid': 'alert-lift',
          'aria-label': `Lift silence on ${name}` }, 'Lift silence');
        button.addEventListener('click', () => void run(() => act(button, 'Lifting…', lifting(alert, silence.id))));
        cell.append(button);
      }
    } else if (row.canSilence) {
      cell.append(silenceForm(alert));
    } else {
      cell.append(h('span', { class: 'muted' }, 'not silenced'));
    }
    return cell;
  }

  // The Silence control: submitted by its button or Enter, it silences for the duration chosen from
  // now. Its fields are labelled for screen readers by the alert's name (the row shows which).
  function silenceForm(alert: Alert): HTMLFormElement {
    const name = alertName(alert);
    const durationId = `alert-${alert.id}-silence-duration`;
    const commentId = `alert-${alert.id}-silence-comment`;
    const duration = h('select', { id: durationId, 'data-testid': 'alert-silence-duration' },
      ...SILENCE_DURATIONS.map((d) => h('option', { value: String(d.ms) }, d.label)));
    const comment = h('input', { id: commentId, type: 'text', maxlength: SILENCE_COMMENT_MAX, placeholder: 'Comment (optional)',
      autocomplete: 'off', 'data-testid': 'alert-silence-comment-input' });
    const button = h('button', { type: 'submit', class: 'secondary', 'data-testid': 'alert-silence',
      'aria-label': `Silence ${name}` }, 'Silence');
    const form = h('form', { class: 'silence-form' },
      h('label', { for: durationId, class: 'visually-hidden' }, `Silence ${name} for`), duration,
      h('label', { for: commentId, class: 'visually-hidden' }, `Comment on silencing ${name} (optional)`), comment,
      button);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      // The end counts from when the action runs, not from when the row was drawn.
      const request = () => silenceRequest(Date.now(), Number(duration.value), comment.value);
      void run(() => act(button, 'Silencing…', silencing(alert, request)));
    });
    return form;
  }

  function common(row: AlertRow): HTMLTableCellElement[] {
    return [
      h('td', { 'data-label': 'Alert', class: 'nowrap' }, h('span', { class: 'rule' }, row.rule),
        // A rule named after its kind (the default rules) is not said twice.
        row.rule !== row.kindName ? h('span', { class: 'muted small' }, ` ${row.kind}`) : null),
      h('td', { 'data-label': 'Subject', class: 'nowrap' },
        row.device !== null ? h('a', { href: deviceHash(row.device) }, row.device) : row.subject),
      h('td', { 'data-label': 'Summary', class: 'detail' }, row.summary || '–'),
    ];
  }

  function buildFiring(row: AlertRow, alert: Alert): RowEntry {
    const duration = h('td', { 'data-label': 'Firing for', class: 'when' }, row.duration);
    const tr = h('tr', { 'data-alert': String(row.id), 'data-rule': row.rule, 'data-subject': row.subject,
      'data-acknowledged': row.acknowledgedBy !== null ? 'true' : 'false', 'data-silenced': row.silence !== null ? 'true' : 'false' },
    ...common(row),
    h('td', { 'data-label': 'Since', class: 'when' }, h('time', { datetime: row.startedIso }, row.started)),
    duration,
    ackCell(row, alert),
    silenceCell(row, alert));
    return { tr, duration, signature: '' };
  }

  function buildResolved(row: AlertRow, alert: Alert): RowEntry {
    const duration = h('td', { 'data-label': 'Lasted', class: 'when' }, row.duration);
    const tr = h('tr', { 'data-alert': String(row.id), 'data-rule': row.rule, 'data-subject': row.subject,
      'data-acknowledged': row.acknowledgedBy !== null ? 'true' : 'false' },
    ...common(row),
    h('td', { 'data-label': 'Resolution', class: 'detail' }, row.resolution || '–'),
    h('td', { 'data-label': 'Started', class: 'when' }, h('time', { datetime: row.startedIso }, row.started)),
    h('td', { 'data-label': 'Ended', class: 'when' }, h('time', { datetime: row.endedIso }, row.ended)),
    duration,
    ackCell(row, alert));
    return { tr, duration, signature: '' };
  }

  // Brings `body` to `alerts`, rebuilding only the rows whose alert changed, keeping the focus.
  function sync(body: HTMLTableSectionElement, rows: Map<number, RowEntry>, alerts: Alert[],
    build: (row: AlertRow, alert: Alert) => RowEntry): void {
    const now = Date.now();
    const active = document.activeElement;
    const wanted = alerts.map((alert) => {
      const row = alertRow(alert, now, role);
      const signature = `${JSON.stringify(alert)}|${row.canAcknowledge}`;
      let entry = rows.get(alert.id);
      if (!entry || entry.signature !== signature) {
        const built = build(row, alert);
        built.signature = signature;
        if (entry?.tr.parentNode === body) body.replaceChild(built.tr, entry.tr);
        entry = built;
        rows.set(alert.id, entry);
      }
      setText(entry.duration, row.duration);
      return entry.tr;
    });
    const keep = new Set(alerts.map((a) => a.id));
    for (const id of [...rows.keys()]) if (!keep.has(id)) rows.delete(id);
    const shown = [...body.children];
    if (shown.length !== wanted.length || shown.some((tr, i) => tr !== wanted[i])) {
      body.replaceChildren(...wanted);
      if (active instanceof HTMLElement && active.isConnected && document.activeElement !== active) active.focus();
    }
  }

  function render(): void {
    const firingAlerts = board.firing();
    const resolved = board.resolved();
    sync(firing.body, firingRows, firingAlerts, buildFiring);
    sync(history.body, historyRows, resolved, buildResolved);
    const summary = board.summary();
    setText(firingCount, firingCountText(summary));
    firingWrap.hidden = firingAlerts.length === 0;
    firingEmpty.hidden = firingAlerts.length > 0;
    firingMore.hidden = !board.moreFiring;
    historyWrap.hidden = resolved.length === 0;
    historyEmpty.hidden = resolved.length > 0;
    const n = resolved.length;
    setText(historyCount, n === 0 ? '' : board.hasOlder
      ? `The newest ${n} resolved alert${n === 1 ? '' : 's'}; older ones below.`
      : `${n} resolved alert${n === 1 ? '' : 's'}: every one the gateway keeps.`);
    older.hidden = !board.hasOlder;
  }

  function failed(what: string, error: unknown): void {
    message.textContent = `${what}: ${generalMessage(error)}`;
    message.hidden = false;
    if (!loaded) setText(status, '');
  }

  const load = () => run(async () => {
    // The silences beside the alerts (their own failure said in their section).
    const silencesRead = silences.refresh();
    try {
      await board.refresh();
      if (disposed) return;
      loaded = true;
      message.hidden = true;
      render();
      context.showFiringAlerts(board.summary());
      setText(status, `Updated ${formatLocalDateTime(Date.now())}`);
    } catch (error) {
      if (!disposed) failed('The alerts could not be read', error);
    }
    await silencesRead;
  });

  older.addEventListener('click', () => void run(async () => {
    older.disabled = true;
    try {
      await board.loadOlder();
      if (disposed) return;
      message.hidden = true;
      render();
    } catch (error) {
      if (!disposed) failed('The older alerts could not be read', error);
    } finally {
      older.disabled = false;
    }
  }));

  // An action on an alert from its row: what it asks of the gateway and the sentence it says when
  // done, and the sentence for a refusal (given the alert as read again when the refusal says the
  // page was out of date).
  interface Action {
    alertId: number;
    perform(): Promise<string>;
    refusal(error: unknown, current: Alert | null): string;
  }

  function acknowledging(alert: Alert): Action {
    return {
      alertId: alert.id,
      async perform() {
        board.update(await api<Alert>('POST', `/api/v1/alerts/${alert.id}/acknowledge`));
        return `Acknowledged ${alertName(alert)}.`;
      },
      refusal: (error, current) => acknowledgeMessage(error, alert, current),
    };
  }

  // `request` is called when the action runs: the silence's end counts from then.
  function silencing(alert: Alert, request: () => SilenceRequest): Action {
    return {
      alertId: alert.id,
      async perform() {
        const silence = await api<Silence>('POST', `/api/v1/alerts/${alert.id}/silence`, { body: request() });
        board.silence(silence);
        return silencedText(silence);
      },
      refusal: (error) => silenceMessage(error, alert),
    };
  }

  function lifting(alert: Alert, silenceId: number): Action {
    return {
      alertId: alert.id,
      async perform() {
        await api<void>('DELETE', `/api/v1/silences/${silenceId}`);
        board.lift(silenceId);
        return liftedText(alert);
      },
      refusal: (error) => liftMessage(error, alert),
    };
  }

  // Runs `action` from `button` (saying `busy` on it meanwhile), says what became of it, redraws
  // the tables and tells the badge. The focus goes to the sentence when the button went with its
  // row's redraw.
  async function act(button: HTMLButtonElement, busy: string, action: Action): Promise<void> {
    done.hidden = true;
    refused.hidden = true;
    const idle = button.textContent ?? '';
    button.disabled = true;
    button.textContent = busy;
    let said: HTMLElement;
    try {
      done.textContent = await action.perform();
      said = done;
    } catch (error) {
      let current: Alert | null = null;
      if (refusalIsStale(error)) {
        // What the gateway has now: who was first, or that it is gone.
        try {
          await board.refresh();
          current = board.find(action.alertId);
        } catch {
          // Said without it.
        }
      }
      refused.textContent = action.refusal(error, current);
      said = refused;
    }
    if (disposed) return;
    said.hidden = false;
    render();
    context.showFiringAlerts(board.summary());
    // A silence set or lifted (or found over): the list follows.
    void silences.refresh();
    if (button.isConnected) {
      button.disabled = false;
      button.textContent = idle;
    } else {
      said.focus();
    }
  }

  const stop = poll(load, REFRESH_MS);
  return {
    dispose() {
      disposed = true;
      rules.dispose();
      silences.dispose();
      stop();
    },
  };
}
