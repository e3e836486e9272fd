// A real pseudo-terminal pair from socat: the driver opens one end as its serial port, a simulator the other.
// socat is required; a missing socat fails the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SerialOptions } from '../../drivers/transport/serial.js';
import { waitFor } from './wait-for.js';

export interface PtyPair {
  /** The end the driver under test opens. */
  device: string;
  /** The end the simulator opens. */
  peer: string;
  /** Kills socat: both ends vanish, like an unplugged USB-serial adapter. */
  close(): Promise<void>;
}

export async function openPtyPair(dir: string, name = 'tty'): Promise<PtyPair> {
  const device = join(dir, `${name}-device`);
  const peer = join(dir, `${name}-peer`);
  const child: ChildProcess = spawn(
    'socat',
    [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${peer}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let failure: Error | undefined;
  child.on('error', (e) => (failure = e));
  await waitFor('socat pty pair', () => {
    if (failure) throw new Error(`socat failed (is it installed?): ${failure.message}`);
    return existsSync(device) && existsSync(peer);
  });
  return {
    device,
    peer,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** 8N1 without flow control at `baudRate`: how the tests open either end of a pty pair. */
export function serialOptions(path: string, baudRate = 115200): SerialOptions {
  return { path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false };
}
