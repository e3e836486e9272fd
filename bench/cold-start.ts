// Cold start: how long systemd (and the clerk after a reboot) waits for a box to serve. Each run spawns the
// built daemon on a fresh state directory (so first-start work like creating the store and the admin token
// counts) and times spawn → the "boxagent ready" log line, and, when socat is available, spawn → the READY=1
// datagram on a real NOTIFY_SOCKET, which is what a Type=notify unit actually waits for.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type Daemon } from '../tests/helpers/daemon.js';
import { startListener, stopListeners, type Listener } from '../tests/helpers/notify-listener.js';
import { waitFor } from '../tests/helpers/wait-for.js';
import { removeScratchDir, scratchDir, stopChild, track } from './children.js';

export interface ColdStart {
  /** spawn → the pino timestamp of the "boxagent ready" line (ms precision, no polling delay). */
  readyLogMs: number;
  /** spawn → `startDaemon()` resolved (adds the helper's 20 ms log polling and reading the token). */
  resolvedMs: number;
  /** spawn → READY=1 received on NOTIFY_SOCKET, or null when not measured. */
  notifyMs: number | null;
}

export function socatAvailable(): boolean {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export async function coldStartOnce(env: Record<string, string>, withNotify: boolean): Promise<ColdStart> {
  const storageDir = scratchDir('boxagent-bench-state-');
  const socketDir = withNotify ? scratchDir('boxagent-bench-notify-') : null;
  let listener: Listener | undefined;
  let daemon: Daemon | undefined;
  let notifyAt: number | null = null;
  try {
    const daemonEnv = { ...env };
    if (socketDir) {
      const path = join(socketDir, 'notify.sock');
      listener = await startListener(`UNIX-RECV:${path}`, () => existsSync(path));
      track(listener.child, 'socat notify listener');
      const { datagrams } = listener;
      // Registered after the helper's own stderr handler, so the datagram is already decoded when this runs:
      // the timestamp is taken as the bytes arrive, not when we next look.
      listener.child.stderr?.on('data', () => {
        if (notifyAt === null && datagrams.some((d) => d.split('\n').includes('READY=1')))
          notifyAt = Date.now();
      });
      daemonEnv.NOTIFY_SOCKET = path;
    }

    const spawnedAt = Date.now();
    daemon = await startDaemon({ storageDir, env: daemonEnv });
    const resolvedAt = Date.now();
    track(daemon.proc, 'boxagent daemon (cold start)');

    const ready = daemon.logs.find((l) => l.msg === 'boxagent ready');
    const loggedAt = typeof ready?.time === 'string' ? Date.parse(ready.time) : NaN;
    if (socketDir) await waitFor('READY=1 on NOTIFY_SOCKET', () => notifyAt !== null, 5_000);

    return {
      readyLogMs: Number.isFinite(loggedAt) ? loggedAt - spawnedAt : resolvedAt - spawnedAt,
      resolvedMs: resolvedAt - spawnedAt,
      notifyMs: notifyAt === null ? null : notifyAt - spawnedAt,
    };
  } finally {
    if (daemon) await stopChild(daemon.proc);
    if (listener) await stopChild(listener.child);
    await stopListeners();
    removeScratchDir(storageDir);
    if (socketDir) removeScratchDir(socketDir);
  }
}
