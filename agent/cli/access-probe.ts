// What the service user can really open, asked of the kernel as that user: `boxagent doctor` run as root
// starts this file as a child process that first becomes the service user (its uid, primary group and the
// groups the unit gives it), then tries each path. Computing the answer from modes and group lists would miss
// ACLs, a read-only mount and the parent folders' search bits; access(2) as the user sees all of them.
import { accessSync, constants, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AccessMode = 'r' | 'rw' | 'rwx';

export interface AccessRequest {
  path: string;
  mode: AccessMode;
  /** A folder: also create and remove a file in it (a full or read-only disk shows only then). */
  writeProbe?: boolean;
}

export interface AccessAnswer {
  path: string;
  ok: boolean;
  /** The error code (EACCES, ENOENT, EROFS…) when not ok. */
  error?: string;
}

export interface ProbeIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

const MODES: Record<AccessMode, number> = {
  r: constants.R_OK,
  rw: constants.R_OK | constants.W_OK,
  rwx: constants.R_OK | constants.W_OK | constants.X_OK,
};

const code = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

/** Checks each request as the current process's identity. */
export function checkAccess(requests: AccessRequest[]): AccessAnswer[] {
  return requests.map(({ path, mode, writeProbe }) => {
    try {
      accessSync(path, MODES[mode]);
      if (writeProbe) {
        const probe = join(path, `.doctor-${process.pid}`);
        writeFileSync(probe, 'x');
        rmSync(probe);
      }
      return { path, ok: true };
    } catch (err) {
      return { path, ok: false, error: code(err) };
    }
  });
}

/** Run as root: becomes `identity` in this process (groups first: they can only be set while still root). */
export function becomeIdentity(identity: ProbeIdentity): void {
  process.setgroups?.(identity.groups);
  process.setgid?.(identity.gid);
  process.setuid?.(identity.uid);
}

// As a child process: argv[2] is the JSON of { identity, requests }; stdout the JSON answers.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { identity, requests } = JSON.parse(process.argv[2] ?? '{}') as {
    identity: ProbeIdentity;
    requests: AccessRequest[];
  };
  becomeIdentity(identity);
  process.stdout.write(JSON.stringify(checkAccess(requests)));
}
