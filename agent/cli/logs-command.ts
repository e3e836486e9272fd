// `boxagent logs`: the service's journal, read with journalctl and printed as readable lines (time, level,
// component, message). The daemon logs pino JSON lines to stdout; journald keeps each as a MESSAGE.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { CliError, EXIT_UNAVAILABLE, EXIT_USAGE } from './support.js';

export const SERVICE_UNIT = 'boxagent';

export interface LogsOptions {
  follow?: boolean;
  since?: string;
  lines?: string;
  json?: boolean;
}

/** The journalctl arguments for the options: always JSON entries of the unit, no pager. */
export function journalctlArgs(opts: LogsOptions): string[] {
  const args = ['-u', SERVICE_UNIT, '-o', 'json', '--no-pager'];
  if (opts.since !== undefined) args.push('--since', opts.since);
  if (opts.lines !== undefined) args.push('-n', opts.lines);
  if (opts.follow) args.push('--follow');
  return args;
}

const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** syslog priority (journald PRIORITY) → the pino level name, for lines that are not pino's (a crash trace). */
function priorityLevel(priority: unknown): string {
  const p = Number(priority);
  if (!Number.isInteger(p)) return 'info';
  if (p <= 2) return 'fatal';
  if (p === 3) return 'error';
  if (p === 4) return 'warn';
  if (p === 7) return 'debug';
  return 'info';
}

/** What a log line says, whether pino wrote it or something else did (node's own crash output, systemd). */
export interface LogRecord {
  time: string;
  level: string;
  component: string;
  msg: string;
  /** The pino line's other fields (deviceId, err, …). */
  fields: Record<string, unknown>;
  /** The pino object as written, when the line was one. */
  pino?: Record<string, unknown>;
}

const PINO_OWN = new Set(['level', 'time', 'msg', 'component', 'service', 'pid', 'hostname']);

/** One `journalctl -o json` line → the record it holds; undefined for a line that is not a journal entry. */
export function parseJournalLine(line: string): LogRecord | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const e = entry as Record<string, unknown>;
  // journald gives MESSAGE as an array of bytes when it is not valid UTF-8.
  const message = Array.isArray(e.MESSAGE)
    ? Buffer.from(e.MESSAGE as number[]).toString('utf8')
    : typeof e.MESSAGE === 'string'
      ? e.MESSAGE
      : '';
  const micros = typeof e.__REALTIME_TIMESTAMP === 'string' ? Number(e.__REALTIME_TIMESTAMP) : NaN;
  const journalTime = Number.isFinite(micros) ? new Date(micros / 1000).toISOString() : '';
  const pino = parsePino(message);
  if (pino) {
    const fields = Object.fromEntries(Object.entries(pino).filter(([k]) => !PINO_OWN.has(k)));
    const time =
      typeof pino.time === 'string'
        ? pino.time
        : typeof pino.time === 'number'
          ? new Date(pino.time).toISOString()
          : journalTime;
    return {
      time,
      level: PINO_LEVELS[pino.level as number] ?? String(pino.level),
      component: typeof pino.component === 'string' ? pino.component : '-',
      msg: typeof pino.msg === 'string' ? pino.msg : '',
      fields,
      pino,
    };
  }
  const identifier = typeof e.SYSLOG_IDENTIFIER === 'string' ? e.SYSLOG_IDENTIFIER : 'journal';
  return {
    time: journalTime,
    level: priorityLevel(e.PRIORITY),
    component: identifier,
    msg: message,
    fields: {},
  };
}

function parsePino(message: string): Record<string, unknown> | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(message);
    if (
      value !== null &&
      typeof value === 'object' &&
      typeof (value as { level?: unknown }).level === 'number'
    ) {
      return value as Record<string, unknown>;
    }
  } catch {
    // not JSON after all: shown as text
  }
  return undefined;
}

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
