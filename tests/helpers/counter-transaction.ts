// The senior-card (老年优待证) counter transaction over HTTP, shared by its e2e test and its bench: a box of
// simulated devices whose ID card reader decodes the card photo through the `unpack` C decoder double
// (tests/fixtures/wlt-decoders, compiled here with cc), and the steps a counter page takes, each timed.
// The double does not decode WLT (licensed): it returns the pixels the box wrote to $WLT_TEST_PHOTOS.0, a
// card-like photo of the same person the simulated camera shows.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACE_DATA } from '../../bench/face-pairs.js';
import { CARD_PHOTO_HEIGHT, CARD_PHOTO_WIDTH, cardPhotoPixels } from './card-photo.js';
import { ROOT, removeDir, startDaemon, tempDir, writeConfig, type Daemon } from './daemon.js';
import { waitFor } from './wait-for.js';

export const PERSON = 'Hu_Jintao';
export const faceImage = (n: number): string =>
  join(FACE_DATA, 'eastasian-dev/images', PERSON, `${PERSON}_${String(n).padStart(4, '0')}.jpg`);

/** GB 11643 check character of the first 17 digits. */
function checkChar(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
  return '10X98765432'[sum % 11]!;
}

/** A resident of 84 as the card holds her fields (codes, YYYYMMDD); photo byte 0 names $WLT_TEST_PHOTOS.0. */
export const RESIDENT = {
  name: '李秀兰',
  sex: '1',
  nation: '01',
  birthDate: '19421221',
  address: '湖南省长沙市芙蓉区五一大道100号',
  idNumber: `43010219421221123${checkChar('43010219421221123')}`,
  authority: '长沙市公安局芙蓉分局',
  validFrom: '20200101',
  validTo: '长期',
  photo: Buffer.alloc(1024, 0x11).fill(0, 0, 1).toString('base64'),
};
export const MASKED_ID = `${RESIDENT.idNumber.slice(0, 3)}***********${RESIDENT.idNumber.slice(-4)}`;

export const DEVICES = {
  reader: 'idcard-1',
  camera: 'camera-1',
  printer: 'printer-1',
  photoPrinter: 'photo-printer-1',
  seal: 'seal-1',
} as const;

export interface CounterBox {
  daemon: Daemon;
  stop(): Promise<void>;
}

/** RGB rows top-down → BGR rows bottom-up, what the vendors' `unpack` writes. */
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

/** Starts the daemon (dist/) on a box of simulated devices; the camera (default 15 fps) shows `faceImage(4)`. */
export async function startCounterBox(env: Record<string, string> = {}): Promise<CounterBox> {
  const dir = tempDir('boxagent-counter-');
  const library = join(dir, 'libwlt2bmp.so');
  execFileSync('cc', [
    '-shared',
    '-fPIC',
    '-O1',
    '-o',
    library,
    join(ROOT, 'tests/fixtures/wlt-decoders/unpack.c'),
  ]);
  const photos = join(dir, 'photos');
  writeFileSync(`${photos}.0`, toVendorPixels(await cardPhotoPixels(readFileSync(faceImage(1)))));
  const config = writeConfig(
    dir,
    [
      'box: { id: counter-box }',
      'devices:',
      `  - { id: ${DEVICES.reader}, kind: idcard, transport: { type: simulated }, idcard: { pollIntervalMs: 100, decoder: { library: "${library}", abi: unpack } } }`,
      `  - { id: ${DEVICES.camera}, kind: camera, transport: { type: simulated }, camera: { simulatedImages: "${faceImage(4)}" } }`,
      `  - { id: ${DEVICES.printer}, kind: printer, transport: { type: simulated } }`,
      `  - { id: ${DEVICES.photoPrinter}, kind: photo-printer, transport: { type: simulated } }`,
      // The simulated press embosses at once: the bench leaves the physical stroke out, like the printing.
      `  - { id: ${DEVICES.seal}, kind: seal, transport: { type: simulated }, seal: { simulatedStampDelayMs: 0 } }`,
      '',
    ].join('\n'),
  );
  const daemon = await startDaemon({
    config,
    storageDir: join(dir, 'state'),
    env: { WLT_TEST_PHOTOS: photos, ...env },
  });
  try {
    await waitFor(
      'the counter devices ready',
      async () => {
        const { devices } = (await (await daemon.fetch('/v1/devices')).json()) as {
          devices: { id: string; state: string }[];
        };
        return Object.values(DEVICES).every((id) => devices.find((d) => d.id === id)?.state === 'ready');
      },
      60_000,
    );
  } catch (err) {
    await daemon.stop('SIGKILL');
    removeDir(dir);
    throw err;
  }
  return {
    daemon,
    async stop() {
      await daemon.stop('SIGKILL');
      removeDir(dir);
    },
  };
}

