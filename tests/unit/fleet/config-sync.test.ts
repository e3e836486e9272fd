// Desired/reported config through a real broker (aedes): a newer document is applied section by section
// (an unchanged device keeps running), an invalid one is rejected, one that breaks health is rolled back;
// the applied document is kept in the state dir for the next start.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FLEET_CONFIG_FILE,
  overlayFleetConfig,
  type ReportedConfig,
} from '../../../agent/fleet/config-sync.js';
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

const simulated = (id: string, kind = 'printer') => ({ id, kind, transport: { type: 'simulated' } });
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
  const desire = async (doc: unknown): Promise<ReportedConfig> => {
    const before = reports.length;
    await fleet.publishAsync(`${ROOT}/config/desired`, JSON.stringify(doc), { qos: 1, retain: true });
    await waitFor('a report', () => reports.length > before, 10_000);
    return reports.at(-1)!;
  };
  return { t, desire };
}

describe('desired/reported config', () => {
  it('applies a newer document: adds a device, keeps the unchanged one running, and persists it', async () => {
    const { t, desire } = await setup();
    await waitFor('printer ready', () => t.services.devices.get('printer-1')?.currentState() === 'ready');
    const printer = t.services.devices.get('printer-1');
    const report = await desire({
      version: 3,
      config: { supervision, devices: [simulated('printer-1'), simulated('seal-1', 'seal')] },
    });
    expect(report).toMatchObject({ schema: 1, version: 3, status: 'applied', inForce: 3, errors: [] });
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
    fresh.devices = [];
    expect(overlayFleetConfig(fresh, t.services.config.storage.dir)).toBe(3);
    expect(fresh.devices.map((d) => d.id)).toEqual(['printer-1', 'seal-1']);
  });

  it('rejects an invalid document or one that touches installer-owned sections, changing nothing', async () => {
    const { t, desire } = await setup();
    expect(
      await desire({ version: 2, config: { supervision, devices: [{ id: 'x', kind: 'toaster' }] } }),
    ).toMatchObject({
      version: 2,
      status: 'rejected',
      inForce: 0,
    });
    const foreign = await desire({
      version: 3,
      config: { mqtt: { url: 'mqtt://evil' }, supervision, devices: [] },
    });
    expect(foreign).toMatchObject({ version: 3, status: 'rejected' });
    expect(foreign.errors[0]).toMatch(/mqtt: not fleet-owned/);
    expect(t.services.devices.list().map((d) => d.id)).toEqual(['printer-1']);
    expect(existsSync(join(t.services.config.storage.dir, FLEET_CONFIG_FILE))).toBe(false);
  });

  it('rolls back a document whose device never becomes ready', async () => {
    const { t, desire } = await setup();
    const closedPort = await freePort();
    const report = await desire({
      version: 5,
      config: {
        supervision,
        devices: [
          simulated('printer-1'),
          {
            id: 'net-printer',
            kind: 'printer',
            transport: { type: 'tcp', host: '127.0.0.1', port: closedPort, connectTimeoutMs: 200 },
          },
        ],
      },
    });
    expect(report).toMatchObject({ version: 5, status: 'rolled_back', inForce: 0 });
    expect(report.errors[0]).toMatch(/^device net-printer is /);
    expect(t.services.devices.list().map((d) => d.id)).toEqual(['printer-1']);
    expect(t.services.config.devices.map((d) => d.id)).toEqual(['printer-1']);
  });
});
