#!/usr/bin/env node
// The launcher's entry (/usr/bin/boxagent runs this file of the packaged app tree): picks the app tree to run
// — `releases/current` when it points to a valid tree, else this (packaged) one — and runs its
// dist/agent/cli/main.js in this same process. Same process, so the PID systemd watches is the daemon's
// (sd_notify with NotifyAccess=main, the watchdog), signals reach it directly and its exit status is ours.
//
// For `run` it also keeps the trial of a new release (releases/trial.json): each start of the release on
// trial is counted, and a start that finds a counted one still unconfirmed (it crashed, was killed, or its
// health deadline passed) switches `current` back to the previous release before running anything. That
// code is this packaged file's, never the release's, so a broken release cannot break its own rollback.
// Node built-ins only: nothing heavy is loaded before the choice.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  compareVersions,
  currentTree,
  EXIT_RESTART,
  ownTree,
  readTrial,
  releasesDir,
  removeTrial,
  switchCurrent,
  treeVersion,
  TREE_MAIN,
  writeRolledBack,
  writeTrial,
  type RolledBackRecord,
  type TrialRecord,
} from './releases.js';
import { restoreStateIfMigrated } from './state-restore.js';

/** A pino-shaped JSON line on stdout (journald keeps it; `boxagent logs` reads it like the daemon's own). */
function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const n = { info: 30, warn: 40, error: 50 }[level];
  process.stdout.write(
    JSON.stringify({ level: n, time: Date.now(), component: 'boot', ...fields, msg }) + '\n',
  );
}

/** Switches back to the release the trial came from (or the packaged tree) and leaves the report for it. */
function rollBack(dir: string, trial: TrialRecord, reasonCode: RolledBackRecord['reasonCode']): void {
  // Back to the release dir it came from; the packaged tree (or anything outside the dir) means no `current`.
  const inside = trial.fromTree.startsWith(realpathSync(dir) + '/');
  const back = inside && treeVersion(trial.fromTree) !== undefined ? trial.fromTree : undefined;
  switchCurrent(dir, back);
  if (trial.stateBackup !== undefined) {
    try {
      const aside = restoreStateIfMigrated(trial.stateBackup);
      if (aside !== undefined)
        log('warn', 'the release had migrated state.db; the pre-update copy is back', { migrated: aside });
    } catch (err) {
      log('error', 'could not check or restore the pre-update state', { err: String(err) });
    }
  }
  writeRolledBack(dir, {
    updateId: trial.updateId,
    from: trial.from,
    to: trial.to,
    reasonCode,
    at: new Date().toISOString(),
  });
  removeTrial(dir);
  log('warn', 'release rolled back', {
    from: trial.to,
    to: trial.from,
    reasonCode,
    updateId: trial.updateId,
  });
}

/** The tree to run; for the daemon, after the trial's bookkeeping. */
export function chooseTree(dir: string, own: string, daemon: boolean, now = Date.now()): string {
  let current = currentTree(dir);
  const trial = daemon ? readTrial(dir) : undefined;
  if (trial) {
    const running = current === undefined ? undefined : treeVersion(current);
    if (running !== trial.to) {
      // `current` does not select the release on trial: the update stopped between recording the trial and
      // switching, or `current` was broken or changed by hand. The old version runs; the update did not take.
      rollBack(dir, trial, 'invalid-release');
    } else if (trial.attempts >= 1) {
      rollBack(dir, trial, trial.failure ?? 'crashed');
    } else {
      const deadline = new Date(now + trial.healthTimeoutSeconds * 1000).toISOString();
      writeTrial(dir, { ...trial, attempts: trial.attempts + 1, deadline });
      armDeadline(dir, trial.updateId, Date.parse(deadline) - now);
      log('info', 'release on trial', { version: trial.to, from: trial.from, deadline });
    }
    current = currentTree(dir);
  }
  // A newer package installed by hand (apt) wins over an older fleet release, so `apt install` always takes.
  const ownVersion = treeVersion(own);
  const currentVersion = current === undefined ? undefined : treeVersion(current);
  if (
    ownVersion !== undefined &&
    currentVersion !== undefined &&
    compareVersions(ownVersion, currentVersion) > 0
  )
    return own;
  return current ?? own;
}

/**
 * When the release on trial has not confirmed by its deadline, the start counts as failed: marked, then the
 * process exits non-zero for systemd to start it again (and this file then rolls back). unref'd: a daemon
 * that ends for another reason is not held open by it.
 */
function armDeadline(dir: string, updateId: string, ms: number): void {
  setTimeout(
    () => {
      const t = readTrial(dir);
      if (t?.updateId !== updateId) return; // confirmed
      writeTrial(dir, { ...t, failure: 'unhealthy' });
      log('error', 'release did not report healthy in time; restarting to roll back', {
        version: t.to,
        healthTimeoutSeconds: t.healthTimeoutSeconds,
      });
      process.exit(EXIT_RESTART);
    },
    Math.max(0, ms),
  ).unref();
}

async function boot(): Promise<void> {
  const daemon = process.argv[2] === 'run';
  const own = ownTree();
  let tree = own;
  try {
    tree = chooseTree(releasesDir(), own, daemon);
  } catch (err) {
    // The releases dir unreadable (permissions, a full disk while writing the trial): the packaged tree runs.
    if (daemon) log('error', 'release selection failed; running the packaged tree', { err: String(err) });
  }
  if (daemon && tree !== own)
    log('info', 'running a fleet-installed release', { tree, version: treeVersion(tree) });
  await import(pathToFileURL(join(tree, TREE_MAIN)).href);
}

// Imported by tests for chooseTree: only the launcher's own run boots.
if (process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url) {
  await boot();
}
