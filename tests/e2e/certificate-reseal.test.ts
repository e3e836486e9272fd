// A new seal job for a certificate whose seal job expired or failed unpressed (issue 14, item 11), through the
// built daemon: the simulated photo printer, the seal simulator on the far end of a real socat pty (the test
// holds its log of presses) and Debian's mosquitto for the fleet side. The new job is pending and needs its
// own token; a certificate whose seal job may still press, or has pressed, is refused: one press per card.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RpcReply } from '../../agent/fleet/contract.js';
import { signRequest } from '../../agent/fleet/request-signing.js';
import { PROBLEM_BASE } from '../../agent/problems/registry.js';
import { FACE_DATA } from '../../bench/face-pairs.js';
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
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { openPtyPair, type PtyPair } from '../helpers/pty-pair.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

const BOX = 'reseal-box';
const ROOT = `boxagent/v1/${BOX}`;
const SERIAL = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false } as const;
const profile = resolveSealProfile('default');
const STAMP = profile.commands.stamp.code;
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const rawPublic = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');

interface Certificate {
  id: string;
  state: string;
  documentSha256: string | null;
  seal: { device: string; operator: string; jobId: string | null; confirmationToken?: string } | null;
  error: string | null;
}
interface SealJob {
  id: string;
  state: string;
  document: { kind: string; number: string; hash?: string };
}
interface ProblemDoc {
  type: string;
  status: number;
  state?: string;
  sealJob?: string;
}

let dir: string;
let pair: PtyPair;
let sim: SealSimulator;
let broker: Mosquitto;
let config: string;
let storageDir: string;
let daemon: Daemon;
let stream: SseStream;
let fleet: MqttClient;
const replies = new Map<string, RpcReply>();

const photo = readFileSync(join(FACE_DATA, 'eastasian-dev/images/Hu_Jintao/Hu_Jintao_0001.jpg'));
let cardNumber = 0;

function start(): Promise<Daemon> {
  return startDaemon({
    config,
    storageDir,
    env: {
      BOXAGENT_MQTT_URL: broker.url,
      BOXAGENT_MQTT_SIGNING_KEYS: JSON.stringify({ 'city-ops': { publicKey: rawPublic, role: 'admin' } }),
    },
  });
}

beforeAll(async () => {
  dir = tempDir();
  storageDir = join(dir, 'state');
  broker = await startMosquitto();
  pair = await openPtyPair(dir, 'seal');
  sim = new SealSimulator(await openSerial({ path: pair.peer, ...SERIAL }), profile, {
    serial: 'SN-RESEAL-1',
    stampDelayMs: 50,
  });
  sim.start();
  config = writeConfig(
    dir,
    [
      'box:',
      `  id: ${BOX}`,
      'devices:',
      '  - id: photo-1',
      '    kind: photo-printer',
      `    transport: { type: simulated, outputDir: "${join(dir, 'cards')}" }`,
      '    photoPrinter: { jobPollMs: 100 }',
      '  - id: seal-1',
      '    kind: seal',
      `    transport: { type: serial, path: "${pair.device}", baudRate: 9600 }`,
      // The shortest window the schema allows: a test lets it pass.
      '    seal: { profile: default, confirmWindowMs: 5000 }',
      '',
    ].join('\n'),
  );
  daemon = await start();
  stream = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
  fleet = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `fleet-${process.pid}` });
  fleet.on('message', (topic, payload) => {
    if (topic.startsWith('fleet/replies/'))
      replies.set(topic.slice('fleet/replies/'.length), JSON.parse(payload.toString()) as RpcReply);
  });
  await fleet.subscribeAsync('fleet/replies/#', { qos: 1 });
  await waitFor('fleet link connected', () => daemon.logs.some((l) => l.msg === 'fleet link connected'));
  await sealReady();
}, 60_000);

afterAll(async () => {
  stream?.close();
  await fleet?.endAsync();
  await daemon?.stop('SIGKILL');
  await sim?.stop();
  await pair?.close();
  await broker?.dispose();
  if (dir) removeDir(dir);
});

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
});

async function sealReady(): Promise<void> {
  await waitFor(
    'the seal machine ready',
    async () =>
      ((await (await daemon.fetch('/v1/devices/seal-1')).json()) as { state: string }).state === 'ready',
    20_000,
  );
}

