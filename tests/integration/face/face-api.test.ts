// The face and person operations over HTTP against the built daemon (real models, real images from
// /work/shared/data/faces/eastasian-dev, read in place).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTemplate } from '../../../agent/face/template-codec.js';
import { DB_FILE } from '../../../agent/store/store.js';
import { FACE_DATA } from '../../../bench/face-pairs.js';
import {
  DEFAULT_CONFIG,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../../helpers/daemon.js';

const PROBLEM = 'urn:boxagent:problem:';
const img = (person: string, n: number): Buffer =>
  readFileSync(
    join(FACE_DATA, 'eastasian-dev/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`),
  );
const b64 = (b: Buffer): string => b.toString('base64');

let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon({ env: { BOXAGENT_LOG_LEVEL: 'info' } });
  expectFaceReady(daemon);
}, 60_000);

afterAll(async () => {
  await daemon.stop('SIGKILL');
  removeDir(daemon.storageDir);
});

function expectFaceReady(d: Daemon): void {
  // The daemon logs "boxagent ready" after the face service has started (or failed to).
  const line = d.logs.find(
    (l) => l.msg === 'face service ready' || l.msg.startsWith('face service unavailable'),
  );
  if (line?.msg !== 'face service ready')
    throw new Error(`face service did not start: ${JSON.stringify(line)}`);
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return daemon.fetch(path, {
    method: 'POST',
    // Problem details are asserted in English (the box's default is Chinese).
    headers: { 'content-type': 'application/json', 'accept-language': 'en', ...headers },
    body: JSON.stringify(body),
  });
}

async function problem(
  res: Response,
): Promise<{ type: string; status: number; detail: string; field?: string }> {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as { type: string; status: number; detail: string; field?: string };
}

