// Seal jobs through the built daemon, with the seal simulator on the far end of a real socat pty (so the test
// holds the simulator's own log of presses): the two-step flow, bad tokens, double confirmation, interlocks,
// expiry, and a kill -9 while the seal is firing, after which the job is in doubt and was pressed once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { resolveSealProfile } from '../../drivers/seal/profile.js';
import { SealSimulator } from '../../drivers/seal/simulator.js';
import { openSerial } from '../../drivers/transport/serial.js';
import {
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

const PROBLEM = 'application/problem+json';
const SERIAL = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false } as const;
const profile = resolveSealProfile('default');
const STAMP = profile.commands.stamp.code;

interface SealJob {
  id: string;
  state: string;
  device: string;
  confirmationToken?: string;
  expiresAt: string;
  result: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
}
interface ProblemDoc {
  type: string;
  status: number;
  detail?: string;
  field?: string;
  failures?: { condition: string }[];
  state?: string;
}
interface AuditEntry {
  action: string;
  target: string | null;
  actor: string;
  detail: Record<string, unknown>;
}

let dir: string;
let pair: PtyPair;
let sim: SealSimulator;
let config: string;
let daemon: Daemon;
let stream: SseStream;

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
});

async function create(number: string): Promise<SealJob> {
  const res = await daemon.fetch(
    '/v1/seal-jobs',
    json({ device: 'seal-1', document: { kind: 'senior-citizen-card', number }, operator: 'clerk Li' }),
  );
  expect(res.status).toBe(201);
  return (await res.json()) as SealJob;
}

const confirm = (job: SealJob, token = job.confirmationToken, headers: Record<string, string> = {}) =>
  daemon.fetch(`/v1/seal-jobs/${job.id}/confirm`, json({ token }, headers));

async function expectProblem(res: Response, status: number, code: string): Promise<ProblemDoc> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain(PROBLEM);
  const body = (await res.json()) as ProblemDoc;
  expect(body.type).toBe(`urn:boxagent:problem:${code}`);
  return body;
}

async function getJob(id: string): Promise<SealJob> {
  return (await (await daemon.fetch(`/v1/seal-jobs/${id}`)).json()) as SealJob;
}

async function audit(target: string): Promise<AuditEntry[]> {
  const body = (await (await daemon.fetch('/v1/audit?limit=1000')).json()) as { entries: AuditEntry[] };
  return body.entries.filter((e) => e.target === target);
}

const stampCommands = () => sim.received.filter((c) => c === STAMP).length;

async function sealReady(): Promise<void> {
  await waitFor(
    'the seal machine ready',
    async () =>
      ((await (await daemon.fetch('/v1/devices/seal-1')).json()) as { state: string }).state === 'ready',
    20_000,
  );
}

beforeAll(async () => {
  dir = tempDir();
  pair = await openPtyPair(dir, 'seal');
  sim = new SealSimulator(await openSerial({ path: pair.peer, ...SERIAL }), profile, {
    serial: 'SN-E2E-7',
    stampDelayMs: 100,
  });
  sim.start();
  config = writeConfig(
    dir,
    [
      'box:',
      '  id: seal-box',
      'devices:',
      '  - id: seal-1',
      '    kind: seal',
      `    transport: { type: serial, path: "${pair.device}", baudRate: 9600 }`,
      '    seal: { profile: default, confirmWindowMs: 5000 }',
      '  - id: printer-1',
      '    kind: printer',
      '    transport: { type: simulated }',
      '',
    ].join('\n'),
  );
  daemon = await startDaemon({ config, storageDir: tempDir() });
  stream = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
  await sealReady();
});

afterAll(async () => {
  stream?.close();
  await daemon?.stop('SIGKILL');
  await sim?.stop();
  await pair?.close();
  if (daemon) removeDir(daemon.storageDir);
  removeDir(dir);
});

