// The operator's fleet client (agent/fleet/operator/fleet-client.ts) against Debian's mosquitto and a daemon
// spawned as a process: a call gets its reply on the box's reply topic, an error reply comes back as a
// reply, and a box that never answers times out with the box and operation named.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetCallTimeout, FleetClient } from '../../agent/fleet/operator/fleet-client.js';
import { removeDir, startDaemon, type Daemon } from '../helpers/daemon.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

let broker: Mosquitto;
let daemon: Daemon;
let fleet: FleetClient;

beforeEach(async () => {
  broker = await startMosquitto();
  daemon = await startDaemon({
    env: { BOXAGENT_MQTT_URL: broker.url, BOXAGENT_MQTT_RECONNECT_MIN_MS: '100', BOXAGENT_LOG_LEVEL: 'info' },
  });
  await waitFor('the fleet link', () => daemon.logs.some((l) => l.msg === 'fleet link connected'));
  fleet = await FleetClient.connect({ url: broker.url });
});
afterEach(async () => {
  await fleet.close();
  await daemon.stop('SIGKILL');
  removeDir(daemon.storageDir);
  await broker.dispose();
});

describe('fleet client', () => {
  it('calls an operation and gets the reply on the box reply topic', async () => {
    const reply = await fleet.call('dev-box', 'devices.list', {});
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const ids = (reply.result as { devices: { id: string }[] }).devices.map((d) => d.id);
    expect(ids).toContain('printer-1');
    expect(fleet.replyTopic('dev-box')).toMatch(/^boxagent\/v1\/dev-box\/reply\/boxagent-fleet-/);
  });

  it('returns an error reply as a reply', async () => {
    const reply = await fleet.call('dev-box', 'devices.get', { id: 'no-such-device' }, { locale: 'en' });
    expect(reply).toMatchObject({ ok: false, error: { status: 404 } });
  });

  it('times out naming the box and the operation when nobody answers', async () => {
    await expect(fleet.call('box-that-is-not-there', 'agent.health', {}, { timeoutMs: 500 })).rejects.toThrow(
      FleetCallTimeout,
    );
  });
});
