// The fleet: every device of GET /api/v1/devices in one table, sortable by column, with a text
// filter, kept current by the live events (live.ts): each device's latest reading and status are
// applied to its row as they come. The whole list is fetched again when the feed (re)connects or
// reports a gap, every minute while it is live (devices added or removed), and every few seconds
// while it is not. Each row has a sparkline of the device's temperature over the last 24 hours
// (hourly means of GET /api/v1/fleet/series, fetched with the list but at most once a minute).
// A device whose release check (release_check.ts) is reported and not `current` has a marker
// beside its firmware, its title saying what is wrong and what to do.
//
// Built for 1,000 devices and more:
//   - each device's row is built once and kept (by id); a refresh only rewrites the cells whose
//     text changed;
//   - sorting and filtering work on sort keys computed once per refresh (fleet_model.ts) and only
//     reorder the kept rows;
//   - only the rows near the viewport are in the document (about a screen and a half), between two
//     spacer rows that give the table its full height, so the page scrolls as if every row were
//     there. Laying out 1,000 table rows took 100-250 ms at every sort; a window of them takes a
//     few. The table has a fixed layout, so columns do not change width while scrolling.

import { api } from '../api';
import { type AppContext, deviceHash, type Page } from '../app';
import { h, replace, setText } from '../dom';
import {
  type FleetRow,
  fleetRow,
  type SortKey,
  type SortOrder,
  visibleIds,
  withLiveReading,
  withLiveStatus,
} from '../fleet_model';
import { formatAge, formatHumidity, formatTemperature, summariseCertificate } from '../format';
import { followLive } from '../live';
import { generalMessage } from '../messages';
import { summariseReleaseCheck } from '../release_check';
import { sparklineShape, sparklineSvg } from '../sparkline';
import type { Device, DeviceList, FleetSeries } from '../types';

export const FLEET_REFRESH_MS = 5000; // while the live feed is not connected
export const FLEET_REFRESH_LIVE_MS = 60_000;
// The sparklines' hourly means change slowly: fetched with the list, but not more often than this.
const TREND_REFRESH_MS = 60_000;
const TREND_HOURS = 24;
// Live events arriving together re-sort the table once.
const REORDER_DELAY_MS = 250;
// Rows rendered above and below the visible ones, so a quick scroll does not show the spacer.
const OVERSCAN_ROWS = 20;
// Until a row has been measured.
const DEFAULT_ROW_HEIGHT = 36;

// Kept across visits, so coming back from a device finds the table as it was left.
const view: { filter: string; order: SortOrder } = { filter: '', order: { key: 'id', descending: false } };

interface Column {
  key: SortKey | 'trend'; // the trend (sparkline) column is not sortable
  title: string;
  numeric?: boolean;
}

const COLUMNS: Column[] = [
  { key: 'id', title: 'Device' },
  { key: 'state', title: 'State' },
  { key: 'temperature', title: 'Temperature', numeric: true },
  { key: 'trend', title: `Last ${TREND_HOURS} h` },
  { key: 'humidity', title: 'Humidity', numeric: true },
  { key: 'age', title: 'Last reading' },
  { key: 'firmware', title: 'Firmware' },
  { key: 'certificate', title: 'Certificate' },
  { key: 'labels', title: 'Labels' },
];

interface RowView {
  tr: HTMLTableRowElement;
  link: HTMLAnchorElement;
  state: HTMLSpanElement;
  temperature: HTMLTableCellElement;
  trend: HTMLTableCellElement;
  trendKey: string; // the means the trend cell shows, as JSON: redrawn only when they change
  humidity: HTMLTableCellElement;
  age: HTMLTableCellElement;
  firmware: HTMLSpanElement;
  releaseMark: HTMLSpanElement; // beside the firmware: a release check that is not `current`
  certificate: HTMLSpanElement;
  labels: HTMLTableCellElement;
}

function setClass(element: Element, className: string): void {
  if (element.className !== className) element.className = className;
}

function setTitle(element: HTMLElement, title: string): void {
  if (element.title !== title) element.title = title;
}

