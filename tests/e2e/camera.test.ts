// The built daemon with simulated cameras on the real ffmpeg pipeline: lavfi testsrc (no face) and a looped
// face image from ../shared/data/faces. Snapshot, the MJPEG stream read by a real HTTP client (one and two
// viewers), face.capture (success and a "no face" timeout with hints on /v1/events, in Chinese by default and
// in English for a stream that asks for it), verify with a camera
// probe, the problems for unknown and absent cameras, a daemon without ffmpeg, and the installer's CLI.
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  removeDir,
  ROOT,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

const FACE_IMAGE = join(ROOT, '../shared/data/faces/dev/images/Angela_Bassett/Angela_Bassett_0001.jpg');
const PROBLEM = 'application/problem+json';

const CONFIG = `
box: { id: camera-box }
devices:
  - id: tsrc
    kind: camera
    transport: { type: simulated }
    camera: { width: 320, height: 240, fps: 15, previewFps: 10 }
  - id: face
    kind: camera
    transport: { type: simulated }
    camera: { simulatedImages: ${JSON.stringify(FACE_IMAGE)}, fps: 10 }
  - id: usb
    kind: camera
    transport: { type: video }
    camera: { source: /dev/video-not-attached }
`;

/** Reads `count` JPEG parts of a multipart/x-mixed-replace response with node's HTTP client. */
function readMjpeg(url: string, count: number): Promise<{ contentType: string; frames: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res: IncomingMessage) => {
      const contentType = res.headers['content-type'] ?? '';
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      const boundary = /boundary=(.+)$/.exec(contentType)?.[1];
      if (!boundary) return reject(new Error(`no boundary in ${contentType}`));
      let buf = Buffer.alloc(0);
      const frames: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const headEnd = buf.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = buf.subarray(0, headEnd).toString('latin1');
          expect(head).toContain(`--${boundary}`);
          const length = Number(/Content-Length: (\d+)/i.exec(head)?.[1]);
          if (buf.length < headEnd + 4 + length + 2) return;
          frames.push(buf.subarray(headEnd + 4, headEnd + 4 + length));
          buf = buf.subarray(headEnd + 4 + length + 2);
          if (frames.length === count) {
            req.destroy();
            return resolve({ contentType, frames });
          }
        }
      });
      res.on('error', reject);
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

