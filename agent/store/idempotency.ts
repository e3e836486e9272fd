import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

export interface IdempotentResponse {
  requestHash: string;
  response: unknown;
}

/** Remembered results of job-creating requests, keyed by caller, operation and Idempotency-Key. */
export class IdempotencyRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  find(principal: string, operation: string, key: string): IdempotentResponse | undefined {
    const row = this.sql(
      'SELECT request_hash, response FROM idempotency WHERE principal = ? AND operation = ? AND key = ?',
    ).get(principal, operation, key) as { request_hash: string; response: string } | undefined;
    return row && { requestHash: row.request_hash, response: JSON.parse(row.response) as unknown };
  }

  save(principal: string, operation: string, key: string, r: IdempotentResponse): void {
    this.sql(
      'INSERT INTO idempotency (principal, operation, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(principal, operation, key, r.requestHash, JSON.stringify(r.response), nowIso());
  }

  /** Forgets keys older than `before` (ISO time). */
  expire(before: string): number {
    return this.sql('DELETE FROM idempotency WHERE created_at < ?').run(before).changes;
  }
}