describe('face.detect', () => {
  it('finds the face with box, five landmarks, quality, liveness and a template', async () => {
    const res = await post('/v1/face/detect', {
      probe: { image: b64(img('Hu_Jintao', 1)) },
      templates: true,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      faces: {
        box: { width: number };
        landmarks: number[][];
        quality: { size: number };
        liveness: { live: boolean };
        template: string;
      }[];
      modelId: string;
    };
    expect(body.faces).toHaveLength(1);
    const f = body.faces[0]!;
    expect(f.landmarks).toHaveLength(5);
    expect(f.quality.size).toBeGreaterThan(60);
    expect(f.liveness.live).toBe(true);
    expect(decodeTemplate(f.template).modelId).toBe(body.modelId);
  });

  it('reports every face of a picture with two people', async () => {
    const res = await post('/v1/face/detect', { probe: { image: b64(img('Roh_Moo-hyun', 4)) } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { faces: unknown[] }).faces).toHaveLength(2);
  });
});

describe('face.verify', () => {
  it('matches two photos of the same person and not of different people', async () => {
    const same = await post('/v1/face/verify', {
      probe: { image: b64(img('Hu_Jintao', 4)) },
      reference: { image: b64(img('Hu_Jintao', 1)) },
    });
    expect(same.status).toBe(200);
    const s = (await same.json()) as { score: number; match: boolean; threshold: number; decision: string };
    expect(s.score).toBeGreaterThanOrEqual(s.threshold);
    expect(s).toMatchObject({ match: true, decision: 'match' });

    const other = await post('/v1/face/verify', {
      probe: { image: b64(img('Hu_Jintao', 4)) },
      reference: { image: b64(img('Zhu_Rongji', 1)) },
    });
    expect(other.status).toBe(200);
    expect(((await other.json()) as { match: boolean }).match).toBe(false);
  });

  it('says not-live for a probe the liveness model rejects, whatever the score', async () => {
    const res = await post('/v1/face/verify', {
      probe: { image: b64(img('Roh_Moo-hyun', 8)) },
      reference: { image: b64(img('Roh_Moo-hyun', 1)) },
    });
    const body = (await res.json()) as { match: boolean; decision: string; liveness: { live: boolean } };
    expect(body).toMatchObject({ match: false, decision: 'not-live', liveness: { live: false } });
  });

  it('refuses a template made by another model', async () => {
    const det = await post('/v1/face/detect', {
      probe: { image: b64(img('Hu_Jintao', 1)) },
      templates: true,
    });
    const template = ((await det.json()) as { faces: { template: string }[] }).faces[0]!.template;
    const ok = await post('/v1/face/verify', {
      probe: { image: b64(img('Hu_Jintao', 4)) },
      reference: { template },
    });
    expect(((await ok.json()) as { match: boolean }).match).toBe(true);

    const foreign = template.replace(/^bxt1\.[^.]+\./, 'bxt1.some-other-model-1.');
    const res = await post('/v1/face/verify', {
      probe: { image: b64(img('Hu_Jintao', 4)) },
      reference: { template: foreign },
    });
    expect(res.status).toBe(409);
    expect(await problem(res)).toMatchObject({
      type: `${PROBLEM}model-mismatch`,
      field: '/reference/template',
    });
  });

  it('names the face count when the probe shows several people, and takes the largest on request', async () => {
    const body = {
      probe: { image: b64(img('Roh_Moo-hyun', 4)) },
      reference: { image: b64(img('Roh_Moo-hyun', 1)) },
    };
    const res = await post('/v1/face/verify', body);
    expect(res.status).toBe(422);
    const p = await problem(res);
    expect(p).toMatchObject({ type: `${PROBLEM}several-faces`, field: '/probe/image' });
    expect(p.detail).toContain('2 faces');
    const largest = await post('/v1/face/verify', { ...body, largest: true });
    expect(largest.status).toBe(200);
  });
});

describe('bad images are 4xx problems and the service keeps working', () => {
  const cases: [string, () => Promise<Buffer>, number, string][] = [
    ['not an image', () => Promise.resolve(Buffer.from('hello, this is text')), 422, 'image-invalid'],
    ['a truncated JPEG', () => Promise.resolve(img('Hu_Jintao', 1).subarray(0, 4000)), 422, 'image-invalid'],
    ['20 000 × 20 000 pixels', hugePng, 413, 'image-too-large'],
    [
      'no face',
      () =>
        sharp({ create: { width: 320, height: 240, channels: 3, background: '#777' } })
          .jpeg()
          .toBuffer(),
      422,
      'no-face',
    ],
  ];
  for (const [what, make, status, code] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const res = await post('/v1/face/verify', {
        probe: { image: b64(await make()) },
        reference: { image: b64(img('Hu_Jintao', 1)) },
      });
      expect(res.status).toBe(status);
      expect(await problem(res)).toMatchObject({ type: `${PROBLEM}${code}`, field: '/probe/image' });
    });
  }

  it('takes image bodies over the default 1 MiB limit on face routes only', async () => {
    // Noise compresses badly: a 1200 × 1200 noise JPEG is well over 1 MiB in base64.
    const noise = Buffer.alloc(1200 * 1200 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const jpeg = await sharp(noise, { raw: { width: 1200, height: 1200, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const body = { probe: { image: b64(jpeg) } };
    expect(JSON.stringify(body).length).toBeGreaterThan(1_048_576);
    const res = await post('/v1/face/detect', body);
    expect(res.status).toBe(200);
    const other = await post('/v1/devices/printer-1/test', body);
    expect(other.status).toBe(413);
  });

  it('still answers after all of them', async () => {
    const res = await post('/v1/face/detect', { probe: { image: b64(img('Hu_Jintao', 1)) } });
    expect(res.status).toBe(200);
  });

  it('refuses a reference with two kinds at once, naming the field', async () => {
    const res = await post('/v1/face/verify', {
      probe: { image: b64(img('Hu_Jintao', 1)) },
      reference: { image: b64(img('Hu_Jintao', 1)), personId: 'x' },
    });
    expect(res.status).toBe(400);
    expect((await problem(res)).field).toBe('/reference');
  });
});

describe('multipart/form-data (the same fields, images as file parts)', () => {
  const file = (b: Buffer): Blob => new Blob([new Uint8Array(b)], { type: 'image/jpeg' });
  const postForm = (path: string, form: FormData): Promise<Response> =>
    daemon.fetch(path, { method: 'POST', body: form });

  it('verifies from two file parts with the score the JSON body gives', async () => {
    const form = new FormData();
    form.append('probe.image', file(img('Hu_Jintao', 4)), 'probe.jpg');
    form.append('reference.image', file(img('Hu_Jintao', 1)), 'reference.jpg');
    form.append('largest', 'true');
    const res = await postForm('/v1/face/verify', form);
    expect(res.status).toBe(200);
    const viaForm = (await res.json()) as { score: number; match: boolean };
    const viaJson = (await (
      await post('/v1/face/verify', {
        probe: { image: b64(img('Hu_Jintao', 4)) },
        reference: { image: b64(img('Hu_Jintao', 1)) },
      })
    ).json()) as { score: number };
    expect(viaForm.match).toBe(true);
    expect(viaForm.score).toBe(viaJson.score);
  });

  it('identifies with plain text fields read as their schema types', async () => {
    const form = new FormData();
    form.append('probe.image', file(img('Hu_Jintao', 1)));
    form.append('topK', '3');
    const res = await postForm('/v1/face/identify', form);
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('gallerySize');

    const bad = new FormData();
    bad.append('probe.image', file(img('Hu_Jintao', 1)));
    bad.append('topK', 'three');
    const refused = await postForm('/v1/face/identify', bad);
    expect(refused.status).toBe(400);
    expect(await problem(refused)).toMatchObject({ type: `${PROBLEM}invalid-request`, field: '/topK' });
  });

  it('refuses a file part where the operation takes no image', async () => {
    const form = new FormData();
    form.append('probe.image', file(img('Hu_Jintao', 1)));
    form.append('topK', file(Buffer.from('3')));
    const res = await postForm('/v1/face/identify', form);
    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ type: `${PROBLEM}invalid-request`, field: '/topK' });
  });

  it('answers a cut-off form 400 malformed-multipart, and one without a boundary too', async () => {
    const cut = await daemon.fetch('/v1/face/detect', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      body: '--XyZ\r\nContent-Disposition: form-data; name="probe.image"; filename="a.jpg"\r\n\r\nnot all',
    });
    expect(cut.status).toBe(400);
    expect((await problem(cut)).type).toBe(`${PROBLEM}malformed-multipart`);

    const noBoundary = await daemon.fetch('/v1/face/detect', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data' },
      body: 'probe.image=x',
    });
    expect(noBoundary.status).toBe(400);
    expect((await problem(noBoundary)).type).toBe(`${PROBLEM}malformed-multipart`);
  });

  it('holds the operation body limit (413) and refuses forms where no image is taken (415)', async () => {
    const form = new FormData();
    form.append('probe.image', file(Buffer.alloc(17 * 1024 * 1024, 1)));
    const big = await postForm('/v1/face/detect', form);
    expect(big.status).toBe(413);
    expect((await problem(big)).type).toBe(`${PROBLEM}payload-too-large`);

    const other = new FormData();
    other.append('name', 'x');
    const res = await postForm('/v1/devices/printer-1/test', other);
    expect(res.status).toBe(415);
    expect((await problem(res)).type).toBe(`${PROBLEM}unsupported-media-type`);
  });

  it('still answers JSON after all of them', async () => {
    const res = await post('/v1/face/detect', { probe: { image: b64(img('Hu_Jintao', 1)) } });
    expect(res.status).toBe(200);
  });
});

