// Seal jobs, kept in the shared `jobs` table (kind `seal`): their own states, and the confirmation token's
// hash and expiry inside `input`. State changes are compare-and-set, so two confirmations racing each other
// cannot both move a job on.
import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

export const SEAL_JOB_STATES = [
  'pending',
  'checking',
  'firing',
  'done',
  'failed',
  'in_doubt',
  'expired',
] as const;
export type SealJobState = (typeof SEAL_JOB_STATES)[number];

export interface SealDocument {
  kind: string;
  number: string;
  hash?: string;
}

export interface SealJobRecord {
  id: string;
  device: string;
  state: SealJobState;
  document: SealDocument;
  operator: string;
  /** Name of the token that created the job. */
  createdBy: string;
  expiresAt: string;
  tokenHash: string;
  result: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

interface SealInput {
  document: SealDocument;
  operator: string;
  createdBy: string;
  expiresAt: string;
  tokenHash: string;
}

interface Row {
  id: string;
  device_id: string;
  state: SealJobState;
  input: string;
  result: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const KIND = 'seal';

function fromRow(r: Row): SealJobRecord {
  const input = JSON.parse(r.input) as SealInput;
  return {
    id: r.id,
    device: r.device_id,
    state: r.state,
    ...input,
    result: r.result === null ? null : (JSON.parse(r.result) as Record<string, unknown>),
    error: r.error === null ? null : (JSON.parse(r.error) as Record<string, unknown>),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class SealJobRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  insert(j: { id: string; device: string } & SealInput): SealJobRecord {
    const now = nowIso();
    const input: SealInput = {
      document: j.document,
      operator: j.operator,
      createdBy: j.createdBy,
      expiresAt: j.expiresAt,
      tokenHash: j.tokenHash,
    };
    this.sql(
      'INSERT INTO jobs (id, kind, device_id, state, input, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(j.id, KIND, j.device, 'pending', JSON.stringify(input), now, now);
    return this.get(j.id) as SealJobRecord;
  }

  get(id: string): SealJobRecord | undefined {
    const row = this.sql('SELECT * FROM jobs WHERE id = ? AND kind = ?').get(id, KIND) as Row | undefined;
    return row && fromRow(row);
  }

  /** Newest first. */
  list(filter: { state?: SealJobState; device?: string; limit: number }): SealJobRecord[] {
    const rows = this.sql(
      `SELECT * FROM jobs WHERE kind = ? AND (? IS NULL OR state = ?) AND (? IS NULL OR device_id = ?)
       ORDER BY rowid DESC LIMIT ?`,
    ).all(
      KIND,
      filter.state ?? null,
      filter.state ?? null,
      filter.device ?? null,
      filter.device ?? null,
      filter.limit,
    ) as Row[];
    return rows.map(fromRow);
  }

  inState(state: SealJobState): SealJobRecord[] {
    return (
      this.sql('SELECT * FROM jobs WHERE kind = ? AND state = ? ORDER BY rowid').all(KIND, state) as Row[]
    ).map(fromRow);
  }

  /** Pending jobs whose confirmation window closed before `now`. */
  overdue(now: string): SealJobRecord[] {
    return (
      this.sql(
        "SELECT * FROM jobs WHERE kind = ? AND state = 'pending' AND json_extract(input, '$.expiresAt') < ?",
      ).all(KIND, now) as Row[]
    ).map(fromRow);
  }

  /**
   * Moves a job from `from` to `to`; returns the updated job, or undefined when it was not in `from`
   * (someone else moved it first).
   */
  transition(
    id: string,
    from: SealJobState,
    to: SealJobState,
    change: { result?: Record<string, unknown>; error?: Record<string, unknown> } = {},
  ): SealJobRecord | undefined {
    const r = this.sql(
      `UPDATE jobs SET state = ?, result = COALESCE(?, result), error = COALESCE(?, error), updated_at = ?
       WHERE id = ? AND kind = ? AND state = ?`,
    ).run(
      to,
      change.result === undefined ? null : JSON.stringify(change.result),
      change.error === undefined ? null : JSON.stringify(change.error),
      nowIso(),
      id,
      KIND,
      from,
    );
    return r.changes === 1 ? this.get(id) : undefined;
  }
}
