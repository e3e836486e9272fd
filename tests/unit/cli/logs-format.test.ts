// `boxagent logs` formatting. There is no journald in CI, so the input is built the way `journalctl -o json`
// shapes it (one JSON object per entry, the daemon's stdout line in MESSAGE) around lines the daemon's real
// pino logger wrote.
import { describe, expect, it } from 'vitest';
import { formatRecord, recordJson } from '../../../agent/cli/logs-command.js';
import { journalctlArgs, parseJournalLine } from '../../../agent/lifecycle/journal.js';
import { createLogger } from '../../../agent/log.js';

/** Lines the daemon's logger writes, captured. */
function pinoLines(write: (log: ReturnType<typeof createLogger>) => void): string[] {
  const lines: string[] = [];
  const log = createLogger('debug', { write: (s: string) => void lines.push(s.trimEnd()) });
  write(log);
  return lines;
}

/** A journal entry as `journalctl -o json` prints it. */
function journalEntry(message: string | number[], extra: Record<string, string> = {}): string {
  return JSON.stringify({
    __REALTIME_TIMESTAMP: '1780000000123456',
    _SYSTEMD_UNIT: 'boxagent.service',
    SYSLOG_IDENTIFIER: 'boxagent',
    PRIORITY: '6',
    MESSAGE: message,
    ...extra,
  });
}

describe('journalctl argv', () => {
  it('asks for the unit as JSON, without a pager, and passes --since, --lines and --follow on', () => {
    expect(journalctlArgs({})).toEqual(['-u', 'boxagent', '-o', 'json', '--no-pager']);
    expect(journalctlArgs({ follow: true, since: '1 hour ago', lines: '50' })).toEqual([
      '-u',
      'boxagent',
      '-o',
      'json',
      '--no-pager',
      '--since',
      '1 hour ago',
      '-n',
      '50',
      '--follow',
    ]);
  });
});

describe('journal lines', () => {
  it('shows time, level name, component, message and the other fields of a pino line', () => {
    const [line] = pinoLines((log) =>
      log
        .child({ component: 'devices' })
        .warn({ deviceId: 'printer-1', reason: 'paper out' }, 'printer stalled'),
    );
    const pino = JSON.parse(line as string) as { time: string };
    const record = parseJournalLine(journalEntry(line as string));
    expect(record).toBeDefined();
    expect(formatRecord(record!)).toBe(
      `${pino.time} WARN  devices printer stalled deviceId=printer-1 reason=paper out`,
    );
  });

  it('maps every pino level to its name', () => {
    const lines = pinoLines((log) => {
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      log.fatal('f');
    });
    const levels = lines.map((l) => parseJournalLine(journalEntry(l))?.level);
    expect(levels).toEqual(['debug', 'info', 'warn', 'error', 'fatal']);
  });

  it('shows a line pino did not write with the journal time, its priority and identifier', () => {
    const record = parseJournalLine(
      journalEntry('Error: Cannot find module', { PRIORITY: '3', SYSLOG_IDENTIFIER: 'node' }),
    );
    expect(formatRecord(record!)).toBe('2026-05-28T20:26:40.123Z ERROR node Error: Cannot find module');
  });

  it('decodes a MESSAGE journald stored as bytes', () => {
    const record = parseJournalLine(journalEntry([...Buffer.from('打印机 offline\x1b[0m', 'utf8')]));
    expect(record?.msg).toBe('打印机 offline\x1b[0m');
  });

  it('skips what is not a journal entry', () => {
    expect(parseJournalLine('-- No entries --')).toBeUndefined();
    expect(parseJournalLine('[1,2]')).toBeUndefined();
  });

  it('--json gives the pino line as written, and a pino-shaped object for other lines', () => {
    const [line] = pinoLines((log) => log.child({ component: 'http' }).info({ port: 8620 }, 'listening'));
    expect(recordJson(parseJournalLine(journalEntry(line as string))!)).toBe(line);
    const other = JSON.parse(
      recordJson(
        parseJournalLine(journalEntry('Started boxagent.service', { SYSLOG_IDENTIFIER: 'systemd' }))!,
      ),
    ) as unknown;
    expect(other).toEqual({
      level: 30,
      time: '2026-05-28T20:26:40.123Z',
      component: 'systemd',
      msg: 'Started boxagent.service',
    });
  });
});