async function certificate(id: string): Promise<Certificate> {
  return (await (await daemon.fetch(`/v1/certificates/${id}`)).json()) as Certificate;
}

async function sealJob(id: string): Promise<SealJob> {
  return (await (await daemon.fetch(`/v1/seal-jobs/${id}`)).json()) as SealJob;
}

async function sealJobCount(): Promise<number> {
  return ((await (await daemon.fetch('/v1/seal-jobs?limit=500')).json()) as { jobs: unknown[] }).jobs.length;
}

/** Submits a card (with a seal unless told otherwise); returns it once the daemon settled it. */
async function submit(seal = true, until: string[] = ['printed']): Promise<Certificate> {
  cardNumber += 1;
  const res = await daemon.fetch(
    '/v1/certificates',
    json({
      template: 'senior-citizen-card',
      fields: {
        name: '张秀英',
        sex: '女',
        birthDate: '1948-03-12',
        idNumber: '430102194803120025',
        cardNumber: `HN-LY-2026-${String(cardNumber).padStart(6, '0')}`,
        issuer: '长沙县民政局',
        issueDate: '2026-11-26',
      },
      photo: { image: photo.toString('base64') },
      printer: 'photo-1',
      ...(seal ? { seal: { device: 'seal-1', operator: 'clerk Li' } } : {}),
    }),
  );
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as Certificate;
  let c: Certificate | undefined;
  await waitFor(`certificate ${id} to be ${until.join('/')}`, async () => {
    c = await certificate(id);
    return until.includes(c.state) && (!seal || c.state !== 'printed' || c.seal?.jobId != null);
  });
  return c!;
}

const reseal = (id: string, headers: Record<string, string> = {}, token?: string) =>
  daemon.fetch(`/v1/certificates/${id}/seal`, { ...json({}, headers), ...(token ? { token } : {}) });

const confirm = (jobId: string, token: string | undefined) =>
  daemon.fetch(`/v1/seal-jobs/${jobId}/confirm`, json({ token }));

async function expectProblem(res: Response, status: number, code: string): Promise<ProblemDoc> {
  const body = (await res.json()) as ProblemDoc;
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(body.type).toBe(PROBLEM_BASE + code);
  return body;
}

const stampCommands = () => sim.received.filter((c) => c === STAMP).length;

/** Lets a pending seal job's confirmation window pass (a wait for the daemon's clock, not an assertion). */
async function outlive(jobId: string): Promise<void> {
  const { expiresAt } = (await (await daemon.fetch(`/v1/seal-jobs/${jobId}`)).json()) as {
    expiresAt: string;
  };
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresAt) - Date.now() + 300)));
}

