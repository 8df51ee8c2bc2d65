// One device: its facts (GET /api/v1/devices/{id}; its release check in words: release_check.ts), its temperature and humidity over 1 h to a year
// (GET /api/v1/devices/{id}/series), a live tail of its newest readings (live.ts), and for
// operators revoking or removing it (device_actions.ts). A live
// reading adds to the tail at once and has the facts and charts fetched again shortly after (the
// store computes the buckets); without live events, they are fetched every few seconds.

import { api } from '../api';
import { type AppContext, deviceHash, type Page } from '../app';
import { TimeChart } from '../chart';
import { h, replace } from '../dom';
import {
  formatAge,
  formatCount,
  formatHumidity,
  formatLocalTime,
  formatTemperature,
  summariseCertificate,
} from '../format';
import { followLive } from '../live';
import { generalMessage } from '../messages';
import { summariseReleaseCheck } from '../release_check';
import type { Device, LiveReading, Quantity, Series } from '../types';
import { deviceActions } from './device_actions';

export const DEVICE_REFRESH_MS = 10_000; // while the live feed is not connected
export const DEVICE_REFRESH_LIVE_MS = 60_000;
// After a live reading, the facts and charts are fetched again this much later (readings arriving
// together cause one fetch); longer for the long ranges, whose buckets a reading barely moves.
const LIVE_RELOAD_MS: Record<string, number> = { '1h': 2_000, '24h': 5_000 };
const LIVE_RELOAD_LONG_MS = 30_000;
export const TAIL_LENGTH = 10;

// Each range asks for 60 to about 1,100 buckets: enough detail, small answers.
export const RANGES: Record<string, { label: string; from: string; step: string }> = {
  '1h': { label: '1 h', from: '-1h', step: '1m' },
  '24h': { label: '24 h', from: '-24h', step: '15m' },
  '7d': { label: '7 d', from: '-7d', step: '1h' },
  '30d': { label: '30 d', from: '-30d', step: '6h' },
  '1y': { label: '1 y', from: '-365d', step: '8h' },
};
const DEFAULT_RANGE = '24h';

function fact(term: string, ...values: (Node | string)[]): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, ...values)];
}