function buildRow(id: string): RowView {
  const link = h('a', { href: deviceHash(id) }, id);
  const state = h('span', { class: 'badge' });
  const temperature = h('td', { class: 'num' });
  const trend = h('td', { class: 'trend' }, '–');
  const humidity = h('td', { class: 'num' });
  const age = h('td', {});
  const firmware = h('span', {});
  const releaseMark = h('span', { class: 'release-mark', role: 'img', hidden: true });
  const certificate = h('span', {});
  const labels = h('td', { class: 'labels' });
  const tr = h('tr', { 'data-device': id },
    h('th', { scope: 'row' }, link), h('td', {}, state), temperature, trend, humidity, age,
    h('td', {}, releaseMark, firmware), h('td', {}, certificate), labels);
  return { tr, link, state, temperature, trend, trendKey: '', humidity, age, firmware, releaseMark, certificate, labels };
}

// The marker shows the release check's sentence (title and accessible name) when it warns; empty
// and hidden otherwise, so the cell's text is the firmware alone.
function fillReleaseMark(mark: HTMLSpanElement, code: string | null | undefined): void {
  const summary = summariseReleaseCheck(code);
  const warn = summary.level === 'warn';
  if (mark.hidden === warn) mark.hidden = !warn;
  setText(mark, warn ? '⚠' : '');
  setTitle(mark, warn ? summary.text : '');
  const label = warn ? `Release information: ${summary.text}` : null;
  if (mark.getAttribute('aria-label') !== label) {
    if (label === null) mark.removeAttribute('aria-label');
    else mark.setAttribute('aria-label', label);
  }
}

// Draws the device's hourly means (none: a dash), unless the cell already shows them.
function fillTrend(row: RowView, means: (number | null)[] | undefined): void {
  const key = means ? JSON.stringify(means) : '';
  if (key === row.trendKey) return;
  row.trendKey = key;
  const shape = means ? sparklineShape(means) : null;
  if (!shape) {
    row.trend.replaceChildren('–');
    setTitle(row.trend, '');
    return;
  }
  const label =
    `Temperature, last ${TREND_HOURS} hours (${shape.hours} with readings): ` +
    `${formatTemperature(shape.min)} to ${formatTemperature(shape.max)}, latest ${formatTemperature(shape.last)}`;
  row.trend.replaceChildren(sparklineSvg(shape, label));
  setTitle(row.trend, label);
}

function fillRow(row: RowView, device: Device, nowMs: number): void {
  const reading = device.last_reading ?? null;
  setText(row.state, device.state);
  setClass(row.state, `badge state-${device.state.replace(/\s+/g, '-')}`);
  setText(row.temperature, formatTemperature(reading?.temperature));
  setText(row.humidity, formatHumidity(reading?.humidity));
  setText(row.age, reading ? formatAge(reading.ts_ms, nowMs) : 'never');
  setTitle(row.age, reading ? `${reading.ts} (seq ${reading.seq})` : '');
  setText(row.firmware, device.firmware ?? '–');
  fillReleaseMark(row.releaseMark, device.release_check);
  const certificate = summariseCertificate(device.certificate, nowMs);
  setText(row.certificate, certificate.text);
  setClass(row.certificate, `cert cert-${certificate.level}`);
  setTitle(row.certificate,
    device.certificate?.serial ? `serial ${device.certificate.serial}, expires ${device.certificate.expires}` : '');
  const labels = (device.labels ?? []).join(', ');
  setText(row.labels, labels || '–');
  setTitle(row.labels, labels);
}