describe('a new seal job for a certificate whose seal job expired', () => {
  it('is pending with its own token, is pointed at by the certificate and its event, and presses once', async () => {
    const printed = await submit();
    const first = printed.seal!.jobId!;
    const firstToken = printed.seal!.confirmationToken;
    const jobsBefore = await sealJobCount();
    const stampsBefore = stampCommands();

    // While the first one waits for the clerk there is no second one.
    const early = await expectProblem(await reseal(printed.id), 409, 'seal-job-conflict');
    expect(early).toMatchObject({ state: 'pending', sealJob: first });
    expect(await sealJobCount()).toBe(jobsBefore);

    await outlive(first);
    const res = await reseal(printed.id, { 'idempotency-key': 'reseal-1' });
    expect(res.status).toBe(200);
    const after = (await res.json()) as Certificate;
    const second = after.seal!.jobId!;
    expect(second).not.toBe(first);
    expect(after).toMatchObject({ id: printed.id, state: 'printed' });
    expect(after.seal!.confirmationToken).toMatch(/^sct_/);
    expect(after.seal!.confirmationToken).not.toBe(firstToken);
    expect(after.error).toContain(`seal job ${first} was expired`);
    expect((await sealJob(first)).state).toBe('expired');
    expect(await sealJob(second)).toMatchObject({
      state: 'pending',
      document: {
        kind: 'senior-citizen-card',
        number: `HN-LY-2026-${String(cardNumber).padStart(6, '0')}`,
        hash: printed.documentSha256,
      },
    });
    expect(await certificate(printed.id)).toMatchObject({ seal: { jobId: second } });

    // A retry with the same key is the same new job, not a third.
    const retry = await reseal(printed.id, { 'idempotency-key': 'reseal-1' });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(((await retry.json()) as Certificate).seal!.jobId).toBe(second);
    expect(await sealJobCount()).toBe(jobsBefore + 1);

    await waitFor('the certificate.job event naming the new seal job', () =>
      stream.events.some(
        (e) =>
          e.event === 'certificate.job' &&
          e.data.includes(printed.id) &&
          e.data.includes(`"sealJob":"${second}"`) &&
          e.data.includes('"state":"printed"'),
      ),
    );

    // Still two steps: the old token does not open the new job, nothing is pressed until it is confirmed.
    await expectProblem(await reseal(printed.id), 409, 'seal-job-conflict');
    await expectProblem(await confirm(second, firstToken), 403, 'seal-token-invalid');
    expect(stampCommands()).toBe(stampsBefore);
    const done = await confirm(second, after.seal!.confirmationToken);
    expect(((await done.json()) as SealJob).state).toBe('done');
    expect(stampCommands()).toBe(stampsBefore + 1);

    // Pressed: never a second seal job for this card.
    const pressed = await expectProblem(await reseal(printed.id), 409, 'seal-job-conflict');
    expect(pressed).toMatchObject({ state: 'done', sealJob: second });
    expect(await sealJobCount()).toBe(jobsBefore + 1);
    expect(stampCommands()).toBe(stampsBefore + 1);

    const audit = (await (await daemon.fetch('/v1/audit?limit=1000')).json()) as {
      entries: { action: string; target: string | null; actor: string; detail: Record<string, unknown> }[];
    };
    // The certificate's own creation is audited too; the reseal is the one entry after it.
    const entries = audit.entries.filter((e) => e.target === printed.id && e.action !== 'certificate.create');
    expect(entries.map((e) => e.action)).toEqual(['certificate.reseal']);
    expect(entries[0]!.detail).toEqual({ sealJob: second, previousSealJob: first, previousState: 'expired' });
  }, 60_000);
});

