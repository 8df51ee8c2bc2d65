// The audit page's model, apart from the DOM so it can be tested on its own
// (test/pages_model.test.mjs): how each entry reads, the filter, and reading the log newest first.
//
// GET /api/v1/audit answers at most 1,000 entries at a time: newest first before an entry id
// (`before=end`: the newest of all), or oldest first after one. The page reads the newest page,
// older pages before the oldest it has, and on refresh what came after the newest it has: one
// request each, whatever the log's length.

import { formatLocalDateTime } from './format';
import type { AuditEntry } from './types';

// docs/api.md, "Audit log": every action the gateway and kelvinctl write.
export const AUDIT_ACTIONS: Record<string, string> = {
  login: 'Sign-in',
  logout: 'Sign-out',
  permission_denied: 'Refused: role too low',
  password_change: 'Own password changed',
  password_set: 'Password reset',
  totp_enrol_begin: 'Second factor set-up begun',
  totp_enrol: 'Second factor set up',
  totp_reset: 'Second factor reset',
  user_add: 'User added',
  user_remove: 'User removed',
  user_role: 'Role changed',
  setting: 'Setting changed',
  device_revoke: 'Device revoked',
  device_remove: 'Device removed',
  device_label: 'Device labels changed',
  release_key_trust: 'Release key trusted',
  release_publish: 'Release published',
  release_timestamp: 'Release timestamp published',
  rollout_start: 'Rollout started',
  rollout_pause: 'Rollout paused',
  rollout_resume: 'Rollout resumed',
  rollout_abort: 'Rollout aborted',
  rollout_halted: 'Rollout halted: too many failures',
  rollout_completed: 'Rollout completed',
  alert_acknowledge: 'Alert acknowledged',
};

export const AUDIT_RESULTS: Record<string, string> = {
  ok: 'done',
  failed: 'a wrong credential',
  denied: 'a refused change or route',
};

export interface AuditRow {
  id: number;
  at: string; // ISO 8601 UTC, as the API gave it
  when: string; // in the browser's time zone, to the second
  who: string;
  from: string;
  what: string; // the action, readable
  action: string; // as the API names it
  target: string;
  result: string;
  resultLevel: 'ok' | 'warn' | 'bad';
  detail: string;
  search: string; // lower-case text the filter looks in
}

export function auditRow(entry: AuditEntry): AuditRow {
  const what = AUDIT_ACTIONS[entry.action] ?? entry.action;
  const result = String(entry.result ?? '');
  return {
    id: entry.id,
    at: entry.at ?? (Number.isFinite(entry.at_ms) ? new Date(entry.at_ms).toISOString() : ''),
    when: formatLocalDateTime(entry.at_ms),
    who: entry.actor,
    from: entry.address,
    what,
    action: entry.action,
    target: entry.target,
    result,
    resultLevel: result === 'ok' ? 'ok' : result === 'failed' ? 'bad' : 'warn',
    detail: entry.detail,
    search: [entry.actor, entry.address, entry.action, what, entry.target, result, entry.detail]
      .join(' ')
      .toLowerCase(),
  };
}

// Which results to show: all, one of them, or both kinds of problem.
export type ResultFilter = '' | 'ok' | 'failed' | 'denied' | 'problems';

// The rows that have every word of `text` (in who, from, what, target, result, detail; any case)
// and pass `result`, in the order given.
export function filterAudit(rows: AuditRow[], text: string, result: ResultFilter): AuditRow[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return rows.filter(
    (row) =>
      (result === '' || (result === 'problems' ? row.result !== 'ok' : row.result === result)) &&
      words.every((word) => row.search.includes(word)),
  );
}

// GET /api/v1/audit with these parameters: entries before an id (or the newest: 'end'), newest
// first; or after one, oldest first.
export type AuditQuery = { before: number | 'end'; limit: number } | { after: number; limit: number };
export type AuditFetch = (query: AuditQuery) => Promise<AuditEntry[]>;

export const AUDIT_PAGE = 200;
const MAX_LIMIT = 1000; // the API's largest page

// The log as far as it has been read, newest first; reads older pages and newer entries on demand.
export class AuditLog {
  private readonly byId = new Map<number, AuditEntry>();
  private oldest = 0; // the smallest id read (0: none)
  private newest = 0; // the largest id read (0: none)
  private older = false; // the last page read backwards was full: there may be more before it
  private sorted: AuditEntry[] | null = null;

  constructor(private readonly fetchPage: AuditFetch, private readonly pageSize = AUDIT_PAGE) {}

  // Entries may be in the log before the oldest read.
  get hasOlder(): boolean {
    return this.older;
  }

  get size(): number {
    return this.byId.size;
  }

  // Newest first.
  entries(): AuditEntry[] {
    if (!this.sorted) this.sorted = [...this.byId.values()].sort((a, b) => b.id - a.id);
    return this.sorted;
  }

  private add(entries: AuditEntry[]): void {
    for (const entry of entries) {
      if (typeof entry?.id !== 'number') continue;
      this.byId.set(entry.id, entry);
      if (entry.id > this.newest) this.newest = entry.id;
      if (this.oldest === 0 || entry.id < this.oldest) this.oldest = entry.id;
    }
    this.sorted = null;
  }

  // Reads the newest page again, forgetting what was read.
  async loadNewest(): Promise<void> {
    const page = await this.fetchPage({ before: 'end', limit: this.pageSize });
    this.byId.clear();
    this.oldest = 0;
    this.newest = 0;
    this.add(page);
    this.older = page.length >= this.pageSize;
  }

  // Reads the page before the oldest entry read so far.
  async loadOlder(): Promise<void> {
    if (!this.older || this.oldest <= 1) {
      this.older = false;
      return;
    }
    const page = await this.fetchPage({ before: this.oldest, limit: this.pageSize });
    this.add(page);
    this.older = page.length >= this.pageSize;
  }

  // Reads every entry written since the newest one read; returns how many came.
  async loadNewer(): Promise<number> {
    const before = this.byId.size;
    for (;;) {
      const page = await this.fetchPage({ after: this.newest, limit: MAX_LIMIT });
      this.add(page);
      if (page.length < MAX_LIMIT) break;
    }
    return this.byId.size - before;
  }
}
