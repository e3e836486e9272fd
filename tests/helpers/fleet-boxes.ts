// Boxes for fleet config tests: the daemon spawned as a process on a broker, with its own config file (three
// simulated devices, one named by the installer), a fleet admin key it trusts, and a state dir that survives
// a restart. The key pair is written as `boxagent fleet keys create` writes it (PKCS#8 PEM, mode 0600).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './daemon.js';
import { waitFor } from './wait-for.js';

export interface FleetKey {
  keyId: string;
  privateKey: KeyObject;
  /** The raw 32-byte public key in base64, as `mqtt.signing.keys.<id>.publicKey` takes it. */
  publicKey: string;
  /** The private key as a PEM file (for the CLI's --sign). */
  file: string;
}

export function fleetKey(dir: string, keyId = 'city-ops'): FleetKey {
  const pair = generateKeyPairSync('ed25519');
  const file = join(dir, `${keyId}.key`);
  writeFileSync(file, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const publicKey = pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
  return { keyId, privateKey: pair.privateKey, publicKey, file };
}

/**
 * The installer's config of a box: printer-1 (named locally), printer-2 and seal-1, all simulated unless
 * `printer2Transport` (YAML flow mapping) gives printer-2 another transport.
 */
export function boxConfigYaml(
  boxId: string,
  key: FleetKey,
  brokerUrl: string,
  printer2Transport = '{ type: simulated }',
): string {
  return `box: { id: ${boxId}, site: Test hall }
http: { port: 0 }
mqtt:
  url: ${brokerUrl}
  reconnectMinMs: 100
  reconnectMaxMs: 500
  configHealthTimeoutSeconds: 2
  signing:
    keys:
      ${key.keyId}: { publicKey: "${key.publicKey}", role: admin }
supervision: { probeIntervalMs: 100, failuresBeforeError: 1, backoffInitialMs: 50, backoffMaxMs: 200 }
face: { enabled: false }
devices:
  - { id: printer-1, kind: printer, name: Local printer, transport: { type: simulated } }
  - { id: printer-2, kind: printer, transport: ${printer2Transport} }
  - { id: seal-1, kind: seal, transport: { type: simulated } }
`;
}

export interface Box {
  id: string;
  dir: string;
  configFile: string;
  daemon: Daemon;
}

/** Starts (or restarts, with the same dir) a box and waits for its fleet link. */
export async function startBox(
  id: string,
  dir: string,
  key: FleetKey,
  brokerUrl: string,
  printer2Transport?: string,
): Promise<Box> {
  mkdirSync(join(dir, 'state'), { recursive: true });
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, boxConfigYaml(id, key, brokerUrl, printer2Transport));
  const daemon = await startDaemon({
    config: configFile,
    storageDir: join(dir, 'state'),
    env: { BOXAGENT_LOG_LEVEL: 'info' },
  });
  await waitFor(
    `${id}'s fleet link`,
    () => daemon.logs.some((l) => l.msg === 'fleet link connected'),
    15_000,
  );
  return { id, dir, configFile, daemon };
}
