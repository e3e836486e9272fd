// mqtt.js client options from the `mqtt` config section: protocol version, client id, TLS files (mqtts://),
// username and a password read from a file (kept out of the config and the environment).
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { Config } from '../../config/schema.js';

export class FleetConfigError extends Error {
  override name = 'FleetConfigError';
}

function readSecretFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new FleetConfigError(`mqtt.${key}: cannot read ${path}: ${(err as Error).message}`);
  }
}

export function connectOptions(config: Config): IClientOptions {
  const m = config.mqtt;
  const opts: IClientOptions = {
    protocolVersion: m.protocolVersion,
    clientId: m.clientId ?? `boxagent-${config.box.id}`,
    // A persistent session: QoS 1 requests published while the box is away wait at the broker (until their
    // own message expiry) and run when it is back. Subscriptions are still re-made on every connect.
    clean: m.sessionExpirySeconds === 0,
    keepalive: m.keepaliveSeconds,
    connectTimeout: 10_000,
    reconnectPeriod: m.reconnectMinMs,
    // Nothing is queued while offline: events wait in the outbox, telemetry is dropped, RPC is answered only
    // on the connection it came in on.
    queueQoSZero: false,
    resubscribe: false,
    manualConnect: true,
  };
  if (m.protocolVersion === 5 && m.sessionExpirySeconds > 0) {
    opts.properties = { sessionExpiryInterval: m.sessionExpirySeconds };
  }
  if (m.username !== undefined) opts.username = m.username;
  if (m.passwordFile !== undefined) {
    opts.password = readSecretFile('passwordFile', m.passwordFile)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  if (m.ca !== undefined) opts.ca = readSecretFile('ca', m.ca);
  if (m.cert !== undefined) opts.cert = readSecretFile('cert', m.cert);
  if (m.key !== undefined) opts.key = readSecretFile('key', m.key);
  if (m.ca !== undefined || m.cert !== undefined) opts.rejectUnauthorized = true;
  return opts;
}
