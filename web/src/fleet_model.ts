// The fleet table's filter and sort, apart from the DOM so they can be tested and timed on their
// own (test/model.test.mjs sorts and filters 10,000 devices). Sort keys are computed once per
// refresh of the device list, not per comparison.

import type { Device, LiveReading, LiveStatus } from './types';

export type SortKey = 'id' | 'state' | 'temperature' | 'humidity' | 'age' | 'firmware' | 'certificate' | 'labels';

export interface SortOrder {
  key: SortKey;
  descending: boolean;
}

export interface FleetRow {
  id: string;
  search: string; // lower-case text the filter looks in: id, state, firmware, labels
  labels: string[]; // the device's labels, for `label:NAME` in the filter
  keys: Record<SortKey, string | number | null>; // null sorts last in either direction
}

// online first, then devices that sent data without a status, then offline, then never seen.
const STATE_ORDER: Record<string, number> = { online: 0, unknown: 1, offline: 2, 'never seen': 3 };

function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function fleetRow(device: Device): FleetRow {
  const reading = device.last_reading ?? null;
  const expires = device.certificate?.expires ? Date.parse(device.certificate.expires) : Number.NaN;
  const certificateState = device.certificate?.state ?? 'none';
  const ts = finite(reading?.ts_ms);
  const labels = device.labels ?? [];
  return {
    id: device.id,
    search: [device.id, device.state, device.firmware ?? '', ...labels].join(' ').toLowerCase(),
    labels,
    keys: {
      id: device.id,
      state: STATE_ORDER[device.state] ?? 4,
      temperature: finite(reading?.temperature),
      humidity: finite(reading?.humidity),
      // Ascending age is the most recent reading first.
      age: ts === null ? null : -ts,
      firmware: device.firmware ?? null,
      // Revoked and expired certificates count as expiring first; none sorts last.
      certificate:
        certificateState === 'valid' || certificateState === 'not_yet_valid'
          ? Number.isFinite(expires)
            ? expires
            : null
          : certificateState === 'none'
            ? null
            : Number.NEGATIVE_INFINITY,
      labels: labels.length ? labels.join(',') : null,
    },
  };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function compareKeys(a: string | number | null, b: string | number | null): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  return collator.compare(String(a), String(b));
}

const LABEL_WORD = 'label:';

// Every word of `filter` (case-insensitive) must occur in a row's id, state, firmware or labels;
// a word `label:NAME` matches only a device carrying the label NAME, whole.
export function matches(row: FleetRow, words: string[]): boolean {
  return words.every((word) =>
    word.startsWith(LABEL_WORD) ? row.labels.includes(word.slice(LABEL_WORD.length)) : row.search.includes(word));
}

export function filterWords(filter: string): string[] {
  return filter.toLowerCase().split(/\s+/).filter(Boolean);
}

// The ids of the rows that pass `filter`, in `order`; ties by id, missing values last.
export function visibleIds(rows: FleetRow[], filter: string, order: SortOrder): string[] {
  const words = filterWords(filter);
  const shown = words.length === 0 ? rows.slice() : rows.filter((row) => matches(row, words));
  const sign = order.descending ? -1 : 1;
  shown.sort((a, b) => {
    const x = a.keys[order.key];
    const y = b.keys[order.key];
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else {
      const c = compareKeys(x, y);
      if (c !== 0) return sign * c;
    }
    return collator.compare(a.id, b.id);
  });
  return shown.map((row) => row.id);
}

// The device as the list would show it once `reading` was stored: a reading older than the one
// shown (a resend arriving late) changes only when the device was last seen.
export function withLiveReading(device: Device, reading: LiveReading): Device {
  const { device: _id, ...last } = reading;
  const shown = device.last_reading;
  const newer = !shown || reading.ts_ms >= shown.ts_ms;
  return {
    ...device,
    state: device.state === 'never seen' ? 'unknown' : device.state,
    last_reading: newer ? last : shown,
    last_seen_ms: Math.max(device.last_seen_ms ?? 0, Date.now()),
  };
}

// The device as the list would show it once `status` was recorded (its state is the reported one).
// What a status does not carry stays as shown, as the store keeps it: the last will carries no
// firmware, drop count or release check (its event says firmware null and dropped 0).
export function withLiveStatus(device: Device, status: LiveStatus): Device {
  const lastWill = status.state === 'offline';
  return {
    ...device,
    state: status.state,
    firmware: status.firmware ?? device.firmware,
    dropped: lastWill ? device.dropped : status.dropped,
    release_check: status.release_check ?? device.release_check,
    last_seen_ms: Math.max(device.last_seen_ms ?? 0, status.at_ms),
  };
}
