// Hostile RPC payloads over a real broker (Debian's mosquitto): every operation of the catalog, with
// payloads made from its schema (valid-shaped, mutated), non-JSON, huge and deeply nested ones. Every
// request that names a reply address gets a reply; the daemon never crashes and never answers `internal`.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../agent/operations/catalog.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { removeDir, startDaemon, tempDir, type Daemon } from '../helpers/daemon.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';
import { fuzzReport, recordStatus } from './report.js';
import { deepNesting, hostileSample, validSample } from './schema-samples.js';

const ROOT = 'boxagent/v1/fuzz-box';
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const CASES_PER_OPERATION = Number(process.env.FUZZ_CASES ?? 100);

let broker: Mosquitto;
let daemon: Daemon;
let dir: string;
let client: MqttClient;

beforeAll(async () => {
  broker = await startMosquitto();
  dir = tempDir();
  daemon = await startDaemon({
    storageDir: dir,
    env: { BOXAGENT_MQTT_URL: broker.url, BOXAGENT_MQTT_RPC_ROLE: 'admin', BOXAGENT_BOX_ID: 'fuzz-box' },
  });
  await waitFor(
    'fleet link connected',
    () => daemon.logs.some((l) => l.msg === 'fleet link connected'),
    15_000,
  );
  client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'fuzzer' });
  await client.subscribeAsync('fuzz/replies/#', { qos: 1 });
  console.log(`mqtt fuzz seed ${SEED} (FUZZ_SEED=${SEED} repeats it)`);
}, 60_000);

afterAll(async () => {
  await client?.endAsync();
  await daemon?.stop();
  await broker?.dispose();
  removeDir(dir);
});

interface Reply {
  ok: boolean;
  error?: { type: string; status: number };
}

describe('MQTT RPC fuzz over the operations catalog', () => {
  it('answers every hostile request, never with an internal error, and stays up', async () => {
    const r = seededRandom(SEED);
    const replies = new Map<string, Reply>();
    client.on('message', (topic, payload) => {
      replies.set(topic.slice('fuzz/replies/'.length), JSON.parse(payload.toString()) as Reply);
    });
    const sent: { id: string; op: string }[] = [];
    for (const op of CATALOG) {
      const schema = op.input as unknown as Record<string, unknown>;
      for (let i = 0; i < CASES_PER_OPERATION; i++) {
        let payload: string | Buffer;
        if (i % 5 === 0) payload = JSON.stringify(validSample(schema, r));
        else if (i % 10 === 1) payload = deepNesting(20_000);
        else if (i % 10 === 3) payload = Buffer.from([0xff, 0xfe, 0x7b, 0x00]);
        else if (i % 10 === 7) payload = `{"x":"${'y'.repeat(300_000)}"}`;
        else payload = JSON.stringify(hostileSample(schema, r));
        const id = `${op.name}-${i}`;
        sent.push({ id, op: op.name });
        await client.publishAsync(`${ROOT}/rpc/${op.name}`, payload, {
          qos: 1,
          properties: { responseTopic: `fuzz/replies/${id}`, correlationData: Buffer.from(id) },
        });
      }
    }
    await waitFor('a reply to every request', () => replies.size === sent.length, 120_000);
    const internal: string[] = [];
    for (const { id, op } of sent) {
      const reply = replies.get(id)!;
      recordStatus('mqtt', op, reply.ok ? 200 : (reply.error?.status ?? 0));
      if (!reply.ok && (reply.error?.status ?? 500) >= 500 && reply.error?.status !== 503) {
        internal.push(`${id}: ${JSON.stringify(reply.error)}`);
      }
    }
    console.log(fuzzReport());
    expect(internal).toEqual([]);
    expect(daemon.proc.exitCode).toBeNull();
  }, 300_000);
});