describe('a new seal job is refused while the card could be pressed twice', () => {
  it('refuses an unknown, unprinted or seal-less certificate and a token without scope seal; stores nothing', async () => {
    const jobsBefore = await sealJobCount();
    await expectProblem(await reseal('no-such-certificate'), 404, 'not-found');

    const noSeal = await submit(false);
    await expectProblem(await reseal(noSeal.id), 409, 'job-state-conflict');

    // The printer out of paper: the card waits in the queue, not printed.
    const fault = (f: string) => daemon.fetch('/v1/devices/photo-1/simulator', json({ fault: f }));
    expect((await fault('paper-out')).status).toBe(200);
    const queued = await submit(true, ['queued']);
    expect((await expectProblem(await reseal(queued.id), 409, 'job-state-conflict')).state).toBe('queued');
    expect((await daemon.fetch(`/v1/certificates/${queued.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await expectProblem(await reseal(queued.id), 409, 'job-state-conflict')).state).toBe('canceled');
    expect((await fault('none')).status).toBe(200);

    // Let its seal job expire, then ask without scope seal.
    const printed = await submit();
    await outlive(printed.seal!.jobId!);
    const created = runCli(
      ['token', 'create', '--name', 'print-only', '--scopes', 'read,print', '--json'],
      testEnv(storageDir, { BOXAGENT_CONFIG: config }),
    );
    expect(created.status, created.stderr).toBe(0);
    const printOnly = (JSON.parse(created.stdout) as { token: string }).token;
    await expectProblem(await reseal(printed.id, {}, printOnly), 403, 'forbidden');
    expect((await certificate(printed.id)).seal!.jobId).toBe(printed.seal!.jobId);
    // One seal job was made by the printed card itself; none by a refusal.
    expect(await sealJobCount()).toBe(jobsBefore + 1);
  }, 60_000);
});

describe('over MQTT a new seal job needs a signature (risk document)', () => {
  it('refuses an unsigned certificates.seal and runs a signed one', async () => {
    // A card whose seal job failed before pressing (the machine was busy).
    const printed = await submit();
    sim.setBusy(true);
    await expectProblem(
      await confirm(printed.seal!.jobId!, printed.seal!.confirmationToken),
      409,
      'device-busy',
    );
    sim.setBusy(false);
    expect((await sealJob(printed.seal!.jobId!)).state).toBe('failed');
    const jobsBefore = await sealJobCount();

    const params = { id: printed.id };
    const send = (corr: string, signature?: ReturnType<typeof signRequest>) =>
      fleet.publishAsync(`${ROOT}/rpc/certificates.seal`, JSON.stringify(params), {
        qos: 1,
        properties: {
          responseTopic: `fleet/replies/${corr}`,
          correlationData: Buffer.from(corr),
          ...(signature
            ? {
                userProperties: {
                  keyId: signature.keyId,
                  timestamp: String(signature.timestamp),
                  nonce: signature.nonce,
                  signature: signature.value,
                },
              }
            : {}),
        },
      });

    // A client on the broker asks for a seal job (and its confirmation token) without the fleet's key.
    await send('unsigned');
    await waitFor('the unsigned reply', () => replies.has('unsigned'), 15_000);
    expect(replies.get('unsigned')).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}bad-signature`, status: 401 },
    });
    expect((await certificate(printed.id)).seal!.jobId).toBe(printed.seal!.jobId);
    expect(await sealJobCount()).toBe(jobsBefore);

    await send('signed', signRequest(privateKey, 'city-ops', 'certificates.seal', params, BOX));
    await waitFor('the signed reply', () => replies.has('signed'), 15_000);
    const reply = replies.get('signed') as { ok: boolean; result: Certificate };
    expect(reply.ok).toBe(true);
    expect(reply.result.seal!.jobId).not.toBe(printed.seal!.jobId);
    expect((await sealJob(reply.result.seal!.jobId!)).state).toBe('pending');
    expect(await sealJobCount()).toBe(jobsBefore + 1);
  }, 60_000);
});

// Last: the simulator is left mid-press (a 60 s stamp the kill interrupted), busy for the rest of the file.
describe('a crash while the seal is firing', () => {
  it('refuses while the seal is firing and once it is in doubt after a crash; an operator saying it did not press allows one', async () => {
    const printed = await submit();
    const jobId = printed.seal!.jobId!;
    // Another card whose seal job is pending when the daemon dies: the restart expires it.
    const waiting = await submit();
    const stampsBefore = stampCommands();
    sim.setStampDelay(60_000);
    const pressing = confirm(jobId, printed.seal!.confirmationToken).catch(() => undefined);
    await waitFor('the press to start', () => stampCommands() === stampsBefore + 1);
    expect((await expectProblem(await reseal(printed.id), 409, 'seal-job-conflict')).state).toBe('firing');

    await daemon.stop('SIGKILL');
    await pressing;
    sim.setStampDelay(50);
    stream.close();
    daemon = await start();
    stream = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
    await sealReady();
    expect((await sealJob(jobId)).state).toBe('in_doubt');
    expect((await expectProblem(await reseal(printed.id), 409, 'seal-job-conflict')).state).toBe('in_doubt');

    // The restart ended the other card's window: its seal job expired unpressed, so it may get a new one.
    expect((await sealJob(waiting.seal!.jobId!)).state).toBe('expired');
    const renewed = await reseal(waiting.id);
    expect(renewed.status).toBe(200);
    const renewedJob = ((await renewed.json()) as Certificate).seal!.jobId!;
    expect((await sealJob(renewedJob)).state).toBe('pending');

    // An operator looked at the card: not pressed. Now it may have a new seal job.
    const resolved = await daemon.fetch(
      `/v1/seal-jobs/${jobId}/resolve`,
      json({ outcome: 'failed', note: 'no seal on the card' }),
    );
    expect(resolved.status).toBe(200);
    const again = await reseal(printed.id);
    expect(again.status).toBe(200);
    expect(((await again.json()) as Certificate).seal!.jobId).not.toBe(jobId);
    expect(stampCommands()).toBe(stampsBefore + 1);
  }, 90_000);
});