describe('face cameras on the ffmpeg pipeline', () => {
  let dir: string;
  let daemon: Daemon;
  let events: SseStream;
  let englishEvents: SseStream;

  beforeAll(async () => {
    expect(existsSync(FACE_IMAGE), `face data missing: ${FACE_IMAGE}`).toBe(true);
    dir = tempDir();
    daemon = await startDaemon({ config: writeConfig(dir, CONFIG), storageDir: join(dir, 'state') });
    events = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
    englishEvents = await openSse(`${daemon.url}/v1/events`, {
      authorization: `Bearer ${daemon.adminToken}`,
      'accept-language': 'en-US,en;q=0.9',
    });
    await waitFor(
      'both simulated cameras streaming',
      async () => {
        const { devices } = (await (await daemon.fetch('/v1/devices')).json()) as {
          devices: { id: string; state: string }[];
        };
        return ['tsrc', 'face'].every((id) => devices.find((d) => d.id === id)?.state === 'ready');
      },
      20_000,
    );
  });

  afterAll(async () => {
    events?.close();
    englishEvents?.close();
    await daemon?.stop();
    removeDir(dir);
  });

  it('answers a snapshot with the latest frame as a JPEG of the configured size', async () => {
    const res = await daemon.fetch('/v1/camera/tsrc/snapshot');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);
  });

  it('streams MJPEG to a real HTTP client, with the token in the query as an <img> sends it', async () => {
    const { contentType, frames } = await readMjpeg(
      `${daemon.url}/v1/camera/tsrc/stream?access_token=${daemon.adminToken}`,
      5,
    );
    expect(contentType).toMatch(/^multipart\/x-mixed-replace; boundary=/);
    for (const f of frames) expect((await sharp(f).metadata()).width).toBe(320);
    // Each part is a newer frame, not the same one again.
    expect(new Set(frames.map((f) => f.toString('base64'))).size).toBe(5);
  });

  it('serves two viewers at once from the one capture', async () => {
    const url = `${daemon.url}/v1/camera/tsrc/stream?access_token=${daemon.adminToken}`;
    const [a, b] = await Promise.all([readMjpeg(url, 4), readMjpeg(url, 4)]);
    expect(a.frames).toHaveLength(4);
    expect(b.frames).toHaveLength(4);
    // Both saw frames of the same capture (ffmpeg is not started per viewer).
    const aSet = new Set(a.frames.map((f) => f.toString('base64')));
    expect(b.frames.some((f) => aSet.has(f.toString('base64')))).toBe(true);
    const starts = daemon.logs.filter((l) => l.device === 'tsrc' && l.state === 'ready').length;
    expect(starts).toBe(1);
  });

  it('refuses the stream without a token and for an unknown camera', async () => {
    expect((await daemon.fetch('/v1/camera/tsrc/stream', { token: null })).status).toBe(401);
    const res = await daemon.fetch('/v1/camera/nope/stream');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain(PROBLEM);
  });

  it('captures a good, live face from the face camera with its aligned crop and frame', async () => {
    const res = await daemon.fetch('/v1/face/capture', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ camera: 'face', timeoutMs: 15_000, liveness: true, template: true }),
    });
    const body = (await res.json()) as {
      face: { quality: { size: number }; liveness: { live: boolean } };
      aligned: string;
      frame: string;
      template: string;
      framesExamined: number;
    };
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(body.face.liveness.live).toBe(true);
    expect(body.framesExamined).toBeGreaterThanOrEqual(2);
    const aligned = await sharp(Buffer.from(body.aligned, 'base64')).metadata();
    expect([aligned.width, aligned.height]).toEqual([112, 112]);
    const frame = await sharp(Buffer.from(body.frame, 'base64')).metadata();
    expect([frame.width, frame.height]).toEqual([640, 480]);
    expect(body.template.length).toBeGreaterThan(100);
  });

  it("times out on testsrc saying no face was seen, with a hint on /v1/events in each stream's language", async () => {
    const res = await daemon.fetch('/v1/face/capture', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ camera: 'tsrc', timeoutMs: 1500 }),
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { type: string; missing: string; hint: string; detail: string };
    expect(problem.type).toBe('urn:boxagent:problem:capture-timeout');
    expect(problem.missing).toBe('no-face');
    // box.locale is zh-CN by default: the hint the counter page shows the resident is Chinese.
    expect(problem.hint).toBe('请站到摄像头前');
    expect(problem.detail).toContain('no-face');
    const hint = (stream: SseStream, text: string) =>
      stream.events.some((e) => e.event === 'face.capture.hint' && e.data.includes(`"hint":"${text}"`));
    await waitFor('a capture hint event in Chinese', () => hint(events, '请站到摄像头前'));
    await waitFor('the same hint in English', () => hint(englishEvents, 'step in front of the camera'));
    const [zh, en] = [events, englishEvents].map(
      (s) =>
        s.events.find((e) => e.event === 'face.capture.hint' && e.data.includes('"missing":"no-face"'))!.data,
    );
    expect(JSON.parse(zh!)).toMatchObject({ missing: 'no-face', hint: '请站到摄像头前' });
    expect(JSON.parse(en!)).toMatchObject({ missing: 'no-face', hint: 'step in front of the camera' });
  });

  it('verifies the person in front of the camera against a reference image', async () => {
    const reference = readFileSync(FACE_IMAGE).toString('base64');
    const res = await daemon.fetch('/v1/face/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ probe: { camera: 'face', timeoutMs: 15_000 }, reference: { image: reference } }),
    });
    const body = (await res.json()) as { decision: string; capture: { camera: string } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.decision).toBe('match');
    expect(body.capture.camera).toBe('face');
  });

  it('answers 404 for an unknown camera and 503 with the state for an absent one', async () => {
    const unknown = await daemon.fetch('/v1/camera/nope/snapshot');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { type: string }).type).toBe('urn:boxagent:problem:not-found');
    const absent = await daemon.fetch('/v1/camera/usb/snapshot');
    expect(absent.status).toBe(503);
    const p = (await absent.json()) as { type: string; state: string; reasonCode: string; detail: string };
    expect(p.type).toBe('urn:boxagent:problem:device-unavailable');
    expect(p.state).toBe('absent');
    expect(p.reasonCode).toBe('unplugged');
    // The driver's own words (the missing device node) stay in the detail, for the installer.
    expect(p.detail).toContain('/dev/video-not-attached');
    const capture = await daemon.fetch('/v1/face/capture', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ camera: 'usb' }),
    });
    expect(capture.status).toBe(503);
  });

  it('devices test writes a snapshot to --out and says what faces it sees', () => {
    const out = join(dir, 'snap', 'face.jpg');
    const env = testEnv(daemon.storageDir, {
      BOXAGENT_CONFIG: join(dir, 'config.yaml'),
      BOXAGENT_HTTP_PORT: new URL(daemon.url).port,
    });
    mkdirSync(dirname(out), { recursive: true });
    const r = runCli(['devices', 'test', 'face', '--out', out], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`snapshot written to ${out}`);
    expect(r.stdout).toMatch(/1 face\(s\) in the 640×480 frame: \d+ px, live/);
    expect(readFileSync(out).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });
});

describe('a daemon without ffmpeg', () => {
  it('keeps running and shows the camera in error with the install command', async () => {
    const dir = tempDir();
    // A PATH with node alone on it: no ffmpeg (node may sit beside ffmpeg in /usr/bin).
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const daemon = await startDaemon({
      config: writeConfig(dir, CONFIG),
      storageDir: join(dir, 'state'),
      env: { PATH: bin },
    });
    try {
      await waitFor('the camera in error', async () => {
        const d = (await (await daemon.fetch('/v1/devices/tsrc')).json()) as { detail: string | null };
        return (d.detail ?? '').includes('ffmpeg not found');
      });
      const d = (await (await daemon.fetch('/v1/devices/tsrc')).json()) as { detail: string };
      expect(d.detail).toContain('apt-get install ffmpeg');
      expect((await daemon.fetch('/v1/health')).status).toBe(200);
      expect((await daemon.fetch('/v1/camera/tsrc/snapshot')).status).toBe(503);
    } finally {
      await daemon.stop();
      removeDir(dir);
    }
  });
});
