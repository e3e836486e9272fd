// The one job table (migration 4): every durable job of every kind (print, seal, certificate, self-test).
// `input` is what was asked and never changes; `steps` is what the kind has done so far (merged, never
// replaced); the state set is the kind's own and the job engine (`agent/jobs/`) enforces it. Every state
// change is compare-and-set on the state it expects.
import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

export interface JobRecord {
  id: string;
  kind: string;
  device: string;
  state: string;
  input: unknown;
  steps: Record<string, unknown>;
  result: unknown;
  error: unknown;
  createdAt: string;
  updatedAt: string;
}

/**
 * A change along with a state move. `steps` is merged into the job's steps (a null value removes the key);
 * `result` and `error`: undefined keeps them, null clears them.
 */
export interface JobChange {
  steps?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
}

interface JobRow {
  id: string;
  kind: string;
  device: string;
  state: string;
  input: string;
  steps: string;
  result: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const parse = (s: string | null): unknown => (s === null ? null : (JSON.parse(s) as unknown));

const fromRow = (r: JobRow): JobRecord => ({
  id: r.id,
  kind: r.kind,
  device: r.device,
  state: r.state,
  input: parse(r.input),
  steps: JSON.parse(r.steps) as Record<string, unknown>,
  result: parse(r.result),
  error: parse(r.error),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

export class JobRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  insert(j: {
    id: string;
    kind: string;
    device: string;
    state: string;
    input: unknown;
    steps?: Record<string, unknown>;
  }): JobRecord {
    const now = nowIso();
    this.sql(
      'INSERT INTO jobs (id, kind, device, state, input, steps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(j.id, j.kind, j.device, j.state, JSON.stringify(j.input), JSON.stringify(j.steps ?? {}), now, now);
    return this.get(j.id) as JobRecord;
  }

  get(id: string): JobRecord | undefined {
    const row = this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && fromRow(row);
  }

  /**
   * Moves a job to `to` only if it is in one of `from` (compare-and-set): a cancel and the queue picking
   * the same job cannot both win. Returns the updated job, or undefined when it was not in `from`.
   */
  transition(id: string, from: readonly string[], to: string, change: JobChange = {}): JobRecord | undefined {
    const r = this.sql(
      `UPDATE jobs SET state = ?,
         steps = CASE WHEN ? IS NULL THEN steps ELSE json_patch(steps, ?) END,
         result = CASE WHEN ? THEN ? ELSE result END,
         error = CASE WHEN ? THEN ? ELSE error END,
         updated_at = ?
       WHERE id = ? AND state IN (SELECT value FROM json_each(?))`,
    ).run(
      to,
      change.steps === undefined ? null : 1,
      change.steps === undefined ? null : JSON.stringify(change.steps),
      change.result === undefined ? 0 : 1,
      json(change.result),
      change.error === undefined ? 0 : 1,
      json(change.error),
      nowIso(),
      id,
      JSON.stringify(from),
    );
    return r.changes === 0 ? undefined : this.get(id);
  }

  // Order is the insertion order (seq; jobs are never deleted), not created_at: the box's clock can jump
  // (a wrong RTC corrected by NTP), and a job queued after a jump back must not overtake older ones.

  /** Jobs of a kind, newest first, optionally of one state and device. */
  list(filter: { kind: string; state?: string; device?: string; limit: number }): JobRecord[] {
    const rows = this.sql(
      `SELECT * FROM jobs WHERE kind = ? AND (? IS NULL OR state = ?) AND (? IS NULL OR device = ?)
       ORDER BY seq DESC LIMIT ?`,
    ).all(
      filter.kind,
      filter.state ?? null,
      filter.state ?? null,
      filter.device ?? null,
      filter.device ?? null,
      filter.limit,
    ) as JobRow[];
    return rows.map(fromRow);
  }

  /** The oldest job of a kind in `state` for a device (FIFO per device). */
  next(kind: string, device: string, state: string): JobRecord | undefined {
    const row = this.sql(
      'SELECT * FROM jobs WHERE kind = ? AND device = ? AND state = ? ORDER BY seq LIMIT 1',
    ).get(kind, device, state) as JobRow | undefined;
    return row && fromRow(row);
  }

  /** Every job of a kind in a state, oldest first (start-up recovery). */
  inState(kind: string, state: string): JobRecord[] {
    const rows = this.sql('SELECT * FROM jobs WHERE kind = ? AND state = ? ORDER BY seq').all(
      kind,
      state,
    ) as JobRow[];
    return rows.map(fromRow);
  }

  /** How many jobs each kind has in each state (metrics, telemetry). */
  countByKindAndState(): { kind: string; state: string; count: number }[] {
    return this.sql(
      'SELECT kind, state, COUNT(*) AS count FROM jobs GROUP BY kind, state ORDER BY kind, state',
    ).all() as { kind: string; state: string; count: number }[];
  }
}
