// Past one broker: a site mosquitto with the shipped box config, ACL and bridge (deploy/mosquitto/site/
// bridge.conf) bridged to a central mosquitto with the same shipped config. The box logs in to its site broker
// as itself; the operator, on the central broker only, lists it, calls it and follows its events through the
// bridge. (The brokers talk plain TCP here: the bridge's CA file line is left out; TLS is tested in
// tests/integration/fleet-tls.test.ts.)
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoxView } from '../../agent/cli/fleet/boxes-command.js';
import { postJson, removeDir, tempDir, type Daemon } from '../helpers/daemon.js';
import {
  DEPLOY,
  fleetConnected,
  followEvents,
  operatorArgs,
  passwordOf,
  runFleet,
  shippedBroker,
  startBox,
} from '../helpers/fleet-cli.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

let dir: string;
let central: Mosquitto;
let site: Mosquitto;
let box: Daemon;
let op: string[];

beforeAll(async () => {
  dir = tempDir('boxagent-fleet-bridge-');
  central = await startMosquitto(shippedBroker(['operator', 'bridge-site-1']));
  const local = shippedBroker(['box-1']);
  site = await startMosquitto({
    ...local,
    templates: [
      ...(local.templates ?? []),
      {
        file: join(DEPLOY, 'site/bridge.conf'),
        substitute: {
          'central.example.org:8883': `127.0.0.1:${central.port}`,
          'CHANGE-ME': passwordOf('bridge-site-1'),
        },
        omit: /^bridge_cafile\b/,
      },
    ],
  });
  await waitFor('the bridge to connect', () => /bridge-site-1/.test(central.log()), 15_000);
  box = await startBox('box-1', site.url, dir);
  await waitFor('the fleet link', () => fleetConnected(box), 20_000);
  op = operatorArgs(central.url, dir);
}, 60_000);

afterAll(async () => {
  await box?.stop('SIGKILL');
  if (box) removeDir(box.storageDir);
  await site?.dispose();
  await central?.dispose();
  removeDir(dir);
});

describe('a box behind a site broker bridged to the central one', () => {
  it('is listed, answers calls and sends its events to the operator on the central broker', async () => {
    await waitFor(
      'box-1 online at the central broker',
      async () => {
        const r = await runFleet(['boxes', '--json', ...op]);
        return ((JSON.parse(r.stdout || '[]') as BoxView[])[0]?.online ?? false) === true;
      },
      20_000,
    );

    const call = await runFleet(['call', 'box-1', 'devices.list', ...op]);
    expect(call.status, call.stderr).toBe(0);
    expect((JSON.parse(call.stdout) as { devices: unknown[] }).devices.length).toBeGreaterThan(0);

    const follower = followEvents(['box-1', '--client-id', 'central-ops', ...op]);
    try {
      await follower.following;
      const r = await box.fetch('/v1/devices/printer-1/simulator', postJson({ fault: 'offline' }));
      expect(r.status).toBe(200);
      await waitFor(
        "printer-1's state change through the bridge",
        () =>
          follower.lines.some((l) => {
            const e = JSON.parse(l) as { type: string; payload: { device?: string } };
            return e.type === 'device.state' && e.payload.device === 'printer-1';
          }),
        15_000,
      );
    } finally {
      await follower.stop();
    }
  }, 60_000);
});
