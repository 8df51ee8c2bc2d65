// One device: its facts (GET /api/v1/devices/{id}) and its temperature and humidity over 1 h,
// 24 h or 7 d (GET /api/v1/devices/{id}/series), refreshed every few seconds.

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
import { generalMessage } from '../messages';
import type { Device, Quantity, Series } from '../types';

export const DEVICE_REFRESH_MS = 10_000;

// Each range asks for 60 to 168 buckets: enough detail, small answers.
export const RANGES: Record<string, { label: string; from: string; step: string }> = {
  '1h': { label: '1 h', from: '-1h', step: '1m' },
  '24h': { label: '24 h', from: '-24h', step: '15m' },
  '7d': { label: '7 d', from: '-7d', step: '1h' },
};
const DEFAULT_RANGE = '24h';

function fact(term: string, ...values: (Node | string)[]): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, ...values)];
}

export function devicePage(context: AppContext): Page {
  const id = context.route.deviceId ?? '';
  let range = RANGES[context.route.params.get('range') ?? ''] ? (context.route.params.get('range') as string) : DEFAULT_RANGE;
  let timer: number | undefined;
  let disposed = false;

  const title = h('h1', {}, id);
  const badge = h('span', { class: 'badge' });
  const facts = h('dl', { class: 'facts', 'data-testid': 'device-facts' });
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'device-message' });
  const rangeButtons = Object.entries(RANGES).map(([key, r]) =>
    h('button', {
      type: 'button', class: 'range', 'data-range': key, 'aria-pressed': String(key === range),
      onclick: () => choose(key),
    }, r.label));
  const charts: Record<Quantity, TimeChart> = {
    temperature: new TimeChart(
      { title: 'Temperature', color: '#c2410c', band: 'rgba(194, 65, 12, 0.18)', decimals: 1 }, 'chart-temperature'),
    humidity: new TimeChart(
      { title: 'Humidity', color: '#0369a1', band: 'rgba(3, 105, 161, 0.18)', decimals: 0 }, 'chart-humidity'),
  };

  replace(context.main,
    h('section', { class: 'device-page' },
      h('p', {}, h('a', { href: '#/fleet', class: 'back' }, '← Fleet')),
      h('div', { class: 'device-title' }, title, badge),
      message,
      facts,
      h('div', { class: 'toolbar' }, h('h2', {}, 'Readings'),
        h('div', { class: 'ranges', role: 'group', 'aria-label': 'Time range' }, ...rangeButtons)),
      h('div', { class: 'charts' }, charts.temperature.element, charts.humidity.element),
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
    replace(facts,
      ...fact('Last reading', reading
        ? `${formatTemperature(reading.temperature)}, ${formatHumidity(reading.humidity)} — ${formatAge(reading.ts_ms, now)} (${formatLocalTime(reading.ts_ms)})`
        : 'none yet'),
      ...fact('Last seen', device.last_seen_ms ? `${formatAge(device.last_seen_ms, now)} (${formatLocalTime(device.last_seen_ms)})` : 'never'),
      ...fact('Firmware', device.firmware ?? '–'),
      ...fact('Certificate', h('span', { class: `cert cert-${certificate.level}` }, certificate.text),
        device.certificate?.expires ? ` — expires ${formatLocalTime(Date.parse(device.certificate.expires))}` : '',
        device.certificate?.serial ? `, serial ${device.certificate.serial}` : ''),
      ...fact('Registered', device.registered ? `yes, ${formatLocalTime(Date.parse(device.registered_at ?? ''))}` : 'no'),
      ...fact('Readings stored', formatCount(device.readings_stored)),
      ...fact('Acknowledged up to', `seq ${formatCount(device.acked_seq)}`),
      ...fact('Rejected', formatCount(device.rejected),
        reasons.length ? ` (kept records: ${reasons.map(([reason, n]) => `${reason} ${n}`).join(', ')})` : ''),
      ...fact('Dropped by the device', device.dropped === null || device.dropped === undefined ? 'not reported' : formatCount(device.dropped)),
    );
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
    if (!disposed && !document.hidden) timer = window.setTimeout(() => void refresh(), DEVICE_REFRESH_MS);
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
      charts.temperature.dispose();
      charts.humidity.dispose();
    },
  };
}
