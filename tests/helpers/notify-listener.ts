// A real AF_UNIX datagram listener (socat) standing in for systemd's NOTIFY_SOCKET.
// socat's stdout concatenates datagrams ("READY=1WATCHDOG=1"), so they are framed from its -x hex dump on
// stderr instead: one "> … length=N …" header per received datagram, followed by its bytes in hex.
// socat is required: if it is missing, spawning it fails and so does the test (no skip).
import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from './wait-for.js';

export interface Listener {
  child: ChildProcess;
  datagrams: string[];
  stderr: () => string;
}

/** Every listener started, so a suite can stop them in afterEach (see stopListeners). */
const children: ChildProcess[] = [];

/** Spawns `socat -u -x <address> -` and decodes each datagram it receives. */
export async function startListener(address: string, isBound: () => boolean): Promise<Listener> {
  const child = spawn('socat', ['-u', '-x', address, '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  const datagrams: string[] = [];
  let err = '';
  let pending: { length: number; bytes: number[] } | null = null;
  let partial = '';
  let failure: Error | null = null;
  child.on('error', (e) => (failure = e));
  child.on('exit', (code, signal) => (failure ??= new Error(`socat exited (${code ?? signal}): ${err}`)));
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const header = /^> .*\blength=(\d+)\b/.exec(line);
      if (header) {
        pending = { length: Number(header[1]), bytes: [] };
      } else if (pending && /^\s+[0-9a-f]{2}( [0-9a-f]{2})*\s*$/i.test(line)) {
        pending.bytes.push(
          ...line
            .trim()
            .split(/\s+/)
            .map((h) => parseInt(h, 16)),
        );
      }
      if (pending && pending.bytes.length >= pending.length) {
        datagrams.push(Buffer.from(pending.bytes.slice(0, pending.length)).toString('utf8'));
        pending = null;
      }
    }
  });
  await waitFor(`socat to bind ${address}`, () => {
    if (failure) throw new Error(`socat listener failed (is socat installed?): ${failure.message}`);
    return isBound();
  });
  return { child, datagrams, stderr: () => err };
}

export async function stopListeners(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}
