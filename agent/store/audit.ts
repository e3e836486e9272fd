import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
  hash: string;
}

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

function entryHash(prev: string, r: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([prev, r.seq, r.at, r.actor, r.action, r.target, r.detail]))
    .digest('hex');
}

/** Append-only audit log; each entry's hash covers the previous one, so edits and deletions show. */
export class AuditRepository {
  private readonly sql: (sql: string) => Database.Statement;
  private readonly listeners: ((entry: AuditEntry) => void)[] = [];
  private readonly appendTx: (e: Parameters<AuditRepository['append']>[0]) => AuditEntry;

  /**
   * `transaction` is the store's (so what listeners defer to the commit, like the event log's live
   * listeners, waits for it); plain `db.transaction` when used alone.
   */
  constructor(db: Database.Database, transaction: <T>(fn: () => T) => T = (fn) => db.transaction(fn)()) {
    this.sql = statementCache(db);
    // The entry and whatever listeners write (the event log's outbox row) commit together.
    this.appendTx = (e) =>
      transaction(() => {
        const entry = this.insert(e);
        for (const listener of this.listeners) listener(entry);
        return entry;
      });
  }

  /** Calls `listener` inside the appending transaction for every new entry (the event log publishes it). */
  onAppend(listener: (entry: AuditEntry) => void): void {
    this.listeners.push(listener);
  }

  append(e: {
    actor: string;
    action: string;
    target?: string;
    detail?: Record<string, unknown>;
  }): AuditEntry {
    return this.appendTx(e);
  }

  private insert(e: {
    actor: string;
    action: string;
    target?: string;
    detail?: Record<string, unknown>;
  }): AuditEntry {
    const last = this.sql('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
      { seq: number; hash: string } | undefined;
    const row = {
      seq: (last?.seq ?? 0) + 1,
      at: nowIso(),
      actor: e.actor,
      action: e.action,
      target: e.target ?? null,
      detail: JSON.stringify(e.detail ?? {}),
    };
    const prev = last?.hash ?? GENESIS;
    const hash = entryHash(prev, row);
    this.sql(
      'INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(row.seq, row.at, row.actor, row.action, row.target, row.detail, prev, hash);
    return { ...row, detail: e.detail ?? {}, hash };
  }

  /** Entries after `afterSeq`, oldest first; `from`/`to` (ISO-8601 UTC, inclusive) bound their time. */
  list(afterSeq: number, limit: number, range: { from?: string; to?: string } = {}): AuditEntry[] {
    const rows = this.sql(
      'SELECT * FROM audit WHERE seq > ? AND (? IS NULL OR at >= ?) AND (? IS NULL OR at <= ?) ORDER BY seq LIMIT ?',
    ).all(
      afterSeq,
      range.from ?? null,
      range.from ?? null,
      range.to ?? null,
      range.to ?? null,
      limit,
    ) as AuditRow[];
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
      hash: r.hash,
    }));
  }

  /** Walks the chain; returns the first broken seq, or null when intact. */
  verify(): { ok: true; entries: number } | { ok: false; brokenAt: number } {
    let prev = GENESIS;
    let n = 0;
    for (const r of this.sql('SELECT * FROM audit ORDER BY seq').iterate() as Iterable<AuditRow>) {
      if (r.prev_hash !== prev || entryHash(prev, r) !== r.hash) return { ok: false, brokenAt: r.seq };
      prev = r.hash;
      n++;
    }
    return { ok: true, entries: n };
  }
}
