// `boxagent fleet …` run as the operator would: the built CLI as a process, against a broker with the shipped
// per-box users and ACL (deploy/mosquitto/), and the boxes as daemons logged in as themselves.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, runCliAsync, startDaemon, type Daemon } from './daemon.js';
import type { MosquittoOptions } from './mosquitto.js';
import { waitFor } from './wait-for.js';

export const DEPLOY = join(ROOT, 'deploy/mosquitto');

/** Writes a mosquitto password file (`mosquitto_passwd -b`) with one line per user, password = `pw-<user>`. */
export function writePasswords(file: string, users: string[]): void {
  writeFileSync(file, '');
  for (const user of users) {
    const r = spawnSync('mosquitto_passwd', ['-b', file, user, passwordOf(user)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd: ${r.stderr || r.error?.message}`);
  }
}

export const passwordOf = (user: string): string => `pw-${user}`;

/** Writes `<dir>/<user>.password` and returns its path (for --password-file and mqtt.passwordFile). */
export function passwordFile(dir: string, user: string): string {
  const file = join(dir, `${user}.password`);
  writeFileSync(file, passwordOf(user) + '\n', { mode: 0o600 });
  return file;
}

/** The shipped broker config and ACL, with the users of `users` in the broker's own password file. */
export function shippedBroker(users: string[]): MosquittoOptions {
  return {
    prepare: (dir) => writePasswords(join(dir, 'passwd'), users),
    templates: [
      {
        file: join(DEPLOY, 'conf.d/boxagent.conf'),
        substitute: {
          '/etc/mosquitto/boxagent.passwd': 'DIR/passwd',
          '/etc/mosquitto/boxagent.acl': join(DEPLOY, 'boxagent.acl'),
        },
      },
    ],
  };
}

/** A box daemon logged in to the broker as its own user (its box id). */
export function startBox(
  boxId: string,
  brokerUrl: string,
  dir: string,
  env: Record<string, string> = {},
  storageDir?: string,
): Promise<Daemon> {
  return startDaemon({
    storageDir,
    env: {
      BOXAGENT_BOX_ID: boxId,
      BOXAGENT_BOX_SITE: `Site of ${boxId}`,
      BOXAGENT_MQTT_URL: brokerUrl,
      BOXAGENT_MQTT_USERNAME: boxId,
      BOXAGENT_MQTT_PASSWORD_FILE: passwordFile(dir, boxId),
      BOXAGENT_MQTT_RECONNECT_MIN_MS: '100',
      BOXAGENT_MQTT_RECONNECT_MAX_MS: '500',
      BOXAGENT_LOG_LEVEL: 'info',
      ...env,
    },
  });
}

export const fleetConnected = (d: Daemon): boolean => d.logs.some((l) => l.msg === 'fleet link connected');

/** The operator's login, as `fleet` options. */
export function operatorArgs(brokerUrl: string, dir: string): string[] {
  return ['--broker', brokerUrl, '--username', 'operator', '--password-file', passwordFile(dir, 'operator')];
}

export function fleetEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
}

export function runFleet(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runCliAsync(['fleet', ...args], fleetEnv());
}

export interface Follower {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  /** Resolves once it has subscribed (it says so on stderr). */
  following: Promise<void>;
  /** SIGTERM, as an operator's Ctrl-C: the session stays at the broker. */
  stop(): Promise<void>;
}

/** `boxagent fleet events … --follow --json` running in the background, one parsed line per event. */
export function followEvents(args: string[]): Follower {
  const child = spawn(process.execPath, [CLI, 'fleet', 'events', ...args, '--follow', '--json'], {
    env: fleetEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    const parts = (partial + c.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.trim() !== ''));
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const following = waitFor('the follower to subscribe', () => {
    if (child.exitCode !== null) throw new Error(`fleet events exited ${child.exitCode}: ${err}`);
    return err.includes('following events');
  });
  return {
    child,
    lines,
    stderr: () => err,
    following,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
