// Disk full on the state dir: a small tmpfs is the daemon's storage.dir, and a filler file takes the last free
// page. New print jobs are refused with 507 insufficient-storage (problem+json), nothing is half-stored (no
// job row, no orphan spool file), the daemon keeps answering, and once the filler is deleted new jobs print.
// SQLite's full integrity check and the audit chain pass afterwards. Needs root (mount), as in CI.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../agent/store/store.js';
import {
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const ENV = { BOXAGENT_FACE_ENABLED: 'false' };
const dir = tempDir('boxagent-diskfull-');
const stateDir = join(dir, 'state');
const simDir = join(dir, 'sim');
const filler = join(stateDir, 'filler');
let mounted = false;
let daemon: Daemon | undefined;
let config: string;

beforeAll(() => {
  mkdirSync(stateDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', stateDir]);
  mounted = true;
  config = writeConfig(
    dir,
    `box: { id: diskfull-box }
storage: { dir: "${stateDir}" }
devices:
  - id: printer-1
    kind: printer
    transport: { type: simulated, outputDir: "${simDir}" }
`,
  );
});

afterAll(async () => {
  await daemon?.stop('SIGKILL');
  if (mounted) execFileSync('umount', [stateDir]);
  removeDir(dir);
});

/** Writes to `file` until the filesystem refuses another byte. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

const submit = (text: string): Promise<Response> =>
  (daemon as Daemon).fetch('/v1/print-jobs', {
    method: 'POST',
    // Problem texts in English, asserted below (the box's default is Chinese).
    headers: { 'content-type': 'application/json', 'accept-language': 'en' },
    body: JSON.stringify({
      printer: 'printer-1',
      document: {
        page: { widthMm: 210, heightMm: 100 },
        items: [{ type: 'text', xMm: 10, yMm: 10, text, sizePt: 12 }],
      },
    }),
  });

async function printed(id: string): Promise<void> {
  await waitFor(
    `job ${id} done`,
    async () =>
      ((await (await (daemon as Daemon).fetch(`/v1/print-jobs/${id}`)).json()) as { state: string }).state ===
      'done',
    15_000,
  );
}

/** Print spool files (the spool dir also holds other queues' folders). */
const spoolFiles = (): string[] => readdirSync(join(stateDir, 'spool')).filter((f) => f.endsWith('.prn'));

describe('a full state disk', () => {
  it('refuses new jobs with 507, corrupts nothing, and takes jobs again when space returns', async () => {
    daemon = await startDaemon({ config, storageDir: stateDir, env: ENV });
    const first = await submit('before the disk filled');
    expect(first.status).toBe(202);
    await printed(((await first.json()) as { id: string }).id);

    fillDisk(filler);
    for (let i = 0; i < 5; i++) {
      const r = await submit(`while the disk is full ${i}`);
      expect(r.status).toBe(507);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await r.json()) as { type: string; detail: string };
      expect(problem.type).toBe('urn:boxagent:problem:insufficient-storage');
      expect(problem.detail).toMatch(/full/);
    }
    // A device that fails meanwhile (its state-change event cannot be stored) does not bring the daemon down.
    const fault = await daemon.fetch('/v1/devices/printer-1/simulator', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: 'unplugged' }),
    });
    expect([200, 507]).toContain(fault.status);
    const printerState = async (): Promise<string> =>
      ((await (await (daemon as Daemon).fetch('/v1/devices/printer-1')).json()) as { state: string }).state;
    await waitFor('the printer to be lost', async () => (await printerState()) !== 'ready');
    expect(daemon.proc.exitCode).toBeNull();
    await daemon.fetch('/v1/devices/printer-1/simulator', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: 'none' }),
    });
    await waitFor('the printer back', async () => (await printerState()) === 'ready', 15_000);
    // Nothing half-stored, and the box still answers.
    expect(spoolFiles()).toEqual([]);
    const list = (await (await daemon.fetch('/v1/print-jobs')).json()) as { jobs: unknown[] };
    expect(list.jobs).toHaveLength(1);
    expect((await daemon.fetch('/v1/health')).status).toBe(200);

    rmSync(filler);
    const after = await submit('after space returned');
    expect(after.status).toBe(202);
    await printed(((await after.json()) as { id: string }).id);
    expect(daemon.proc.exitCode).toBeNull();
    expect(await daemon.stop('SIGTERM')).toBe(0);

    const store = Store.open(stateDir);
    try {
      expect(store.integrityCheck({ full: true })).toBe('ok');
      expect(store.jobs.countByKindAndState().map((c) => c.count)).toEqual([2]);
    } finally {
      store.close();
    }
    const verify = runCli(['audit', 'verify', '--config', config], testEnv(stateDir, ENV));
    expect(verify.status).toBe(0);
  });
});
