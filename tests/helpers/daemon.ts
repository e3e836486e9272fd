// Spawns the built daemon (dist/) as a real process, the way systemd or `npm start` would, and collects its
// JSON log lines. e2e suites drive it over HTTP.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/agent/cli/main.js');
export const DEFAULT_CONFIG = join(ROOT, 'config/default.yaml');

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Daemon {
  proc: ChildProcess;
  url: string;
  storageDir: string;
  adminToken: string;
  logs: LogLine[];
  stderr: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  fetch(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
}

export interface DaemonOptions {
  config?: string;
  env?: Record<string, string>;
  storageDir?: string;
  /** Run as this user and group (through util-linux setpriv, as systemd's User= would), not as the test's. */
  user?: { uid: number; gid: number };
}

/** A fresh state directory under the system temp dir, removed by `removeDir`. */
export function tempDir(prefix = 'boxagent-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a config file into `dir` and returns its path. */
export function writeConfig(dir: string, yaml: string, name = 'config.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/** The environment the daemon and CLI run with in tests: state in `storageDir`, an ephemeral port. */
export function testEnv(storageDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    BOXAGENT_STORAGE_DIR: storageDir,
    BOXAGENT_HTTP_PORT: '0',
    BOXAGENT_LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** Runs a CLI command to completion. */
export function runCli(
  args: string[],
  env: Record<string, string>,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs a CLI command without blocking this process: for tests whose own event loop serves something the
 * command talks to (e.g. the bridge to the IPP test printer).
 */
export function runCliAsync(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const storageDir = opts.storageDir ?? tempDir();
  const env = testEnv(storageDir, opts.env);
  const command = [process.execPath, CLI, 'run', '--config', opts.config ?? DEFAULT_CONFIG];
  if (opts.user) {
    const { uid, gid } = opts.user;
    command.unshift('setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--');
  }
  const proc = spawn(command[0] as string, command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  let err = '';
  let partial = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
  });
  proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));

  let url = '';
  await waitFor(
    'the daemon to listen',
    () => {
      if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}: ${err}`);
      const ready = logs.find((l) => l.msg === 'boxagent ready');
      url = typeof ready?.url === 'string' ? ready.url : '';
      return url !== '';
    },
    15_000,
  );
  const adminToken = readFileSync(join(storageDir, 'admin.token'), 'utf8').trim();

  return {
    proc,
    url,
    storageDir,
    adminToken,
    logs,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    fetch(path, init = {}) {
      const { token = adminToken, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      return fetch(url + path, { ...rest, headers });
    },
  };
}

/** A POST with a JSON body, for `daemon.fetch(path, postJson(body))`. */
export function postJson(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