describe('seal jobs', () => {
  it('creates a pending job with a token, and presses the seal once on confirmation', async () => {
    const before = sim.stamps.length;
    const job = await create('SC-2026-0001');
    expect(job).toMatchObject({ state: 'pending', device: 'seal-1' });
    expect(job.confirmationToken).toMatch(/^sct_/);
    expect(Date.parse(job.expiresAt)).toBeGreaterThan(Date.now());
    expect(sim.stamps.length).toBe(before);

    const res = await confirm(job);
    expect(res.status).toBe(200);
    const done = (await res.json()) as SealJob;
    expect(done.state).toBe('done');
    expect(done.result).toMatchObject({ deviceSerial: 'SN-E2E-7', postconditions: [] });
    expect(sim.stamps.length).toBe(before + 1);
    expect((await getJob(job.id)).state).toBe('done');
    expect(JSON.stringify(await getJob(job.id))).not.toContain('tokenHash');

    const entries = await audit(job.id);
    expect(entries.map((e) => e.action)).toEqual(['seal.create', 'seal.firing', 'seal.executed']);
    expect(entries[2]?.detail).toMatchObject({
      deviceSerial: 'SN-E2E-7',
      operator: 'clerk Li',
      document: { kind: 'senior-citizen-card', number: 'SC-2026-0001' },
      result: 'done',
    });
    await waitFor('the job events', () =>
      ['pending', 'checking', 'firing', 'done'].every((state) =>
        stream.events.some(
          (e) => e.event === 'seal.job' && e.data.includes(job.id) && e.data.includes(`"state":"${state}"`),
        ),
      ),
    );
    const list = (await (await daemon.fetch('/v1/seal-jobs?state=done')).json()) as { jobs: SealJob[] };
    expect(list.jobs.map((j) => j.id)).toContain(job.id);
  });

  it('refuses a wrong token and a second confirmation without pressing again', async () => {
    const job = await create('SC-2026-0002');
    const before = stampCommands();
    const p = await expectProblem(await confirm(job, 'sct_not-the-token'), 403, 'seal-token-invalid');
    expect(p.field).toBe('/token');
    expect((await getJob(job.id)).state).toBe('pending');
    expect((await confirm(job)).status).toBe(200);
    const again = await expectProblem(await confirm(job), 409, 'seal-job-conflict');
    expect(again.state).toBe('done');
    expect(stampCommands()).toBe(before + 1);
  });

  it('returns the same job for a retried confirmation with the same Idempotency-Key', async () => {
    const job = await create('SC-2026-0003');
    const before = stampCommands();
    const first = await confirm(job, job.confirmationToken, { 'idempotency-key': 'confirm-3' });
    const retry = await confirm(job, job.confirmationToken, { 'idempotency-key': 'confirm-3' });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as SealJob).id).toBe(job.id);
    expect(stampCommands()).toBe(before + 1);
  });

  it('does not stamp with the cover open, no document or the machine busy', async () => {
    const before = stampCommands();
    sim.setCover(false);
    let job = await create('SC-2026-0004');
    // What the clerk reads, in the box's default Chinese and, asked for, in English.
    let p = await expectProblem(await confirm(job), 409, 'seal-interlock');
    expect(p.detail).toBe('钢印机未准备好：机盖未关闭');
    expect(p.failures?.map((f) => f.condition)).toEqual(['coverClosed']);
    expect(await getJob(job.id)).toMatchObject({ state: 'failed' });
    sim.setCover(true);

    sim.setDocument(false);
    job = await create('SC-2026-0005');
    p = await expectProblem(
      await confirm(job, job.confirmationToken, { 'accept-language': 'en' }),
      409,
      'seal-interlock',
    );
    expect(p.detail).toBe('seal interlock: no document is in place');
    sim.setDocument(true);

    sim.setBusy(true);
    job = await create('SC-2026-0006');
    await expectProblem(await confirm(job), 409, 'device-busy');
    sim.setBusy(false);

    expect(stampCommands()).toBe(before);
    expect((await audit(job.id)).map((e) => e.action)).toEqual(['seal.create', 'seal.refused']);
  });

  it('names the field of bad input and stores nothing', async () => {
    const count = async () =>
      ((await (await daemon.fetch('/v1/seal-jobs?limit=500')).json()) as { jobs: unknown[] }).jobs.length;
    const n = await count();
    let p = await expectProblem(
      await daemon.fetch('/v1/seal-jobs', json({ device: 'seal-1', document: { kind: 'x', number: '1' } })),
      400,
      'invalid-request',
    );
    expect(p.field).toBe('/operator');
    p = await expectProblem(
      await daemon.fetch(
        '/v1/seal-jobs',
        json({ device: 'printer-1', document: { kind: 'x', number: '1' }, operator: 'a' }),
      ),
      404,
      'not-found',
    );
    expect(p.field).toBe('/device');
    p = await expectProblem(
      await daemon.fetch(
        '/v1/seal-jobs',
        json({ device: 'seal-1', document: { kind: 'x', number: '1', hash: 'abc' }, operator: 'a' }),
      ),
      400,
      'invalid-request',
    );
    expect(p.field).toBe('/document/hash');
    await expectProblem(await daemon.fetch('/v1/seal-jobs/nope'), 404, 'not-found');
    expect(await count()).toBe(n);
  });

  it('expires a job not confirmed in time', async () => {
    const job = await create('SC-2026-0007');
    const before = stampCommands();
    await new Promise((r) => setTimeout(r, Date.parse(job.expiresAt) - Date.now() + 300));
    await expectProblem(await confirm(job), 410, 'seal-job-expired');
    expect((await getJob(job.id)).state).toBe('expired');
    await expectProblem(await confirm(job), 409, 'seal-job-conflict');
    expect(stampCommands()).toBe(before);
  });

  it('leaves a job killed while firing in doubt, never fires it again, and lets an operator resolve it', async () => {
    sim.setStampDelay(60_000);
    const before = stampCommands();
    const pressesBefore = sim.stamps.length;
    const job = await create('SC-2026-0008');
    const pending = confirm(job).catch(() => undefined);
    await waitFor('the press to start', () => sim.stamps.length === pressesBefore + 1);
    expect((await getJob(job.id)).state).toBe('firing');
    await daemon.stop('SIGKILL');
    await pending;
    sim.setStampDelay(100);

    daemon = await startDaemon({ config, storageDir: daemon.storageDir });
    const after = await getJob(job.id);
    expect(after.state).toBe('in_doubt');
    expect(daemon.logs.some((l) => l.level === 50 && l.msg.includes('now in doubt'))).toBe(true);
    await sealReady();
    // Give a wrongful re-fire every chance to happen before asserting that none did.
    await new Promise((r) => setTimeout(r, 1000));
    expect(stampCommands()).toBe(before + 1);
    await expectProblem(await confirm(job), 409, 'seal-job-conflict');

    const resolved = await daemon.fetch(
      `/v1/seal-jobs/${job.id}/resolve`,
      json({ outcome: 'done', note: 'seal visible on the certificate' }),
    );
    expect(resolved.status).toBe(200);
    expect(((await resolved.json()) as SealJob).state).toBe('done');
    await expectProblem(
      await daemon.fetch(`/v1/seal-jobs/${job.id}/resolve`, json({ outcome: 'failed', note: 'x' })),
      409,
      'seal-job-conflict',
    );
    expect((await audit(job.id)).map((e) => e.action)).toEqual([
      'seal.create',
      'seal.firing',
      'seal.in_doubt',
      'seal.resolve',
    ]);
    // The machine's own log: one press for this job, and one stamp command ever reached it.
    expect(sim.stamps.length).toBe(pressesBefore + 1);
    expect(stampCommands()).toBe(before + 1);
  });
});