/** What the clerk's page got back at each step. */
export interface TransactionResult {
  card: IdCardAnswer;
  capture: { id: string; frame: string; framesExamined: number; face: { liveness?: { live: boolean } } };
  verify: {
    match: boolean;
    score: number;
    threshold: number;
    reference: { idcard: { device: string; idNumber: string }; quality: { size: number } };
  };
  form: { id: string; state: string; printer: string; template: string | null; bytes: number };
  idPhoto: { jpeg: Buffer; size: string | null };
  certificate: {
    id: string;
    state: string;
    documentSha256: string | null;
    seal: { device: string; jobId: string | null; confirmationToken?: string } | null;
  };
  seal: { id: string; state: string; document: { kind: string; number: string } };
  /** Milliseconds of each step, as `STEP_CLOCKS` describes. */
  ms: Record<StepName, number>;
}

export interface IdCardAnswer {
  name: string;
  sex: { code: string; name: string | null };
  birthDate: string;
  address: string;
  idNumber: string;
  idNumberCheck: { valid: boolean };
  readAt: string;
  photo: { jpeg: string | null; jpegBytes: number | null; width: number | null; height: number | null };
}

export type StepName = 'card' | 'capture' | 'verify' | 'form' | 'idPhoto' | 'certificate' | 'seal';

/** What each step's clock covers (the bench prints it; the README repeats it). */
export const STEP_CLOCKS: Record<StepName, string> = {
  card: 'card laid on the reader (simulator) → GET card answers it with the decoded JPEG; includes up to one 100 ms poll',
  capture: 'POST /v1/face/capture round trip: a good, live face on consecutive camera frames',
  verify: 'POST /v1/face/verify round trip, the captured frame against the card photo',
  form: 'POST /v1/print-jobs (template) → job done: ESC/P encoded and accepted by the simulated printer',
  idPhoto: 'POST /v1/photos/id-photo round trip from the captured frame (1-inch, 300 dpi)',
  certificate:
    'POST /v1/certificates → printed with its seal job: composed, accepted by the simulated photo printer',
  seal: 'POST /v1/seal-jobs/:id/confirm round trip: interlocks checked, press fired (no stroke delay)',
};

const json = async <T>(res: Response, what: string, status = 200): Promise<T> => {
  const body = await res.text();
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
};

