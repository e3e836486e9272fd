// The face camera on the built daemon (BENCH_ONLY=camera): a simulated 640×480@15 camera (lavfi testsrc
// through ffmpeg, MJPEG on a pipe, the frame splitter) and a looped face image.
//   - frames/s delivered to one and to three MJPEG viewers, and the daemon's CPU% meanwhile (from
//     /proc/<pid>/stat; ffmpeg's own CPU is reported apart);
//   - face.capture on the face camera: time from the chosen frame's arrival to the decision.
import { readFileSync } from 'node:fs';
import { get, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { ROOT, startDaemon, writeConfig, type Daemon } from '../tests/helpers/daemon.js';
import { waitFor } from '../tests/helpers/wait-for.js';
import { removeScratchDir, scratchDir, stopChild, track } from './children.js';
import type { RowFn } from './fleet.js';

const SECONDS = Number(process.env.BENCH_CAMERA_SECONDS ?? 10);
const CAPTURES = 20;
const FACE_IMAGE = join(ROOT, '../shared/data/faces/dev/images/Angela_Bassett/Angela_Bassett_0001.jpg');
const TICKS = 100; // USER_HZ on Linux

const CONFIG = `
box: { id: bench-camera }
devices:
  - id: cam
    kind: camera
    transport: { type: simulated }
    camera: { width: 640, height: 480, fps: 15, previewFps: 15 }
  - id: face
    kind: camera
    transport: { type: simulated }
    camera: { simulatedImages: ${JSON.stringify(FACE_IMAGE)}, width: 640, height: 480, fps: 15 }
`;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** The daemon's ffmpeg children (for their CPU apart from the daemon's). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Opens `viewers` MJPEG streams and counts the parts each receives. */
function openViewers(url: string, viewers: number): { counts: number[]; close: () => void } {
  const counts = new Array<number>(viewers).fill(0);
  const requests: ClientRequest[] = [];
  for (let i = 0; i < viewers; i++) {
    requests.push(
      get(url, (res) => {
        let tail = '';
        res.on('data', (chunk: Buffer) => {
          // Count boundaries; keep a little of the end in case one is split across chunks.
          const text = tail + chunk.toString('latin1');
          counts[i]! += text.split('--boxagent-frame\r\n').length - 1;
          tail = text.slice(-20).replaceAll('--boxagent-frame\r\n', '');
        });
      }),
    );
  }
  return { counts, close: () => requests.forEach((r) => r.destroy()) };
}

async function measureViewers(daemon: Daemon, viewers: number, row: RowFn): Promise<void> {
  const pid = daemon.proc.pid!;
  const url = `${daemon.url}/v1/camera/cam/stream?access_token=${daemon.adminToken}`;
  const v = openViewers(url, viewers);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const start = v.counts.slice();
  const ffmpegs = childPids(pid);
  const cpu0 = cpuSeconds(pid);
  const ff0 = ffmpegs.map(cpuSeconds);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const wall = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(pid) - cpu0) / wall;
  const ffCpu = ffmpegs.reduce((s, p, i) => s + (cpuSeconds(p) - ff0[i]!), 0) / wall;
  const fps = v.counts.map((c, i) => (c - start[i]!) / wall);
  v.close();
  if (viewers > 0)
    row(
      `camera 640×480@15: frames/s per viewer, ${viewers} viewer(s)`,
      fps.map((f) => f.toFixed(1)).join(' / '),
      `MJPEG stream, previewFps 15; ${SECONDS} s`,
    );
  row(
    `camera 640×480@15: daemon CPU, ${viewers === 0 ? 'capture only, no viewer' : `${viewers} viewer(s)`}`,
    `${(cpu * 100).toFixed(1)} %`,
    `of one core; both cameras' ffmpeg together: ${(ffCpu * 100).toFixed(0)} % (testsrc and still encoded to JPEG)`,
  );
}

export async function benchCamera(row: RowFn, progress: (msg: string) => void): Promise<void> {
  const dir = scratchDir('boxagent-bench-camera-');
  let daemon: Daemon | undefined;
  try {
    daemon = await startDaemon({
      config: writeConfig(dir, CONFIG),
      storageDir: join(dir, 'state'),
      env: { BOXAGENT_LOG_LEVEL: 'info' },
    });
    track(daemon.proc, 'boxagent daemon (camera)');
    const d = daemon;
    await waitFor(
      'cameras streaming',
      async () => {
        const { devices } = (await (await d.fetch('/v1/devices')).json()) as { devices: { state: string }[] };
        return devices.every((x) => x.state === 'ready');
      },
      20_000,
    );
    progress('camera: no viewer');
    await measureViewers(daemon, 0, row);
    progress('camera: one viewer');
    await measureViewers(daemon, 1, row);
    progress('camera: three viewers');
    await measureViewers(daemon, 3, row);

    progress(`camera: ${CAPTURES} face captures`);
    const decisions: number[] = [];
    const totals: number[] = [];
    for (let i = 0; i < CAPTURES; i++) {
      const res = await daemon.fetch('/v1/face/capture', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ camera: 'face', timeoutMs: 10_000 }),
      });
      const body = (await res.json()) as { decisionMs: number; timingMs: number };
      if (res.status !== 200) throw new Error(`capture failed: ${JSON.stringify(body)}`);
      decisions.push(body.decisionMs);
      totals.push(body.timingMs);
    }
    decisions.sort((a, b) => a - b);
    totals.sort((a, b) => a - b);
    const p = (xs: number[], q: number): string =>
      `${xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!.toFixed(0)}`;
    row(
      'face.capture: frame arrival → decision (p50 / p95)',
      `${p(decisions, 0.5)} / ${p(decisions, 0.95)} ms`,
      `${CAPTURES} captures of a looped face image, liveness on, 2 consecutive frames; analysis of the last frame included`,
    );
    row(
      'face.capture: request → answer (p50 / p95)',
      `${p(totals, 0.5)} / ${p(totals, 0.95)} ms`,
      'waits for frames after the request, then 2 good ones in a row',
    );
  } finally {
    if (daemon) await stopChild(daemon.proc);
    removeScratchDir(dir);
  }
}
