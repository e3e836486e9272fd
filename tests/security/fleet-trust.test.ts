// Issue 14, fleet messages: attacks by a client on the city's MQTT broker, replayed against the daemon spawned
// as a process and Debian's mosquitto. An unsigned desired config that repoints the face camera, an unsigned
// `persons.addFace`, a signed request replayed after a restart, and a retained RPC: each is refused and
// changes nothing.
import { existsSync, readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { FLEET_CONFIG_FILE, type ReportedConfig } from '../../agent/fleet/config-sync.js';
import { signDesiredConfig } from '../../agent/fleet/config-signing.js';
import type { RpcReply } from '../../agent/fleet/contract.js';
import { signRequest } from '../../agent/fleet/request-signing.js';
import { PROBLEM_BASE } from '../../agent/problems/registry.js';
import { FACE_DATA } from '../../bench/face-pairs.js';
import { removeDir, startDaemon, tempDir, type Daemon } from '../helpers/daemon.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const BOX = 'trust-box';
const ROOT = `boxagent/v1/${BOX}`;
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const rawPublic = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
const BAD_SIGNATURE = { ok: false, error: { type: `${PROBLEM_BASE}bad-signature`, status: 401 } };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

async function broker(): Promise<Mosquitto> {
  const b = await startMosquitto();
  cleanups.push(() => b.dispose());
  return b;
}

/** The daemon on the default config (simulated devices), linked to `b`, with one admin-role fleet key. */
async function daemonOn(b: Mosquitto, storageDir: string): Promise<Daemon> {
  const daemon = await startDaemon({
    storageDir,
    env: {
      BOXAGENT_BOX_ID: BOX,
      BOXAGENT_MQTT_URL: b.url,
      BOXAGENT_MQTT_SIGNING_KEYS: JSON.stringify({ 'city-ops': { publicKey: rawPublic, role: 'admin' } }),
      BOXAGENT_LOG_LEVEL: 'info',
    },
  });
  cleanups.push(() => daemon.stop('SIGKILL').then(() => undefined));
  await waitFor(
    'fleet link connected',
    () => daemon.logs.some((l) => l.msg === 'fleet link connected'),
    15_000,
  );
  return daemon;
}

function newStorageDir(): string {
  const dir = tempDir();
  cleanups.push(() => removeDir(dir));
  return dir;
}

/** A fleet-side client (an attacker's or the city's: the broker cannot tell them apart). */
async function client(b: Mosquitto): Promise<MqttClient> {
  const c = await mqtt.connectAsync(b.url, { protocolVersion: 5, clientId: `attacker-${process.pid}` });
  cleanups.push(() => c.endAsync());
  return c;
}

/** Collects RPC replies on `attacker/replies/<correlation>`. */
async function replies(c: MqttClient): Promise<Map<string, RpcReply>> {
  const got = new Map<string, RpcReply>();
  c.on('message', (topic, payload) => {
    if (topic.startsWith('attacker/replies/'))
      got.set(topic.slice('attacker/replies/'.length), JSON.parse(payload.toString()) as RpcReply);
  });
  await c.subscribeAsync('attacker/replies/#', { qos: 1 });
  return got;
}

describe('fleet messages cannot be forged, replayed or stored (issue 14)', () => {
  it('refuses an unsigned desired config that repoints the face camera; the camera config is unchanged', async () => {
    const b = await broker();
    const daemon = await daemonOn(b, newStorageDir());
    const fleet = await client(b);
    const reports: ReportedConfig[] = [];
    fleet.on('message', (topic, payload) => {
      if (topic === `${ROOT}/config/reported`) reports.push(JSON.parse(payload.toString()) as ReportedConfig);
    });
    await fleet.subscribeAsync(`${ROOT}/config/reported`, { qos: 1 });
    const cameraBefore = await (await daemon.fetch('/v1/devices/camera-1')).json();

    // A merge patch of the default config: the camera pointed at a still photo of a resident.
    const photo = join(FACE_DATA, 'eastasian-dev/images/Hu_Jintao/Hu_Jintao_0001.jpg');
    const forged = (version: number) => ({
      version,
      config: {
        devices: {
          'camera-1': {
            name: 'forged',
            transport: { type: 'simulated' },
            camera: { simulatedImages: photo, source: 'rtsp://10.0.0.66/evil' },
          },
        },
      },
    });
    const desire = async (doc: unknown): Promise<ReportedConfig> => {
      const before = reports.length;
      await fleet.publishAsync(`${ROOT}/config/desired`, JSON.stringify(doc), { qos: 1, retain: true });
      await waitFor('a config report', () => reports.length > before, 15_000);
      return reports.at(-1)!;
    };

    // Unsigned, and with the largest version there is: it must not lock the real fleet out either.
    const unsigned = await desire(forged(Number.MAX_SAFE_INTEGER));
    expect(unsigned).toMatchObject({ status: 'rejected', reason: 'bad-signature', inForce: 0 });
    // Signed by a key the box does not know.
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const foreignKey = forged(5);
    const wrong = await desire(signDesiredConfig(stranger, 'city-ops', BOX, 5, foreignKey.config));
    expect(wrong).toMatchObject({ status: 'rejected', reason: 'bad-signature', inForce: 0 });
    // Signed for another box.
    const otherBox = await desire(signDesiredConfig(privateKey, 'city-ops', 'box-2', 6, forged(6).config));
    expect(otherBox).toMatchObject({ status: 'rejected', reason: 'bad-signature', inForce: 0 });

    expect(await (await daemon.fetch('/v1/devices/camera-1')).json()).toMatchObject({
      name: (cameraBefore as { name: string }).name,
      state: 'ready',
    });
    expect(existsSync(join(daemon.storageDir, FLEET_CONFIG_FILE))).toBe(false);

    // The real fleet, with a lower version than the forged one: applied.
    const real = { devices: { 'printer-1': { name: 'Counter printer' } } };
    const applied = await desire(signDesiredConfig(privateKey, 'city-ops', BOX, 2, real));
    expect(applied).toMatchObject({ status: 'applied', version: 2, inForce: 2 });
  }, 90_000);

  it('refuses an unsigned persons.addFace (401 bad-signature); the person’s templates are unchanged', async () => {
    const b = await broker();
    const daemon = await daemonOn(b, newStorageDir());
    const img = (n: number) =>
      readFileSync(
        join(FACE_DATA, `eastasian-dev/images/Hu_Jintao/Hu_Jintao_${String(n).padStart(4, '0')}.jpg`),
      );
    const enrol = await daemon.fetch('/v1/persons', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'hu-1',
        name: '胡锦涛',
        images: [{ image: img(1).toString('base64') }],
        source: 'document',
      }),
    });
    expect(enrol.status).toBe(201);
    const before = (await (await daemon.fetch('/v1/persons/hu-1')).json()) as { faces: unknown[] };

    const attacker = await client(b);
    const got = await replies(attacker);
    // Another resident's face, added to hu-1's record: the next face check would pass for the wrong person.
    const intruder = readFileSync(join(FACE_DATA, 'eastasian-dev/images/Wen_Jiabao/Wen_Jiabao_0002.jpg'));
    await attacker.publishAsync(
      `${ROOT}/rpc/persons.addFace`,
      JSON.stringify({ id: 'hu-1', image: intruder.toString('base64'), source: 'camera' }),
      { qos: 1, properties: { responseTopic: 'attacker/replies/add', correlationData: Buffer.from('add') } },
    );
    await waitFor('the reply', () => got.has('add'), 30_000);
    expect(got.get('add')).toMatchObject(BAD_SIGNATURE);
    expect(await (await daemon.fetch('/v1/persons/hu-1')).json()).toEqual(before);
    expect(before.faces).toHaveLength(1);
  }, 90_000);

  it('refuses a signed request replayed after a restart', async () => {
    const b = await broker();
    const dir = newStorageDir();
    let daemon = await daemonOn(b, dir);
    const fleet = await client(b);
    const got = await replies(fleet);
    const params = { id: 'printer-1', fault: 'offline' };
    const s = signRequest(privateKey, 'city-ops', 'devices.simulate', params, BOX);
    const send = (id: string) =>
      fleet.publishAsync(`${ROOT}/rpc/devices.simulate`, JSON.stringify(params), {
        qos: 1,
        properties: {
          responseTopic: `attacker/replies/${id}`,
          correlationData: Buffer.from(id),
          userProperties: {
            keyId: s.keyId,
            timestamp: String(s.timestamp),
            nonce: s.nonce,
            signature: s.value,
            // The error's texts in English, asserted below (the box's default is Chinese).
            locale: 'en',
          },
        },
      });
    await send('first');
    await waitFor('the first reply', () => got.has('first'), 15_000);
    expect(got.get('first')).toMatchObject({ ok: true, result: { device: 'printer-1', fault: 'offline' } });
    // Put the simulated printer right again, so a replay that ran would show.
    const reset = await daemon.fetch('/v1/devices/printer-1/simulator', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: 'none' }),
    });
    expect(reset.status).toBe(200);

    await daemon.stop();
    daemon = await daemonOn(b, dir);
    await waitFor('printer ready', async () => {
      const d = (await (await daemon.fetch('/v1/devices/printer-1')).json()) as { state: string };
      return d.state === 'ready';
    });
    await send('replay');
    await waitFor('the replay’s reply', () => got.has('replay'), 15_000);
    expect(got.get('replay')).toMatchObject(BAD_SIGNATURE);
    expect((got.get('replay') as { error: { detail: string } }).error.detail).toMatch(/replay/);
    const printer = (await (await daemon.fetch('/v1/devices/printer-1')).json()) as { state: string };
    expect(printer.state).toBe('ready');
  }, 90_000);

  it('never runs a retained RPC message: answered with an error, no print job made', async () => {
    const b = await broker();
    const fleet = await client(b);
    const got = await replies(fleet);
    // Stored on the broker before the box connects: without the check it would run at every start.
    await fleet.publishAsync(
      `${ROOT}/rpc/print.submit`,
      JSON.stringify({
        printer: 'printer-1',
        document: {
          page: { widthMm: 210, heightMm: 297 },
          items: [{ type: 'text', xMm: 20, yMm: 30, text: '张三 ZHANG San', sizePt: 12 }],
        },
      }),
      {
        qos: 1,
        retain: true,
        properties: {
          responseTopic: 'attacker/replies/stored',
          correlationData: Buffer.from('stored'),
          userProperties: { locale: 'en' },
        },
      },
    );
    const daemon = await daemonOn(b, newStorageDir());
    await waitFor('the reply', () => got.has('stored'), 15_000);
    expect(got.get('stored')).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}invalid-request`, status: 400 },
    });
    expect((got.get('stored') as { error: { detail: string } }).error.detail).toMatch(/retained/);
    const jobs = (await (await daemon.fetch('/v1/print-jobs')).json()) as { jobs: unknown[] };
    expect(jobs.jobs).toEqual([]);
  }, 90_000);
});
