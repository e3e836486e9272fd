// What someone with write access to state.db but not the audit key can do to the audit log: rewrite entries
// and recompute the chain with the plain SHA-256 rule of the entries made before the key existed. The tests
// use it to check that `audit verify` still notices.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: string;
  prev_hash: string;
}

/** Recomputes the hash of every entry from `from` on, unkeyed, marking them `keyed` as given. */
export function rechainWithoutKey(db: Database.Database, from: number, keyed: 0 | 1 = 1): void {
  const rows = db.prepare('SELECT * FROM audit WHERE seq >= ? ORDER BY seq').all(from) as AuditRow[];
  let prev = rows[0]?.prev_hash;
  for (const r of rows) {
    const hash = createHash('sha256')
      .update(JSON.stringify([prev, r.seq, r.at, r.actor, r.action, r.target, r.detail]))
      .digest('hex');
    db.prepare('UPDATE audit SET prev_hash = ?, hash = ?, keyed = ? WHERE seq = ?').run(
      prev,
      hash,
      keyed,
      r.seq,
    );
    prev = hash;
  }
}
