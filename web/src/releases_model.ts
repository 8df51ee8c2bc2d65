// The pure logic of the releases page: the order of releases and how a size reads.

import { formatCount } from './format';
import type { ReleaseSummary } from './types';

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
