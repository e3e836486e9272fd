import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { writeFileAtomic } from '../../config/atomic-write.js';
import { statementCache } from './statements.js';
import { nowIso } from './time.js';

/** The MAC key's file in the state dir: outside state.db, so write access to the database cannot forge. */
export const AUDIT_KEY_FILE = 'audit.key';
const KEY_BYTES = 32;

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
  hash: string;
}

/** The newest entry's seq and hash: what the fleet keeps as an anchor (telemetry `auditHead`). */
export interface AuditHead {
  seq: number;
  hash: string;
}

/** One finding of `verify`; `message` says what is wrong with entry `seq` (the CLI prints one line each). */
export interface AuditProblem {
  seq: number;
  kind: 'rewritten' | 'removed' | 'unverifiable' | 'missing-tail' | 'anchor-mismatch';
  message: string;
}

export type AuditCheck =
  | { ok: true; entries: number; legacy: number; head: AuditHead | null }
  | { ok: false; entries: number; brokenAt: number; problems: AuditProblem[] };

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
  keyed: number;
}

const GENESIS = '0'.repeat(64);

type Hashed = Pick<AuditRow, 'seq' | 'at' | 'actor' | 'action' | 'target' | 'detail'>;
const hashInput = (prev: string, r: Hashed) =>
  JSON.stringify([prev, r.seq, r.at, r.actor, r.action, r.target, r.detail]);

/** The unkeyed rule, for entries made before the key (migration 6): anyone can recompute it. */
function legacyHash(prev: string, r: Hashed): string {
  return createHash('sha256').update(hashInput(prev, r)).digest('hex');
}

function entryMac(key: Buffer, prev: string, r: Hashed): string {
  return createHmac('sha256', key).update(hashInput(prev, r)).digest('hex');
}

/** `SEQ:HASH` (a fleet anchor) → AuditHead; undefined when malformed. */
export function parseAuditHead(text: string): AuditHead | undefined {
  const m = /^([1-9]\d{0,15}):([0-9a-f]{64})$/i.exec(text.trim());
  return m ? { seq: Number(m[1]), hash: (m[2] as string).toLowerCase() } : undefined;
}

/**
 * Append-only audit log; each entry's hash covers the previous one and is an HMAC under `audit.key`, so
 * edits, deletions and a recomputed chain show, and a fleet anchor (seq, hash) shows a cut tail.
 */
export class AuditRepository {
  private readonly sql: (sql: string) => Database.Statement;
  private readonly listeners: ((entry: AuditEntry) => void)[] = [];
  private readonly appendTx: (e: Parameters<AuditRepository['append']>[0]) => AuditEntry;
  private key?: Buffer;

  /**
   * `keyFile` holds the MAC key (made on the first append). `transaction` is the store's (so what listeners
   * defer to the commit, like the event log's live listeners, waits for it); plain `db.transaction` alone.
   */
  constructor(
    db: Database.Database,
    private readonly keyFile: string,
    transaction: <T>(fn: () => T) => T = (fn) => db.transaction(fn)(),
  ) {
    this.sql = statementCache(db);
    // The entry and whatever listeners write (the event log's outbox row) commit together.
    this.appendTx = (e) => {
      const key = this.appendKey();
      return transaction(() => {
        const entry = this.insert(key, e);
        for (const listener of this.listeners) listener(entry);
        return entry;
      });
    };
  }

  /** Calls `listener` inside the appending transaction for every new entry (the event log publishes it). */
  onAppend(listener: (entry: AuditEntry) => void): void {
    this.listeners.push(listener);
  }

  append(e: {
    actor: string;
    action: string;
    target?: string;
    detail?: Record<string, unknown>;
  }): AuditEntry {
    return this.appendTx(e);
  }

