// The state a backup carries, gathered for `boxagent backup create|scheduled` and for the daemon before an
// update: an online snapshot of state.db (SQLite's backup API: the daemon may keep writing) and the state
// dir's key files. The snapshot is taken into a 0700 work folder inside the state dir and removed.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeFileAtomic } from '../../config/atomic-write.js';
import { sealBackup, type BackupHeader, type PackedFile, type Sealing } from './backup-format.js';
import { KEY_FILE as FACE_KEY_FILE } from '../face/template-cipher.js';
import { AUDIT_KEY_FILE } from '../store/audit.js';
import { BOOTSTRAP_TOKEN_FILE } from '../store/state-dir.js';
import { DB_FILE } from '../store/store.js';

/**
 * The state dir's files besides state.db that a backup carries: the audit MAC key (without it the chain
 * cannot be verified or continued), the face template key (without it every person must be enrolled again),
 * the bootstrap admin token (the CLI's way to the daemon; its hash is in state.db either way) and the
 * fleet's applied config. Not the spool: a restored box must not print yesterday's queued documents.
 */
/** config-sync.ts's FLEET_CONFIG_FILE, named here because services sit below the fleet adapter (a test checks). */
export const FLEET_CONFIG_FILE_NAME = 'fleet-config.json';

export const BACKUP_KEY_FILES = [
  AUDIT_KEY_FILE,
  FACE_KEY_FILE,
  BOOTSTRAP_TOKEN_FILE,
  FLEET_CONFIG_FILE_NAME,
] as const;

/** An online, consistent copy of the live database (the daemon may keep writing: WAL readers never block). */
export async function snapshotDatabase(dbFile: string, into: string): Promise<void> {
  // Made empty and 0600 first: SQLite keeps the mode of a file it opens.
  writeFileSync(into, '', { mode: 0o600 });
  const src = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    // A write by another connection restarts a backup; copying all pages per step cannot be outrun.
    await src.backup(into, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
  } finally {
    src.close();
  }
}

/**
 * The state of `dir` as packed files (state.db first), with `inspect` called on the snapshot before it is
 * removed (the CLI counts its rows). The caller zeroes the buffers when done.
 */
export async function gatherState<T>(
  dir: string,
  inspect: (snapshotFile: string) => T,
): Promise<{ files: PackedFile[]; inspected: T }> {
  const dbFile = join(dir, DB_FILE);
  const work = mkdtempSync(join(dir, '.backup-'));
  const files: PackedFile[] = [];
  try {
    const copy = join(work, DB_FILE);
    await snapshotDatabase(dbFile, copy);
    const inspected = inspect(copy);
    files.push({ name: DB_FILE, mode: 0o600, data: readFileSync(copy) });
    for (const name of BACKUP_KEY_FILES) {
      const path = join(dir, name);
      if (!existsSync(path)) continue;
      files.push({ name, mode: statSync(path).mode & 0o777, data: readFileSync(path) });
    }
    return { files, inspected };
  } catch (err) {
    for (const f of files) f.data.fill(0);
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Seals gathered files and writes the backup file `out` (0600, atomically; `exclusive`: never replace). */
export function writeSealedBackup(
  out: string,
  files: PackedFile[],
  sealing: Sealing,
  meta: { boxId: string; agentVersion: string },
  exclusive: boolean,
): { bytes: Buffer; header: BackupHeader } {
  const sealed = sealBackup(files, sealing, meta);
  writeFileAtomic(out, sealed.bytes, { mode: 0o600, exclusive });
  return sealed;
}
