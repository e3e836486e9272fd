// Issue 18, "signing spelled out": signers written in other languages, following docs/mqtt.md, against the
// daemon spawned as a process on Debian's mosquitto. Python (/usr/bin/python3: standard `json` and Debian's
// python3-cryptography) signs a desired config with Chinese in it and an RPC request with a Chinese note;
// `openssl pkeyutl -sign -rawin` signs another request. The box takes the key as PEM and as raw base64.
// The naive signer of the report (json.dumps's default ensure_ascii=True) is refused, as it should be: its
// bytes are not RFC 8785.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportedConfig } from '../../agent/fleet/config-sync.js';
import { desiredConfigBytes } from '../../agent/fleet/config-signing.js';
import { CONFIG_SIGNING_EXAMPLE } from '../../agent/fleet/contract-doc.js';
import type { RpcReply } from '../../agent/fleet/contract.js';
import { signedBytes } from '../../agent/fleet/request-signing.js';
import { PROBLEM_BASE } from '../../agent/problems/registry.js';
import { removeDir, ROOT as REPO, startDaemon, tempDir } from '../helpers/daemon.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const BOX = 'box-7';
const TOPICS = `boxagent/v1/${BOX}`;
const SEED = CONFIG_SIGNING_EXAMPLE.seedHex;
const SIGNER = join(REPO, 'tests/helpers/python-signer.py');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

interface Signed {
  bytesHex: string;
  signature: string;
  publicKeyPem: string;
}

