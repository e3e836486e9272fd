// ID photos over HTTP against the built daemon: real portraits (../shared/data/faces, read in place) are
// cropped to the 1-inch and 2-inch geometry; the result is checked by detecting the face again in the
// returned JPEG and measuring eye line and head height from its landmarks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHIN_BELOW_EYES, CROWN_ABOVE_EYES } from '../../agent/photos/id-photo.js';
import { NAMED_SPECS } from '../../agent/photos/id-photo-specs.js';
import { FACE_DATA } from '../../bench/face-pairs.js';
import { waitFor } from '../helpers/wait-for.js';
import { removeDir, ROOT, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/daemon.js';

const PROBLEM = 'urn:boxagent:problem:';
const portrait = (person: string, n: number): Buffer =>
  readFileSync(
    join(FACE_DATA, 'eastasian-dev/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`),
  );
const b64 = (b: Buffer): string => b.toString('base64');
const PEOPLE: [string, number][] = [
  ['Hu_Jintao', 1],
  ['Wen_Jiabao', 2],
  ['Li_Peng', 1],
  ['Yao_Ming', 1],
  ['Naoto_Kan', 1],
  ['Zhu_Rongji', 1],
];

// A simulated camera showing a portrait, as the counter camera would show the resident.
const CAMERA_IMAGE = join(ROOT, '../shared/data/faces/dev/images/Angela_Bassett/Angela_Bassett_0001.jpg');
const CONFIG = `
box: { id: photo-box }
devices:
  - { id: face-cam, kind: camera, transport: { type: simulated }, camera: { simulatedImages: ${JSON.stringify(CAMERA_IMAGE)}, fps: 10 } }
`;

let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  daemon = await startDaemon({ config: writeConfig(dir, CONFIG), storageDir: join(dir, 'state') });
  if (!daemon.logs.some((l) => l.msg === 'face service ready')) throw new Error('face service did not start');
}, 60_000);

afterAll(async () => {
  await daemon.stop('SIGKILL');
  removeDir(dir);
});