describe('enrol → identify → delete → identify', () => {
  it('finds an enrolled person, and no longer after erasure', async () => {
    const enrol = await post('/v1/persons', {
      id: 'hu-1',
      name: '胡锦涛',
      images: [{ image: b64(img('Hu_Jintao', 1)) }],
      source: 'document',
    });
    expect(enrol.status).toBe(201);
    expect(((await enrol.json()) as { faces: unknown[] }).faces).toHaveLength(1);
    const other = await post('/v1/persons', {
      id: 'wen-1',
      name: '温家宝',
      images: [{ image: b64(img('Wen_Jiabao', 2)) }],
      source: 'document',
    });
    expect(other.status).toBe(201);
    const more = await post('/v1/persons/hu-1/faces', { image: b64(img('Hu_Jintao', 7)), source: 'camera' });
    expect(more.status).toBe(201);

    const found = await post('/v1/face/identify', { probe: { image: b64(img('Hu_Jintao', 4)) }, topK: 3 });
    expect(found.status).toBe(200);
    const f = (await found.json()) as {
      best: { personId: string; name: string; confirm: boolean } | null;
      candidates: { personId: string }[];
    };
    expect(f.best).toMatchObject({ personId: 'hu-1', name: '胡锦涛' });
    expect(typeof f.best!.confirm).toBe('boolean');
    expect(f.candidates[0]!.personId).toBe('hu-1');

    const byPerson = await post('/v1/face/verify', {
      probe: { image: b64(img('Hu_Jintao', 4)) },
      reference: { personId: 'hu-1' },
    });
    expect(((await byPerson.json()) as { match: boolean }).match).toBe(true);

    const got = await daemon.fetch('/v1/persons/hu-1');
    expect(((await got.json()) as { faces: unknown[] }).faces).toHaveLength(2);

    const del = await daemon.fetch('/v1/persons/hu-1', { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id: 'hu-1', deleted: true, faces: 2 });

    const after = await post('/v1/face/identify', { probe: { image: b64(img('Hu_Jintao', 4)) } });
    const a = (await after.json()) as {
      best: { personId: string } | null;
      candidates: { personId: string }[];
    };
    expect(a.candidates.map((c) => c.personId)).not.toContain('hu-1');
    expect(a.best?.personId).not.toBe('hu-1');
    expect((await daemon.fetch('/v1/persons/hu-1')).status).toBe(404);

    const audit = await daemon.fetch('/v1/audit?limit=1000');
    const entries = (
      (await audit.json()) as { entries: { action: string; target: string; detail: object }[] }
    ).entries;
    const erasure = entries.find((e) => e.action === 'person.delete' && e.target === 'hu-1');
    expect(erasure?.detail).toEqual({ faces: 2 });
  });

  it('rejects an enrolment that fails the gate with the reason, storing nothing', async () => {
    const tiny = await sharp(img('Hu_Jintao', 1)).resize(110, 110).jpeg().toBuffer();
    const small = await post('/v1/persons', {
      id: 'tiny',
      name: 'x',
      images: [{ image: b64(tiny) }],
      source: 'document',
    });
    expect(small.status).toBe(422);
    const p = await problem(small);
    expect(p).toMatchObject({ type: `${PROBLEM}face-quality`, field: '/images/0/image' });
    expect(p.detail).toContain('too small');

    const blurred = await sharp(img('Hu_Jintao', 1)).blur(4).jpeg().toBuffer();
    const blur = await post('/v1/persons', {
      id: 'blur',
      name: 'x',
      images: [{ image: b64(blurred) }],
      source: 'document',
    });
    expect(blur.status).toBe(422);
    expect((await problem(blur)).detail).toContain('blurred');

    const spoof = await post('/v1/persons', {
      id: 'spoof',
      name: 'x',
      images: [{ image: b64(img('Roh_Moo-hyun', 8)) }],
    });
    expect(spoof.status).toBe(422);
    expect((await problem(spoof)).type).toBe(`${PROBLEM}face-not-live`);
    expect((await daemon.fetch('/v1/persons/tiny')).status).toBe(404);
    expect((await daemon.fetch('/v1/persons/blur')).status).toBe(404);
    expect((await daemon.fetch('/v1/persons/spoof')).status).toBe(404);
  });

  it('keeps templates encrypted at rest: no template bytes in the database files', async () => {
    const det = await post('/v1/face/detect', {
      probe: { image: b64(img('Wen_Jiabao', 2)) },
      templates: true,
    });
    const { embedding } = decodeTemplate(
      ((await det.json()) as { faces: { template: string }[] }).faces[0]!.template,
    );
    const plain = Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
    // Wen Jiabao was enrolled from this very image above: the same vector is in the gallery.
    const files = [DB_FILE, `${DB_FILE}-wal`].map((f) => join(daemon.storageDir, f));
    for (const file of files) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      for (let off = 0; off + 32 <= plain.length; off += 256) {
        expect(bytes.includes(plain.subarray(off, off + 32)), `${file} holds template bytes at ${off}`).toBe(
          false,
        );
      }
    }
  });
});