/** Runs the Python signer on one job (see tests/helpers/python-signer.py). */
function python(job: Record<string, unknown>): Signed {
  const r = spawnSync('/usr/bin/python3', [SIGNER], { input: JSON.stringify(job), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 signer exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Signed;
}

function run(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

/** A merge patch of the default config: the printer renamed in Chinese. */
function fleetConfig(): { devices: Record<string, Record<string, unknown>> } {
  return { devices: { 'printer-1': { name: '窗口一打印机' } } };
}

describe('signers in other languages (docs/mqtt.md, Signing)', () => {
  it('Python and openssl sign config and requests the box accepts; json.dumps with ensure_ascii does not', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    // A second fleet key made by openssl, given to the box as raw base64 (the last 32 bytes of its SPKI DER).
    const opensslKey = join(dir, 'openssl-ops.pem');
    run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', opensslKey]);
    const rawPublic = run('openssl', ['pkey', '-in', opensslKey, '-pubout', '-outform', 'DER'])
      .subarray(-32)
      .toString('base64');
    const pem = python({ kind: 'config', seedHex: SEED, boxId: BOX, version: 1, config: {} }).publicKeyPem;

    const broker = await startMosquitto();
    cleanups.push(() => broker.dispose());
    const daemon = await startDaemon({
      storageDir: join(dir, 'state'),
      env: {
        BOXAGENT_BOX_ID: BOX,
        BOXAGENT_MQTT_URL: broker.url,
        BOXAGENT_MQTT_SIGNING_KEYS: JSON.stringify({
          'city-ops': { publicKey: pem, role: 'admin' },
          'openssl-ops': { publicKey: rawPublic, role: 'admin' },
        }),
        BOXAGENT_LOG_LEVEL: 'info',
      },
    });
    cleanups.push(() => daemon.stop('SIGKILL'));
    await waitFor(
      'fleet link connected',
      () => daemon.logs.some((l) => l.msg === 'fleet link connected'),
      15_000,
    );

    const fleet: MqttClient = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'fleet-py',
    });
    cleanups.push(() => fleet.endAsync());
    const reports: ReportedConfig[] = [];
    const replies = new Map<string, RpcReply>();
    fleet.on('message', (topic, payload) => {
      if (topic === `${TOPICS}/config/reported`)
        reports.push(JSON.parse(payload.toString()) as ReportedConfig);
      if (topic.startsWith('fleet/replies/'))
        replies.set(topic.slice('fleet/replies/'.length), JSON.parse(payload.toString()) as RpcReply);
    });
    await fleet.subscribeAsync([`${TOPICS}/config/reported`, 'fleet/replies/#'], { qos: 1 });

    // Desired config, version 7, Chinese printer name.
    const config = fleetConfig();
    const desire = async (signed: Signed): Promise<ReportedConfig> => {
      const before = reports.length;
      const doc = { version: 7, config, signature: { keyId: 'city-ops', value: signed.signature } };
      await fleet.publishAsync(`${TOPICS}/config/desired`, JSON.stringify(doc), { qos: 1, retain: true });
      await waitFor('a config report', () => reports.length > before, 20_000);
      return reports.at(-1)!;
    };
    const job = { kind: 'config', seedHex: SEED, boxId: BOX, version: 7, config };
    const naive = python({ ...job, ensureAscii: true });
    const jcs = python(job);
    // The report's bug: the default json.dumps writes 窗 as \u7a97, so the bytes are not the ones the box signs.
    expect(Buffer.from(naive.bytesHex, 'hex').toString('utf8')).toContain('"name":"\\u7a97\\u53e3');
    expect(naive.bytesHex).not.toBe(jcs.bytesHex);
    // ensure_ascii=False + UTF-8: byte for byte RFC 8785.
    expect(jcs.bytesHex).toBe(desiredConfigBytes(BOX, 7, config).toString('hex'));
    expect(await desire(naive)).toMatchObject({ version: 7, status: 'rejected', reason: 'bad-signature' });
    expect(await desire(jcs)).toMatchObject({ version: 7, status: 'applied', inForce: 7 });
    const printer = (await (await daemon.fetch('/v1/devices/printer-1')).json()) as { name: string };
    expect(printer.name).toBe('窗口一打印机');

    // Signed RPC: seal.resolve (risk `document`, so it must be signed) for a job that does not exist. A
    // signature the box accepts gets the job's answer (404); one it refuses gets 401 bad-signature.
    const params = { id: 'seal-job-1', outcome: 'failed', note: '印文模糊，已作废' };
    const call = async (id: string, keyId: string, nonce: string, timestamp: number, value: string) => {
      await fleet.publishAsync(`${TOPICS}/rpc/seal.resolve`, JSON.stringify(params), {
        qos: 1,
        properties: {
          responseTopic: `fleet/replies/${id}`,
          correlationData: Buffer.from(id),
          userProperties: { keyId, timestamp: String(timestamp), nonce, signature: value },
        },
      });
      await waitFor(`the reply to ${id}`, () => replies.has(id), 20_000);
      return replies.get(id)!;
    };
    const rpc = () => ({
      kind: 'rpc',
      seedHex: SEED,
      boxId: BOX,
      operation: 'seal.resolve',
      params,
      timestamp: Math.floor(Date.now() / 1000),
      nonce: randomBytes(16).toString('hex'),
    });
    const naiveRpc = rpc();
    const naiveSigned = python({ ...naiveRpc, ensureAscii: true });
    expect(
      await call('py-naive', 'city-ops', naiveRpc.nonce, naiveRpc.timestamp, naiveSigned.signature),
    ).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}bad-signature`, status: 401 },
    });
    const good = rpc();
    const goodSigned = python(good);
    expect(goodSigned.bytesHex).toBe(signedBytes('seal.resolve', params, BOX, good).toString('hex'));
    const accepted = await call('py', 'city-ops', good.nonce, good.timestamp, goodSigned.signature);
    expect(accepted).toMatchObject({ ok: false, error: { status: 404 } });

    // openssl signs the same kind of bytes (built by the Python signer) with its own key.
    const viaOpenssl = rpc();
    const bytesFile = join(dir, 'rpc.bin');
    writeFileSync(bytesFile, Buffer.from(python(viaOpenssl).bytesHex, 'hex'));
    const sig = run('openssl', ['pkeyutl', '-sign', '-inkey', opensslKey, '-rawin', '-in', bytesFile]);
    expect(sig).toHaveLength(64);
    const opensslReply = await call(
      'openssl',
      'openssl-ops',
      viaOpenssl.nonce,
      viaOpenssl.timestamp,
      sig.toString('base64'),
    );
    expect(opensslReply).toMatchObject({ ok: false, error: { status: 404 } });
    // The same signature under the other key is not accepted.
    const swapped = rpc();
    writeFileSync(bytesFile, Buffer.from(python(swapped).bytesHex, 'hex'));
    const sig2 = run('openssl', ['pkeyutl', '-sign', '-inkey', opensslKey, '-rawin', '-in', bytesFile]);
    expect(
      await call('swapped', 'city-ops', swapped.nonce, swapped.timestamp, sig2.toString('base64')),
    ).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}bad-signature`, status: 401 },
    });
  }, 120_000);
});
