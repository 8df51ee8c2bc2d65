// The gateway's health (any signed-in user): GET /api/v1/gateway/status in sections — the broker,
// the ingest, latency, rejections by reason, the InfluxDB export, the HTTPS server — each value
// flagged when it needs attention (gateway_model.ts), fetched again every few seconds (not while
// the tab is hidden) and updated in place.

import { api, ApiError } from '../api';
import type { AppContext, Page } from '../app';
import { h, replace, setText } from '../dom';
import { attention, gatewaySections, type Section, statusTaken } from '../gateway_model';
import { generalMessage } from '../messages';
import type { GatewayStatus } from '../types';

export const GATEWAY_REFRESH_MS = 5000;

interface StatView {
  value: HTMLElement;
  note: HTMLElement;
  dd: HTMLElement;
}

export function gatewayPage(context: AppContext): Page {
  let disposed = false;
  let timer: number | undefined;
  let previous: GatewayStatus | null = null;
  let layout = ''; // the sections and keys on screen: rebuilt only when they change
  const stats = new Map<string, StatView>();
  const notes = new Map<string, HTMLElement>();

  const taken = h('p', { class: 'status', 'data-testid': 'gateway-taken' }, 'Loading…');
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'gateway-message' });
  const summary = h('p', { class: 'message', hidden: true, 'data-testid': 'gateway-summary' });
  const grid = h('div', { class: 'stat-grid', 'data-testid': 'gateway-stats' });

  replace(context.main,
    h('section', { class: 'page gateway-page' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Gateway'), taken),
      message,
      summary,
      grid,
    ));

  function build(sections: Section[]): void {
    stats.clear();
    notes.clear();
    replace(grid, ...sections.map((section) => {
      const note = h('p', { class: 'muted' });
      notes.set(section.id, note);
      const list = h('dl', { class: 'stats' });
      for (const stat of section.stats) {
        const value = h('span', { class: 'value' });
        const statNote = h('span', { class: 'note' });
        const dd = h('dd', { 'data-stat': stat.key }, value, statNote);
        stats.set(stat.key, { value, note: statNote, dd });
        list.append(h('div', { class: 'stat' }, h('dt', {}, stat.label), dd));
      }
      return h('section', { class: 'card stat-section', 'data-section': section.id, 'aria-labelledby': `stats-${section.id}` },
        h('h2', { id: `stats-${section.id}` }, section.title), list, note);
    }));
  }

  function show(status: GatewayStatus): void {
    const sections = gatewaySections(status, previous);
    const shape = sections.map((section) => `${section.id}:${section.stats.map((stat) => stat.key).join(',')}`).join('|');
    if (shape !== layout) {
      build(sections);
      layout = shape;
    }
    for (const section of sections) {
      const note = notes.get(section.id) as HTMLElement;
      setText(note, section.note ?? '');
      note.hidden = !section.note;
      for (const stat of section.stats) {
        const view = stats.get(stat.key) as StatView;
        setText(view.value, stat.value);
        setText(view.note, stat.note ?? '');
        view.note.hidden = !stat.note;
        const className = stat.level ? `level-${stat.level}` : '';
        if (view.dd.className !== className) view.dd.className = className;
      }
    }
    const worst = attention(sections);
    summary.hidden = false;
    setText(summary, worst.level === 'ok'
      ? 'Nothing needs attention.'
      : `${worst.level === 'bad' ? 'Needs attention' : 'Worth a look'}: ${worst.items.join('; ')}.`);
    const summaryClass = `message ${worst.level === 'ok' ? 'success' : worst.level === 'bad' ? 'error' : 'attention'}`;
    if (summary.className !== summaryClass) summary.className = summaryClass;
    const when = statusTaken(status, Date.now());
    setText(taken, when.text);
    taken.className = when.stale ? 'status error' : 'status';
  }

  async function refresh(): Promise<void> {
    window.clearTimeout(timer);
    try {
      const status = await api<GatewayStatus>('GET', '/api/v1/gateway/status');
      if (disposed) return;
      if (typeof status?.time_ms !== 'number') throw new ApiError(200, 'malformed_answer', 'no time_ms');
      show(status);
      previous = status;
      message.hidden = true;
    } catch (error) {
      if (disposed) return;
      message.hidden = false;
      message.textContent = error instanceof ApiError && error.code === 'unavailable'
        ? 'The gateway has no statistics yet: it has only just started. Trying again…'
        : `The statistics could not be read: ${generalMessage(error)}`;
      if (!previous) setText(taken, '');
    }
    if (!disposed && !document.hidden) timer = window.setTimeout(() => void refresh(), GATEWAY_REFRESH_MS);
  }

  const onVisibility = () => {
    if (!document.hidden) void refresh();
  };
  document.addEventListener('visibilitychange', onVisibility);
  void refresh();

  return {
    dispose() {
      disposed = true;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
