// ffmpeg dies under the running daemon: the camera's capture process is killed (SIGKILL) and the daemon,
// without a restart, notices, starts a new one and serves fresh frames again.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  const config = writeConfig(
    dir,
    `box: { id: camera-fault }
devices:
  - id: cam
    kind: camera
    transport: { type: simulated }
    camera: { width: 320, height: 240, fps: 10, stallSeconds: 2 }
supervision: { probeIntervalMs: 200, backoffInitialMs: 100, backoffMaxMs: 500 }
`,
  );
  daemon = await startDaemon({ config, storageDir: dir });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(dir);
});

/** The daemon's ffmpeg children, from /proc (every thread's children list). */
function ffmpegChildren(pid: number): number[] {
  const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return tasks
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((child) => readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'ffmpeg');
}

async function snapshot(): Promise<Buffer | undefined> {
  const res = await daemon.fetch('/v1/camera/cam/snapshot');
  return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
}

describe('ffmpeg dies under the running daemon', () => {
  it('restarts the capture and serves new frames, without a daemon restart', async () => {
    await waitFor('a first frame', async () => (await snapshot()) !== undefined, 20_000);
    const lastBefore = (await snapshot())!;
    const [first] = ffmpegChildren(daemon.proc.pid!);
    expect(first).toBeGreaterThan(0);

    process.kill(first!, 'SIGKILL');
    await waitFor('the camera to report the lost capture', () =>
      daemon.logs.some((l) => l.level >= 40 && JSON.stringify(l).includes('cam')),
    );
    await waitFor('a new ffmpeg', () => ffmpegChildren(daemon.proc.pid!).some((p) => p !== first), 20_000);
    // The simulator's test pattern carries a running frame counter, so a new capture's frame differs.
    await waitFor(
      'fresh frames again',
      async () => {
        const now = await snapshot();
        return now !== undefined && !now.equals(lastBefore);
      },
      20_000,
    );
    const device = (await (await daemon.fetch('/v1/devices/cam')).json()) as { state: string };
    expect(device.state).toBe('ready');
    expect(daemon.proc.exitCode).toBeNull();
  }, 90_000);
});
