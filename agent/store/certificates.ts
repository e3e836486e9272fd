// Certificate jobs: compose the card image, print it on the photo printer, then create the seal job.
// State changes are compare-and-set (a cancel and the queue cannot both win); the columns record which
// steps are behind a job, so a restart resumes at the right one and never repeats the print silently.
import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

export const CERTIFICATE_STATES = [
  'queued',
  'composing',
  'printing',
  'printed',
  'failed',
  'in_doubt',
  'canceled',
] as const;
export type CertificateState = (typeof CERTIFICATE_STATES)[number];

/** What the request asked for, kept as given (the photo is a spool file beside the job). */
export interface CertificateInput {
  fields: Record<string, string>;
  seal: { device: string; operator: string } | null;
  submittedBy: string;
}

export interface CertificateRecord {
  id: string;
  printer: string;
  template: string;
  state: CertificateState;
  input: CertificateInput;
  documentSha256: string | null;
  remoteJobId: number | null;
  sealJobId: string | null;
  sealToken: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  printer: string;
  template: string;
  state: CertificateState;
  input: string;
  document_sha256: string | null;
  remote_job_id: number | null;
  seal_job_id: string | null;
  seal_token: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const fromRow = (r: Row): CertificateRecord => ({
  id: r.id,
  printer: r.printer,
  template: r.template,
  state: r.state,
  input: JSON.parse(r.input) as CertificateInput,
  documentSha256: r.document_sha256,
  remoteJobId: r.remote_job_id,
  sealJobId: r.seal_job_id,
  sealToken: r.seal_token,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Columns a step may set along with a state change (undefined: left as is; null: cleared). */
export interface CertificateChange {
  documentSha256?: string;
  remoteJobId?: number;
  error?: string | null;
}

export class CertificateRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  insert(c: { id: string; printer: string; template: string; input: CertificateInput }): CertificateRecord {
    const now = nowIso();
    this.sql(
      `INSERT INTO certificates (id, printer, template, state, input, created_at, updated_at)
       VALUES (?, ?, ?, 'queued', ?, ?, ?)`,
    ).run(c.id, c.printer, c.template, JSON.stringify(c.input), now, now);
    return this.get(c.id)!;
  }

  get(id: string): CertificateRecord | undefined {
    const row = this.sql('SELECT * FROM certificates WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  list(filter: { state?: CertificateState; printer?: string; limit: number }): CertificateRecord[] {
    const rows = this.sql(
      `SELECT * FROM certificates WHERE (? IS NULL OR state = ?) AND (? IS NULL OR printer = ?)
       ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    ).all(
      filter.state ?? null,
      filter.state ?? null,
      filter.printer ?? null,
      filter.printer ?? null,
      filter.limit,
    ) as Row[];
    return rows.map(fromRow);
  }

  inState(state: CertificateState): CertificateRecord[] {
    return (
      this.sql('SELECT * FROM certificates WHERE state = ? ORDER BY created_at, rowid').all(state) as Row[]
    ).map(fromRow);
  }

  nextQueued(printer: string): CertificateRecord | undefined {
    const row = this.sql(
      "SELECT * FROM certificates WHERE printer = ? AND state = 'queued' ORDER BY created_at, rowid LIMIT 1",
    ).get(printer) as Row | undefined;
    return row && fromRow(row);
  }

  /** Printed certificates that asked for a seal whose seal job is not created yet. */
  awaitingSealJob(): CertificateRecord[] {
    return (
      this.sql(
        `SELECT * FROM certificates WHERE state = 'printed' AND seal_job_id IS NULL
         AND json_extract(input, '$.seal') IS NOT NULL ORDER BY created_at`,
      ).all() as Row[]
    ).map(fromRow);
  }

  /** Moves a job from one of `from` to `to`; undefined when it was elsewhere (someone moved it first). */
  transition(
    id: string,
    from: readonly CertificateState[],
    to: CertificateState,
    change: CertificateChange = {},
  ): CertificateRecord | undefined {
    const r = this.sql(
      `UPDATE certificates SET state = ?,
         document_sha256 = COALESCE(?, document_sha256),
         remote_job_id = COALESCE(?, remote_job_id),
         error = CASE WHEN ? THEN ? ELSE error END,
         updated_at = ?
       WHERE id = ? AND state IN (SELECT value FROM json_each(?))`,
    ).run(
      to,
      change.documentSha256 ?? null,
      change.remoteJobId ?? null,
      change.error === undefined ? 0 : 1,
      change.error ?? null,
      nowIso(),
      id,
      JSON.stringify(from),
    );
    return r.changes === 1 ? this.get(id) : undefined;
  }

  /** Records the printer's job id as soon as the printer gives it (the job is then known to be there). */
  setRemoteJob(id: string, remoteJobId: number): void {
    this.sql('UPDATE certificates SET remote_job_id = ?, updated_at = ? WHERE id = ?').run(
      remoteJobId,
      nowIso(),
      id,
    );
  }

  setSealJob(id: string, sealJobId: string, token: string): CertificateRecord {
    this.sql('UPDATE certificates SET seal_job_id = ?, seal_token = ?, updated_at = ? WHERE id = ?').run(
      sealJobId,
      token,
      nowIso(),
      id,
    );
    return this.get(id)!;
  }

  /** Forgets the seal job's confirmation token once the seal job is no longer pending. */
  clearSealToken(id: string): void {
    this.sql('UPDATE certificates SET seal_token = NULL WHERE id = ?').run(id);
  }

  countByState(): Record<string, number> {
    const rows = this.sql('SELECT state, COUNT(*) AS n FROM certificates GROUP BY state').all() as {
      state: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }
}
