// Bookkeeping for the processes a benchmark run spawns (bare fastify, the daemon, socat), so every one of them
// is stopped even when a measurement throws or the bench is interrupted: a stray daemon would hold a port and
// skew the next run's numbers. Processes are only ever signalled by their own pid. The temp state directories
// are tracked the same way, so an interrupted run leaves nothing under the temp dir.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { removeDir, tempDir } from '../tests/helpers/daemon.js';

const live = new Map<number, string>();
const dirs = new Set<string>();

/** A fresh temp directory, removed by `removeScratchDir` or, at the latest, by `killLeftovers`. */
export function scratchDir(prefix: string): string {
  const dir = tempDir(prefix);
  dirs.add(dir);
  return dir;
}

export function removeScratchDir(dir: string): void {
  dirs.delete(dir);
  removeDir(dir);
}

/** Remembers `proc` until it exits. */
export function track(proc: ChildProcess, label: string): void {
  const pid = proc.pid;
  if (pid === undefined) return;
  live.set(pid, label);
  proc.once('exit', () => live.delete(pid));
}

/** SIGTERM, then SIGKILL if the process has not exited after `graceMs`; resolves once it is gone. */
export async function stopChild(proc: ChildProcess, graceMs = 10_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Last resort: SIGKILLs every tracked process still alive, plus any daemon spawned by this process that a
 * failed `startDaemon()` never handed back (found as our direct children running `cliPath`), and removes the
 * scratch directories still around (an interrupted run).
 */
export function killLeftovers(cliPath: string): void {
  const pids = new Set(live.keys());
  for (const pid of directChildrenRunning(cliPath)) pids.add(pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of dirs) {
    try {
      removeDir(dir);
    } catch {
      // best effort: a killed daemon may still be releasing files
    }
  }
  dirs.clear();
}

function directChildrenRunning(needle: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the comm field (2) is parenthesised and may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) found.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return found;
}

/** Resident set size of `pid` in MB (VmRSS from /proc/<pid>/status), or null if it cannot be read. */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
