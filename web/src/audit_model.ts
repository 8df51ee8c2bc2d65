// The audit page's model, apart from the DOM so it can be tested on its own
// (test/pages_model.test.mjs): how each entry reads, the filter, and reading the log newest first.
//
// GET /api/v1/audit answers entries oldest first, after an entry id, at most 1,000 at a time, and
// has no "newest first" nor a total. Ids grow by one per entry and entries are never deleted, so
// the page finds the newest id by asking for single entries (after = 1, 2, 4, ... then halving the
// gap: about 2·log2(n) small requests, only when the log is longer than one page) and then reads
// backwards a page at a time by id. A log of a few hundred entries takes one request.

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

// GET /api/v1/audit?after=&limit=: the entries with an id above `after`, oldest first.
export type AuditFetch = (after: number, limit: number) => Promise<AuditEntry[]>;

export const AUDIT_PAGE = 200;
const MAX_LIMIT = 1000; // the API's largest page

// The id of the newest entry (0 for an empty log), knowing that the entry `known` exists (0: nothing
// known). Only asks "is there an entry after this id?", one entry at a time.
export async function newestAuditId(fetchPage: AuditFetch, known: number): Promise<number> {
  const above = async (after: number) => (await fetchPage(after, 1)).length > 0;
  let low = known - 1; // above(low) holds: the entry `known` exists
  if (known <= 0) {
    if (!(await above(0))) return 0;
    low = 0;
  }
  let high = Math.max(1, known * 2);
  while (await above(high)) {
    low = high;
    high *= 2;
  }
  // above(low), not above(high): the newest id is in (low, high].
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (await above(middle)) low = middle;
    else high = middle;
  }
  return high;
}

// The log as far as it has been read, newest first; reads older pages and newer entries on demand.
export class AuditLog {
  private readonly byId = new Map<number, AuditEntry>();
  // Every entry with an id above `floor` has been read (up to the newest when it was last asked).
  private floor = 0;
  private newest = 0;
  private sorted: AuditEntry[] | null = null;

  constructor(private readonly fetchPage: AuditFetch, private readonly pageSize = AUDIT_PAGE) {}

  // Entries are in the log before the oldest read.
  get hasOlder(): boolean {
    return this.floor > 0;
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
    }
    this.sorted = null;
  }

  // Reads the newest page: one request when the whole log fits in it.
  async loadNewest(): Promise<void> {
    this.byId.clear();
    this.sorted = null;
    this.newest = 0;
    const first = await this.fetchPage(0, this.pageSize);
    if (first.length < this.pageSize) {
      this.add(first);
      this.floor = 0;
      return;
    }
    const newest = await newestAuditId(this.fetchPage, first[first.length - 1].id);
    this.floor = Math.max(0, newest - this.pageSize);
    this.add(await this.fetchPage(this.floor, this.pageSize));
  }

  // Reads the page before the oldest entry read so far.
  async loadOlder(): Promise<void> {
    if (!this.hasOlder) return;
    const after = Math.max(0, this.floor - this.pageSize);
    this.add(await this.fetchPage(after, this.floor - after));
    this.floor = after;
  }

  // Reads every entry written since the newest one read; returns how many came.
  async loadNewer(): Promise<number> {
    const before = this.byId.size;
    for (;;) {
      const page = await this.fetchPage(this.newest, MAX_LIMIT);
      this.add(page);
      if (page.length < MAX_LIMIT) break;
    }
    return this.byId.size - before;
  }
}