describe('the CLI', () => {
  const file = (person: string, n: number): string =>
    join(FACE_DATA, 'eastasian-dev/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`);

  it('compares two files, and names the file with two faces', () => {
    const env = testEnv(daemon.storageDir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
    const r = runCli(['face', 'verify', file('Hu_Jintao', 4), file('Hu_Jintao', 1), '--json'], env);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ match: true, decision: 'match' });
    const two = runCli(['face', 'verify', file('Roh_Moo-hyun', 4), file('Hu_Jintao', 1)], env);
    expect(two.status).toBe(1);
    expect(two.stderr).toContain(`${file('Roh_Moo-hyun', 4)}: 2 faces were found`);
  });

  it('enrols and erases while the daemon runs, and the daemon sees both', async () => {
    const env = testEnv(daemon.storageDir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
    const enrol = runCli(
      ['persons', 'enroll', '--id', 'zhu-1', '--name', '朱镕基', file('Zhu_Rongji', 1)],
      env,
    );
    expect(enrol.stderr).toBe('');
    expect(enrol.status).toBe(0);
    const probe = { probe: { image: b64(readFileSync(file('Zhu_Rongji', 2))) }, topK: 3 };
    const found = (await (await post('/v1/face/identify', probe)).json()) as {
      candidates: { personId: string }[];
    };
    expect(found.candidates[0]?.personId).toBe('zhu-1');

    const listed = JSON.parse(runCli(['persons', 'list', '--json'], env).stdout) as { id: string }[];
    expect(listed.map((p) => p.id)).toContain('zhu-1');
    const api = (await (await daemon.fetch('/v1/persons?limit=1000')).json()) as {
      persons: { id: string }[];
    };
    expect(api.persons.map((p) => p.id)).toContain('zhu-1');

    expect(runCli(['persons', 'delete', 'zhu-1'], env).status).toBe(0);
    const after = (await (await post('/v1/face/identify', probe)).json()) as {
      candidates: { personId: string }[];
    };
    expect(after.candidates.map((c) => c.personId)).not.toContain('zhu-1');
  });
});

describe('a burst beyond the queue', () => {
  it('answers 503 face-busy with Retry-After, and every other request normally', async () => {
    const d = await startDaemon({ env: { BOXAGENT_FACE_CONCURRENCY: '1', BOXAGENT_FACE_QUEUE_SIZE: '0' } });
    try {
      // A large frame keeps the single slot busy long enough for the burst to find it taken.
      const big = await sharp(img('Hu_Jintao', 1)).resize(1600, 1600).jpeg().toBuffer();
      const body = JSON.stringify({ probe: { image: b64(big) } });
      const responses = await Promise.all(
        Array.from({ length: 8 }, () =>
          d.fetch('/v1/face/detect', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          }),
        ),
      );
      const busy = responses.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(responses.every((r) => r.status === 200 || r.status === 503)).toBe(true);
      expect(busy[0]!.headers.get('retry-after')).toBe('1');
      expect((await problem(busy[0]!)).type).toBe(`${PROBLEM}face-busy`);
      expect((await d.fetch('/v1/health')).status).toBe(200);
    } finally {
      await d.stop('SIGKILL');
      removeDir(d.storageDir);
    }
  });
});