describe('audit log', () => {
  it('filters by time and reports a tampered chain at start and in `audit verify`', async () => {
    await create('SC-2026-0009');
    await create('SC-2026-0010');
    const all = (await (await daemon.fetch('/v1/audit?limit=1000')).json()) as { entries: { at: string }[] };
    const mid = all.entries[Math.floor(all.entries.length / 2)]?.at as string;
    const from = (await (
      await daemon.fetch(`/v1/audit?limit=1000&from=${encodeURIComponent(mid)}`)
    ).json()) as { entries: { at: string }[] };
    expect(from.entries.length).toBeGreaterThan(0);
    expect(from.entries.every((e) => e.at >= mid)).toBe(true);
    const to = (await (await daemon.fetch(`/v1/audit?limit=1000&to=${encodeURIComponent(mid)}`)).json()) as {
      entries: { at: string }[];
    };
    expect(to.entries.every((e) => e.at <= mid)).toBe(true);
    await expectProblem(await daemon.fetch('/v1/audit?from=yesterday'), 400, 'invalid-request');

    await daemon.stop('SIGTERM');
    const db = new Database(join(daemon.storageDir, 'state.db'));
    db.prepare("UPDATE audit SET actor = 'someone else' WHERE seq = 2").run();
    db.close();
    const env = testEnv(daemon.storageDir);
    const verify = runCli(['audit', 'verify', '--config', config], env);
    expect(verify.status).not.toBe(0);
    expect(verify.stderr).toContain('audit chain broken at entry 2');

    daemon = await startDaemon({ config, storageDir: daemon.storageDir });
    expect(daemon.logs.some((l) => l.level === 50 && l.brokenAt === 2)).toBe(true);
    const replay = await openSse(`${daemon.url}/v1/events`, {
      authorization: `Bearer ${daemon.adminToken}`,
      'last-event-id': '0',
    });
    try {
      await waitFor('the audit.broken event', () =>
        replay.events.some((e) => e.event === 'audit.broken' && e.data.includes('"brokenAt":2')),
      );
    } finally {
      replay.close();
    }
  });
});

