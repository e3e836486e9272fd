// Pairing requests (issue 15): a page asks for a token, an admin approves it by its code on the box. Rows are
// keyed by a hash of the requester's poll id, never the id itself; the token they lead to is not stored here.
import type Database from 'better-sqlite3';
import type { Scope } from '../../config/schema.js';
import { statementCache } from './statements.js';

export const PAIRING_STATES = ['pending', 'approved', 'denied', 'expired'] as const;
export type PairingState = (typeof PAIRING_STATES)[number];

export interface PairingRecord {
  idHash: string;
  code: string;
  name: string;
  origin: string;
  /** The scopes asked for. */
  scopes: Scope[];
  state: PairingState;
  /** The scopes granted (a subset of `scopes`), once approved. */
  approvedScopes: Scope[] | null;
  decidedBy: string | null;
  decidedAt: string | null;
  /** The token issued when the requester collected it (it is given once). */
  tokenId: string | null;
  deliveredAt: string | null;
  createdAt: string;
  /** Pending: when the request lapses. Approved: until when the token can be collected. */
  expiresAt: string;
}

interface PairingRow {
  id_hash: string;
  code: string;
  name: string;
  origin: string;
  scopes: string;
  state: PairingState;
  approved_scopes: string | null;
  decided_by: string | null;
  decided_at: string | null;
  token_id: string | null;
  delivered_at: string | null;
  created_at: string;
  expires_at: string;
}

function fromRow(r: PairingRow): PairingRecord {
  return {
    idHash: r.id_hash,
    code: r.code,
    name: r.name,
    origin: r.origin,
    scopes: JSON.parse(r.scopes) as Scope[],
    state: r.state,
    approvedScopes: r.approved_scopes === null ? null : (JSON.parse(r.approved_scopes) as Scope[]),
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    tokenId: r.token_id,
    deliveredAt: r.delivered_at,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

export class PairingRepository {
  private readonly sql: (sql: string) => Database.Statement;

  constructor(db: Database.Database) {
    this.sql = statementCache(db);
  }

  insert(p: {
    idHash: string;
    code: string;
    name: string;
    origin: string;
    scopes: Scope[];
    createdAt: string;
    expiresAt: string;
  }): void {
    this.sql(
      `INSERT INTO pairings (id_hash, code, name, origin, scopes, state, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
    ).run(p.idHash, p.code, p.name, p.origin, JSON.stringify(p.scopes), p.createdAt, p.expiresAt);
  }

  byIdHash(idHash: string): PairingRecord | undefined {
    const row = this.sql('SELECT * FROM pairings WHERE id_hash = ?').get(idHash) as PairingRow | undefined;
    return row && fromRow(row);
  }

  byCode(code: string): PairingRecord | undefined {
    const row = this.sql('SELECT * FROM pairings WHERE code = ?').get(code) as PairingRow | undefined;
    return row && fromRow(row);
  }

  codeInUse(code: string): boolean {
    return this.sql('SELECT 1 FROM pairings WHERE code = ?').get(code) !== undefined;
  }

  /** Pending requests, oldest first (expired ones included until `due` marks them). */
  pending(origin?: string): PairingRecord[] {
    const rows = (
      origin === undefined
        ? this.sql("SELECT * FROM pairings WHERE state = 'pending' ORDER BY created_at, code").all()
        : this.sql(
            "SELECT * FROM pairings WHERE state = 'pending' AND origin = ? ORDER BY created_at, code",
          ).all(origin)
    ) as PairingRow[];
    return rows.map(fromRow);
  }

  /** Pending requests past their time, and approved ones whose token was not collected in time. */
  due(nowIso: string): PairingRecord[] {
    return (
      this.sql(
        `SELECT * FROM pairings WHERE expires_at <= ?
           AND (state = 'pending' OR (state = 'approved' AND token_id IS NULL))`,
      ).all(nowIso) as PairingRow[]
    ).map(fromRow);
  }

  /** Moves a row from `from` to `to`; false when it was not in `from` (another process got there first). */
  decide(
    idHash: string,
    from: PairingState,
    to: PairingState,
    change: { by?: string; at: string; approvedScopes?: Scope[]; expiresAt?: string },
  ): boolean {
    const r = this.sql(
      `UPDATE pairings SET state = ?, decided_by = COALESCE(?, decided_by), decided_at = COALESCE(decided_at, ?),
         approved_scopes = COALESCE(?, approved_scopes), expires_at = COALESCE(?, expires_at)
       WHERE id_hash = ? AND state = ? AND token_id IS NULL`,
    ).run(
      to,
      change.by ?? null,
      change.at,
      change.approvedScopes ? JSON.stringify(change.approvedScopes) : null,
      change.expiresAt ?? null,
      idHash,
      from,
    );
    return r.changes > 0;
  }

  /** Records the token issued for an approved pairing; false when one was issued already. */
  delivered(idHash: string, tokenId: string, at: string): boolean {
    const r = this.sql(
      `UPDATE pairings SET token_id = ?, delivered_at = ?
       WHERE id_hash = ? AND state = 'approved' AND token_id IS NULL`,
    ).run(tokenId, at, idHash);
    return r.changes > 0;
  }

  /** Removes settled requests older than `beforeIso` (the audit log keeps their story). */
  purge(beforeIso: string): number {
    return this.sql("DELETE FROM pairings WHERE state <> 'pending' AND expires_at < ?").run(beforeIso)
      .changes;
  }
}
