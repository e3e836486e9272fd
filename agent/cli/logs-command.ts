// `boxagent logs`: the service's journal, read with journalctl and printed as readable lines (time, level,
// component, message). The daemon logs pino JSON lines to stdout; journald keeps each as a MESSAGE.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  journalctlArgs,
  parseJournalLine,
  PINO_LEVELS,
  type LogRecord,
  type LogsOptions,
} from '../lifecycle/journal.js';
import { CliError, EXIT_UNAVAILABLE, EXIT_USAGE } from './support.js';

/** A readable line: `time LEVEL component message key=value …`. */
export function formatRecord(r: LogRecord): string {
  const extra = Object.entries(r.fields).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return [r.time, r.level.toUpperCase().padEnd(5), r.component, r.msg, ...extra].join(' ');
}

/** A JSON line: the pino object as the daemon wrote it, or the same shape for a line pino did not write. */
export function recordJson(r: LogRecord): string {
  if (r.pino) return JSON.stringify(r.pino);
  const level = Number(Object.entries(PINO_LEVELS).find(([, name]) => name === r.level)?.[0] ?? 30);
  return JSON.stringify({ level, time: r.time, component: r.component, msg: r.msg });
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print the service's journal as readable lines (journalctl -u boxagent)")
    .option('-f, --follow', 'keep printing new lines')
    .option(
      '--since <time>',
      'from this time on, as journalctl takes it (e.g. "1 hour ago", "2026-05-01 08:00")',
    )
    .option('-n, --lines <count>', 'only the last COUNT lines')
    .option('--json', 'print the JSON lines as the daemon logged them')
    .action(async (opts: LogsOptions) => {
      if (opts.lines !== undefined && !/^\d+$/.test(opts.lines)) {
        throw new CliError(`--lines: expected a whole number, got "${opts.lines}"`, EXIT_USAGE);
      }
      await readJournal(opts);
    });
}

function readJournal(opts: LogsOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('journalctl', journalctlArgs(opts), { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new CliError('journalctl not found: boxagent logs reads the systemd journal', EXIT_UNAVAILABLE)
          : err,
      );
    });
    // A reader that went away (`| head`) ends the command quietly.
    process.stdout.on('error', () => child.kill());
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const record = parseJournalLine(line);
      if (record) process.stdout.write((opts.json ? recordJson(record) : formatRecord(record)) + '\n');
    });
    child.on('close', (code) => {
      if (code === 0 || code === null) resolve();
      else reject(new CliError(`journalctl exited with status ${code}`));
    });
  });
}
