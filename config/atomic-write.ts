// Writing a file so that a crash or power loss leaves either the old content or the new one, never a torn
// or empty file: a temp file beside it, fsync, rename (or link, for "create only if absent"), then fsync of
// the directory so the rename itself is on disk. Config files and every state file go through here. It sits
// in config/ because config/ may import nothing from agent/ and both need it.
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of a new file (default 0600: state files hold secrets or personal data). */
  mode?: number;
  /** Fail with EEXIST instead of replacing an existing file (two processes making the same key). */
  exclusive?: boolean;
  /** Owner and group of the new file (a config written by root for the service's group), mode then exact. */
  owner?: { uid: number; gid: number };
}

export function writeFileAtomic(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', opts.mode ?? 0o600);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
    if (opts.owner) {
      fchownSync(fd, opts.owner.uid, opts.owner.gid);
      fchmodSync(fd, opts.mode ?? 0o600); // the umask may have taken the group's read bit
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    // link(2) fails when the target exists, so "exclusive" stays atomic and never overwrites.
    if (opts.exclusive) linkSync(tmp, file);
    else renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  fsyncDir(dir);
}

/** Makes a rename, link or unlink in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
