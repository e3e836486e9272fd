// The fleet link over mqtts:// to mosquitto requiring a client certificate and a password: the box connects
// with the CA, client certificate and key files and a password file from its config, and a wrong password is
// refused (the box keeps serving locally and logs why). Certificates are made with openssl per run.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, startDaemon, tempDir, type Daemon } from '../helpers/daemon.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all P-256, valid for a day. */
function makeCertificates(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=test fleet CA',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, cn, ext] of [
    ['server', '/CN=localhost', ['-extfile', 'server.ext']],
    ['client', '/CN=box-tls', []],
  ] as const) {
    openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', cn);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      ...ext,
    );
  }
  execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwords'), 'box-tls', 'right-password'], {
    stdio: 'pipe',
  });
}

async function tlsBroker(): Promise<{ broker: Mosquitto; dir: string }> {
  let certDir = '';
  const broker = await startMosquitto({
    anonymous: false,
    prepare: (dir) => {
      certDir = dir;
      makeCertificates(dir);
    },
    listener: [
      'cafile CERTS/ca.crt',
      'certfile CERTS/server.crt',
      'keyfile CERTS/server.key',
      'require_certificate true',
      'password_file CERTS/passwords',
    ],
  });
  cleanups.push(() => broker.dispose());
  return { broker, dir: certDir };
}

async function boxOn(broker: Mosquitto, certs: string, password: string): Promise<Daemon> {
  const storageDir = tempDir();
  const passwordFile = join(storageDir, 'mqtt.password');
  writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
  const daemon = await startDaemon({
    storageDir,
    env: {
      BOXAGENT_MQTT_URL: broker.url,
      BOXAGENT_MQTT_CA: join(certs, 'ca.crt'),
      BOXAGENT_MQTT_CERT: join(certs, 'client.crt'),
      BOXAGENT_MQTT_KEY: join(certs, 'client.key'),
      BOXAGENT_MQTT_USERNAME: 'box-tls',
      BOXAGENT_MQTT_PASSWORD_FILE: passwordFile,
      BOXAGENT_MQTT_RECONNECT_MIN_MS: '100',
      BOXAGENT_MQTT_RECONNECT_MAX_MS: '300',
      BOXAGENT_LOG_LEVEL: 'info',
    },
  });
  cleanups.push(async () => {
    await daemon.stop('SIGKILL');
    removeDir(storageDir);
  });
  return daemon;
}

describe('mqtts:// with a client certificate and a password file', () => {
  it('connects with the configured CA, certificate, key, username and password', async () => {
    const { broker, dir } = await tlsBroker();
    expect(broker.url).toMatch(/^mqtts:/);
    const daemon = await boxOn(broker, dir, 'right-password');
    await waitFor(
      'fleet link connected',
      () => daemon.logs.some((l) => l.msg === 'fleet link connected'),
      15_000,
    );
  });

  it('is refused with a wrong password, and keeps serving locally', async () => {
    const { broker, dir } = await tlsBroker();
    const daemon = await boxOn(broker, dir, 'wrong-password');
    await waitFor(
      'the refusal in the log',
      () => daemon.logs.some((l) => l.msg === 'fleet broker error'),
      15_000,
    );
    expect(daemon.logs.some((l) => l.msg === 'fleet link connected')).toBe(false);
    expect((await daemon.fetch('/v1/health')).status).toBe(200);
  });
});
