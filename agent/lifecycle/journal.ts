// The service's journal, read with journalctl: `boxagent logs` prints it, the fleet's `logs.tail` returns it.
// The daemon logs pino JSON lines to stdout; journald keeps each as a MESSAGE.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

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

export const PINO_LEVELS: Record<number, string> = {
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

/** Why the journal could not be read (journalctl missing or failing), in one line. */
export class JournalError extends Error {
  override name = 'JournalError';
}

/** The last `lines` records of `unit` (optionally since a time journalctl understands), oldest first. */
export function readJournalRecords(opts: {
  unit?: string;
  lines: number;
  since?: string;
}): Promise<LogRecord[]> {
  const args = journalctlArgs({ since: opts.since, lines: String(opts.lines) });
  if (opts.unit !== undefined) args[1] = opts.unit;
  return new Promise((resolve, reject) => {
    const child = spawn('journalctl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const records: LogRecord[] = [];
    let stderr = '';
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new JournalError(err.code === 'ENOENT' ? 'journalctl not found' : err.message));
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const r = parseJournalLine(line);
      if (r) records.push(r);
    });
    child.on('close', (code) => {
      if (code === 0) resolve(records.slice(-opts.lines));
      else
        reject(
          new JournalError(
            `journalctl exited with status ${code ?? 'signal'}: ${stderr.trim().split('\n')[0] ?? ''}`,
          ),
        );
    });
  });
}
