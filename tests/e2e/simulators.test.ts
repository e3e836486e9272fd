// Simulators a counter team can script, against the built daemon through POST /v1/devices/:id/simulator: a
// card put on the simulated ID card reader and taken off (idcard.present / idcard.read / idcard.removed, live
// only), the simulated camera pointed at an image or a folder at run time, the generic faults on every
// simulated kind, and clear 400s for an action or a fault the device's kind has no use for.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

const KINDS = {
  'printer-1': 'printer',
  'camera-1': 'camera',
  'seal-1': 'seal',
  'photo-1': 'photo-printer',
  'idcard-1': 'idcard',
  'pad-1': 'rating-pad',
} as const;

const CARD = {
  name: '陈小红',
  sex: '2',
  nation: '01',
  birthDate: '19920610',
  address: '江苏省南京市玄武区中山路8号',
  idNumber: '320102199206100027',
  authority: '南京市公安局玄武分局',
  validFrom: '20180610',
  validTo: '20380610',
};

let dir: string;
let config: string;
let daemon: Daemon;
let counter: SseStream;
let counterToken: string;

beforeAll(async () => {
  dir = tempDir('boxagent-simulators-');
  config = writeConfig(
    dir,
    [
      'box: { id: simulators-box }',
      'supervision: { probeIntervalMs: 200, backoffInitialMs: 100, backoffMaxMs: 300 }',
      'devices:',
      ...Object.entries(KINDS).flatMap(([id, kind]) => [
        `  - id: ${id}`,
        `    kind: ${kind}`,
        '    transport: { type: simulated }',
        ...(kind === 'camera' ? ['    camera: { simulatedHoldSeconds: 0.5 }'] : []),
        ...(kind === 'idcard' ? ['    idcard: { pollIntervalMs: 100 }'] : []),
      ]),
      '',
    ].join('\n'),
  );
  daemon = await startDaemon({
    config,
    storageDir: tempDir(),
    env: { BOXAGENT_FACE_ENABLED: 'false', BOXAGENT_BOX_LOCALE: 'en' },
  });
  const created = runCli(
    ['token', 'create', '--name', 'counter', '--scopes', 'read,idcard'],
    testEnv(daemon.storageDir, { BOXAGENT_CONFIG: config }),
  );
  expect(created.status, created.stderr).toBe(0);
  counterToken = created.stdout.trim();
  counter = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${counterToken}` });
  for (const id of Object.keys(KINDS)) await ready(id);
});

afterAll(async () => {
  counter?.close();
  await daemon?.stop('SIGKILL');
  if (daemon) removeDir(daemon.storageDir);
  if (dir) removeDir(dir);
});

const simulate = (id: string, body: unknown): Promise<Response> =>
  daemon.fetch(`/v1/devices/${id}/simulator`, postJson(body));

async function ok(id: string, body: unknown): Promise<void> {
  const res = await simulate(id, body);
  expect(res.status, await res.clone().text()).toBe(200);
}

async function state(id: string): Promise<string> {
  return ((await (await daemon.fetch(`/v1/devices/${id}`)).json()) as { state: string }).state;
}

async function ready(id: string): Promise<void> {
  await waitFor(`${id} ready`, async () => (await state(id)) === 'ready', 20_000);
}

const idcardEvents = (s: SseStream): { type: string; data: Record<string, unknown> }[] =>
  s.events
    .filter((e) => e.event?.startsWith('idcard.'))
    .map((e) => ({ type: e.event!, data: JSON.parse(e.data) as Record<string, unknown> }));

describe('the ID card reader simulator', () => {
  it('takes a card away and puts another on, with presence events and the new card read', async () => {
    await ok('idcard-1', { action: 'remove-card' });
    await waitFor('removed', () => idcardEvents(counter).some((e) => e.type === 'idcard.removed'));
    const mark = idcardEvents(counter).length;

    const put = await simulate('idcard-1', { action: 'card', card: CARD });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ device: 'idcard-1', action: 'card' });
    await waitFor('read', () => idcardEvents(counter).some((e) => e.type === 'idcard.read'));
    const after = idcardEvents(counter).slice(mark);
    expect(after.map((e) => e.type).slice(0, 2)).toEqual(['idcard.present', 'idcard.read']);
    // The presence event says only where and when (the envelope: id, seq, type, at).
    const ENVELOPE_AND_DEVICE = ['at', 'device', 'id', 'seq', 'type'];
    expect(Object.keys(after[0]!.data).sort()).toEqual(ENVELOPE_AND_DEVICE);
    expect(after[0]!.data.seq).toBeNull();
    expect(after[1]!.data).toMatchObject({ device: 'idcard-1', name: '陈小红', idNumberMasked: true });
    const card = (await (await daemon.fetch('/v1/idcard/idcard-1/card', { token: counterToken })).json()) as {
      name: string;
      address: string;
    };
    expect(card).toMatchObject({ name: '陈小红', address: CARD.address });

    await ok('idcard-1', { action: 'remove-card' });
    await waitFor('removed again', () =>
      idcardEvents(counter)
        .slice(mark)
        .some((e) => e.type === 'idcard.removed'),
    );
    const removed = idcardEvents(counter)
      .slice(mark)
      .find((e) => e.type === 'idcard.removed')!;
    expect(Object.keys(removed.data).sort()).toEqual(ENVELOPE_AND_DEVICE);
  });

  it('keeps presence events live only: a replay from the start has none', async () => {
    const replay = await openSse(`${daemon.url}/v1/events`, {
      authorization: `Bearer ${counterToken}`,
      'last-event-id': '0',
    });
    try {
      await waitFor('the replay', () => replay.events.length > 0);
      await new Promise((r) => setTimeout(r, 300));
      expect(replay.events.filter((e) => e.event?.startsWith('idcard.'))).toEqual([]);
    } finally {
      replay.close();
    }
  });

  it('refuses a card with a field the card cannot hold (400 naming it)', async () => {
    const res = await simulate('idcard-1', { action: 'card', card: { ...CARD, idNumber: '12345' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { field: string }).field).toBe('/card/idNumber');
  });
});

describe('the camera simulator', () => {
  async function jpeg(file: string, color: { r: number; g: number; b: number }): Promise<void> {
    writeFileSync(
      file,
      await sharp({ create: { width: 320, height: 240, channels: 3, background: color } })
        .jpeg()
        .toBuffer(),
    );
  }

  /** The dominant channel of the camera's current frame. */
  async function snapshotColor(): Promise<'red' | 'green' | 'blue' | 'mixed'> {
    const res = await daemon.fetch('/v1/camera/camera-1/snapshot');
    expect(res.status).toBe(200);
    const { channels } = await sharp(Buffer.from(await res.arrayBuffer())).stats();
    const [r, g, b] = channels.map((c) => c.mean) as [number, number, number];
    if (r > 150 && g < 80 && b < 80) return 'red';
    if (g > 150 && r < 80 && b < 80) return 'green';
    if (b > 150 && r < 80 && g < 80) return 'blue';
    return 'mixed';
  }

  it('shows an image, then a folder in turn, then the test pattern again', async () => {
    const still = join(dir, 'red.jpg');
    await jpeg(still, { r: 230, g: 20, b: 20 });
    await ok('camera-1', { action: 'images', path: still });
    await waitFor('a red frame', async () => (await snapshotColor()) === 'red', 10_000);

    const folder = join(dir, 'faces');
    mkdirSync(folder);
    await jpeg(join(folder, 'a.jpg'), { r: 20, g: 200, b: 20 });
    await jpeg(join(folder, 'b.jpg'), { r: 20, g: 20, b: 230 });
    await ok('camera-1', { action: 'images', path: folder });
    const seen = new Set<string>();
    await waitFor(
      'both images of the folder',
      async () => {
        seen.add(await snapshotColor());
        return seen.has('green') && seen.has('blue');
      },
      15_000,
    );
    expect(seen.has('red')).toBe(false);

    await ok('camera-1', { action: 'images', path: null });
    await waitFor('the test pattern', async () => (await snapshotColor()) === 'mixed', 10_000);
    // Switching sources is no failure of the camera.
    expect(await state('camera-1')).toBe('ready');
  });

  it('refuses a path that is not there, or a folder without JPEGs (400 naming path)', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    for (const path of [join(dir, 'missing.jpg'), empty]) {
      const res = await simulate('camera-1', { action: 'images', path });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { field: string }).field).toBe('/path');
    }
    expect(await state('camera-1')).toBe('ready');
  });
});

describe('faults on every simulated kind', () => {
  for (const [id, kind] of Object.entries(KINDS)) {
    it(`${kind}: offline and unplugged take it down, none brings it back`, async () => {
      await ready(id);
      await ok(id, { fault: 'offline' });
      await waitFor(`${id} down`, async () => ['error', 'backoff'].includes(await state(id)), 20_000);
      await ok(id, { action: 'fault', fault: 'none' });
      await ready(id);
      await ok(id, { action: 'fault', fault: 'unplugged' });
      await waitFor(`${id} absent`, async () => (await state(id)) === 'absent', 20_000);
      await ok(id, { fault: 'none' });
      await ready(id);
    });
  }
});

describe('actions the kind has no use for', () => {
  it('answers 400 naming the action and what the simulator takes', async () => {
    const res = await simulate('printer-1', { action: 'card', card: CARD });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; field: string; detail: string };
    expect(body).toMatchObject({ type: 'urn:boxagent:problem:invalid-request', field: '/action' });
    expect(body.detail).toBe(
      'action "card" is for simulated idcard devices; "printer-1" is a printer, whose simulator takes: fault',
    );
    const images = await simulate('idcard-1', { action: 'images', path: null });
    expect(((await images.json()) as { detail: string }).detail).toContain(
      'whose simulator takes: fault, card, remove-card',
    );
  });

  it('answers 400 for a printer fault on a camera, naming the faults it takes', async () => {
    const res = await simulate('camera-1', { fault: 'paper-out' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { field: string; detail: string };
    expect(body.field).toBe('/fault');
    expect(body.detail).toBe(
      'fault "paper-out" does not apply to a camera; its simulator takes: none, offline, unplugged',
    );
  });

  it('answers 400 for an unknown action, or a field of another action', async () => {
    const unknown = await simulate('printer-1', { action: 'explode' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { field: string }).field).toBe('/action');
    const mixed = await simulate('idcard-1', { action: 'remove-card', fault: 'none' });
    expect(mixed.status).toBe(400);
    expect(((await mixed.json()) as { detail: string }).detail).toBe('unknown field "fault"');
  });
});
