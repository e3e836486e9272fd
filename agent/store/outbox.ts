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

  /** Keeps the newest `max` rows, removing the oldest; returns how many were removed. */
  trim(max: number): number {
    return this.sql(
      'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT MAX(0, (SELECT COUNT(*) FROM outbox) - ?))',
    ).run(max).changes;
  }
}
