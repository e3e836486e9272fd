// Certificates through the built daemon to a real IPP Everywhere printer (Debian's ippeveprinter, in its
// own network namespace): composed, printed, the spooled document checked, then a seal job that waits
// for confirmation. Bad requests are 4xx problems and never lead to a seal job. A kill -9 while the card
// is printing leaves it in doubt: not printed again until an operator resolves it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_DATA } from '../../bench/face-pairs.js';
import {
  removeDir,
  runCli,
  runCliAsync,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { startIppPrinter, type IppPrinter } from '../helpers/ipp-printer.js';
import { freePort } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const PROBLEM = 'urn:boxagent:problem:';
const portrait = (person: string, n: number): Buffer =>
  readFileSync(
    join(FACE_DATA, 'eastasian-dev/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`),
  );

const FIELDS = {
  name: '张秀英',
  sex: '女',
  birthDate: '1948-03-12',
  idNumber: '430102194803120025',
  cardNumber: 'HN-LY-2026-000117',
  issuer: '长沙县民政局',
  issueDate: '2026-11-26',
};

interface Certificate {
  id: string;
  state: string;
  printer: string;
  documentSha256: string | null;
  printerJobId: number | null;
  seal: { device: string; jobId: string | null; confirmationToken?: string } | null;
  error: string | null;
}

let ipp: IppPrinter;
let dir: string;
let configFile: string;
let daemon: Daemon;
let cliEnv: Record<string, string>;

function config(url: string): string {
  return `box: { id: cert-box }
log: { level: debug }
devices:
  - { id: photo-1, kind: photo-printer, transport: { type: ipp, url: "${url}" }, photoPrinter: { jobPollMs: 200 } }
  - { id: seal-1, kind: seal, transport: { type: simulated }, seal: { simulatedStampDelayMs: 0 } }
  - { id: printer-1, kind: printer, transport: { type: simulated } }
`;
}

beforeAll(async () => {
  ipp = await startIppPrinter();
  dir = tempDir();
  configFile = writeConfig(dir, config(ipp.url));
  // A fixed port: the CLI finds the daemon through the config.
  const port = String(await freePort());
  cliEnv = testEnv(join(dir, 'state'), { BOXAGENT_CONFIG: configFile, BOXAGENT_HTTP_PORT: port });
  daemon = await start();
  await waitForDevice('photo-1', 'ready');
}, 60_000);

afterAll(async () => {
  await daemon?.stop('SIGKILL');
  await ipp?.stop();
  removeDir(dir);
});

function start(): Promise<Daemon> {
  return startDaemon({
    config: configFile,
    storageDir: join(dir, 'state'),
    env: { BOXAGENT_HTTP_PORT: cliEnv.BOXAGENT_HTTP_PORT! },
  });
}

async function waitForDevice(id: string, state: string): Promise<void> {
  await waitFor(`${id} to be ${state}`, async () => {
    const d = (await (await daemon.fetch(`/v1/devices/${id}`)).json()) as { state: string };
    return d.state === state;
  });
}

function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  token?: string,
): Promise<Response> {
  return daemon.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    ...(token ? { token } : {}),
  });
}

async function certificate(id: string): Promise<Certificate> {
  return (await (await daemon.fetch(`/v1/certificates/${id}`)).json()) as Certificate;
}

async function settled(id: string, states: string[], what = ''): Promise<Certificate> {
  let c: Certificate | undefined;
  await waitFor(
    `certificate ${id} to reach ${states.join('/')} ${what}`,
    async () => {
      c = await certificate(id);
      return states.includes(c.state);
    },
    60_000,
  );
  return c!;
}

const request = (extra: Record<string, unknown> = {}) => ({
  template: 'senior-citizen-card',
  fields: FIELDS,
  photo: { image: portrait('Hu_Jintao', 1).toString('base64'), crop: true, requireLightBackground: false },
  printer: 'photo-1',
  seal: { device: 'seal-1', operator: 'clerk Li' },
  ...extra,
});

