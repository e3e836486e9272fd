// The card photo through a vendor decoder library, end to end: C test doubles of each supported ABI
// (tests/fixtures/wlt-decoders, compiled here with the system cc), called by the built daemon through koffi
// in its decoder child process, with ID card readers on real socat ptys (the reader simulator on the far
// end). The doubles do not decode WLT (a licensed format): the first byte of a card's photo data says which
// face the test wrote for them, made card-like from ../shared/data/faces. Real FFI, real child process,
// real images, real face models.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdCardReaderSimulator, SAMPLE_CARDS, type ScriptedCard } from '../../drivers/idcard/simulator.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { loadManifest } from '../../models/manifest.js';
import { FACE_DATA } from '../../bench/face-pairs.js';
import { CARD_PHOTO_HEIGHT, CARD_PHOTO_WIDTH, cardPhotoPixels } from '../helpers/card-photo.js';
import {
  ROOT,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { openPtyPair, type PtyPair } from '../helpers/pty-pair.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

const FIXTURES = join(ROOT, 'tests/fixtures/wlt-decoders');
const PROBLEM = 'urn:boxagent:problem:';
const MASKED_ID = '430***********1236';
const face = (person: string, n: number): Buffer =>
  readFileSync(
    join(FACE_DATA, 'eastasian-dev/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`),
  );
const b64 = (b: Buffer): string => b.toString('base64');

/** A card whose photo data starts with `first`: which face the doubles decode it to, or how they misbehave. */
const card = (first: number | string): ScriptedCard => {
  const photo = Buffer.alloc(1024, 0x11);
  photo[0] = typeof first === 'string' ? first.charCodeAt(0) : first;
  return { ...SAMPLE_CARDS.zhang, photo };
};
const HU = 0; // Hu_Jintao_0001, made card-like
const ZHU = 1; // Zhu_Rongji_0001, made card-like

interface CardAnswer {
  readAt: string;
  photo: {
    bytes: number;
    jpeg: string | null;
    jpegBytes: number | null;
    width: number | null;
    height: number | null;
    jpegUnavailable: string | null;
  };
}

interface Reader {
  id: string;
  pair: PtyPair;
  sim: IdCardReaderSimulator;
}

let dir: string;
let daemon: Daemon;
let config: string;
let events: SseStream;
const readers = new Map<string, Reader>();
/** The pixels (RGB, top-down) each card decodes to. */
const expected = new Map<number, Buffer>();

function compile(source: string, out: string): string {
  const lib = join(dir, out);
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', lib, join(FIXTURES, source)]);
  return lib;
}

/** RGB rows top-down → BGR rows bottom-up, the way the vendors' `unpack` writes them. */
function toVendorPixels(rgb: Buffer): Buffer {
  const row = CARD_PHOTO_WIDTH * 3;
  const out = Buffer.alloc(rgb.length);
  for (let y = 0; y < CARD_PHOTO_HEIGHT; y++) {
    const to = (CARD_PHOTO_HEIGHT - 1 - y) * row;
    for (let x = 0; x < row; x += 3) {
      out[to + x] = rgb[y * row + x + 2]!;
      out[to + x + 1] = rgb[y * row + x + 1]!;
      out[to + x + 2] = rgb[y * row + x]!;
    }
  }
  return out;
}

async function addReader(id: string): Promise<string> {
  const pair = await openPtyPair(dir, id);
  const sim = new IdCardReaderSimulator(
    await openSerial({
      path: pair.peer,
      baudRate: 115200,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      rtscts: false,
    }),
  );
  sim.start();
  readers.set(id, { id, pair, sim });
  return pair.device;
}

async function cardOn(device: string): Promise<Response> {
  return daemon.fetch(`/v1/idcard/${device}/card`);
}

/**
 * Takes any card off the reader, lets it see the empty reader, lays `next` on it and waits until the
 * daemon has the new read (its photo decoded, or the reason why not).
 */
async function swapCard(device: string, next: ScriptedCard): Promise<CardAnswer> {
  const { sim } = readers.get(device)!;
  const before = await cardOn(device);
  const lastReadAt = before.status === 200 ? ((await before.json()) as CardAnswer).readAt : '';
  sim.remove();
  const polls = sim.count('findCard');
  await waitFor('the reader to see no card', () => sim.count('findCard') >= polls + 2);
  sim.present(next);
  let answer: CardAnswer | undefined;
  await waitFor('the new card read', async () => {
    const res = await cardOn(device);
    if (res.status !== 200) return false;
    const body = (await res.json()) as CardAnswer;
    if (body.readAt === lastReadAt) return false;
    answer = body;
    return true;
  });
  return answer!;
}

async function jpegPixels(jpeg: string): Promise<{ width: number; height: number; rgb: Buffer }> {
  const { data, info } = await sharp(Buffer.from(jpeg, 'base64')).removeAlpha().raw().toBuffer({
    resolveWithObject: true,
  });
  return { width: info.width, height: info.height, rgb: data };
}

function meanDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

async function post(path: string, body: unknown): Promise<Response> {
  return daemon.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function deviceReason(id: string): Promise<string> {
  let reason = '';
  await waitFor(`a reason on ${id}`, async () => {
    // `detail` is the driver's own message, for the installer (`reason` is the clerk's text).
    const d = (await (await daemon.fetch(`/v1/devices/${id}`)).json()) as { detail: string | null };
    reason = d.detail ?? '';
    return reason !== '';
  });
  return reason;
}

beforeAll(async () => {
  dir = tempDir();
  const photos = join(dir, 'photos');
  for (const [n, person] of [
    [HU, 'Hu_Jintao'],
    [ZHU, 'Zhu_Rongji'],
  ] as const) {
    const rgb = await cardPhotoPixels(face(person, 1));
    expected.set(n, rgb);
    writeFileSync(`${photos}.${n}`, toVendorPixels(rgb));
  }
  const libs = {
    unpack: compile('unpack.c', 'libwlt2bmp.so'),
    buffer: compile('wlt2bmp-buffer.c', 'libwltbuffer.so'),
    crashing: compile('crashing.c', 'libcrashing.so'),
    hanging: compile('hanging.c', 'libhanging.so'),
    noSymbol: compile('no-symbol.c', 'libnosymbol.so'),
  };
  // The unpack double with its ELF machine set to another architecture than this one.
  const foreign = join(dir, 'libforeign.so');
  copyFileSync(libs.unpack, foreign);
  const elf = readFileSync(foreign);
  elf.writeUInt16LE(process.arch === 'arm64' ? 0x3e : 0xb7, 18);
  writeFileSync(foreign, elf);

  const serial = async (id: string, decoder: string): Promise<string[]> => [
    `  - id: ${id}`,
    '    kind: idcard',
    `    transport: { type: serial, path: "${await addReader(id)}", baudRate: 115200 }`,
    `    idcard: { pollIntervalMs: 100, commandTimeoutMs: 3000, readTimeoutMs: 5000, decoder: ${decoder} }`,
  ];
  const broken = (id: string, decoder: string): string[] => [
    `  - id: ${id}`,
    '    kind: idcard',
    '    transport: { type: simulated }',
    `    idcard: { decoder: ${decoder} }`,
  ];
  config = writeConfig(
    dir,
    [
      'box:',
      '  id: decoder-box',
      'devices:',
      ...(await serial('reader-u', `{ library: "${libs.unpack}", abi: unpack }`)),
      ...(await serial('reader-b', `{ library: "${libs.buffer}", abi: wlt2bmpBuffer }`)),
      ...(await serial('reader-s', `{ library: "${libs.crashing}", abi: unpack }`)),
      ...(await serial('reader-h', `{ library: "${libs.hanging}", abi: unpack, timeoutMs: 2500 }`)),
      ...broken('reader-m', `{ library: "${join(dir, 'libmissing.so')}", abi: unpack }`),
      ...broken('reader-y', `{ library: "${libs.noSymbol}", abi: unpack }`),
      ...broken('reader-a', `{ library: "${foreign}", abi: unpack }`),
      '',
    ].join('\n'),
  );
  daemon = await startDaemon({
    config,
    storageDir: tempDir(),
    env: { WLT_TEST_PHOTOS: photos, BOXAGENT_BOX_LOCALE: 'en' },
  });
  events = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
  await waitFor('the readers ready', async () => {
    const { devices } = (await (await daemon.fetch('/v1/devices')).json()) as {
      devices: { id: string; state: string }[];
    };
    return ['reader-u', 'reader-b', 'reader-s', 'reader-h'].every(
      (id) => devices.find((d) => d.id === id)?.state === 'ready',
    );
  });
}, 60_000);

afterAll(async () => {
  events?.close();
  await daemon?.stop('SIGKILL');
  for (const r of readers.values()) {
    await r.sim.stop();
    await r.pair.close();
  }
  if (daemon) removeDir(daemon.storageDir);
  if (dir) removeDir(dir);
});

describe('the card photo through the vendor decoder', () => {
  it('serves the photo as JPEG with its size (unpack ABI, BGR rows bottom-up)', async () => {
    const answer = await swapCard('reader-u', card(HU));
    expect(answer.photo).toMatchObject({ bytes: 1024, width: 102, height: 126, jpegUnavailable: null });
    expect(Buffer.from(answer.photo.jpeg!, 'base64').length).toBe(answer.photo.jpegBytes);
    const got = await jpegPixels(answer.photo.jpeg!);
    expect([got.width, got.height]).toEqual([102, 126]);
    // The same picture, upright and in its colours (JPEG loses a little; a flip or a swap loses a lot).
    expect(meanDifference(got.rgb, expected.get(HU)!)).toBeLessThan(4);
    expect(meanDifference(got.rgb, expected.get(ZHU)!)).toBeGreaterThan(20);
  });

  it('says in the live card event that a photo is available, never carrying it', async () => {
    await waitFor('the idcard.read event', () =>
      events.events.some((e) => e.event === 'idcard.read' && e.data.includes('"reader-u"')),
    );
    const event = events.events.find((e) => e.event === 'idcard.read' && e.data.includes('"reader-u"'))!;
    const payload = JSON.parse(event.data) as { photo: Record<string, unknown> };
    expect(payload.photo).toEqual({ format: 'wlt', bytes: 1024, available: true });
    expect(event.data).not.toMatch(/jpeg|\/9j\//);
  });

  it('reads a whole BMP from the wlt2bmpBuffer ABI', async () => {
    const answer = await swapCard('reader-b', card(ZHU));
    expect(answer.photo.jpegUnavailable).toBeNull();
    const got = await jpegPixels(answer.photo.jpeg!);
    expect(meanDifference(got.rgb, expected.get(ZHU)!)).toBeLessThan(4);
  });
});

describe('face.verify against the card on a reader', () => {
  const threshold = loadManifest().thresholds.verifyCard;

  it('asks for the card again when none was read on the reader within the freshness window', async () => {
    const res = await post('/v1/face/verify', {
      probe: { image: b64(face('Hu_Jintao', 4)) },
      reference: { idcard: 'reader-h' },
    });
    expect(res.status).toBe(404);
    const p = (await res.json()) as { type: string; detail: string; field: string };
    expect(p).toMatchObject({ type: `${PROBLEM}no-card`, field: '/reference/idcard' });
    expect(p.detail).toMatch(/place the card on the reader again/);
  });

  it("matches the card holder's face and names the card and the reference quality", async () => {
    await swapCard('reader-u', card(HU));
    const res = await post('/v1/face/verify', {
      probe: { image: b64(face('Hu_Jintao', 4)) },
      reference: { idcard: 'reader-u' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      match: boolean;
      score: number;
      threshold: number;
      reference: { quality: { size: number }; idcard: { device: string; idNumber: string } };
    };
    expect(threshold).toBeDefined();
    expect(body).toMatchObject({ match: true, threshold });
    expect(body.reference.idcard).toMatchObject({ device: 'reader-u', idNumber: MASKED_ID });
    expect(body.reference.quality.size).toBeGreaterThan(30);
  });

  it('rejects another person against the same card', async () => {
    const res = await post('/v1/face/verify', {
      probe: { image: b64(face('Zhu_Rongji', 2)) },
      reference: { idcard: 'reader-u' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { match: boolean; score: number; threshold: number };
    expect(body.match).toBe(false);
    expect(body.score).toBeLessThan(body.threshold);
  });

  it("enrols from the card photo only with the clerk's confirmation", async () => {
    const unconfirmed = await post('/v1/persons', { name: '张三', idcard: 'reader-u', source: 'document' });
    expect(unconfirmed.status).toBe(422);
    expect(((await unconfirmed.json()) as { type: string }).type).toBe(
      `${PROBLEM}clerk-confirmation-required`,
    );

    const res = await post('/v1/persons', {
      name: '张三',
      idcard: 'reader-u',
      source: 'document',
      clerkConfirmed: true,
    });
    expect(res.status).toBe(201);
    const person = (await res.json()) as { id: string; faces: unknown[] };
    expect(person.faces).toHaveLength(1);
    const verify = await post('/v1/face/verify', {
      probe: { image: b64(face('Hu_Jintao', 4)) },
      reference: { personId: person.id },
    });
    expect(((await verify.json()) as { match: boolean }).match).toBe(true);
  });
});

describe('a vendor decoder that misbehaves', () => {
  it('crashes (SIGSEGV): the card says so, verify says why, the daemon serves on, the next card decodes', async () => {
    const crashed = await swapCard('reader-s', card('S'));
    expect(crashed.photo.jpeg).toBeNull();
    expect(crashed.photo.jpegUnavailable).toMatch(/WLT decoder was killed by SIGSEGV while decoding/);
    expect((await daemon.fetch('/v1/health')).status).toBe(200);

    const res = await post('/v1/face/verify', {
      probe: { image: b64(face('Hu_Jintao', 4)) },
      reference: { idcard: 'reader-s' },
    });
    expect(res.status).toBe(503);
    const p = (await res.json()) as { type: string; detail: string };
    expect(p.type).toBe(`${PROBLEM}card-photo-unavailable`);
    expect(p.detail).toMatch(/SIGSEGV/);

    const next = await swapCard('reader-s', card(HU));
    expect(next.photo.jpegUnavailable).toBeNull();
    expect(meanDifference((await jpegPixels(next.photo.jpeg!)).rgb, expected.get(HU)!)).toBeLessThan(4);
  });

  it('never returns: the read times out with a clear error, the daemon serves meanwhile, the next card decodes', async () => {
    const { sim } = readers.get('reader-h')!;
    const reads = sim.count('readTextAndPhoto');
    const hung = swapCard('reader-h', card('H'));
    await waitFor('the hanging card read', () => sim.count('readTextAndPhoto') > reads);
    // While the decoder child sleeps in vendor code, the daemon answers.
    expect((await daemon.fetch('/v1/devices')).status).toBe(200);
    const answer = await hung;
    expect(answer.photo.jpeg).toBeNull();
    expect(answer.photo.jpegUnavailable).toMatch(/did not return within 2500 ms; it was stopped/);

    const next = await swapCard('reader-h', card(ZHU));
    expect(next.photo.jpegUnavailable).toBeNull();
    expect(meanDifference((await jpegPixels(next.photo.jpeg!)).rgb, expected.get(ZHU)!)).toBeLessThan(4);
  });
});

describe('a decoder library that cannot be used', () => {
  it('puts the reason on the reader device: missing library, missing symbol, other architecture', async () => {
    expect(await deviceReason('reader-m')).toMatch(/WLT photo decoder: .*libmissing\.so does not exist/);
    expect(await deviceReason('reader-y')).toMatch(/libnosymbol\.so has no function "unpack" \(abi unpack\)/);
    expect(await deviceReason('reader-a')).toMatch(/libforeign\.so is built for (arm64|x64) \(64-bit\)/);
    // The other readers and the API are unaffected.
    expect((await daemon.fetch('/v1/health')).status).toBe(200);
  });

  it('and in boxagent doctor, one line per reader', () => {
    const r = runCli(['doctor', '--json', '--config', config], testEnv(daemon.storageDir));
    const checks = JSON.parse(r.stdout) as { check: string; verdict: string; detail: string; fix?: string }[];
    const line = (id: string): (typeof checks)[number] | undefined =>
      checks.find((c) => c.check === `photo decoder ${id}`);
    expect(line('reader-u')).toMatchObject({ verdict: 'ok' });
    expect(line('reader-m')?.verdict).toBe('fail');
    expect(line('reader-m')?.detail).toMatch(/libmissing\.so does not exist/);
    expect(line('reader-y')?.verdict).toBe('fail');
    expect(line('reader-y')?.detail).toMatch(/has no function "unpack"/);
    expect(line('reader-a')?.verdict).toBe('fail');
    expect(line('reader-a')?.detail).toMatch(/is built for/);
    expect(line('reader-a')?.fix).toMatch(/install the reader vendor's decoder/);
  });
});
