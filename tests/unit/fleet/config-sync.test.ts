// Desired/reported config through a real broker (aedes): a newer signed merge patch is applied (an unchanged
// device keeps running), an unsigned or invalid one is rejected, one that breaks health is rolled back; the
// applied document is kept in the state dir for the next start. A rejected document never blocks a later
// valid one. (The daemon as a process on mosquitto: tests/integration/fleet-desired-config.test.ts.)
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { FLEET_CONFIG_FILE, type ReportedConfig } from '../../../agent/fleet/config-sync.js';
import { FleetConfigState } from '../../../agent/fleet/fleet-config-state.js';
import { signDesiredConfig } from '../../../agent/fleet/config-signing.js';
import { FleetLink } from '../../../agent/fleet/fleet-link.js';
import { Dispatcher } from '../../../agent/operations/dispatch.js';
import { freePort } from '../../helpers/mosquitto.js';
import { startBroker } from '../../helpers/aedes-broker.js';
import { buildServices } from '../../helpers/fleet-services.js';
import { waitFor } from '../../helpers/wait-for.js';

const ROOT = 'boxagent/v1/box-1';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

const admin = generateKeyPairSync('ed25519');
const viewer = generateKeyPairSync('ed25519');
const raw = (k: typeof admin) =>
  k.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');

/** The document as the fleet signs it with its admin key (the usual case in these tests). */
const signed = (doc: { version: number; config: unknown }, key = admin.privateKey, keyId = 'city-ops') =>
  signDesiredConfig(key, keyId, 'box-1', doc.version, doc.config);

const simulated = (kind = 'printer') => ({ kind, transport: { type: 'simulated' } });
const supervision = { probeIntervalMs: 50, failuresBeforeError: 1, backoffInitialMs: 50, backoffMaxMs: 100 };

async function setup() {
  const broker = await startBroker();
  cleanups.push(() => broker.stop());
  const t = buildServices(`
box: { id: box-1 }
mqtt:
  url: ${broker.url}
  protocolVersion: 4
  reconnectMinMs: 50
  configHealthTimeoutSeconds: 2
  signing:
    keys:
      city-ops: { publicKey: "${raw(admin)}", role: admin }
      city-view: { publicKey: "${raw(viewer)}", role: viewer }
supervision: ${JSON.stringify(supervision)}
devices:
  - { id: printer-1, kind: printer, transport: { type: simulated } }
`);
  cleanups.push(() => t.close());
  const link = new FleetLink(t.services, new Dispatcher());
  cleanups.push(() => link.stop());
  link.start();
  await waitFor('connected', () => link.connected);
  const fleet: MqttClient = await connectAsync(broker.url, { protocolVersion: 4 });
  cleanups.push(() => fleet.endAsync());
  const reports: ReportedConfig[] = [];
  fleet.on('message', (_t, payload) => reports.push(JSON.parse(payload.toString()) as ReportedConfig));
  await fleet.subscribeAsync(`${ROOT}/config/reported`, { qos: 1 });
  const publish = async (doc: unknown): Promise<void> => {
    await fleet.publishAsync(`${ROOT}/config/desired`, JSON.stringify(doc), { qos: 1, retain: true });
  };
  const desire = Object.assign(
    async (doc: unknown): Promise<ReportedConfig> => {
      const before = reports.length;
      await publish(doc);
      await waitFor('a report', () => reports.length > before, 10_000);
      return reports.at(-1)!;
    },
    { publish, reports },
  );
  return { t, desire };
}