export function fleetPage(context: AppContext): Page {
  const rows = new Map<string, RowView>();
  const deviceById = new Map<string, Device>();
  const models = new Map<string, FleetRow>();
  let trends = new Map<string, (number | null)[]>();
  let trendsAt = 0; // when the sparklines were last fetched (Date.now()); 0: never
  let shownIds: string[] = [];
  let loaded = false;
  let updatedAt = 0;
  let failure: string | null = null;
  let timer: number | undefined;
  let ticker: number | undefined;
  let reorder: number | undefined;
  let fetching = false;
  let fetchAgain = false;
  let live = false;
  let disposed = false;

  const filter = h('input', {
    type: 'search', id: 'fleet-filter', placeholder: 'Filter: id, state, firmware, label', value: view.filter,
    autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Filter devices',
  });
  const count = h('span', { class: 'count', 'data-testid': 'fleet-count' });
  const status = h('span', { class: 'status', role: 'status', 'data-testid': 'fleet-status' });
  const headers = new Map<SortKey, HTMLTableCellElement>();
  const headRow = h('tr', {});
  for (const column of COLUMNS) {
    const key = column.key;
    if (key === 'trend') {
      headRow.append(h('th', { scope: 'col', 'data-key': key, class: 'plain' }, column.title));
      continue;
    }
    const button = h('button', { type: 'button', class: 'sort', onclick: () => sortBy(key) }, column.title);
    const th = h('th', { scope: 'col', 'data-key': key, class: column.numeric ? 'num' : null }, button);
    headers.set(key, th);
    headRow.append(th);
  }
  const tbody = h('tbody', {});
  const spacer = () => h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: String(COLUMNS.length) }));
  const topSpacer = spacer();
  const bottomSpacer = spacer();
  const empty = h('p', { class: 'empty', hidden: true, 'data-testid': 'fleet-empty' });
  const thead = h('thead', {}, headRow);
  const table = h('table', { class: 'fleet', 'data-testid': 'fleet-table' },
    h('colgroup', {}, ...COLUMNS.map((column) => h('col', { class: `col-${column.key}` }))), thead, tbody);
  let rowHeight = 0; // measured from the rendered rows; 0 until then
  let windowStart = -1; // shownIds[windowStart, windowEnd) are in the document
  let windowEnd = -1;
  let frame = 0;

  replace(context.main,
    h('section', { class: 'fleet-page' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Fleet'), filter, count, status),
      h('div', { class: 'table-wrap' }, table),
      empty,
    ));

  filter.addEventListener('input', () => {
    view.filter = filter.value;
    applyOrder();
  });

  function sortBy(key: SortKey): void {
    view.order = view.order.key === key ? { key, descending: !view.order.descending } : { key, descending: false };
    applyOrder();
  }

  function renderSortHeaders(): void {
    for (const [key, th] of headers) {
      const sorted = key === view.order.key;
      th.setAttribute('aria-sort', sorted ? (view.order.descending ? 'descending' : 'ascending') : 'none');
    }
  }

  // Renders the rows of shownIds that are in or near the viewport, between the spacers.
  function renderWindow(force: boolean): void {
    const total = shownIds.length;
    const height = rowHeight || DEFAULT_ROW_HEIGHT;
    // Where the body's first row is, relative to the top of the viewport.
    const bodyTop = table.getBoundingClientRect().top + thead.offsetHeight;
    const above = Math.max(0, -bodyTop);
    const start = Math.min(total, Math.max(0, Math.floor(above / height) - OVERSCAN_ROWS));
    const end = Math.min(total, Math.ceil((above + window.innerHeight) / height) + OVERSCAN_ROWS);
    if (!force && start === windowStart && end === windowEnd) return;
    windowStart = start;
    windowEnd = end;
    const visible: HTMLTableRowElement[] = [];
    for (let i = start; i < end; i++) {
      const tr = (rows.get(shownIds[i]) as RowView).tr;
      tr.setAttribute('aria-rowindex', String(i + 2));
      visible.push(tr);
    }
    topSpacer.hidden = start === 0;
    bottomSpacer.hidden = end === total;
    // CSSOM, not a style attribute: allowed by the Content-Security-Policy.
    topSpacer.style.height = `${start * height}px`;
    bottomSpacer.style.height = `${(total - end) * height}px`;
    tbody.replaceChildren(topSpacer, ...visible, bottomSpacer);
    table.setAttribute('aria-rowcount', String(total + 1));
    if (!rowHeight && visible.length >= 2) {
      // The step from one row to the next (borders included); re-render with it.
      rowHeight = (visible[visible.length - 1].offsetTop - visible[0].offsetTop) / (visible.length - 1);
      if (rowHeight > 0 && Math.abs(rowHeight - height) > 0.5) renderWindow(true);
    }
  }

  const onScroll = () => {
    if (frame) return;
    frame = window.requestAnimationFrame(() => {
      frame = 0;
      renderWindow(false);
    });
  };

  // Puts the kept rows in the order of the filter and sort; touches the DOM only if it changed.
  function applyOrder(): void {
    renderSortHeaders();
    const ids = visibleIds([...models.values()], view.filter, view.order);
    const same = ids.length === shownIds.length && ids.every((id, i) => id === shownIds[i]);
    if (!same) {
      shownIds = ids;
      renderWindow(true);
    }
    setText(count, models.size === ids.length ? `${models.size} devices` : `${ids.length} of ${models.size} devices`);
    empty.hidden = !loaded || ids.length > 0;
    setText(empty, models.size === 0
      ? 'No devices yet. Register one with `kelvinctl device add` (docs/registry.md); it shows here when it has a certificate or sends data.'
      : 'No device matches the filter.');
  }

  function update(devices: Device[]): void {
    const now = Date.now();
    const seen = new Set<string>();
    for (const device of devices) {
      if (typeof device?.id !== 'string') continue;
      seen.add(device.id);
      let row = rows.get(device.id);
      if (!row) {
        row = buildRow(device.id);
        rows.set(device.id, row);
      }
      fillRow(row, device, now);
      fillTrend(row, trends.get(device.id));
      deviceById.set(device.id, device);
      models.set(device.id, fleetRow(device));
    }
    for (const id of [...rows.keys()]) {
      if (!seen.has(id)) {
        rows.get(id)?.tr.remove();
        rows.delete(id);
        deviceById.delete(id);
        models.delete(id);
      }
    }
    loaded = true;
    applyOrder();
  }

  // A live event about a device the table shows; one it does not show yet is fetched with the list.
  function applyLive(id: string, change: (device: Device) => Device): void {
    const device = deviceById.get(id);
    const row = rows.get(id);
    if (!device || !row) {
      void refresh();
      return;
    }
    const changed = change(device);
    deviceById.set(id, changed);
    fillRow(row, changed, Date.now());
    models.set(id, fleetRow(changed));
    if (reorder === undefined) {
      reorder = window.setTimeout(() => {
        reorder = undefined;
        applyOrder();
      }, REORDER_DELAY_MS);
    }
  }

  function renderStatus(): void {
    const age = updatedAt ? formatAge(updatedAt, Date.now()) : '';
    const text = failure
      ? `Refresh failed: ${failure}`
      : live
        ? 'Live'
        : updatedAt
          ? `Updated ${age}`
          : 'Loading…';
    setText(status, text);
    setClass(status, failure ? 'status error' : 'status');
  }

  // The sparklines, when they are older than TREND_REFRESH_MS. They are secondary: a failure
  // leaves the ones shown and is tried again with the next refresh of the list.
  async function refreshTrends(): Promise<void> {
    if (Date.now() - trendsAt < TREND_REFRESH_MS) return;
    trendsAt = Date.now();
    try {
      const answer = await api<FleetSeries>('GET', `/api/v1/fleet/series?quantity=temperature&hours=${TREND_HOURS}`);
      if (disposed || !Array.isArray(answer?.devices)) return;
      trends = new Map(answer.devices.map((device) => [device.id, device.mean]));
      for (const [id, row] of rows) fillTrend(row, trends.get(id));
    } catch {
      trendsAt = 0;
    }
  }

  // One list request at a time: asked for while one is on its way, it runs once more after it.
  async function refresh(): Promise<void> {
    if (fetching) {
      fetchAgain = true;
      return;
    }
    fetching = true;
    window.clearTimeout(timer);
    void refreshTrends();
    try {
      const answer = await api<DeviceList>('GET', '/api/v1/devices');
      if (disposed) return;
      update(Array.isArray(answer?.devices) ? answer.devices : []);
      updatedAt = Date.now();
      failure = null;
    } catch (error) {
      if (disposed) return;
      failure = generalMessage(error);
    } finally {
      fetching = false;
    }
    renderStatus();
    if (fetchAgain) {
      fetchAgain = false;
      void refresh();
    } else if (!document.hidden) {
      timer = window.setTimeout(() => void refresh(), live ? FLEET_REFRESH_LIVE_MS : FLEET_REFRESH_MS);
    }
  }

  const onVisibility = () => {
    if (!document.hidden) void refresh();
  };
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('resize', onScroll, { passive: true });
  ticker = window.setInterval(renderStatus, 1000);
  renderSortHeaders();
  renderStatus();
  void refresh();
  // Its `ready` fetches the list again: what changed between that fetch and the stream is not lost.
  const feed = followLive(null, {
    reading: (reading) => applyLive(reading.device, (device) => withLiveReading(device, reading)),
    status: (status) => applyLive(status.device, (device) => withLiveStatus(device, status)),
    resync: () => void refresh(),
    connection: (connected) => {
      live = connected;
      renderStatus();
    },
  });

  return {
    dispose() {
      disposed = true;
      feed.close();
      window.clearTimeout(timer);
      window.clearTimeout(reorder);
      window.clearInterval(ticker);
      document.removeEventListener('visibilitychange', onVisibility);
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
      window.cancelAnimationFrame(frame);
    },
  };
}
