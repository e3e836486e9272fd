import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

export type JobState = 'queued' | 'sending' | 'done' | 'failed' | 'in_doubt' | 'canceled';

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

  /**
   * Moves a job to `change.state` only if it is in one of `from` (compare-and-set): a cancel and the queue
   * picking the same job cannot both win. Returns the updated job, or undefined when it was not in `from`.
   */
  transition(
    id: string,
    from: readonly JobState[],
    change: { state: JobState; result?: unknown; error?: unknown },
  ): JobRecord | undefined {
    const placeholders = from.map(() => '?').join(', ');
    const r = this.sql(
      `UPDATE jobs SET state = ?, result = COALESCE(?, result), error = COALESCE(?, error), updated_at = ? WHERE id = ? AND state IN (${placeholders})`,
    ).run(
      change.state,
      change.result === undefined ? null : JSON.stringify(change.result),
      change.error === undefined ? null : JSON.stringify(change.error),
      nowIso(),
      id,
      ...from,
    );
    return r.changes === 0 ? undefined : this.get(id);
  }

  // Order is the insertion order (rowid; jobs are never deleted), not created_at: the box's clock can jump
  // (a wrong RTC corrected by NTP), and a job queued after a jump back must not overtake older ones.

  /** Jobs of a kind, newest first, optionally of one state and device. */
  list(filter: { kind: string; state?: JobState; deviceId?: string; limit: number }): JobRecord[] {
    const rows = this.sql(
      `SELECT * FROM jobs WHERE kind = ? AND (? IS NULL OR state = ?) AND (? IS NULL OR device_id = ?)
       ORDER BY rowid DESC LIMIT ?`,
    ).all(
      filter.kind,
      filter.state ?? null,
      filter.state ?? null,
      filter.deviceId ?? null,
      filter.deviceId ?? null,
      filter.limit,
    ) as JobRow[];
    return rows.map(fromRow);
  }

  /** The oldest queued job of a kind for a device (FIFO per device). */
  nextQueued(kind: string, deviceId: string): JobRecord | undefined {
    const row = this.sql(
      "SELECT * FROM jobs WHERE kind = ? AND device_id = ? AND state = 'queued' ORDER BY rowid LIMIT 1",
    ).get(kind, deviceId) as JobRow | undefined;
    return row && fromRow(row);
  }

  /** Every job of a kind in a state, oldest first (start-up recovery). */
  inState(kind: string, state: JobState): JobRecord[] {
    const rows = this.sql('SELECT * FROM jobs WHERE kind = ? AND state = ? ORDER BY rowid').all(
      kind,
      state,
    ) as JobRow[];
    return rows.map(fromRow);
  }

  countByState(): Record<string, number> {
    const rows = this.sql('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
      state: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }
}
