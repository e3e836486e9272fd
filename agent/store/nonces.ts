import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';

/** Nonces of signed fleet requests already run: a signed request is claimed once, ever (issue 14). */
export class NonceRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  /**
   * Records `nonce` of `keyId` as used until `expiresAt` (unix ms). False when it was already used: a replay.
   * Nonces expired by `now` are pruned first.
   */
  claim(keyId: string, nonce: string, expiresAt: number, now: number): boolean {
    this.sql('DELETE FROM used_nonces WHERE expires_at < ?').run(now);
    return (
      this.sql('INSERT OR IGNORE INTO used_nonces (key_id, nonce, expires_at) VALUES (?, ?, ?)').run(
        keyId,
        nonce,
        expiresAt,
      ).changes === 1
    );
  }

  count(): number {
    return (this.sql('SELECT count(*) AS n FROM used_nonces').get() as { n: number }).n;
  }
}
