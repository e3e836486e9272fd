import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

export type JobState = 'queued' | 'sending' | 'done' | 'failed' | 'in_doubt' | 'cancelled';

export interface JobRecord {
  id: string;
  kind: string;
  deviceId: string | null;
  state: JobState;
  input: unknown;
  result: unknown;
  error: unknown;
  createdAt: string;
  updatedAt: string;
}

interface JobRow {
  id: string;
  kind: string;
  device_id: string | null;
  state: JobState;
  input: string;
  result: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const parse = (s: string | null): unknown => (s === null ? null : (JSON.parse(s) as unknown));

const fromRow = (r: JobRow): JobRecord => ({
  id: r.id,
  kind: r.kind,
  deviceId: r.device_id,
  state: r.state,
  input: parse(r.input),
  result: parse(r.result),
  error: parse(r.error),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class JobRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  insert(j: {
    id: string;
    kind: string;
    deviceId: string | null;
    state: JobState;
    input: unknown;
  }): JobRecord {
    const now = nowIso();
    this.sql(
      'INSERT INTO jobs (id, kind, device_id, state, input, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(j.id, j.kind, j.deviceId, j.state, JSON.stringify(j.input), now, now);
    return this.get(j.id) as JobRecord;
  }

  update(id: string, change: { state: JobState; result?: unknown; error?: unknown }): JobRecord {
    this.sql(
      'UPDATE jobs SET state = ?, result = COALESCE(?, result), error = COALESCE(?, error), updated_at = ? WHERE id = ?',
    ).run(
      change.state,
      change.result === undefined ? null : JSON.stringify(change.result),
      change.error === undefined ? null : JSON.stringify(change.error),
      nowIso(),
      id,
    );
    return this.get(id) as JobRecord;
  }

  get(id: string): JobRecord | undefined {
    const row = this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && fromRow(row);
  }

  countByState(): Record<string, number> {
    const rows = this.sql('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
      state: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }
}
