import type Database from 'better-sqlite3';
import { statementCache } from './statements.js';
import type { Scope } from '../../config/schema.js';
import { nowIso } from './time.js';

export interface TokenRecord {
  id: string;
  name: string;
  secretHash: Buffer;
  scopes: Scope[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** The browser Origin the token is bound to (a paired page's); null: not bound (CLI-made tokens). */
  origin: string | null;
}

interface TokenRow {
  id: string;
  name: string;
  secret_hash: Buffer;
  scopes: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  origin: string | null;
}

function fromRow(r: TokenRow): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    secretHash: r.secret_hash,
    scopes: JSON.parse(r.scopes) as Scope[],
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
    origin: r.origin,
  };
}

export class TokenRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  insert(t: {
    id: string;
    name: string;
    secretHash: Buffer;
    scopes: Scope[];
    expiresAt: string | null;
    origin?: string | null;
  }): void {
    this.sql(
      'INSERT INTO tokens (id, name, secret_hash, scopes, created_at, expires_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(t.id, t.name, t.secretHash, JSON.stringify(t.scopes), nowIso(), t.expiresAt, t.origin ?? null);
  }

  /**
   * A cheap fingerprint of the token table that changes with every create and revoke, from any process
   * (the CLI writes directly): tokens are never deleted, only added and revoked. Caches key on it.
   */
  fingerprint(): string {
    const r = this.sql('SELECT COUNT(*) AS n, COUNT(revoked_at) AS revoked FROM tokens').get() as {
      n: number;
      revoked: number;
    };
    return `${r.n}:${r.revoked}`;
  }

  get(id: string): TokenRecord | undefined {
    const row = this.sql('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row && fromRow(row);
  }

  findActiveByName(name: string): TokenRecord | undefined {
    const row = this.sql('SELECT * FROM tokens WHERE name = ? AND revoked_at IS NULL').get(name) as
      TokenRow | undefined;
    return row && fromRow(row);
  }

  list(): TokenRecord[] {
    return (this.sql('SELECT * FROM tokens ORDER BY created_at, id').all() as TokenRow[]).map(fromRow);
  }

  /** Returns false when no active token has that id or name. */
  revoke(idOrName: string): boolean {
    const r = this.sql(
      'UPDATE tokens SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL',
    ).run(nowIso(), idOrName, idOrName);
    return r.changes > 0;
  }

  touch(id: string): void {
    this.sql('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(nowIso(), id);
  }
}
