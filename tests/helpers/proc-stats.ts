// What a spawned process uses, read from /proc: resident memory and open file descriptors.
import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size in kB (VmRSS). */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]);
}

/** Open file descriptors. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
