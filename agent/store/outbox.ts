import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';

export interface StoredEvent {
  seq: number;
  id: string;
  type: string;
  payload: unknown;
  createdAt: string;
}

interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  payload: string;
  created_at: string;
}

const fromRow = (r: OutboxRow): StoredEvent => ({
  seq: r.seq,
  id: r.id,
  type: r.type,
  payload: JSON.parse(r.payload) as unknown,
  createdAt: r.created_at,
});

/** The durable event log: SSE resumes from it, the fleet link publishes from it. */
export class OutboxRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  append(e: { id: string; type: string; payload: unknown; createdAt: string }): number {
    const r = this.sql('INSERT INTO outbox (id, type, payload, created_at) VALUES (?, ?, ?, ?)').run(
      e.id,
      e.type,
      JSON.stringify(e.payload),
      e.createdAt,
    );
    return Number(r.lastInsertRowid);
  }

  after(seq: number, limit: number): StoredEvent[] {
    return (
      this.sql('SELECT * FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?').all(seq, limit) as OutboxRow[]
    ).map(fromRow);
  }

  lastSeq(): number {
    const row = this.sql('SELECT MAX(seq) AS seq FROM outbox').get() as { seq: number | null };
    return row.seq ?? 0;
  }

  /**
   * Keeps the newest `max` rows, removing the oldest; returns how many were removed. With `keepUnsent`
   * (a fleet link is configured) only rows already published are removed: the unsent ones are the fleet's,
   * bounded by `dropUnsent`.
   */
  trim(max: number, keepUnsent = false): number {
    if (keepUnsent) {
      return this.sql(
        'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE published_at IS NOT NULL ORDER BY seq LIMIT MAX(0, (SELECT COUNT(*) FROM outbox) - ?))',
      ).run(max).changes;
    }
    return this.sql(
      'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT MAX(0, (SELECT COUNT(*) FROM outbox) - ?))',
    ).run(max).changes;
  }

  /** The newest `limit` events of the given types, oldest first (the alert monitor's memory across restarts). */
  latestOfTypes(types: readonly string[], limit: number): StoredEvent[] {
    if (types.length === 0) return [];
    const marks = types.map(() => '?').join(', ');
    const rows = this.sql(`SELECT * FROM outbox WHERE type IN (${marks}) ORDER BY seq DESC LIMIT ?`).all(
      ...types,
      limit,
    ) as OutboxRow[];
    return rows.reverse().map(fromRow);
  }

  /** Unsent events after `seq`, oldest first. */
  unsentAfter(seq: number, limit: number): StoredEvent[] {
    return (
      this.sql('SELECT * FROM outbox WHERE published_at IS NULL AND seq > ? ORDER BY seq LIMIT ?').all(
        seq,
        limit,
      ) as OutboxRow[]
    ).map(fromRow);
  }

  /** Marks events as delivered to the broker (PUBACK received). */
  markPublished(seqs: readonly number[], at: string): void {
    const stmt = this.sql('UPDATE outbox SET published_at = ? WHERE seq = ? AND published_at IS NULL');
    for (const seq of seqs) stmt.run(at, seq);
  }

  /** How many events wait to be sent, and when the oldest of them was created. */
  unsentSummary(): { count: number; oldestCreatedAt: string | null } {
    const row = this.sql(
      'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL',
    ).get() as { n: number; oldest: string | null };
    return { count: row.n, oldestCreatedAt: row.oldest };
  }

  /**
   * Bounds the unsent backlog: drops unsent rows whose type is not protected (`keepPrefixes`) when they are
   * older than `olderThan`, then the oldest of them while more than `max` rows wait. Returns how many went.
   */
  dropUnsent(max: number, olderThan: string, keepPrefixes: readonly string[]): number {
    // instr(type, p) = 1 means "type starts with p", with no LIKE wildcards to escape.
    const droppable = ['published_at IS NULL', ...keepPrefixes.map(() => 'instr(type, ?) <> 1')].join(
      ' AND ',
    );
    let dropped = this.sql(`DELETE FROM outbox WHERE ${droppable} AND created_at < ?`).run(
      ...keepPrefixes,
      olderThan,
    ).changes;
    const { count } = this.unsentSummary();
    if (count > max) {
      dropped += this.sql(
        `DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE ${droppable} ORDER BY seq LIMIT ?)`,
      ).run(...keepPrefixes, count - max).changes;
    }
    return dropped;
  }
}
