// Formatting of values for people. Pure functions (no DOM), unit-tested in test/model.test.mjs.

// "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "" without a time.
export function formatAge(thenMs: number | null | undefined, nowMs: number): string {
  if (thenMs === null || thenMs === undefined) return '';
  const seconds = Math.floor((nowMs - thenMs) / 1000);
  if (seconds < 0) return 'in the future';
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

// "21.5 °C"; "–" without a value.
export function formatTemperature(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${value.toFixed(1)} °C` : '–';
}

// "54 %RH" (one decimal under 10); "–" without a value.
export function formatHumidity(value: number | null | undefined): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} %RH`;
}

// An ISO 8601 time in the browser's time zone, to the minute: "2026-11-22 11:49".
export function formatLocalTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatCount(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toLocaleString('en-US') : '–';
}

const DAY_MS = 86_400_000;
// Certificates closer than this to their expiry are flagged.
export const CERTIFICATE_WARNING_DAYS = 30;

export interface CertificateSummary {
  text: string; // "valid, 731 d left", "expires in 12 d", "expired", "revoked", "none"
  level: 'ok' | 'warn' | 'bad' | 'none';
  expiresMs: number | null; // for sorting; null without one
}

export function summariseCertificate(
  certificate: { state: string; expires: string | null } | null | undefined,
  nowMs: number,
): CertificateSummary {
  if (!certificate || certificate.state === 'none') return { text: 'none', level: 'none', expiresMs: null };
  const parsed = certificate.expires ? Date.parse(certificate.expires) : Number.NaN;
  const expiresMs = Number.isFinite(parsed) ? parsed : null;
  switch (certificate.state) {
    case 'revoked':
      return { text: 'revoked', level: 'bad', expiresMs };
    case 'expired':
      return { text: 'expired', level: 'bad', expiresMs };
    case 'not_yet_valid':
      return { text: 'not yet valid', level: 'warn', expiresMs };
    case 'valid': {
      if (expiresMs === null) return { text: 'valid', level: 'ok', expiresMs };
      const days = Math.floor((expiresMs - nowMs) / DAY_MS);
      if (days < CERTIFICATE_WARNING_DAYS) return { text: `expires in ${Math.max(days, 0)} d`, level: 'warn', expiresMs };
      return { text: `valid, ${days} d left`, level: 'ok', expiresMs };
    }
    default:
      return { text: certificate.state, level: 'warn', expiresMs };
  }
}

// The TOTP secret in groups of four, easier to type into an app by hand.
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

// A time in the browser's time zone, to the second: "2026-11-22 11:49:32".
export function formatLocalDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${formatLocalTime(ms)}:${pad(d.getSeconds())}`;
}

// A duration as precisely as matters, as kelvinctl status prints it: "23 ms", "1.2 s", "53 s",
// "12 min", "5 h", "3 d"; "–" without one.
export function formatDuration(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.floor(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  if (ms < 2 * 86_400_000) return `${Math.floor(ms / 3_600_000)} h`;
  return `${Math.floor(ms / 86_400_000)} d`;
}

// A rate per second from two readings of a counter `elapsedMs` apart: "2.5/s", "120/s"; "" when it
// cannot be told (no earlier reading, a counter that went down: the gateway restarted).
export function formatRate(previous: number | null | undefined, current: number | null | undefined, elapsedMs: number): string {
  if (typeof previous !== 'number' || typeof current !== 'number' || !(elapsedMs > 0) || current < previous) return '';
  const perSecond = ((current - previous) * 1000) / elapsedMs;
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond).toLocaleString('en-US')}/s`;
}
