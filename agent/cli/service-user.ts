// The service user (`storage.owner`, `boxagent` by default: User= of boxagent.service) and the one rule every
// CLI command run as root follows for the state dir: it works as root, then hands whatever it created under
// the state dir to the service user. Otherwise a `boxagent token create` before the first start leaves a
// root-owned state.db and the daemon loops on "attempt to write a readonly database".
//
// Handing over (chown of what is new) rather than dropping privileges: the same commands read and write the
// installer's own files (a backup on a root-only USB stick, face photos under /root), which the service user
// may not reach. Only entries that did not exist before the command and are owned by root are changed, so a
// mistaken storage.dir (`/var/lib`) can never give away anything the command did not make.
import { existsSync, lchownSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeConfigFile } from '../../config/edit.js';
import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';

export interface ServiceAccount {
  user: string;
  uid: number;
  /** The primary group (Group= of the unit is the user's own group). */
  gid: number;
  group: string;
  /** Every group the daemon runs with: the user's memberships in /etc/group and the unit's SupplementaryGroups=. */
  groups: number[];
}

/** Installed unit files, most specific first; the packaged one beside dist/ last. */
const UNIT_FILES = [
  '/etc/systemd/system/boxagent.service',
  '/usr/lib/systemd/system/boxagent.service',
  '/lib/systemd/system/boxagent.service',
];

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** The unit's SupplementaryGroups= names (what systemd adds to the user's own groups). */
export function unitSupplementaryGroups(): string[] {
  const shipped = join(packageRoot() ?? '/nonexistent', 'systemd/boxagent.service');
  const file = [...UNIT_FILES, shipped].find((f) => existsSync(f));
  if (!file) return [];
  return readLines(file)
    .filter((l) => l.startsWith('SupplementaryGroups='))
    .flatMap((l) => l.slice('SupplementaryGroups='.length).trim().split(/\s+/))
    .filter(Boolean);
}

/** The package root (the folder holding systemd/), from the source tree or from dist/. */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'systemd/boxagent.service'))) {
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return dir;
}

/**
 * The account named `user` from /etc/passwd and /etc/group (system users made by sysusers live there), or
 * undefined when there is none (a development machine, an image before the package is installed).
 */
export function lookupAccount(user: string): ServiceAccount | undefined {
  const entry = readLines('/etc/passwd')
    .map((l) => l.split(':'))
    .find((f) => f[0] === user);
  if (!entry) return undefined;
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  const groups = readLines('/etc/group').map((l) => l.split(':'));
  const wanted = new Set(unitSupplementaryGroups());
  const gids = new Set<number>([gid]);
  let group = String(gid);
  for (const [name, , id, members] of groups) {
    if (name === undefined || id === undefined) continue;
    if (Number(id) === gid) group = name;
    if (wanted.has(name) || (members ?? '').split(',').includes(user)) gids.add(Number(id));
  }
  return { user, uid, gid, group, groups: [...gids] };
}

export function serviceAccount(config: Pick<Config, 'storage'>): ServiceAccount | undefined {
  return lookupAccount(config.storage.owner);
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Owner and group for a config file the CLI writes: root:<service group>, so the daemon can read it at 0640.
 * Undefined when not root or when the service user does not exist (then the file is the caller's own).
 */
export function configFileOwner(config: Pick<Config, 'storage'>): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const account = serviceAccount(config);
  return account ? { uid: 0, gid: account.gid } : undefined;
}

interface Watched {
  dir: string;
  account: ServiceAccount;
  /** path → inode before the command: what is not in here (or has another inode) was made by it. */
  before: Map<string, number>;
}

const watched = new Map<string, Watched>();

function inodes(dir: string, into = new Map<string, number>()): Map<string, number> {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return into;
  }
  into.set(dir, st.ino);
  if (st.isDirectory()) for (const name of readdirSync(dir)) inodes(join(dir, name), into);
  return into;
}

/**
 * Starts watching the config's state dir for this command when it runs as root and the service user
 * exists; `handOverCreated` (called once when the command ends, in main.ts) gives away what it created.
 * Every command that may write to the state dir calls this before it does (openStore/withStore do).
 */
export function watchStateDir(config: Pick<Config, 'storage'>): void {
  if (!isRoot()) return;
  const dir = resolve(config.storage.dir);
  if (watched.has(dir)) return;
  const account = serviceAccount(config);
  if (!account) return;
  watched.set(dir, { dir, account, before: inodes(dir) });
}

/** Chowns every root-owned entry created under the watched state dirs to the service user; returns them. */
export function handOverCreated(): string[] {
  const changed: string[] = [];
  for (const { dir, account, before } of watched.values()) {
    for (const [path, ino] of inodes(dir)) {
      if (before.get(path) === ino) continue;
      try {
        if (lstatSync(path).uid !== 0) continue;
        lchownSync(path, account.uid, account.gid);
        changed.push(path);
      } catch {
        // Gone meanwhile (SQLite's -wal at close): nothing to hand over.
      }
    }
  }
  watched.clear();
  return changed;
}

/** Writes a config file as `config set`/`init` do, root:<service group> 0640 when run as root. */
export function writeServiceConfig(file: string, text: string): { backup?: string } {
  let config: Config;
  try {
    config = parseConfig(text, file, process.env); // BOXAGENT_STORAGE_OWNER applies, as everywhere
  } catch {
    config = parseConfig(text, file); // a bad override elsewhere must not stop writing a valid file
  }
  return writeConfigFile(file, text, configFileOwner(config));
}
