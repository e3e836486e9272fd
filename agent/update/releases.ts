// Fleet-installed releases on a box (LAYOUT: /var/lib/boxagent/releases): versioned app trees, the `current`
// symlink that selects one, and the two records that carry an update across restarts: `trial.json` (a new
// release on probation) and `rolled-back.json` (what the boot selector undid, for the old version to report).
// Node built-ins only: the boot selector loads this before it knows which tree to run.
import {
  existsSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsyncDir, writeFileAtomic } from '../../config/atomic-write.js';
import { RELEASES_DIR_ENV } from '../../config/env-names.js';

export { RELEASES_DIR_ENV };

export const DEFAULT_RELEASES_DIR = '/var/lib/boxagent/releases';
/**
 * The exit status of a deliberate restart (after an update, `agent.restart`, an unhealthy trial): non-zero so
 * that `Restart=on-failure` starts us again, and neither 65 nor 78 (RestartPreventExitStatus). EX_TEMPFAIL.
 */
export const EXIT_RESTART = 75;
export const CURRENT_LINK = 'current';
export const TRIAL_FILE = 'trial.json';
export const ROLLED_BACK_FILE = 'rolled-back.json';
/** The script of an app tree that the boot selector runs. */
export const TREE_MAIN = 'dist/agent/cli/main.js';

export function releasesDir(env: NodeJS.ProcessEnv = process.env): string {
  const v = env[RELEASES_DIR_ENV];
  return resolve(v !== undefined && v !== '' ? v : DEFAULT_RELEASES_DIR);
}

/** The app tree this module belongs to (…/dist/agent/update/releases.js → the tree's root). */
export function ownTree(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

/** The version of an app tree, or undefined when it is not one (no package.json version, no main script). */
export function treeVersion(tree: string): string | undefined {
  try {
    if (!existsSync(join(tree, TREE_MAIN))) return undefined;
    const pkg = JSON.parse(readFileSync(join(tree, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' && VERSION_RE.test(pkg.version) ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** Versions as releases name them: dotted numbers with an optional -pre-release tag (a directory name). */
export const VERSION_RE = /^\d{1,9}\.\d{1,9}\.\d{1,9}(-[0-9A-Za-z.-]{1,64})?$/;

/** Semantic-version order (numbers, then a pre-release sorts before its release). */
export function compareVersions(a: string, b: string): number {
  const [ac, ap] = splitVersion(a);
  const [bc, bp] = splitVersion(b);
  for (let i = 0; i < 3; i++) if (ac[i] !== bc[i]) return (ac[i] ?? 0) - (bc[i] ?? 0);
  if (ap === bp) return 0;
  if (ap === undefined) return 1;
  if (bp === undefined) return -1;
  const ax = ap.split('.');
  const bx = bp.split('.');
  for (let i = 0; i < Math.max(ax.length, bx.length); i++) {
    const x = ax[i];
    const y = bx[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    if (!Number.isNaN(nx)) return -1;
    if (!Number.isNaN(ny)) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function splitVersion(v: string): [number[], string | undefined] {
  const dash = v.indexOf('-');
  const core = dash < 0 ? v : v.slice(0, dash);
  return [core.split('.').map(Number), dash < 0 ? undefined : v.slice(dash + 1)];
}

/** The tree `current` selects when it points to a valid app tree inside the releases dir, else undefined. */
export function currentTree(dir: string): string | undefined {
  const link = join(dir, CURRENT_LINK);
  let target: string;
  try {
    target = realpathSync(link);
  } catch {
    return undefined; // absent or dangling
  }
  const inside = relative(realpathSync(dir), target);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || inside.includes(sep))
    return undefined;
  return treeVersion(target) === undefined ? undefined : target;
}

/** Where `current` points, as written (for the logs), or undefined. */
export function currentLinkTarget(dir: string): string | undefined {
  try {
    return readlinkSync(join(dir, CURRENT_LINK));
  } catch {
    return undefined;
  }
}

/**
 * Points `current` at `tree` (a directory in `dir`) atomically: a new symlink beside it, renamed over it.
 * `undefined` removes `current`, which selects the packaged tree.
 */
export function switchCurrent(dir: string, tree: string | undefined): void {
  const link = join(dir, CURRENT_LINK);
  if (tree === undefined) {
    rmSync(link, { force: true });
  } else {
    const tmp = join(dir, `.${CURRENT_LINK}.${process.pid}.tmp`);
    rmSync(tmp, { force: true });
    // Relative, so the releases dir can be moved or mounted elsewhere as a whole.
    symlinkSync(relative(dir, resolve(tree)), tmp);
    renameSync(tmp, link);
  }
  fsyncDir(dir);
}

/** A new release on probation: written before `current` is switched to it, removed when it reports healthy. */
export interface TrialRecord {
  /** The update job that installed it (the `job` of its `update.job` events). */
  updateId: string;
  /** The version that ran before, and its tree (a release dir, or the packaged tree). */
  from: string;
  fromTree: string;
  /** The version on trial. */
  to: string;
  startedAt: string;
  /** Starts of `to` so far (the boot selector counts them); a start that ends unconfirmed is not retried. */
  attempts: number;
  /** When the running attempt must have reported healthy (set by the boot selector at its first start). */
  deadline: string | null;
  healthTimeoutSeconds: number;
  /** Set by the boot selector's timer when the deadline passed: why the next start rolls back. */
  failure?: 'unhealthy';
  /** The copy of the state taken before the switch (`<state dir>/pre-update`), for a manual restore. */
  stateBackup?: string;
}

/** What the boot selector undid: the old version reports it as `update.job` rolled_back, then removes it. */
export interface RolledBackRecord {
  updateId: string;
  from: string;
  to: string;
  reasonCode: 'crashed' | 'unhealthy' | 'invalid-release';
  at: string;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export const readTrial = (dir: string): TrialRecord | undefined => {
  const r = readJson<TrialRecord>(join(dir, TRIAL_FILE));
  return r && typeof r.updateId === 'string' && typeof r.to === 'string' ? r : undefined;
};
export const writeTrial = (dir: string, r: TrialRecord): void =>
  writeFileAtomic(join(dir, TRIAL_FILE), JSON.stringify(r, null, 2) + '\n', { mode: 0o640 });
export const removeTrial = (dir: string): void => {
  rmSync(join(dir, TRIAL_FILE), { force: true });
  fsyncDir(dir);
};

export const readRolledBack = (dir: string): RolledBackRecord | undefined =>
  readJson<RolledBackRecord>(join(dir, ROLLED_BACK_FILE));
export const writeRolledBack = (dir: string, r: RolledBackRecord): void =>
  writeFileAtomic(join(dir, ROLLED_BACK_FILE), JSON.stringify(r, null, 2) + '\n', { mode: 0o640 });
export const removeRolledBack = (dir: string): void => {
  rmSync(join(dir, ROLLED_BACK_FILE), { force: true });
  fsyncDir(dir);
};