async function sealJobs(): Promise<{ id: string; state: string }[]> {
  return ((await (await daemon.fetch('/v1/seal-jobs')).json()) as { jobs: { id: string; state: string }[] })
    .jobs;
}

describe('bad certificate requests are problems and never reach the seal', () => {
  it('missing field, unknown field, unknown template, wrong devices, no face, no seal scope', async () => {
    const withoutName: Record<string, string> = { ...FIELDS };
    delete withoutName.name;
    const cases: [Record<string, unknown>, number, string, string?][] = [
      [{ fields: withoutName }, 400, 'invalid-request', '/fields/name'],
      [{ fields: { ...FIELDS, colour: 'red' } }, 400, 'invalid-request', '/fields/colour'],
      [{ template: 'no-such-card' }, 422, 'unknown-template', '/template'],
      [{ printer: 'printer-1' }, 404, 'not-found', '/printer'],
      [{ printer: 'nope' }, 404, 'not-found', '/printer'],
      [{ seal: { device: 'photo-1', operator: 'x' } }, 404, 'not-found', '/seal/device'],
      [
        {
          photo: {
            image: (
              await sharp({ create: { width: 300, height: 400, channels: 3, background: '#ddd' } })
                .jpeg()
                .toBuffer()
            ).toString('base64'),
            crop: true,
          },
        },
        422,
        'no-face',
        '/photo/image',
      ],
      [
        { photo: { image: portrait('Roh_Moo-hyun', 4).toString('base64'), crop: true } },
        422,
        'several-faces',
        '/photo/image',
      ],
      [
        { photo: { image: Buffer.from('not a picture').toString('base64') } },
        422,
        'image-invalid',
        '/photo/image',
      ],
      [{ photo: { camera: 'no-camera' } }, 404, 'not-found', '/photo/camera'],
      [{ photo: { crop: false } }, 400, 'invalid-request', '/photo'],
    ];
    for (const [change, status, code, field] of cases) {
      const res = await post('/v1/certificates', request(change));
      const body = (await res.json()) as { type: string; field?: string };
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(body.type).toBe(PROBLEM + code);
      if (field) expect(body.field).toBe(field);
    }

    const token = runCli(
      ['token', 'create', '--name', 'print-only', '--scopes', 'read,print', '--json'],
      cliEnv,
    );
    const printOnly = (JSON.parse(token.stdout) as { token: string }).token;
    const forbidden = await post('/v1/certificates', request(), {}, printOnly);
    expect(forbidden.status).toBe(403);

    expect(
      (await (await daemon.fetch('/v1/certificates')).json()) as { certificates: unknown[] },
    ).toMatchObject({
      certificates: [],
    });
    expect(await sealJobs()).toEqual([]);
    expect(ipp.spooledFiles()).toEqual([]);
  });
});

