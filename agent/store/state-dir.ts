// The state directory's safety checks at open: a box that has been used (an admin token, a face key or
// spool files are there) but whose state.db is gone or empty must not quietly start over with an empty
// database, and a database SQLite cannot read is named with the way out, instead of a stack trace.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Files whose presence proves the directory has been used (main.ts's admin token, the face service's key,
 * the job engine's spool folder). Kept as names here: the store sits below the parts that write them.
 */
/** The bootstrap admin token main.ts writes for the installer (0600). */
export const BOOTSTRAP_TOKEN_FILE = 'admin.token';

export const USED_STATE_MARKERS = ['admin.token', 'face.key', 'spool'] as const;

/** Folders `boxagent reset` moves old state into; they are not part of the live state. */
export const RESET_PREFIX = 'reset-';

/** The state on disk cannot be used as it is; the message names the file and the way out. */
export class StateDirError extends Error {
  override name = 'StateDirError';
}

const WAY_OUT =
  'restore it from the backup, or run `boxagent reset --yes` to move the old state aside and start empty';

/** Throws StateDirError when `dbFile` is missing or empty while the directory shows it was in use. */
export function refuseSilentReset(dir: string, dbFile: string): void {
  const state = !existsSync(dbFile) ? 'missing' : statSync(dbFile).size === 0 ? 'empty' : null;
  if (state === null) return;
  const found = USED_STATE_MARKERS.filter((name) => marks(join(dir, name)));
  if (found.length === 0) return;
  throw new StateDirError(
    `${dbFile} is ${state} but ${dir} holds ${found.join(', ')} from earlier use (jobs, persons, tokens and the audit log would be lost): ${WAY_OUT}`,
  );
}

/** The error for a database file SQLite cannot read. */
export function corruptDatabase(dbFile: string, problem: string): StateDirError {
  return new StateDirError(`${dbFile} is damaged (${problem}): ${WAY_OUT}`);
}

/** SQLite's result codes for a file that is not a (readable) database. */
export function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

/** A file with content, or a folder holding at least one such file (the spool's per-kind folders). */
function marks(path: string): boolean {
  let st;
  try {
    st = statSync(path);
  } catch {
    return false;
  }
  if (!st.isDirectory()) return st.size > 0;
  return readdirSync(path).some((name) => marks(join(path, name)));
}