describe('the simulated seal of the default config', () => {
  it('runs the real driver on the in-process simulator and takes the offline fault', async () => {
    const box = await startDaemon({
      storageDir: tempDir(),
      env: { BOXAGENT_SUPERVISION_PROBE_INTERVAL_MS: '200', BOXAGENT_SUPERVISION_BACKOFF_MAX_MS: '1000' },
    });
    try {
      const state = async () =>
        ((await (await box.fetch('/v1/devices/seal-1')).json()) as { state: string }).state;
      await waitFor('seal-1 ready', async () => (await state()) === 'ready', 20_000);
      const created = await box.fetch(
        '/v1/seal-jobs',
        json({ device: 'seal-1', document: { kind: 'certificate', number: 'D-1' }, operator: 'clerk Wang' }),
      );
      const job = (await created.json()) as SealJob;
      const res = await box.fetch(`/v1/seal-jobs/${job.id}/confirm`, json({ token: job.confirmationToken }));
      expect(((await res.json()) as SealJob).state).toBe('done');

      const fault = (f: string) => box.fetch('/v1/devices/seal-1/simulator', json({ fault: f }));
      expect((await fault('offline')).status).toBe(200);
      await waitFor('seal-1 out of service', async () => !['ready', 'busy'].includes(await state()), 20_000);
      const next = (await (
        await box.fetch(
          '/v1/seal-jobs',
          json({
            device: 'seal-1',
            document: { kind: 'certificate', number: 'D-2' },
            operator: 'clerk Wang',
          }),
        )
      ).json()) as SealJob;
      const refused = await box.fetch(
        `/v1/seal-jobs/${next.id}/confirm`,
        json({ token: next.confirmationToken }),
      );
      expect(refused.status).toBe(503);
      expect((await fault('none')).status).toBe(200);
      await waitFor('seal-1 ready again', async () => (await state()) === 'ready', 30_000);
    } finally {
      await box.stop('SIGKILL');
      removeDir(box.storageDir);
    }
  });
});
