// One-time admin login links (`boxagent admin-link`): only a hash of each link's secret is stored. A link is
// used by moving `used_at` from null in one UPDATE, so two exchanges racing (two processes, two tabs) cannot
// both win.
import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';

export class AdminLinkRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  insert(link: { secretHash: string; createdBy: string; createdAt: string; expiresAt: string }): void {
    this.sql(
      'INSERT INTO admin_links (secret_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ).run(link.secretHash, link.createdBy, link.createdAt, link.expiresAt);
  }

  /**
   * Marks the unused, unexpired link with this hash used; false when there is none (unknown, used or
   * expired: the caller does not say which).
   */
  use(secretHash: string, nowIso: string): boolean {
    const r = this.sql(
      'UPDATE admin_links SET used_at = ? WHERE secret_hash = ? AND used_at IS NULL AND expires_at > ?',
    ).run(nowIso, secretHash, nowIso);
    return r.changes > 0;
  }

  /** Records the session token a used link was exchanged for. */
  exchangedFor(secretHash: string, tokenId: string): void {
    this.sql('UPDATE admin_links SET token_id = ? WHERE secret_hash = ?').run(tokenId, secretHash);
  }

  /** Removes links that expired before `beforeIso` (the audit log keeps their story). */
  purge(beforeIso: string): number {
    return this.sql('DELETE FROM admin_links WHERE expires_at < ?').run(beforeIso).changes;
  }
}
