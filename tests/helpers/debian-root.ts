// A throw-away Debian 12 root for the package test, made by `debootstrap --variant=minbase bookworm` from the
// Debian mirror this machine's apt uses. Commands run in it through `unshare` + `chroot`, each in a mount and
// PID namespace of its own: /proc and /dev are mounted inside that namespace and vanish with it, so nothing is
// ever mounted on (or left mounted on) the machine running the test, and no process outlives its namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The Debian mirror of this machine's apt sources (deb822 or one-line), for debootstrap. */
export function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const uri =
      /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text)?.[1] ??
      /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(text)?.[1];
    if (uri) return uri;
  }
  return 'http://deb.debian.org/debian';
}

/** Runs argv to its end without blocking the event loop (the test runner keeps talking to its workers). */
export function runAsync(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((done, fail) => {
    const p = spawn(argv[0] as string, argv.slice(1), { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', fail);
    p.on('close', (status) => done({ status, stdout, stderr }));
  });
}

async function debootstrap(target: string): Promise<void> {
  const r = await runAsync(['debootstrap', '--variant=minbase', 'bookworm', target, debianMirror()]);
  if (r.status !== 0)
    throw new Error(`debootstrap failed (${r.status}):\n${r.stdout.slice(-2000)}${r.stderr}`);
}

/**
 * A fresh root to install into. On CI it is debootstrapped for this run. Locally a pristine root is cached
 * per day under the temp dir (`boxagent-debootstrap-bookworm-YYYYMMDD`) and copied, so a rerun takes seconds.
 * `remove()` deletes the working copy, never the cache.
 */
export async function freshDebianRoot(): Promise<{ dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'boxagent-debian-root-'));
  // mkdtemp makes it 0700: as the root's "/", the service user could not even reach /usr/bin.
  chmodSync(dir, 0o755);
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (process.env.CI) {
    await debootstrap(dir);
    return { dir, remove };
  }
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const cache = join(tmpdir(), `boxagent-debootstrap-bookworm-${day}`);
  if (!existsSync(cache)) {
    const partial = `${cache}.partial-${process.pid}`;
    await debootstrap(partial);
    renameSync(partial, cache);
  }
  const copy = await runAsync(['cp', '-a', `${cache}/.`, dir]);
  if (copy.status !== 0) throw new Error(`copying the cached root failed: ${copy.stderr}`);
  return { dir, remove };
}

/** Shell run as root in the new mount namespace before `chroot`: /proc and a minimal /dev for the root. */
function mountScript(root: string): string {
  const r = JSON.stringify(root);
  return [
    'set -e',
    `mount -t proc proc ${r}/proc`,
    `mount -t tmpfs -o mode=0755,nosuid,size=16m devtmp ${r}/dev`,
    `for n in null zero full random urandom tty; do : > ${r}/dev/$n; mount --bind /dev/$n ${r}/dev/$n; done`,
    `mkdir ${r}/dev/pts ${r}/dev/shm && ln -s /proc/self/fd ${r}/dev/fd`,
    // A private devpts instance (apt and dpkg log through a pty); the machine's own ptys stay out of reach.
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts ${r}/dev/pts`,
    `ln -s pts/ptmx ${r}/dev/ptmx`,
  ].join('\n');
}

export interface ChrootOptions {
  /** A private network namespace with only loopback (the daemon's port cannot clash with the machine's). */
  privateNet?: boolean;
  env?: Record<string, string>;
}

function unshareArgs(root: string, command: string[], opts: ChrootOptions): string[] {
  const setup = `${mountScript(root)}${opts.privateNet ? '\nip link set lo up' : ''}\nexec chroot "$0" "$@"`;
  return [
    '--mount',
    '--pid',
    '--fork',
    '--propagation',
    'private',
    ...(opts.privateNet ? ['--net'] : []),
    '--',
    '/bin/sh',
    '-c',
    setup,
    root,
    ...command,
  ];
}

const CHROOT_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  DEBIAN_FRONTEND: 'noninteractive',
  HOME: '/root',
};

/** Runs `command` (argv) as root inside the root, to its end. */
export function inRoot(root: string, command: string[], opts: ChrootOptions = {}): Promise<RunResult> {
  return runAsync(['unshare', ...unshareArgs(root, command, opts)], { env: { ...CHROOT_ENV, ...opts.env } });
}

/** A long-running process in the root (its own namespaces); `pid` is its host PID as init of its namespace. */
export interface RootProcess {
  proc: ChildProcess;
  output: () => string;
  /** The host PID of the command (PID 1 of its namespace); undefined until unshare has forked it. */
  nsPid: () => number | undefined;
  exited: Promise<number | null>;
}

export function spawnInRoot(root: string, command: string[], opts: ChrootOptions = {}): RootProcess {
  const proc = spawn('unshare', unshareArgs(root, command, opts), {
    env: { ...CHROOT_ENV, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((done) => proc.on('exit', (code) => done(code)));
  return {
    proc,
    output: () => out,
    nsPid: () => {
      // unshare --fork: the command is unshare's only child, init of the new PID namespace.
      const pid = proc.pid as number;
      if (proc.exitCode !== null || !existsSync(`/proc/${pid}/task/${pid}/children`)) return undefined;
      const child = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      return child || undefined;
    },
    exited,
  };
}
