// On rollback: a release that migrated state.db to a newer schema leaves a database the old version refuses
// (exit 65, which systemd does not restart). The boot selector then puts back the pre-update copy the update
// took, moving the migrated database aside (never deleting it). better-sqlite3 is loaded only here, only then:
// the boot selector stays light on every other start.
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fsyncDir } from '../../config/atomic-write.js';

const DB = 'state.db';

interface SqliteDatabase {
  pragma(source: string, options: { simple: true }): unknown;
  close(): void;
}
type SqliteConstructor = new (
  file: string,
  options: { readonly: boolean; fileMustExist: boolean },
) => SqliteDatabase;

function schemaVersion(Database: SqliteConstructor, file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Number(db.pragma('user_version', { simple: true }));
  } finally {
    db.close();
  }
}

/**
 * When `state.db` beside `preUpdate` has a newer schema than the copy in `preUpdate`, moves it (with its WAL
 * files) into `<state dir>/rolled-back-<time>/` and copies the pre-update one in. Returns where the migrated
 * database went, or undefined when nothing had to change.
 */
export function restoreStateIfMigrated(preUpdate: string, now = new Date()): string | undefined {
  const stateDir = dirname(preUpdate);
  const live = join(stateDir, DB);
  const copy = join(preUpdate, DB);
  if (!existsSync(live) || !existsSync(copy)) return undefined;
  const Database = createRequire(import.meta.url)('better-sqlite3') as SqliteConstructor;
  if (schemaVersion(Database, live) <= schemaVersion(Database, copy)) return undefined;
  const aside = join(stateDir, `rolled-back-${now.toISOString().replace(/[-:.]/g, '')}`);
  mkdirSync(aside, { mode: 0o700 });
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(live + suffix)) renameSync(live + suffix, join(aside, DB + suffix));
  }
  copyFileSync(copy, live);
  fsyncDir(stateDir);
  return aside;
}