describe('a senior-citizen card printed on ippeveprinter', () => {
  it('composes, prints, spools the document and creates a pending seal job', async () => {
    const res = await post('/v1/certificates', request(), { 'idempotency-key': 'card-1' });
    expect(res.status).toBe(202);
    const queued = (await res.json()) as Certificate;
    expect(queued.state).toBe('queued');
    const again = await post('/v1/certificates', request(), { 'idempotency-key': 'card-1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as Certificate).id).toBe(queued.id);

    const done = await settled(queued.id, ['printed', 'failed', 'in_doubt']);
    expect(done, JSON.stringify(done)).toMatchObject({ state: 'printed', printer: 'photo-1' });
    await waitFor('the seal job', async () => (await certificate(queued.id)).seal?.jobId != null);
    const printed = await certificate(queued.id);

    // The printer kept exactly one document: our JPEG, 85.6 × 54 mm at 300 dpi, the bytes we hashed.
    const files = ipp.spooledFiles();
    expect(files).toHaveLength(1);
    const spooled = readFileSync(files[0]!);
    const meta = await sharp(spooled).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([1011, 638]);
    expect(createHash('sha256').update(spooled).digest('hex')).toBe(printed.documentSha256);
    const doc = await daemon.fetch(`/v1/certificates/${queued.id}/document`);
    expect(Buffer.from(await doc.arrayBuffer()).equals(spooled)).toBe(true);
    expect(printed.printerJobId).toBeGreaterThan(0);

    // The seal waits for the clerk: pending, with the document's number and hash, until confirmed.
    const sealId = printed.seal!.jobId!;
    const seal = (await (await daemon.fetch(`/v1/seal-jobs/${sealId}`)).json()) as {
      state: string;
      document: { kind: string; number: string; hash: string };
    };
    expect(seal).toMatchObject({
      state: 'pending',
      document: { kind: 'senior-citizen-card', number: FIELDS.cardNumber, hash: printed.documentSha256 },
    });
    expect(printed.seal!.confirmationToken).toMatch(/^sct_/);
    const confirm = await post(`/v1/seal-jobs/${sealId}/confirm`, { token: printed.seal!.confirmationToken });
    expect(((await confirm.json()) as { state: string }).state).toBe('done');
    expect((await certificate(queued.id)).seal!.confirmationToken).toBeUndefined();
  }, 90_000);

  it('devices test shows the printer-state and its reasons over IPP', async () => {
    const r = await runCliAsync(['devices', 'test', 'photo-1'], cliEnv);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /photo-1: ok — IPP ipp:\/\/127\.0\.0\.1:\d+\/ipp\/print: printer-state (idle|processing); no printer-state-reasons/,
    );
    // The printer's own web pages empty its trays and run its toner low (ippeveprinter reports both).
    const media = await fetch(
      `${ipp.webUrl}/media?size1=na_letter_8.5x11in&type1=stationery&level1=0&size3=na_number-10_4.125x9.5in&type3=envelope&level3=0`,
    );
    expect(media.status).toBe(200);
    expect((await fetch(`${ipp.webUrl}/supplies?supply0=20&supply1=5`)).status).toBe(200);
    const low = await runCliAsync(['devices', 'test', 'photo-1'], cliEnv);
    expect(low.stdout).toContain('printer-state-reasons media-empty-report, toner-low-report');
    // `-report` reasons inform; they do not stop the printer (RFC 8011), so the test still passes.
    expect(low.status, low.stderr).toBe(0);
    await fetch(`${ipp.webUrl}/supplies?supply0=20&supply1=75`);
  });
});

describe('a crash while the card is printing', () => {
  it('leaves it in doubt, never prints it again by itself, and resolving it as printed creates the seal job', async () => {
    const before = ipp.spooledFiles().length;
    const res = await post(
      '/v1/certificates',
      request({ seal: { device: 'seal-1', operator: 'clerk Wang' } }),
    );
    const { id } = (await res.json()) as Certificate;
    // ippeveprinter takes seconds to "print": kill the daemon once the printer has the job.
    await settled(id, ['printing']);
    await waitFor('the printer to have the document', () => ipp.spooledFiles().length === before + 1, 30_000);
    await daemon.stop('SIGKILL');

    daemon = await start();
    const c = await certificate(id);
    expect(c.state).toBe('in_doubt');
    expect(c.error).toContain('look at the card');
    expect(c.seal!.jobId).toBeNull();
    await waitForDevice('photo-1', 'ready');
    expect(ipp.spooledFiles()).toHaveLength(before + 1);

    const resolved = await post(`/v1/certificates/${id}/resolve`, { outcome: 'printed' });
    expect(resolved.status).toBe(200);
    const after = (await resolved.json()) as Certificate;
    expect(after.state).toBe('printed');
    expect(after.seal!.jobId).not.toBeNull();
    expect(ipp.spooledFiles()).toHaveLength(before + 1);
    const again = await post(`/v1/certificates/${id}/resolve`, { outcome: 'reprint' });
    expect(again.status).toBe(409);
  }, 90_000);
});
