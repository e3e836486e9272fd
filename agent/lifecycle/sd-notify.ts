// systemd notify protocol client (sd_notify(3)): tells systemd we are ready (Type=notify), stopping, still
// alive (WatchdogSec=) and what we are doing (STATUS=, shown by `systemctl status`).
//
// Node has no AF_UNIX datagram sockets, hence the `unix-dgram` addon. Two of its traits shape this file:
// - It copies the address with strncpy into sun_path, so a Linux abstract name (NOTIFY_SOCKET "@name", i.e. a
//   leading NUL byte) cannot be expressed: the NUL ends the copy and the datagram goes to the empty abstract
//   name (ECONNREFUSED). We therefore refuse "@" names up front with a clear error instead of failing on
//   every send. systemd's own managers normally pass a path (/run/systemd/notify for system services).
// - An open socket keeps the event loop alive. So, like libsystemd, we open a socket per message and close it
//   at once; that also survives `systemctl daemon-reexec`, which recreates the notify socket.
//
// A notify failure must never take the daemon down: errors are logged (warn, once), never thrown.
import { getSystemErrorName } from 'node:util';
import type { Logger } from 'pino';
import { createSocket, type UnixDgramSocket } from 'unix-dgram';

export interface Notifier {
  readonly enabled: boolean;
  /** READY=1, plus STATUS= when given. */
  ready(status?: string): void;
  /** STOPPING=1 */
  stopping(): void;
  /** STATUS=<text> (newlines are flattened: they separate assignments in the protocol). */
  status(text: string): void;
  /**
   * Starts WATCHDOG=1 pings every WATCHDOG_USEC/2 when WATCHDOG_USEC is set (and WATCHDOG_PID, if set,
   * equals process.pid); no-op otherwise. The timer is unref()'d so it never holds the process open.
   */
  startWatchdog(): void;
  /** Stops the watchdog; later calls send nothing. (No socket is held open between messages.) */
  close(): void;
}

/** sun_path is 108 bytes; unix-dgram copies at most 107 and silently truncates longer paths. */
const SUN_PATH_MAX_BYTES = 107;
/** setInterval's ceiling; a larger delay is silently replaced by 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const disabledNotifier: Notifier = Object.freeze({
  enabled: false,
  ready: () => {},
  stopping: () => {},
  status: () => {},
  startWatchdog: () => {},
  close: () => {},
});

export function createNotifier(env: NodeJS.ProcessEnv, log: Logger): Notifier {
  const target = env.NOTIFY_SOCKET;
  if (!target) return disabledNotifier;

  const problem = unsupportedReason(target);
  if (problem) {
    // error, not warn: under Type=notify systemd will time out the start and kill us.
    log.error({ notifySocket: target }, `systemd notification disabled: ${problem}`);
    return disabledNotifier;
  }
  log.debug({ notifySocket: target }, 'systemd notification enabled');
  return new SocketNotifier(target, env, log);
}

function unsupportedReason(target: string): string | null {
  if (target.startsWith('@')) {
    return (
      'NOTIFY_SOCKET is an abstract socket, which unix-dgram cannot address ' +
      '(it copies the name with strncpy, so the leading NUL byte ends it); use a filesystem socket path'
    );
  }
  if (!target.startsWith('/'))
    return 'NOTIFY_SOCKET must be an absolute path (or @abstract, unsupported here)';
  if (Buffer.byteLength(target) > SUN_PATH_MAX_BYTES) {
    return `NOTIFY_SOCKET path is longer than ${SUN_PATH_MAX_BYTES} bytes and would be truncated`;
  }
  return null;
}

/** WATCHDOG_USEC/2 in ms, or null when the watchdog is off or meant for another process. */
function watchdogIntervalMs(env: NodeJS.ProcessEnv, log: Logger): number | null {
  const usec = env.WATCHDOG_USEC;
  if (!usec) return null;
  if (!/^\d+$/.test(usec) || Number(usec) === 0) {
    log.warn({ WATCHDOG_USEC: usec }, 'ignoring invalid WATCHDOG_USEC');
    return null;
  }
  // systemd sets WATCHDOG_PID so a child that inherited the environment does not ping for its parent.
  const pid = env.WATCHDOG_PID;
  if (pid && Number(pid) !== process.pid) {
    log.debug({ WATCHDOG_PID: pid }, 'watchdog is meant for another process');
    return null;
  }
  // Half the timeout, as sd_watchdog_enabled(3) recommends, so one late tick does not trip it.
  return Math.min(Math.max(Math.floor(Number(usec) / 2000), 1), MAX_TIMER_MS);
}

class SocketNotifier implements Notifier {
  readonly enabled = true;
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private warned = false;

  constructor(
    private readonly path: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
  ) {}

  ready(status?: string): void {
    this.send(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`);
  }

  stopping(): void {
    this.send('STOPPING=1');
  }

  status(text: string): void {
    this.send(`STATUS=${oneLine(text)}`);
  }

  startWatchdog(): void {
    if (this.closed) return;
    const intervalMs = watchdogIntervalMs(this.env, this.log);
    if (intervalMs === null) return;
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => this.send('WATCHDOG=1'), intervalMs);
    this.watchdog.unref();
    this.log.debug({ intervalMs }, 'systemd watchdog pings started');
  }

  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private send(message: string): void {
    if (this.closed) return;
    let socket: UnixDgramSocket | undefined;
    try {
      socket = createSocket('unix_dgram');
      const buf = Buffer.from(message, 'utf8');
      // unix-dgram calls back synchronously, so the socket can be closed right after.
      socket.send(buf, 0, buf.length, this.path, (err) => {
        if (err) this.failed(message, err);
      });
    } catch (err) {
      this.failed(message, err);
    } finally {
      try {
        socket?.close();
      } catch {
        // close(2) failing on a datagram socket leaves nothing for us to do.
      }
    }
  }

  private failed(message: string, err: unknown): void {
    const code = errnoName(err);
    const fields = { notifySocket: this.path, notification: message.split('\n')[0], code, err };
    if (this.warned) {
      this.log.debug(fields, 'systemd notification failed');
      return;
    }
    this.warned = true;
    this.log.warn(fields, 'systemd notification failed (further failures are logged at debug level)');
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** unix-dgram reports a negative errno number in `code`; turn it into ECONNREFUSED etc. */
function errnoName(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'number' || code >= 0) return undefined;
  try {
    return getSystemErrorName(code);
  } catch {
    return String(code);
  }
}