function post(daemon: Daemon, path: string, body: unknown): Promise<Response> {
  return daemon.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/**
 * Polls `get` every 5 ms until `done` says so (the counter page would wait on the job's events instead; the
 * short poll keeps the bench's clock close to the moment the state changed).
 */
async function until<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Takes any card off the reader and lays the resident's on it; the card answer once read and decoded. */
async function layCard(daemon: Daemon): Promise<{ card: IdCardAnswer; ms: number }> {
  const path = `/v1/idcard/${DEVICES.reader}/card`;
  const before = await daemon.fetch(path);
  const lastRead = before.status === 200 ? ((await before.json()) as IdCardAnswer).readAt : '';
  await json(
    await post(daemon, `/v1/devices/${DEVICES.reader}/simulator`, { action: 'remove-card' }),
    'remove',
  );
  // Long enough for two polls to see the empty reader, so the same card is read again.
  await new Promise((r) => setTimeout(r, 400));
  const t0 = performance.now();
  const { photo, ...fields } = RESIDENT;
  await json(
    await post(daemon, `/v1/devices/${DEVICES.reader}/simulator`, {
      action: 'card',
      card: { ...fields, photo },
    }),
    'lay the card',
  );
  const card = await until(
    'the card read',
    async () => {
      const res = await daemon.fetch(path);
      return res.status === 200 ? ((await res.json()) as IdCardAnswer) : undefined;
    },
    (c) => c !== undefined && c.readAt !== lastRead,
  );
  return { card: card!, ms: performance.now() - t0 };
}

/** Runs the whole transaction once, as the counter page would, and times each step. */
export async function runTransaction(daemon: Daemon, cardNumber: string): Promise<TransactionResult> {
  const ms = {} as Record<StepName, number>;
  const timed = async <T>(step: StepName, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const v = await fn();
    ms[step] = performance.now() - t0;
    return v;
  };

  const read = await layCard(daemon);
  ms.card = read.ms;
  const card = read.card;

  const capture = await timed('capture', async () =>
    json<TransactionResult['capture']>(
      await post(daemon, '/v1/face/capture', { camera: DEVICES.camera, liveness: true, timeoutMs: 10_000 }),
      'capture',
    ),
  );
  const verify = await timed('verify', async () =>
    json<TransactionResult['verify']>(
      await post(daemon, '/v1/face/verify', {
        probe: { image: capture.frame },
        reference: { idcard: DEVICES.reader },
      }),
      'verify',
    ),
  );

  const today = new Date().toISOString().slice(0, 10);
  const form = await timed('form', async () => {
    const job = await json<{ id: string }>(
      await post(daemon, '/v1/print-jobs', {
        printer: DEVICES.printer,
        document: {
          template: 'senior-card-form',
          fields: {
            name: card.name,
            gender: card.sex.name ?? '',
            idNumber: card.idNumber,
            address: card.address,
            phone: '0731-84000000',
            remarks: `出生日期 ${card.birthDate}；人证比对通过`,
            date: today,
          },
        },
      }),
      'print the form',
      202,
    );
    return until(
      'the form printed',
      async () =>
        json<TransactionResult['form']>(await daemon.fetch(`/v1/print-jobs/${job.id}`), 'print job'),
      (j) => ['done', 'failed', 'in_doubt'].includes(j.state),
    );
  });

  const idPhoto = await timed('idPhoto', async () => {
    const res = await post(daemon, '/v1/photos/id-photo', {
      image: capture.frame,
      spec: '1-inch',
      requireLightBackground: false,
    });
    if (res.status !== 200) throw new Error(`id photo: HTTP ${res.status}: ${await res.text()}`);
    return { jpeg: Buffer.from(await res.arrayBuffer()), size: res.headers.get('x-photo-size') };
  });

  const certificate = await timed('certificate', async () => {
    const queued = await json<{ id: string }>(
      await post(daemon, '/v1/certificates', {
        template: 'senior-citizen-card',
        fields: {
          name: card.name,
          sex: card.sex.name ?? '',
          birthDate: card.birthDate,
          idNumber: card.idNumber,
          cardNumber,
          issuer: '长沙市芙蓉区民政局',
          issueDate: today,
        },
        photo: { image: idPhoto.jpeg.toString('base64') },
        printer: DEVICES.photoPrinter,
        seal: { device: DEVICES.seal, operator: 'clerk Li' },
      }),
      'certificate',
      202,
    );
    return until(
      'the certificate printed with its seal job',
      async () =>
        json<TransactionResult['certificate']>(
          await daemon.fetch(`/v1/certificates/${queued.id}`),
          'certificate',
        ),
      (c) => ['failed', 'in_doubt'].includes(c.state) || (c.state === 'printed' && !!c.seal?.jobId),
    );
  });

  const seal = await timed('seal', async () =>
    json<TransactionResult['seal']>(
      await post(daemon, `/v1/seal-jobs/${certificate.seal?.jobId ?? 'none'}/confirm`, {
        token: certificate.seal?.confirmationToken,
      }),
      'seal confirm',
    ),
  );
  return { card, capture, verify, form, idPhoto, certificate, seal, ms };
}
