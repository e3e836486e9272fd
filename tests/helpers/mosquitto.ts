// Debian's mosquitto broker on a free loopback port, with its own config file and persistence directory in a
// temp dir, plus its command-line clients (mosquitto_sub, mosquitto_rr) as independent fleet-side peers.
// They are required: a missing binary fails the spawn and so the test (no skip).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

export interface Mosquitto {
  port: number;
  url: string;
  log: () => string;
  /** The running broker process, if any (the bench tracks it so an interrupted run leaves none behind). */
  process: () => ChildProcess | undefined;
  /** Stops the broker (SIGTERM: it saves its persistent sessions) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same persistence. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/** Messages the broker sends a subscriber without waiting for PUBACK (mosquitto's default, set explicitly). */
export const BROKER_MAX_INFLIGHT = 20;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const addr = server.address();
  await new Promise<void>((res) => server.close(() => res()));
  if (!addr || typeof addr !== 'object') throw new Error('no port');
  return addr.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });
}

export interface MosquittoOptions {
  /** Extra lines for the listener (TLS files, require_certificate, password_file…); `CERTS/` is the broker's dir. */
  listener?: string[];
  /** Anonymous clients allowed (default true). */
  anonymous?: boolean;
  /** Called with the broker's directory before the config is written (to put certificates there). */
  prepare?: (dir: string) => void;
  /**
   * Broker config files as shipped (deploy/mosquitto/…) appended to the test's own lines. Its listener, TLS
   * files, persistence location, user and logging are the test's (a loopback port, the temp dir): those
   * lines are left out; the rest (users, ACL, queues, bridges) is loaded as written, with `substitute`
   * replacing its paths and addresses (`DIR/` in a replacement is the broker's directory).
   */
  templates?: ConfigTemplate[];
}

export interface ConfigTemplate {
  file: string;
  substitute?: Record<string, string>;
  /** More lines to leave out (e.g. a bridge's TLS file, where the test brokers talk plain TCP). */
  omit?: RegExp;
}

/** Lines of a shipped config that the test helper sets itself. */
const HELPER_OWNED =
  /^\s*(listener|certfile|keyfile|cafile|require_certificate|persistence_location|user|log_dest|log_type|pid_file)\b/;

/** The shipped config `file` as the test broker loads it (see MosquittoOptions.templates). */
export function templateLines(template: ConfigTemplate, dir: string): string[] {
  let text = readFileSync(template.file, 'utf8');
  for (const [from, to] of Object.entries(template.substitute ?? {}))
    text = text.replaceAll(from, to.replaceAll('DIR/', `${dir}/`));
  return text.split('\n').filter((line) => !HELPER_OWNED.test(line) && !(template.omit?.test(line) ?? false));
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'boxagent-mosquitto-'));
  opts.prepare?.(dir);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      ...(opts.listener ?? []).map((l) => l.replaceAll('CERTS/', `${dir}/`)),
      ...(opts.templates && opts.anonymous === undefined
        ? []
        : [`allow_anonymous ${opts.anonymous ?? true}`]),
      // Sessions and queued messages survive a restart, as on a real fleet broker.
      'persistence true',
      `persistence_location ${dir}/`,
      // A fleet subscriber that is away (or slower than the box) must not lose messages to the default cap
      // of 1000 queued per client.
      'max_queued_messages 0',
      // Stated, not left to the default: a QoS 1 subscriber may see this many messages again after a broker
      // restart (those the broker had sent it without PUBACK), which bounds the duplicates tests accept.
      `max_inflight_messages ${BROKER_MAX_INFLIGHT}`,
      // As a fleet broker should be tuned for request/reply: no Nagle delay on small packets.
      'set_tcp_nodelay true',
      // Run as the test's user: started as root, mosquitto would switch to "mosquitto" and fail to write dir.
      `user ${userInfo().username}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      ...(opts.templates ?? []).flatMap((t) => ['', `# ${t.file}`, ...templateLines(t, dir)]),
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = child;
    let failure: Error | undefined;
    child.on('error', (e) => (failure = e));
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    await waitFor('mosquitto to listen', async () => {
      if (failure) throw failure;
      if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}: ${log}`);
      return accepts(port);
    });
  };
  const stop = async (): Promise<void> => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((res) => child.once('exit', res));
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `${opts.listener?.some((l) => l.startsWith('certfile')) ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    log: () => log,
    process: () => proc,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Subscriber {
  child: ChildProcess;
  /** Output lines, one per message, in the format given. */
  lines: string[];
  stop(): Promise<void>;
}

/** `mosquitto_sub` printing one line per message (`-F format`), reconnecting by itself when the broker returns. */
export function mosquittoSub(
  port: number,
  topics: string[],
  format: string,
  extra: string[] = [],
): Subscriber {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-V', '5', '-q', '1', '-F', format, ...extra];
  for (const t of topics) args.push('-t', t);
  const child = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (c: Buffer) => {
    const parts = (partial + c.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.on('error', (e) => lines.push(`SPAWN ERROR ${e.message}`));
  return {
    child,
    lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One retained message on `topic`, read with `mosquitto_sub -C 1 --retained-only`, as "retain|payload". */
export function readRetained(port: number, topic: string): string {
  const r = spawnSync(
    'mosquitto_sub',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      topic,
      '-C',
      '1',
      '-W',
      '5',
      '--retained-only',
      '-F',
      '%r|%p',
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (r.error) throw r.error;
  return r.stdout.trim();
}

/** `mosquitto_rr`: an MQTT 5 request with responseTopic (+ the given -D properties); returns the reply line. */
export function mosquittoRr(port: number, topic: string, payload: string, extra: string[] = []): string {
  const r = spawnSync(
    'mosquitto_rr',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-V',
      '5',
      '-q',
      '1',
      '-t',
      topic,
      '-e',
      `fleet/replies/${process.pid}`,
      '-m',
      payload,
      '-W',
      '10',
      ...extra,
    ],
    { encoding: 'utf8', timeout: 15_000 },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`mosquitto_rr exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/** `mosquitto_pub`: one QoS 1 message (`extra`: more options, e.g. `-V 5 -D PUBLISH …` properties). */
export function mosquittoPub(port: number, topic: string, payload: string, extra: string[] = []): void {
  const r = spawnSync(
    'mosquitto_pub',
    ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-m', payload, ...extra],
    {
      encoding: 'utf8',
      timeout: 10_000,
    },
  );
  if (r.error) throw r.error;
}