describe('without the models', () => {
  it('answers face calls 503 face-unavailable while the rest of the daemon runs', async () => {
    const d = await startDaemon({ env: { BOXAGENT_FACE_MODEL_DIR: tempDir('boxagent-no-models-') } });
    try {
      expect((await d.fetch('/v1/health')).status).toBe(200);
      const status = (await (await d.fetch('/v1/face/status')).json()) as {
        available: boolean;
        reason: string;
      };
      expect(status.available).toBe(false);
      expect(status.reason).toContain('models/fetch.mjs');
      const res = await d.fetch('/v1/face/detect', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ probe: { image: b64(img('Hu_Jintao', 1)) } }),
      });
      expect(res.status).toBe(503);
      const p = await problem(res);
      expect(p.type).toBe(`${PROBLEM}face-unavailable`);
      expect(p.detail).toContain('fr_detect.onnx');
    } finally {
      await d.stop('SIGKILL');
      removeDir(d.storageDir);
    }
  });
});

/** A PNG whose header says 20 000 × 20 000: refused from the header, never decoded. */
async function hugePng(): Promise<Buffer> {
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  const out = Buffer.from(png);
  // IHDR data starts at byte 16: width, height (big-endian), then the chunk CRC over type + data.
  out.writeUInt32BE(20_000, 16);
  out.writeUInt32BE(20_000, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