  /** The newest entry, or null for an empty log. */
  head(): AuditHead | null {
    return (this.sql('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as AuditHead) ?? null;
  }

  private insert(
    key: Buffer,
    e: { actor: string; action: string; target?: string; detail?: Record<string, unknown> },
  ): AuditEntry {
    const last = this.head();
    const row = {
      seq: (last?.seq ?? 0) + 1,
      at: nowIso(),
      actor: e.actor,
      action: e.action,
      target: e.target ?? null,
      detail: JSON.stringify(e.detail ?? {}),
    };
    const prev = last?.hash ?? GENESIS;
    const hash = entryMac(key, prev, row);
    this.sql(
      'INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash, keyed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)',
    ).run(row.seq, row.at, row.actor, row.action, row.target, row.detail, prev, hash);
    return { ...row, detail: e.detail ?? {}, hash };
  }

  /** Entries after `afterSeq`, oldest first; `from`/`to` (ISO-8601 UTC, inclusive) bound their time. */
  list(afterSeq: number, limit: number, range: { from?: string; to?: string } = {}): AuditEntry[] {
    const rows = this.sql(
      'SELECT * FROM audit WHERE seq > ? AND (? IS NULL OR at >= ?) AND (? IS NULL OR at <= ?) ORDER BY seq LIMIT ?',
    ).all(
      afterSeq,
      range.from ?? null,
      range.from ?? null,
      range.to ?? null,
      range.to ?? null,
      limit,
    ) as AuditRow[];
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
      hash: r.hash,
    }));
  }

  /**
   * Walks the chain (stopping at the first break: what follows it is its consequence) and, given the fleet's
   * anchor, checks that the log still reaches it with the same hash. Entries made before the key
   * (`legacy`) are checked by the unkeyed rule, and only at the start of the chain.
   */
  verify(anchor?: AuditHead): AuditCheck {
    let key: Buffer | undefined;
    try {
      key = readKey(this.keyFile);
    } catch {
      key = undefined; // reported as unverifiable at the first keyed entry
    }
    const problems: AuditProblem[] = [];
    let prev = GENESIS;
    let prevSeq = 0;
    let entries = 0;
    let legacy = 0;
    let keyedSeen = false;
    for (const r of this.sql('SELECT * FROM audit ORDER BY seq').iterate() as Iterable<AuditRow>) {
      const problem = this.checkRow(r, prev, prevSeq, key, keyedSeen);
      if (problem) {
        problems.push(problem);
        break;
      }
      if (r.keyed) keyedSeen = true;
      else legacy++;
      prev = r.hash;
      prevSeq = r.seq;
      entries++;
    }
    if (anchor) {
      const last = this.head();
      const at = this.sql('SELECT hash FROM audit WHERE seq = ?').get(anchor.seq) as
        { hash: string } | undefined;
      if (!at && (last?.seq ?? 0) < anchor.seq) {
        const missing = anchor.seq - (last?.seq ?? 0);
        problems.push({
          seq: anchor.seq,
          kind: 'missing-tail',
          message: `missing tail (the log ends at entry ${last?.seq ?? 0}: ${missing} or more entries were removed)`,
        });
      } else if (at?.hash !== anchor.hash) {
        problems.push({
          seq: anchor.seq,
          kind: 'anchor-mismatch',
          message: `differs from the anchor (${at ? 'another hash' : 'gone'}: the log was rewritten up to there)`,
        });
      }
    }
    if (problems.length === 0) return { ok: true, entries, legacy, head: this.head() };
    problems.sort((a, b) => a.seq - b.seq);
    return { ok: false, entries, brokenAt: (problems[0] as AuditProblem).seq, problems };
  }

  private checkRow(
    r: AuditRow,
    prev: string,
    prevSeq: number,
    key: Buffer | undefined,
    keyedSeen: boolean,
  ): AuditProblem | undefined {
    const seq = r.seq;
    if (r.prev_hash !== prev) {
      return {
        seq,
        kind: 'removed',
        message: `does not follow entry ${prevSeq} (an entry between them was removed or replaced)`,
      };
    }
    if (!r.keyed) {
      // An unkeyed entry after a keyed one is a recomputed (downgraded) chain, never a pre-key entry.
      if (keyedSeen || legacyHash(prev, r) !== r.hash) {
        const why = keyedSeen ? 'unkeyed after keyed entries' : 'its hash does not match';
        return { seq, kind: 'rewritten', message: `rewritten (${why})` };
      }
      return undefined;
    }
    if (!key) {
      return {
        seq,
        kind: 'unverifiable',
        message: `cannot be checked (${this.keyFile} is missing or unreadable)`,
      };
    }
    if (entryMac(key, prev, r) !== r.hash) {
      return {
        seq,
        kind: 'rewritten',
        message: `rewritten (its MAC does not match: changed without the audit key)`,
      };
    }
    return undefined;
  }

  /**
   * The key for a new entry, made on first use. A key file that went missing after keyed entries were made
   * is made anew too: the box keeps auditing, and `verify` reports the older entries as unverifiable.
   */
  private appendKey(): Buffer {
    this.key ??= readKey(this.keyFile) ?? createKey(this.keyFile);
    return this.key;
  }
}

function readKey(file: string): Buffer | undefined {
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (key.length !== KEY_BYTES) throw new Error(`${file} is not a ${KEY_BYTES}-byte audit key`);
  return key;
}

function createKey(file: string): Buffer {
  try {
    // Exclusive (link): two processes making the key at once (daemon and CLI) end up with the same one.
    writeFileAtomic(file, randomBytes(KEY_BYTES), { exclusive: true, mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readKey(file) as Buffer;
}
