// Signed RPC requests through a real broker (aedes, 3.1.1 envelope): a high-risk operation runs only when
// signed by a configured fleet key; the key's role decides the scopes; a replayed, tampered, stale or
// unknown-key signature is refused with bad-signature.
import { generateKeyPairSync } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { RpcReply } from '../../../agent/fleet/contract.js';
import { FleetLink } from '../../../agent/fleet/fleet-link.js';
import { RequestVerifier, signRequest, type RequestSignature } from '../../../agent/fleet/request-signing.js';
import { findOperation } from '../../../agent/operations/catalog.js';
import { Store } from '../../../agent/store/store.js';
import { parseConfig } from '../../../config/load.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { Dispatcher } from '../../../agent/operations/dispatch.js';
import { PROBLEM_BASE } from '../../../agent/problems/registry.js';
import { startBroker } from '../../helpers/aedes-broker.js';
import { buildServices } from '../../helpers/fleet-services.js';
import { waitFor } from '../../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

const ROOT = 'boxagent/v1/box-1';
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const rawPublic = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');

async function setup() {
  const broker = await startBroker();
  cleanups.push(() => broker.stop());
  const t = buildServices(`
box: { id: box-1 }
mqtt:
  url: ${broker.url}
  protocolVersion: 4
  rpcRole: viewer
  signing:
    required: [devices.simulate]
    keys:
      city-ops: { publicKey: "${rawPublic}", role: admin }
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
  const replies = new Map<string, RpcReply>();
  fleet.on('message', (topic, payload) => replies.set(topic, JSON.parse(payload.toString()) as RpcReply));
  await fleet.subscribeAsync('fleet/replies/#', { qos: 1 });
  let n = 0;
  return async (
    op: string,
    params: Record<string, unknown>,
    signature?: RequestSignature,
  ): Promise<RpcReply> => {
    const id = `r${++n}`;
    const replyTo = `fleet/replies/${id}`;
    await fleet.publishAsync(`${ROOT}/rpc/${op}`, JSON.stringify({ id, replyTo, params, signature }), {
      qos: 1,
    });
    await waitFor(`reply ${id}`, () => replies.has(replyTo));
    return replies.get(replyTo)!;
  };
}

const BAD = { ok: false, error: { type: `${PROBLEM_BASE}bad-signature`, status: 401 } };

describe('signed RPC requests', () => {
  it('runs a high-risk operation only when signed, with the signing key’s role', async () => {
    const call = await setup();
    const params = { id: 'printer-1', fault: 'offline' };
    expect(await call('devices.simulate', params)).toMatchObject(BAD);
    const signature = signRequest(privateKey, 'city-ops', 'devices.simulate', params, 'box-1');
    expect(await call('devices.simulate', params, signature)).toMatchObject({
      ok: true,
      result: { device: 'printer-1', fault: 'offline' },
    });
    // The same signed request again is a replay.
    expect(await call('devices.simulate', params, signature)).toMatchObject(BAD);
  });

  it('refuses tampered params, a stale timestamp, another box id and an unknown key', async () => {
    const call = await setup();
    const params = { id: 'printer-1', fault: 'offline' };
    const forOther = signRequest(
      privateKey,
      'city-ops',
      'devices.simulate',
      { ...params, fault: 'none' },
      'box-1',
    );
    expect(await call('devices.simulate', params, forOther)).toMatchObject(BAD);
    const stale = signRequest(
      privateKey,
      'city-ops',
      'devices.simulate',
      params,
      'box-1',
      Math.floor(Date.now() / 1000) - 3600,
    );
    expect(await call('devices.simulate', params, stale)).toMatchObject(BAD);
    const otherBox = signRequest(privateKey, 'city-ops', 'devices.simulate', params, 'box-2');
    expect(await call('devices.simulate', params, otherBox)).toMatchObject(BAD);
    const wrongKey = signRequest(other.privateKey, 'city-ops', 'devices.simulate', params, 'box-1');
    expect(await call('devices.simulate', params, wrongKey)).toMatchObject(BAD);
    const unknown = signRequest(privateKey, 'nobody', 'devices.simulate', params, 'box-1');
    expect(await call('devices.simulate', params, unknown)).toMatchObject(BAD);
    // Unsigned low-risk requests still run with the configured fleet role.
    expect(await call('devices.list', {})).toMatchObject({ ok: true });
  });

  it('keeps used nonces in the state database: refused after a reopen, forgotten once the window has passed', () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const config = parseConfig(
      `box: { id: box-1 }\nmqtt:\n  signing:\n    replayWindowSeconds: 60\n    keys:\n      city-ops: { publicKey: "${rawPublic}", role: admin }\n`,
      'test.yaml',
    );
    const op = findOperation('devices.simulate')!;
    const params = { id: 'printer-1', fault: 'offline' };
    const t0 = 1_800_000_000;
    const signature = signRequest(privateKey, 'city-ops', op.name, params, 'box-1', t0, 'nonce-0001');
    const fallback = { tokenId: 'x', name: 'x', scopes: [] };
    let now = t0 * 1000;
    const run = () => {
      const store = Store.open(dir);
      try {
        return new RequestVerifier(config.mqtt, 'box-1', store.nonces, () => now).principalFor(
          op,
          params,
          signature,
          fallback,
        ).name;
      } finally {
        store.close();
      }
    };
    expect(run()).toBe('fleet-key:city-ops');
    // Another process, the same database: a restart.
    expect(run).toThrow(/replay/);
    now += 59_000;
    expect(run).toThrow(/replay/);
    // Past the window the timestamp refuses it, and the nonce row is gone.
    now += 2_000;
    expect(run).toThrow(/replay window/);
    const store = Store.open(dir);
    cleanups.push(() => store.close());
    expect(store.nonces.claim('other', 'n-1', now + 1000, now)).toBe(true);
    expect(store.nonces.count()).toBe(1);
  });
});
