// The sd_notify client against a real AF_UNIX datagram listener: socat bound to a socket in a temp dir.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotifier, type Notifier } from '../../agent/lifecycle/sd-notify.js';
import { startListener, stopListeners } from '../helpers/notify-listener.js';
import { waitFor } from '../helpers/wait-for.js';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const WARN = 40;
const ERROR = 50;

function captureLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** An abstract socket has no file; it shows in /proc/net/unix as "@name". */
function abstractBound(name: string): boolean {
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .some((l) => l.endsWith(` @${name}`));
}

let dir: string;
let notifier: Notifier | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'boxagent-sdnotify-'));
});

afterEach(async () => {
  notifier?.close();
  notifier = undefined;
  await stopListeners();
  rmSync(dir, { recursive: true, force: true });
});

describe('sd-notify against a real unix datagram socket', () => {
  it('sends READY=1 with STATUS, STATUS, and STOPPING=1 as separate datagrams', async () => {
    const path = join(dir, 'notify.sock');
    const listener = await startListener(`UNIX-RECV:${path}`, () => existsSync(path));
    const { log, lines } = captureLogger();

    notifier = createNotifier({ NOTIFY_SOCKET: path }, log);
    expect(notifier.enabled).toBe(true);
    notifier.ready('starting: 3 devices');
    notifier.status('serving\nline two');
    notifier.stopping();

    await waitFor('three datagrams', () => listener.datagrams.length >= 3);
    expect(listener.datagrams).toEqual([
      'READY=1\nSTATUS=starting: 3 devices',
      'STATUS=serving line two', // a newline would start a new assignment; it is flattened
      'STOPPING=1',
    ]);
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
  });

  it('pings WATCHDOG=1 every WATCHDOG_USEC/2 once started', async () => {
    const path = join(dir, 'notify.sock');
    const listener = await startListener(`UNIX-RECV:${path}`, () => existsSync(path));
    const { log } = captureLogger();

    notifier = createNotifier(
      { NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) },
      log,
    );
    notifier.ready();
    notifier.startWatchdog();

    const pings = () => listener.datagrams.filter((d) => d === 'WATCHDOG=1').length;
    await waitFor('two WATCHDOG=1 pings', () => pings() >= 2);
    expect(listener.datagrams[0]).toBe('READY=1');

    // close() stops the pings: nothing more arrives over several would-be intervals.
    notifier.close();
    const after = listener.datagrams.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(listener.datagrams.length).toBe(after);
  });

  it('does not ping when WATCHDOG_PID names another process', async () => {
    const path = join(dir, 'notify.sock');
    const listener = await startListener(`UNIX-RECV:${path}`, () => existsSync(path));
    const { log } = captureLogger();

    notifier = createNotifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000', WATCHDOG_PID: '1' }, log);
    notifier.startWatchdog();
    await new Promise((r) => setTimeout(r, 300)); // three would-be intervals
    notifier.status('marker');
    await waitFor('the marker', () => listener.datagrams.includes('STATUS=marker'));
    expect(listener.datagrams).toEqual(['STATUS=marker']);
  });

  it('abstract NOTIFY_SOCKET (@name): unsupported by unix-dgram, disabled with a clear error', async () => {
    const name = `boxagent-test-${process.pid}-${Date.now()}`;
    const listener = await startListener(`ABSTRACT-RECV:${name}`, () => abstractBound(name));
    const { log, lines } = captureLogger();

    notifier = createNotifier({ NOTIFY_SOCKET: `@${name}`, WATCHDOG_USEC: '100000' }, log);
    expect(notifier.enabled).toBe(false);
    const errors = lines.filter((l) => l.level === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/abstract socket/);
    expect(errors[0]!.notifySocket).toBe(`@${name}`);

    // The disabled notifier is a harmless no-op.
    expect(() => {
      notifier!.ready('x');
      notifier!.startWatchdog();
      notifier!.stopping();
    }).not.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect(listener.datagrams).toEqual([]);
  });

  it('never throws when the socket is gone; warns once, then logs at debug', () => {
    const { log, lines } = captureLogger();
    notifier = createNotifier({ NOTIFY_SOCKET: join(dir, 'nobody-listens.sock') }, log);
    expect(notifier.enabled).toBe(true);
    expect(() => {
      notifier!.ready();
      notifier!.status('still here');
      notifier!.stopping();
    }).not.toThrow();
    const warns = lines.filter((l) => l.level === WARN);
    expect(warns).toHaveLength(1);
    expect(warns[0]!.code).toBe('ENOENT');
    expect(lines.filter((l) => l.msg === 'systemd notification failed')).toHaveLength(2);
  });

  it('is a disabled no-op without NOTIFY_SOCKET', () => {
    const { log, lines } = captureLogger();
    notifier = createNotifier({ WATCHDOG_USEC: '100000' }, log);
    expect(notifier.enabled).toBe(false);
    notifier.ready();
    notifier.startWatchdog();
    expect(lines).toEqual([]);
  });

  it('rejects relative and over-long socket paths with an error instead of truncating', () => {
    const { log, lines } = captureLogger();
    expect(createNotifier({ NOTIFY_SOCKET: 'relative.sock' }, log).enabled).toBe(false);
    expect(createNotifier({ NOTIFY_SOCKET: `/${'x'.repeat(120)}` }, log).enabled).toBe(false);
    expect(lines.filter((l) => l.level === ERROR)).toHaveLength(2);
  });
});
