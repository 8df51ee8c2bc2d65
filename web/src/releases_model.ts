// The pure logic of the releases page: the order of releases, how a size reads, what a signed
// manifest file names, how an upload's progress reads, and what each product's release timestamp
// says.

import { formatCount } from './format';
import type { ReleaseSummary, ReleaseTimestampSummary } from './types';

// By product, then newest version first: versions compare by their numbers (1.10.0 before 1.9.0).
export function releaseOrder(a: ReleaseSummary, b: ReleaseSummary): number {
  if (a.product !== b.product) return a.product < b.product ? -1 : 1;
  const pa = a.version.split('.').map(Number);
  const pb = b.version.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) {
    if (pa[i] !== pb[i]) return pb[i] - pa[i];
  }
  return 0;
}

// Bytes as people read them: "512 B", "293.0 KiB", "2.0 MiB".
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${formatCount(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

// What a signed manifest file (kelvinctl release sign's *.manifest: an envelope whose payload is
// the manifest's JSON in base64) names: where to upload it and how large its image must be. Only
// for addressing the upload and a check before sending megabytes: the gateway verifies the
// signature. A string says why the file is not one.
export interface ManifestFacts {
  product: string;
  version: string;
  size: number;
}

const NOT_A_MANIFEST = 'This is not a signed manifest: kelvinctl release sign writes one (IMAGE.manifest).';

export function manifestFacts(text: string): ManifestFacts | string {
  try {
    const envelope = JSON.parse(text) as { payload?: unknown };
    if (typeof envelope.payload !== 'string') return NOT_A_MANIFEST;
    const manifest = JSON.parse(atob(envelope.payload)) as { product?: unknown; version?: unknown; size?: unknown };
    if (typeof manifest.product !== 'string' || typeof manifest.version !== 'string' || typeof manifest.size !== 'number') {
      return NOT_A_MANIFEST;
    }
    return { product: manifest.product, version: manifest.version, size: manifest.size };
  } catch {
    return NOT_A_MANIFEST;
  }
}

// Why an image file cannot be the manifest's, or null when its size is the signed size.
export function imageSizeProblem(facts: ManifestFacts, imageBytes: number): string | null {
  if (imageBytes === facts.size) return null;
  return `This image has ${formatCount(imageBytes)} bytes; the manifest signs an image of ${formatCount(facts.size)} bytes. ` +
    'Choose the image the manifest was signed for.';
}

// "Uploading thermo-linux 1.2.0: 45 % (1.2 MiB of 2.6 MiB)".
export function uploadProgressText(facts: ManifestFacts, sent: number, total: number): string {
  const percent = total > 0 ? Math.floor((sent * 100) / total) : 100;
  return `Uploading ${facts.product} ${facts.version}: ${percent} % (${formatBytes(sent)} of ${formatBytes(total)})`;
}

// A timestamp this close to its expiry is flagged: whoever holds the release key has a week to
// sign the next one.
export const TIMESTAMP_WARNING_MS = 7 * 24 * 3600 * 1000;

export interface TimestampLine {
  product: string;
  text: string;
  warn: boolean; // missing, expired, expiring within TIMESTAMP_WARNING_MS, or naming an older release
}

const RENEW = 'Sign a new one (kelvinctl release timestamp) and publish it (kelvinctl release publish-timestamp).';

// One line per product that has releases, on what its devices are told is newest: devices that
// see no timestamp, or only an expired one, report that they cannot tell whether updates are
// withheld. `newest` is each product's newest published version; `formatTime` renders an instant.
export function timestampLines(releases: ReleaseSummary[], timestamps: ReleaseTimestampSummary[], nowMs: number,
  formatTime: (ms: number) => string): TimestampLine[] {
  const products = [...new Set(releases.map((r) => r.product))].sort();
  return products.map((product) => {
    const newest = releases.filter((r) => r.product === product).sort(releaseOrder)[0];
    const stamp = timestamps.find((t) => t.product === product);
    if (!stamp) {
      return { product, warn: true,
        text: `${product}: no release timestamp: its devices report timestamp_missing. Sign one for ${newest.version} (kelvinctl release timestamp) and publish it (kelvinctl release publish-timestamp).` };
    }
    const expiresMs = Date.parse(stamp.expires);
    const names = `${product}: the timestamp names ${stamp.version}`;
    if (expiresMs <= nowMs) {
      return { product, warn: true, text: `${names} and expired ${formatTime(expiresMs)}: its devices report timestamp_expired. ${RENEW}` };
    }
    if (stamp.version !== newest.version) {
      return { product, warn: true, text: `${names}, but ${newest.version} is published (expires ${formatTime(expiresMs)}). ${RENEW}` };
    }
    const days = Math.floor((expiresMs - nowMs) / (24 * 3600 * 1000));
    const warn = expiresMs - nowMs < TIMESTAMP_WARNING_MS;
    return { product, warn,
      text: `${names}, expires ${formatTime(expiresMs)} (in ${formatCount(days)} ${days === 1 ? 'day' : 'days'}).${warn ? ` ${RENEW}` : ''}` };
  });
}
