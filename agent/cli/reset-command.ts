// `boxagent reset --yes`: the deliberate way to start a box over when its state.db is lost or damaged. The
// old state is moved aside into `<storage.dir>/reset-<time>/`, never deleted, so a backup can still be
// taken from it; the next start makes a fresh database, admin token and face key.
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { fsyncDir } from '../../config/atomic-write.js';
import { RESET_PREFIX } from '../store/state-dir.js';
import { DaemonClient } from './daemon-client.js';
import { watchStateDir } from './service-user.js';
import {
  CliError,
  CONFIG_FLAGS,
  CONFIG_HELP,
  EXIT_USAGE,
  load,
  print,
  type ConfigOption,
} from './support.js';

/** Anything answering HTTP on the daemon's port: moving its database from under it would corrupt it. */
export async function daemonAnswers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/openapi.json`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

async function reset(opts: ConfigOption & { yes?: boolean }): Promise<void> {
  const { config } = load(opts);
  const dir = resolve(config.storage.dir);
  if (!opts.yes) {
    throw new CliError(
      `this moves everything in ${dir} (database, tokens, face key, spool) aside and starts the box empty; run again with --yes`,
      EXIT_USAGE,
    );
  }
  if (await daemonAnswers(DaemonClient.urlOf(config))) {
    throw new CliError('the daemon is running: stop it first (systemctl stop boxagent)');
  }
  watchStateDir(config); // the reset-<time>/ folder, made as root, goes to the service user
  const moved = moveStateAside(dir);
  if (!moved) {
    print(`${dir} holds no state; nothing to move`);
    return;
  }
  const { aside, entries } = moved;
  print(`moved ${entries.join(', ')} to ${aside}; the next start begins with an empty state`);
}

/**
 * Moves everything in `dir` except earlier reset folders (and `keep`) into a new `reset-<time>/` folder;
 * null when there was nothing to move. Also the way `backup restore --force` clears a state it replaces.
 */
export function moveStateAside(
  dir: string,
  keep: string[] = [],
): { aside: string; entries: string[] } | null {
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((name) => !name.startsWith(RESET_PREFIX) && !keep.includes(name));
  } catch {
    entries = [];
  }
  if (entries.length === 0) return null;
  const aside = join(dir, `${RESET_PREFIX}${new Date().toISOString().replaceAll(':', '-')}`);
  mkdirSync(aside, { mode: 0o700 });
  for (const name of entries) renameSync(join(dir, name), join(aside, name));
  fsyncDir(dir);
  return { aside, entries };
}

export function registerReset(program: Command): void {
  program
    .command('reset')
    .description('move the state dir aside (never deleted) so the next start begins empty')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--yes', 'really move the state aside')
    .action(reset);
}
