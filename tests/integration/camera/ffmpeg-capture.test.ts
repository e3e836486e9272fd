// The camera driver with the real ffmpeg as its frame source (lavfi testsrc, looped face images), under
// the real supervisor: frames arrive and decode, a killed ffmpeg is restarted and frames resume, a missing
// ffmpeg or an unplugged camera is reported with its reason.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { withDeviceDefaults, type DeviceConfig } from '../../../config/schema.js';
import { SupervisedDevice } from '../../../agent/devices/supervised-device.js';
import type { DeviceState } from '../../../agent/devices/state.js';
import { framePart } from '../../../agent/http/camera-stream.js';
import { CameraDevice, type CameraOptions } from '../../../drivers/camera/camera.js';
import { ROOT } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait-for.js';

const FACES = join(ROOT, '../shared/data/faces/dev/images');
const log = pino({ level: 'silent' });
const policy = { probeIntervalMs: 200, failuresBeforeError: 1, backoffInitialMs: 100, backoffMaxMs: 400 };
const config: DeviceConfig = withDeviceDefaults({
  id: 'cam',
  kind: 'camera',
  transport: { type: 'simulated' },
});

function options(over: Partial<CameraOptions> = {}): CameraOptions {
  return {
    source: { kind: 'testsrc' },
    format: { width: 320, height: 240, fps: 15 },
    stallMs: 3000,
    model: 'test camera',
    ...over,
  };
}

const running: (SupervisedDevice | CameraDevice)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => (d instanceof SupervisedDevice ? d.stop() : d.close())));
});

function supervise(driver: CameraDevice): { device: SupervisedDevice; states: DeviceState[] } {
  const states: DeviceState[] = [];
  const device = new SupervisedDevice(config, driver, policy, log, (s) => states.push(s.state));
  running.push(device);
  device.start();
  return { device, states };
}

describe('camera capture through ffmpeg', () => {
  it('delivers testsrc frames that decode as JPEGs of the configured size, new ones over time', async () => {
    const cam = new CameraDevice(options());
    running.push(cam);
    const identity = await cam.open();
    expect(identity.model).toBe('test camera');
    const first = cam.latest()!;
    const later = (await cam.nextFrame(first.seq + 5, 5000))!;
    expect(later.seq).toBeGreaterThan(first.seq);
    const meta = await sharp(later.jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);
    // testsrc moves: two frames apart are different pictures.
    expect(later.jpeg.equals(first.jpeg)).toBe(false);
    expect((await cam.selfTest()).ok).toBe(true);
  });

  it('shows a folder of face images in turn, letterboxed to the configured size', async () => {
    const folder = join(FACES, 'Angela_Bassett');
    const cam = new CameraDevice(
      options({
        source: { kind: 'folder', path: folder, holdSeconds: 0.2 },
        format: { width: 320, height: 240, fps: 10 },
      }),
    );
    running.push(cam);
    await cam.open();
    const seen = new Set<string>();
    let seq = 0;
    await waitFor(
      'three different images',
      async () => {
        const f = await cam.nextFrame(seq, 2000);
        if (!f) return false;
        seq = f.seq;
        const { data } = await sharp(f.jpeg).resize(8, 8).raw().toBuffer({ resolveWithObject: true });
        seen.add(data.toString('hex').slice(0, 40));
        return seen.size >= 3;
      },
      15_000,
    );
  });

  it('restarts ffmpeg after it is killed, and frames resume', async () => {
    const cam = new CameraDevice(options());
    const { device, states } = supervise(cam);
    await waitFor('ready', () => device.currentState() === 'ready');
    const pid = cam.capturePid!;
    const before = cam.latest()!.seq;
    process.kill(pid, 'SIGKILL');
    await waitFor('error after the kill', () => states.includes('error'));
    expect(device.status().detail ?? states.join()).toBeDefined();
    await waitFor('ready again', () => device.currentState() === 'ready' && cam.capturePid !== pid, 10_000);
    const after = await cam.nextFrame(before + 1, 5000);
    expect(after?.seq).toBeGreaterThan(before);
    expect(cam.capturePid).not.toBe(pid);
  });

  it('restarts a capture that stalls (no frame for stallSeconds)', async () => {
    const cam = new CameraDevice(options({ stallMs: 700 }));
    const { device } = supervise(cam);
    await waitFor('ready', () => device.currentState() === 'ready');
    const pid = cam.capturePid!;
    process.kill(pid, 'SIGSTOP'); // alive but silent
    try {
      await waitFor('a stall reported', () => (device.status().detail ?? '').includes('no frame for 0.7 s'));
    } finally {
      // The stalled ffmpeg was killed by the driver; continue it only if it is still there.
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone, as it should be
      }
    }
    await waitFor(
      'ready again on a new ffmpeg',
      () => device.currentState() === 'ready' && cam.capturePid !== pid,
    );
  });

  it('puts the camera in error with the install command when ffmpeg is missing', async () => {
    const cam = new CameraDevice(options({ ffmpegPath: '/nonexistent/ffmpeg' }));
    const { device } = supervise(cam);
    await waitFor('error', () => device.status().detail !== null);
    expect(device.status().detail).toContain('ffmpeg not found');
    expect(device.status().detail).toContain('apt-get install ffmpeg');
  });

  it('reports a V4L2 camera whose node is missing as absent', async () => {
    const cam = new CameraDevice(
      options({ source: { kind: 'v4l2', path: '/dev/video-not-here', inputFormat: 'mjpeg' } }),
    );
    const { device } = supervise(cam);
    await waitFor('absent', () => device.currentState() === 'absent');
    expect(device.status().detail).toContain('/dev/video-not-here');
  });

  it('tries a V4L2 camera again once its node reappears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'boxagent-cam-'));
    const node = join(dir, 'video9');
    try {
      const cam = new CameraDevice(options({ source: { kind: 'v4l2', path: node, inputFormat: 'mjpeg' } }));
      const { device } = supervise(cam);
      await waitFor('absent', () => device.currentState() === 'absent');
      // "Plugged in": a node appears. It is no real camera, so ffmpeg's V4L2 input refuses it, which
      // shows the capture was started on it.
      writeFileSync(node, '');
      await waitFor('an attempt on the node', () =>
        (device.status().detail ?? '').startsWith('ffmpeg exited'),
      );
      expect(device.currentState()).not.toBe('absent');
      expect(device.status().detail).toContain(node);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads an IP camera: an HTTP MJPEG stream', async () => {
    // The "IP camera": a local HTTP server fed by a testsrc capture.
    const origin = new CameraDevice(options());
    running.push(origin);
    await origin.open();
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=boxagent-frame' });
      const off = origin.onFrame((f) => res.write(framePart(f.jpeg)));
      res.on('close', off);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const source = { kind: 'url' as const, url: `http://127.0.0.1:${port}/stream` };
      // Re-encoded to the configured size and rate.
      const cam = new CameraDevice(options({ source, format: { width: 160, height: 120, fps: 5 } }));
      running.push(cam);
      await cam.open();
      const f = (await cam.nextFrame(cam.latest()!.seq, 5000))!;
      const meta = await sharp(f.jpeg).metadata();
      expect([meta.width, meta.height]).toEqual([160, 120]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('pairs each RGB frame with the IR frame nearest in time', async () => {
    const cam = new CameraDevice(options({ irSource: { kind: 'testsrc' } }));
    running.push(cam);
    await cam.open();
    await waitFor('a pair', () => cam.latestPair()?.ir !== undefined);
    const pair = cam.latestPair()!;
    expect(Math.abs(pair.ir!.at - pair.rgb.at)).toBeLessThanOrEqual(100);
  });
});