export function devicePage(context: AppContext): Page {
  const id = context.route.deviceId ?? '';
  let range = RANGES[context.route.params.get('range') ?? ''] ? (context.route.params.get('range') as string) : DEFAULT_RANGE;
  let timer: number | undefined;
  let reload: number | undefined;
  let live = false;
  let disposed = false;
  const tailReadings: LiveReading[] = [];

  const title = h('h1', {}, id);
  const badge = h('span', { class: 'badge' });
  const facts = h('dl', { class: 'facts', 'data-testid': 'device-facts' });
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'device-message' });
  const rangeButtons = Object.entries(RANGES).map(([key, r]) =>
    h('button', {
      type: 'button', class: 'range', 'data-range': key, 'aria-pressed': String(key === range),
      onclick: () => choose(key),
    }, r.label));
  const liveState = h('span', { class: 'status', role: 'status', 'data-testid': 'live-state' }, 'Connecting…');
  const tailBody = h('tbody', {});
  const tailEmpty = h('p', { class: 'empty', 'data-testid': 'tail-empty' }, 'Readings stored from now on show here as they arrive.');
  const tail = h('div', { class: 'tail' },
    h('table', { class: 'tail-table', 'data-testid': 'live-tail' },
      h('caption', { class: 'visually-hidden' }, `The newest ${TAIL_LENGTH} readings stored while this page is open`),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Seq'),
        h('th', { scope: 'col', class: 'num' }, 'Temperature'), h('th', { scope: 'col', class: 'num' }, 'Humidity'))),
      tailBody),
    tailEmpty);
  const charts: Record<Quantity, TimeChart> = {
    temperature: new TimeChart(
      { title: 'Temperature', color: '#c2410c', band: 'rgba(194, 65, 12, 0.18)', decimals: 1 }, 'chart-temperature'),
    humidity: new TimeChart(
      { title: 'Humidity', color: '#0369a1', band: 'rgba(3, 105, 161, 0.18)', decimals: 0 }, 'chart-humidity'),
  };

  const actions = deviceActions(context, id, () => void refresh());

  replace(context.main,
    h('section', { class: 'device-page' },
      h('p', {}, h('a', { href: '#/fleet', class: 'back' }, '← Fleet')),
      h('div', { class: 'device-title' }, title, badge),
      message,
      facts,
      h('div', { class: 'toolbar' }, h('h2', {}, 'Readings'),
        h('div', { class: 'ranges', role: 'group', 'aria-label': 'Time range' }, ...rangeButtons)),
      h('div', { class: 'charts' }, charts.temperature.element, charts.humidity.element),
      h('div', { class: 'toolbar' }, h('h2', {}, 'Live tail'), liveState),
      tail,
      actions?.element,
    ));

  function choose(key: string): void {
    if (key === range) return;
    range = key;
    for (const button of rangeButtons) button.setAttribute('aria-pressed', String(button.dataset.range === key));
    // The range is in the address (to reload or share it) without rebuilding the page.
    history.replaceState(null, '', deviceHash(id, key));
    void refresh();
  }

  function showFacts(device: Device): void {
    const now = Date.now();
    const reading = device.last_reading ?? null;
    badge.textContent = device.state;
    badge.className = `badge state-${device.state.replace(/\s+/g, '-')}`;
    const certificate = summariseCertificate(device.certificate, now);
    const reasons = Object.entries(device.rejected_by_reason ?? {});
    const releaseCheck = summariseReleaseCheck(device.release_check);
    replace(facts,
      ...fact('Last reading', reading
        ? `${formatTemperature(reading.temperature)}, ${formatHumidity(reading.humidity)} — ${formatAge(reading.ts_ms, now)} (${formatLocalTime(reading.ts_ms)})`
        : 'none yet'),
      ...fact('Last seen', device.last_seen_ms ? `${formatAge(device.last_seen_ms, now)} (${formatLocalTime(device.last_seen_ms)})` : 'never'),
      ...fact('Firmware', device.firmware ?? '–'),
      ...fact('Release information', h('span',
        { class: `release-check release-${releaseCheck.level}`, 'data-testid': 'release-check' }, releaseCheck.text)),
      ...fact('Certificate', h('span', { class: `cert cert-${certificate.level}` }, certificate.text),
        device.certificate?.expires ? ` — expires ${formatLocalTime(Date.parse(device.certificate.expires))}` : '',
        device.certificate?.serial ? `, serial ${device.certificate.serial}` : ''),
      ...fact('Registered', device.registered ? `yes, ${formatLocalTime(Date.parse(device.registered_at ?? ''))}` : 'no'),
      ...fact('Labels', device.labels?.length ? device.labels.join(', ') : 'none'),
      ...fact('Readings stored', formatCount(device.readings_stored)),
      ...fact('Acknowledged up to', `seq ${formatCount(device.acked_seq)}`),
      ...fact('Rejected', formatCount(device.rejected),
        reasons.length ? ` (kept records: ${reasons.map(([reason, n]) => `${reason} ${n}`).join(', ')})` : ''),
      ...fact('Dropped by the device', device.dropped === null || device.dropped === undefined ? 'not reported' : formatCount(device.dropped)),
    );
  }

  // Newest first; a reading the tail shows already (a resend) is not added twice.
  function addToTail(reading: LiveReading): void {
    if (tailReadings.some((shown) => shown.seq === reading.seq)) return;
    tailReadings.unshift(reading);
    tailReadings.sort((a, b) => b.ts_ms - a.ts_ms);
    tailReadings.length = Math.min(tailReadings.length, TAIL_LENGTH);
    replace(tailBody, ...tailReadings.map((r) =>
      h('tr', { 'data-seq': String(r.seq) },
        h('td', {}, formatLocalTime(r.ts_ms)), h('td', {}, String(r.seq)),
        h('td', { class: 'num' }, formatTemperature(r.temperature)), h('td', { class: 'num' }, formatHumidity(r.humidity)))));
    tailEmpty.hidden = true;
  }

  function reloadSoon(): void {
    if (reload !== undefined) return;
    reload = window.setTimeout(() => {
      reload = undefined;
      void refresh();
    }, LIVE_RELOAD_MS[range] ?? LIVE_RELOAD_LONG_MS);
  }

  async function loadSeries(quantity: Quantity, wanted: string): Promise<void> {
    const r = RANGES[wanted];
    const query = new URLSearchParams({ quantity, from: r.from, step: r.step });
    const series = await api<Series>('GET', `/api/v1/devices/${encodeURIComponent(id)}/series?${query}`);
    if (!disposed && wanted === range) charts[quantity].show(series);
  }

  async function refresh(): Promise<void> {
    window.clearTimeout(timer);
    const wanted = range;
    try {
      const device = await api<Device>('GET', `/api/v1/devices/${encodeURIComponent(id)}`);
      if (disposed) return;
      showFacts(device);
      await Promise.all([loadSeries('temperature', wanted), loadSeries('humidity', wanted)]);
      message.hidden = true;
    } catch (error) {
      if (disposed) return;
      message.hidden = false;
      message.textContent = generalMessage(error);
    }
    if (!disposed && !document.hidden) {
      timer = window.setTimeout(() => void refresh(), live ? DEVICE_REFRESH_LIVE_MS : DEVICE_REFRESH_MS);
    }
  }

  const onVisibility = () => {
    if (!document.hidden) void refresh();
  };
  document.addEventListener('visibilitychange', onVisibility);
  void refresh();
  const feed = followLive(id, {
    reading: (reading) => {
      addToTail(reading);
      reloadSoon();
    },
    status: () => reloadSoon(),
    resync: () => void refresh(),
    connection: (connected) => {
      live = connected;
      liveState.textContent = connected ? 'Live' : 'Reconnecting…';
      liveState.className = connected ? 'status live' : 'status';
    },
  });

  return {
    dispose() {
      disposed = true;
      feed.close();
      window.clearTimeout(timer);
      window.clearTimeout(reload);
      document.removeEventListener('visibilitychange', onVisibility);
      charts.temperature.dispose();
      charts.humidity.dispose();
    },
  };
}
