// The one module that owns the SQLite database. Everything else goes through the repositories it exposes.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { TokenRepository } from './tokens.js';
import { OutboxRepository } from './outbox.js';
import { AUDIT_KEY_FILE, AuditRepository } from './audit.js';
import { JobRepository } from './jobs.js';
import { IdempotencyRepository } from './idempotency.js';
import { PersonRepository } from './persons.js';
import { NonceRepository } from './nonces.js';
import { PairingRepository } from './pairings.js';
import { AdminLinkRepository } from './admin-links.js';
import { ConfigRollbackRepository } from './config-rollbacks.js';
import { corruptDatabase, isCorruption, refuseSilentReset } from './state-dir.js';

export const DB_FILE = 'state.db';

export class StoreError extends Error {
  override name = 'StoreError';
}

export class Store {
  readonly tokens: TokenRepository;
  readonly outbox: OutboxRepository;
  readonly audit: AuditRepository;
  readonly jobs: JobRepository;
  readonly idempotency: IdempotencyRepository;
  readonly persons: PersonRepository;
  readonly nonces: NonceRepository;
  readonly pairings: PairingRepository;
  readonly adminLinks: AdminLinkRepository;
  readonly configRollbacks: ConfigRollbackRepository;

  private readonly pingStatement: Database.Statement;
  private pingedAt = 0;
  private pingOk = false;
  private depth = 0;
  private readonly onCommit: (() => void)[] = [];

  private constructor(
    private readonly db: Database.Database,
    private readonly dbFile: string,
  ) {
    this.pingStatement = db.prepare('SELECT 1 AS ok');
    this.tokens = new TokenRepository(db);
    this.outbox = new OutboxRepository(db);
    this.audit = new AuditRepository(db, join(dirname(dbFile), AUDIT_KEY_FILE), (fn) => this.transaction(fn));
    this.jobs = new JobRepository(db);
    this.idempotency = new IdempotencyRepository(db);
    this.persons = new PersonRepository(db);
    this.nonces = new NonceRepository(db);
    this.pairings = new PairingRepository(db);
    this.adminLinks = new AdminLinkRepository(db);
    this.configRollbacks = new ConfigRollbackRepository(db);
  }

  /**
   * Opens (creating if needed) `<dir>/state.db`, in WAL mode, migrated to the latest schema. Throws
   * StateDirError when the file is missing or empty in a directory that was in use, or is not a readable
   * database: never a silent fresh start.
   */
  static open(dir: string): Store {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, DB_FILE);
    refuseSilentReset(dir, file);
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw isCorruption(err) ? corruptDatabase(file, (err as Error).message) : err;
    }
    try {
      // Refuse a newer schema before changing anything in the file (WAL mode is a change).
      checkVersion(db);
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commit.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      // Deleted rows are overwritten, not left in free pages: erasing a person must erase their templates.
      db.pragma('secure_delete = ON');
      migrate(db);
    } catch (err) {
      db.close();
      throw isCorruption(err) ? corruptDatabase(file, (err as Error).message) : err;
    }
    return new Store(db, file);
  }

  /** The database file's path, for messages. */
  get file(): string {
    return this.dbFile;
  }

  /**
   * Copies the WAL into the database and truncates it. After an erasure: the deleted rows were zeroed in
   * the database pages (secure_delete), but older copies of those pages stay in state.db-wal until then.
   * False when it could not finish (another process reading, a full disk): the erasure has committed all
   * the same, and the next checkpoint (SQLite's automatic one, or the one at close) clears the WAL.
   */
  checkpoint(): boolean {
    try {
      const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return r?.busy === 0;
    } catch {
      return false;
    }
  }

  /** Runs `fn` in one transaction: every repository call inside commits or rolls back together. */
  transaction<T>(fn: () => T): T {
    const mark = this.onCommit.length;
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn)();
    } catch (err) {
      // Rolled back (this level or, nested, its savepoint): what it queued never happened.
      this.onCommit.length = mark;
      throw err;
    } finally {
      this.depth--;
    }
    if (this.depth === 0) for (const run of this.onCommit.splice(0)) run();
    return result;
  }

  /**
   * Runs `fn` once the enclosing `transaction` has committed, or at once outside one; never if it rolls back.
   * Live listeners (SSE, the fleet link) are told of an event only when it is really stored.
   */
  afterCommit(fn: () => void): void {
    if (this.depth === 0) fn();
    else this.onCommit.push(fn);
  }

  /**
   * True when the database answers a trivial query. Health checks call this on every request; the answer is
   * kept for a second so a busy health endpoint costs the database nothing.
   */
  ping(): boolean {
    const now = Date.now();
    if (now - this.pingedAt >= 1000 || now < this.pingedAt) {
      this.pingedAt = now;
      try {
        this.pingOk = (this.pingStatement.get() as { ok: number } | undefined)?.ok === 1;
      } catch {
        this.pingOk = false;
      }
    }
    return this.pingOk;
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * `ok`, or SQLite's list of problems. The quick check (start-up) skips index contents; `full` runs
   * `PRAGMA integrity_check`, which also matches every index against its table (fault tests, doctor).
   */
  integrityCheck(opts: { full?: boolean } = {}): string {
    const pragma = opts.full ? 'integrity_check' : 'quick_check';
    const rows = this.db.pragma(pragma) as Record<string, string>[];
    return rows.map((r) => r[pragma]).join('; ');
  }

  close(): void {
    if (!this.db.open) return;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}

function checkVersion(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StoreError(
      `state.db has schema version ${current}, newer than this boxagent knows (${MIGRATIONS.length}); refusing to run an older version on it`,
    );
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