describe('desired/reported config', () => {
  it('applies a newer document: adds a device, keeps the unchanged one running, and persists it', async () => {
    const { t, desire } = await setup();
    await waitFor('printer ready', () => t.services.devices.get('printer-1')?.currentState() === 'ready');
    const printer = t.services.devices.get('printer-1');
    const report = await desire(
      signed({
        version: 3,
        config: { devices: { 'seal-1': simulated('seal') } },
      }),
    );
    expect(report).toMatchObject({
      schema: 1,
      version: 3,
      status: 'applied',
      inForce: 3,
      errors: [],
      overridden: [],
    });
    expect(t.services.devices.list().map((d) => [d.id, d.state])).toEqual([
      ['printer-1', 'ready'],
      ['seal-1', 'ready'],
    ]);
    // The unchanged device was not torn down.
    expect(t.services.devices.get('printer-1')).toBe(printer);
    const saved = JSON.parse(
      readFileSync(join(t.services.config.storage.dir, FLEET_CONFIG_FILE), 'utf8'),
    ) as {
      version: number;
    };
    expect(saved.version).toBe(3);
    // The next start overlays it on the config file's sections.
    const fresh = structuredClone(t.services.config);
    fresh.devices = fresh.devices.filter((d) => d.id === 'printer-1');
    const state = FleetConfigState.load(fresh, t.services.config.storage.dir, true);
    state.overlay(fresh);
    expect(state.inForce).toBe(3);
    expect(fresh.devices.map((d) => d.id)).toEqual(['printer-1', 'seal-1']);
  });

  it('rejects an invalid document or one that touches installer-owned sections, changing nothing', async () => {
    const { t, desire } = await setup();
    expect(
      await desire(signed({ version: 2, config: { devices: { x: { kind: 'toaster' } } } })),
    ).toMatchObject({
      version: 2,
      status: 'rejected',
      reason: 'invalid',
      inForce: 0,
    });
    const foreign = await desire(
      signed({
        version: 3,
        config: { mqtt: { url: 'mqtt://evil' } },
      }),
    );
    expect(foreign).toMatchObject({ version: 3, status: 'rejected', reason: 'invalid' });
    expect(foreign.errors[0]).toMatch(/mqtt: not fleet-owned/);
    expect(t.services.devices.list().map((d) => d.id)).toEqual(['printer-1']);
    expect(existsSync(join(t.services.config.storage.dir, FLEET_CONFIG_FILE))).toBe(false);
  });

  it('rolls back a document whose device never becomes ready', async () => {
    const { t, desire } = await setup();
    const closedPort = await freePort();
    const report = await desire(
      signed({
        version: 5,
        config: {
          devices: {
            'net-printer': {
              kind: 'printer',
              transport: { type: 'tcp', host: '127.0.0.1', port: closedPort, connectTimeoutMs: 200 },
            },
          },
        },
      }),
    );
    expect(report).toMatchObject({ version: 5, status: 'rolled_back', reason: 'unhealthy', inForce: 0 });
    expect(report.errors[0]).toMatch(/^device net-printer is /);
    expect(t.services.devices.list().map((d) => d.id)).toEqual(['printer-1']);
    expect(t.services.config.devices.map((d) => d.id)).toEqual(['printer-1']);
  });

  it('rejects an unsigned document, or one signed by an unknown or non-admin key, changing nothing', async () => {
    const { t, desire } = await setup();
    const doc = { version: 2, config: { devices: { 'x-1': simulated() } } };
    const stranger = generateKeyPairSync('ed25519').privateKey;
    for (const attempt of [
      doc,
      { ...doc, signature: 'nope' },
      signed(doc, stranger),
      signed(doc, admin.privateKey, 'nobody'),
      signed(doc, viewer.privateKey, 'city-view'),
      // Signed for version 1, sent as 2.
      { ...signed({ ...doc, version: 1 }), version: 2 },
    ]) {
      expect(await desire(attempt)).toMatchObject({
        version: 2,
        status: 'rejected',
        reason: 'bad-signature',
        inForce: 0,
      });
    }
    expect(t.services.devices.list().map((d) => d.id)).toEqual(['printer-1']);
    expect(existsSync(join(t.services.config.storage.dir, FLEET_CONFIG_FILE))).toBe(false);
  });

  it('never lets a rejected document block a later valid one; only an applied one raises the floor', async () => {
    const { t, desire } = await setup();
    const devices = (...ids: string[]) => ({
      devices: Object.fromEntries(ids.map((id) => [id, id.startsWith('-') ? null : simulated()])),
    });
    // An attacker's largest version, unsigned; then the fleet's own mistake, signed but invalid.
    expect(
      await desire({ version: Number.MAX_SAFE_INTEGER, config: devices('printer-1', 'evil') }),
    ).toMatchObject({ status: 'rejected', reason: 'bad-signature' });
    expect(
      await desire(signed({ version: 9, config: { devices: { x: { kind: 'toaster' } } } })),
    ).toMatchObject({ status: 'rejected', reason: 'invalid' });
    // Beyond 2^53 - 1 a version loses digits: invalid, whoever signed it.
    expect(await desire({ version: 2 ** 53, config: devices() })).toMatchObject({
      version: null,
      status: 'rejected',
      reason: 'invalid',
    });
    expect(await desire(signed({ version: 4, config: devices('p-2') }))).toMatchObject({
      version: 4,
      status: 'applied',
      inForce: 4,
    });
    expect(t.services.devices.list().map((d) => d.id)).toEqual(['printer-1', 'p-2']);
    // The floor is now 4: an older signed document (one the fleet sent before, replayed) changes nothing and
    // is reported stale; the version in force again is reported unchanged.
    expect(await desire(signed({ version: 3, config: devices() }))).toMatchObject({
      version: 3,
      status: 'stale',
      inForce: 4,
    });
    expect(await desire(signed({ version: 4, config: devices('p-2') }))).toMatchObject({
      version: 4,
      status: 'unchanged',
      inForce: 4,
    });
    expect(t.services.devices.list().map((d) => d.id)).toEqual(['printer-1', 'p-2']);
    expect(await desire(signed({ version: 6, config: devices('p-2', 'p-3') }))).toMatchObject({
      version: 6,
      status: 'applied',
      inForce: 6,
    });
    expect(t.services.devices.list().map((d) => d.id)).toEqual(['printer-1', 'p-2', 'p-3']);
  });
});