function post(path: string, body: unknown): Promise<Response> {
  return daemon.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

interface Detected {
  faces: { landmarks: [number, number][] }[];
}

/** Eye line (mm from the top) and head height (mm) of the one face in a 300 dpi photo, measured anew. */
async function measure(jpeg: Buffer): Promise<{ eyeLineMm: number; headMm: number }> {
  const res = await post('/v1/face/detect', { probe: { image: b64(jpeg) } });
  expect(res.status).toBe(200);
  const { faces } = (await res.json()) as Detected;
  // Largest first: the person photographed (a neighbour cut at the edge may be found too).
  expect(faces.length).toBeGreaterThanOrEqual(1);
  const [le, re, , lm, rm] = faces[0]!.landmarks;
  const eyeY = (le![1] + re![1]) / 2;
  const eyeMouth = Math.hypot((lm![0] + rm![0]) / 2 - (le![0] + re![0]) / 2, (lm![1] + rm![1]) / 2 - eyeY);
  const mm = (px: number): number => (px * 25.4) / 300;
  return { eyeLineMm: mm(eyeY), headMm: mm(eyeMouth * (CROWN_ABOVE_EYES + CHIN_BELOW_EYES)) };
}

describe('POST /v1/photos/id-photo', () => {
  for (const specName of ['1-inch', '2-inch'] as const) {
    const spec = NAMED_SPECS[specName];
    it(`crops real portraits to ${specName} (${spec.widthMm}×${spec.heightMm} mm at 300 dpi) with head and eye line in range`, async () => {
      for (const [person, n] of PEOPLE) {
        const res = await post('/v1/photos/id-photo', {
          image: b64(portrait(person, n)),
          spec: specName,
          requireLightBackground: false,
        });
        expect(res.status, `${person}: ${await res.clone().text()}`).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/jpeg');
        expect(res.headers.get('x-photo-spec')).toBe(specName);
        const jpeg = Buffer.from(await res.arrayBuffer());
        const meta = await sharp(jpeg).metadata();
        expect(meta.format).toBe('jpeg');
        expect(meta.width).toBe(Math.round((spec.widthMm * 300) / 25.4));
        expect(meta.height).toBe(Math.round((spec.heightMm * 300) / 25.4));
        expect(meta.density).toBe(300);
        const m = await measure(jpeg);
        expect(m.eyeLineMm, `${person} eye line`).toBeGreaterThanOrEqual(spec.eyeLineMm[0]);
        expect(m.eyeLineMm, `${person} eye line`).toBeLessThanOrEqual(spec.eyeLineMm[1]);
        expect(m.headMm, `${person} head`).toBeGreaterThanOrEqual(spec.headHeightMm[0]);
        expect(m.headMm, `${person} head`).toBeLessThanOrEqual(spec.headHeightMm[1]);
      }
    }, 60_000);
  }

  it('takes a custom size in mm', async () => {
    const res = await post('/v1/photos/id-photo', {
      image: b64(portrait('Hu_Jintao', 1)),
      spec: { widthMm: 30, heightMm: 40 },
      requireLightBackground: false,
    });
    expect(res.status).toBe(200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([354, 472]);
  });

  it('checks the background: a news photo is refused, the same face on a plain light wall passes', async () => {
    const dark = await post('/v1/photos/id-photo', { image: b64(portrait('Hu_Jintao', 1)), spec: '1-inch' });
    expect(dark.status).toBe(422);
    const p = (await dark.json()) as { type: string; reason: string; field: string };
    expect(p).toMatchObject({ type: `${PROBLEM}photo-unusable`, reason: 'background', field: '/image' });

    // The head cut out along its detected box and set on a light grey wall: what a counter photo looks like.
    const source = portrait('Hu_Jintao', 1);
    const det = (await (await post('/v1/face/detect', { probe: { image: b64(source) } })).json()) as {
      faces: { box: { x: number; y: number; width: number; height: number } }[];
    };
    const box = det.faces[0]!.box;
    const left = Math.max(0, Math.round(box.x));
    const top = Math.max(0, Math.round(box.y - 0.1 * box.height));
    const head = await sharp(source)
      .extract({
        left,
        top,
        width: Math.min(250 - left, Math.round(box.width)),
        height: 250 - top,
      })
      .toBuffer();
    const onWall = await sharp({ create: { width: 500, height: 500, channels: 3, background: '#e8e8e8' } })
      .composite([{ input: head, left: 250 - Math.round(box.width * 0.5), top: 200 }])
      .jpeg()
      .toBuffer();
    const light = await post('/v1/photos/id-photo', { image: b64(onWall), spec: '1-inch' });
    expect(light.status, await light.clone().text()).toBe(200);
    expect(light.headers.get('x-photo-background')).toMatch(/^light;/);
  });

  it('takes the photo with the counter camera: a guided capture, then the crop', async () => {
    await waitFor('the camera to stream', async () => {
      const d = (await (await daemon.fetch('/v1/devices/face-cam')).json()) as { state: string };
      return d.state === 'ready';
    });
    const res = await post('/v1/photos/id-photo', {
      camera: 'face-cam',
      spec: '2-inch',
      requireLightBackground: false,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const jpeg = Buffer.from(await res.arrayBuffer());
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 413, height: 579 });
    const m = await measure(jpeg);
    const spec = NAMED_SPECS['2-inch'];
    expect(m.eyeLineMm).toBeGreaterThanOrEqual(spec.eyeLineMm[0]);
    expect(m.eyeLineMm).toBeLessThanOrEqual(spec.eyeLineMm[1]);
  }, 30_000);

  it('refuses a picture without a face or with two, and a camera that is not there', async () => {
    const blank = await sharp({ create: { width: 400, height: 500, channels: 3, background: '#eee' } })
      .jpeg()
      .toBuffer();
    const none = await post('/v1/photos/id-photo', { image: b64(blank), spec: '1-inch' });
    expect(none.status).toBe(422);
    expect(await none.json()).toMatchObject({ type: `${PROBLEM}no-face`, field: '/image' });

    const two = await post('/v1/photos/id-photo', {
      image: b64(portrait('Roh_Moo-hyun', 4)),
      spec: '2-inch',
    });
    expect(two.status).toBe(422);
    expect(await two.json()).toMatchObject({ type: `${PROBLEM}several-faces`, field: '/image', faces: 2 });

    const camera = await post('/v1/photos/id-photo', { camera: 'no-camera', spec: '1-inch' });
    expect(camera.status).toBe(404);
    expect(await camera.json()).toMatchObject({ type: `${PROBLEM}not-found`, field: '/camera' });

    const both = await post('/v1/photos/id-photo', { camera: 'face-cam', image: b64(blank), spec: '1-inch' });
    expect(both.status).toBe(400);
  });
});
