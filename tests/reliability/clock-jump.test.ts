// Clock jumps: the box's RTC is often wrong at boot and NTP corrects it later. The daemon runs under
// libfaketime (Debian's faketime package) with its wall clock read from a file this test rewrites, so the
// clock jumps under a running daemon; the monotonic clock stays real, as in a true RTC correction. What
// "sane" means is in docs/decisions.md (Clock jumps): token expiry follows the wall clock both ways but a
// revoked token stays revoked; print jobs go out in the order they were queued whatever their timestamps;
// a seal job's confirmation window can be shortened by a jump, never lengthened.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCounterBox,
  type CounterBox,
  createSealJob,
  type PendingSealJob,
} from '../helpers/counter-box.js';
import {
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
  postJson,
} from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const LIBFAKETIME = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
].find((p) => existsSync(p));

const dir = tempDir('boxagent-clock-');
const storageDir = join(dir, 'state');
const clockFile = join(dir, 'clock');
let box: CounterBox;
let daemon: Daemon;
let env: Record<string, string>;

/** Sets the daemon's wall clock to real time plus `offset` (libfaketime syntax: "+0", "-400d", "+2d"). */
function setClock(offset: string): void {
  writeFileSync(clockFile, `${offset}\n`);
}

beforeAll(async () => {
  if (!LIBFAKETIME) throw new Error('libfaketime is missing: apt-get install faketime');
  setClock('+0');
  env = {
    BOXAGENT_FACE_ENABLED: 'false',
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: clockFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
  box = await startCounterBox(dir, { storageDir, sealConfirmWindowMs: 5000, printerBytesPerSecond: 50_000 });
  daemon = await startDaemon({ config: box.config, storageDir, env });
});

afterAll(async () => {
  await daemon?.stop('SIGKILL');
  await box?.close();
  removeDir(dir);
});

function cli(args: string[]): string {
  const r = runCli([...args, '--config', box.config], testEnv(storageDir, env));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

const status = async (token: string): Promise<number> => (await daemon.fetch('/v1/health', { token })).status;

describe('clock jumps under a running daemon', () => {
  it('checks token expiry against the wall clock, and never brings a revoked token back', async () => {
    // The daemon really runs on the faked clock.
    setClock('-400d');
    const info = (await (await daemon.fetch('/v1/health')).json()) as Record<string, unknown>;
    expect(info.status).toBe('ready');
    setClock('+0');

    const short = (
      JSON.parse(
        cli(['token', 'create', '--name', 'short', '--scopes', 'read', '--expires-in-days', '1', '--json']),
      ) as { token: string }
    ).token;
    const revoked = (
      JSON.parse(cli(['token', 'create', '--name', 'gone', '--scopes', 'read', '--json'])) as {
        token: string;
      }
    ).token;
    expect(await status(short)).toBe(200);
    expect(await status(revoked)).toBe(200);
    cli(['token', 'revoke', 'gone']);
    await waitFor('the revocation to reach the daemon', async () => (await status(revoked)) === 401);

    setClock('+2d');
    expect(await status(short)).toBe(401);
    expect(await status(daemon.adminToken)).toBe(200);
    // The RTC falls back a year: expiry is wall-clock time, so the short token is inside its day again; the
    // revoked one stays revoked (revocation is a flag, not a time).
    setClock('-400d');
    expect(await status(short)).toBe(200);
    expect(await status(revoked)).toBe(401);
    setClock('+0');
    expect(await status(revoked)).toBe(401);
  });

  it('prints queued jobs in the order they were queued, across a jump back and forward', async () => {
    setClock('+0');
    await waitFor(
      'printer ready',
      async () =>
        ((await (await daemon.fetch('/v1/devices/printer-1')).json()) as { state: string }).state === 'ready',
      20_000,
    );
    // Paper out: the first job (a large bit image) stalls mid-send and the others wait in the queue.
    box.printer.setPaperOut(true);
    const photo = (
      await sharp({ create: { width: 300, height: 200, channels: 3, background: '#777777' } })
        .png()
        .toBuffer()
    ).toString('base64');
    const submit = async (marker: string, big = false): Promise<string> => {
      const items: unknown[] = [{ type: 'text', xMm: 10, yMm: 10, text: marker, sizePt: 12 }];
      if (big) items.push({ type: 'image', xMm: 10, yMm: 30, widthMm: 190, heightMm: 120, data: photo });
      const r = await daemon.fetch(
        '/v1/print-jobs',
        postJson({ printer: 'printer-1', document: { page: { size: 'A4' }, items } }),
      );
      expect(r.status).toBe(202);
      return ((await r.json()) as { id: string }).id;
    };
    const first = await submit('ORDER-A', true);
    await waitFor(
      'the first job stalled',
      async () =>
        ((await (await daemon.fetch(`/v1/print-jobs/${first}`)).json()) as { state: string }).state ===
        'sending',
    );
    await submit('ORDER-B');
    setClock('-400d');
    await submit('ORDER-C');
    setClock('+3d');
    await submit('ORDER-D');
    setClock('-1d');
    await submit('ORDER-E');
    setClock('+0');

    const listed = (await (await daemon.fetch('/v1/print-jobs?limit=5')).json()) as {
      jobs: { id: string }[];
    };
    expect(listed.jobs).toHaveLength(5);
    expect(listed.jobs.at(-1)?.id).toBe(first);

    box.printer.setPaperOut(false);
    await waitFor(
      'five pages',
      () => box.pageTexts().filter((t) => t.includes('ORDER-')).length === 5,
      30_000,
    );
    const order = box
      .pageTexts()
      .map((t) => /ORDER-([A-E])/.exec(t)?.[1])
      .filter(Boolean);
    expect(order).toEqual(['A', 'B', 'C', 'D', 'E']);
  });

  it('expires a seal confirmation by the monotonic clock when the wall clock falls back, and presses nothing', async () => {
    setClock('+0');
    await waitFor(
      'seal ready',
      async () =>
        ((await (await daemon.fetch('/v1/devices/seal-1')).json()) as { state: string }).state === 'ready',
      20_000,
    );
    const confirm = (job: PendingSealJob): Promise<Response> =>
      daemon.fetch(`/v1/seal-jobs/${job.id}/confirm`, postJson({ token: job.confirmationToken }));

    // Window 5 s. The clock falls back a day: by the wall clock the job has a day to go; by the monotonic
    // clock its 5 s are over.
    const stale = await createSealJob(daemon, 'SC-CLOCK-1');
    setClock('-1d');
    await new Promise((r) => setTimeout(r, 5500));
    const late = await confirm(stale);
    expect(late.status).toBe(410);
    expect(((await late.json()) as { type: string }).type).toBe('urn:boxagent:problem:seal-job-expired');

    // The clock jumps forward past the window: expired too (a jump may shorten a window; the clerk re-creates).
    setClock('+0');
    const jumped = await createSealJob(daemon, 'SC-CLOCK-2');
    setClock('+1h');
    expect((await confirm(jumped)).status).toBe(410);

    // Made and confirmed on the corrected clock: pressed once.
    const fresh = await createSealJob(daemon, 'SC-CLOCK-3');
    const done = await confirm(fresh);
    expect(done.status).toBe(200);
    expect(((await done.json()) as { state: string }).state).toBe('done');
    expect(box.presses()).toBe(1);
    setClock('+0');
  });
});
