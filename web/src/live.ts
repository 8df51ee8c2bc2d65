// Live updates from GET /api/v1/events (docs/api.md, "Live events"): each reading as it is stored
// and each status a device reports, for the page that is open; a fleet page follows every device
// (the latest reading of each, a few times a second at most), a device page one device.
//
// The browser's EventSource reconnects by itself when a connection drops, sending the last event id
// it got: the gateway then replays the readings stored meanwhile, but not the statuses. So every
// (re)connection announces itself with `ready`, and the page reloads what it shows (`resync`); so
// does a `gap` (the gateway left readings out). When the
// gateway refuses the stream (the session ended: 401; too many streams: 503), EventSource gives up
// and this module tries again after RETRY_MS; the page's own requests meanwhile notice a session
// that ended and send the user to sign in.

import type { LiveReading, LiveStatus } from './types';

export const RETRY_MS = 15_000;

export interface LiveHandlers {
  reading(reading: LiveReading): void;
  status(status: LiveStatus): void;
  // After (re)connecting and after a gap: what the page shows may be missing events.
  resync(): void;
  // Whether events are arriving: a page polls less while they do.
  connection(connected: boolean): void;
}

export interface LiveFeed {
  close(): void;
}

function parse<T>(event: MessageEvent): T | null {
  try {
    return JSON.parse(String(event.data)) as T;
  } catch {
    return null; // not kelvin's event: ignored
  }
}

// Follows one device, or the whole fleet when `deviceId` is null.
export function followLive(deviceId: string | null, handlers: LiveHandlers): LiveFeed {
  const url = deviceId === null ? '/api/v1/events' : `/api/v1/events?device=${encodeURIComponent(deviceId)}`;
  let source: EventSource | null = null;
  let retry: number | undefined;
  let closed = false;

  function open(): void {
    if (closed) return;
    source = new EventSource(url);
    source.addEventListener('ready', () => {
      handlers.connection(true);
      handlers.resync();
    });
    source.addEventListener('gap', () => handlers.resync());
    source.addEventListener('reading', (event) => {
      const reading = parse<LiveReading>(event as MessageEvent);
      if (reading && typeof reading.device === 'string') handlers.reading(reading);
    });
    source.addEventListener('status', (event) => {
      const status = parse<LiveStatus>(event as MessageEvent);
      if (status && typeof status.device === 'string') handlers.status(status);
    });
    source.onerror = () => {
      handlers.connection(false);
      // CONNECTING: EventSource retries by itself. CLOSED: it gave up (an HTTP error answer).
      if (source?.readyState === EventSource.CLOSED) {
        source = null;
        retry = window.setTimeout(open, RETRY_MS);
      }
    };
  }

  open();
  return {
    close() {
      closed = true;
      window.clearTimeout(retry);
      source?.close();
      source = null;
    },
  };
}
