// Device faults with the daemon running throughout (one process, never restarted): the printer's serial line
// vanishes mid-job (socat killed) and comes back; the printer runs out of paper mid-job; the seal machine's
// line vanishes mid-press and comes back. Each recovers on its own, and the simulators' own logs show no page
// printed twice and no second press. (The MQTT broker restarting during an outbox drain is covered by
// tests/integration/fleet-mosquitto.test.ts, "durable events across a broker restart"; ffmpeg dying belongs
// to the camera, which is not built yet.)
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCounterBox, type CounterBox, createSealJob } from '../helpers/counter-box.js';
import { removeDir, startDaemon, tempDir, type Daemon, postJson } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const dir = tempDir('boxagent-devfaults-');
let box: CounterBox;
let daemon: Daemon;
let photo: string;

beforeAll(async () => {
  box = await startCounterBox(dir, { storageDir: join(dir, 'state'), printerBytesPerSecond: 20_000 });
  daemon = await startDaemon({
    config: box.config,
    storageDir: join(dir, 'state'),
    env: { BOXAGENT_FACE_ENABLED: 'false' },
  });
  // A photo across the page: over 100 kB of bit image, more than the pty and the driver buffer.
  photo = (
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#777777' } })
      .png()
      .toBuffer()
  ).toString('base64');
});

afterAll(async () => {
  await daemon?.stop('SIGKILL');
  await box?.close();
  removeDir(dir);
});

async function submit(marker: string, withPhoto: boolean): Promise<string> {
  const items: unknown[] = [{ type: 'text', xMm: 10, yMm: 10, text: `${marker} 张三`, sizePt: 12 }];
  if (withPhoto) items.push({ type: 'image', xMm: 10, yMm: 30, widthMm: 190, heightMm: 120, data: photo });
  const r = await daemon.fetch(
    '/v1/print-jobs',
    postJson({ printer: 'printer-1', document: { page: { size: 'A4' }, items } }),
  );
  expect(r.status).toBe(202);
  return ((await r.json()) as { id: string }).id;
}

const jobState = async (path: string): Promise<string> =>
  ((await (await daemon.fetch(path)).json()) as { state: string }).state;

async function deviceReady(id: string): Promise<void> {
  await waitFor(`${id} ready`, async () => (await jobState(`/v1/devices/${id}`)) === 'ready', 20_000);
}

const pid = (): number | undefined => daemon.proc.pid;

describe('device faults, without a daemon restart', () => {
  it('puts a job in doubt when the printer line vanishes mid-job, and prints the next one when it returns', async () => {
    const startPid = pid();
    await deviceReady('printer-1');
    const id = await submit('VANISH-1', true);
    await waitFor('the first bytes at the printer', () => box.printer.printer.bytesReceived > 2000, 15_000);
    expect(await jobState(`/v1/print-jobs/${id}`)).toBe('sending');

    await box.unplugPrinter();
    await waitFor(
      'the job in doubt',
      async () => (await jobState(`/v1/print-jobs/${id}`)) === 'in_doubt',
      15_000,
    );
    await waitFor(
      'the printer lost',
      async () => (await jobState('/v1/devices/printer-1')) !== 'ready',
      15_000,
    );

    await box.replugPrinter();
    await deviceReady('printer-1');
    const next = await submit('VANISH-2', false);
    await waitFor(
      'the next job done',
      async () => (await jobState(`/v1/print-jobs/${next}`)) === 'done',
      20_000,
    );
    await waitFor('its page', () => box.pagesWith('VANISH-2') === 1);
    // The interrupted job was not sent again on its own: no page, still in doubt for an operator.
    expect(box.pagesWith('VANISH-1')).toBe(0);
    expect(await jobState(`/v1/print-jobs/${id}`)).toBe('in_doubt');
    expect(pid()).toBe(startPid);
    expect(daemon.proc.exitCode).toBeNull();
  });

  it('waits while the printer is out of paper and finishes the job once when paper is loaded', async () => {
    await deviceReady('printer-1');
    box.printer.setPaperOut(true);
    const id = await submit('PAPER-1', true);
    await waitFor('the printer to stall', async () => (await jobState(`/v1/print-jobs/${id}`)) === 'sending');
    // Let a wrong failure or resend show itself: the job waits with the printer.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await jobState(`/v1/print-jobs/${id}`)).toBe('sending');
    expect(box.pagesWith('PAPER-1')).toBe(0);

    box.printer.setPaperOut(false);
    await waitFor('the job done', async () => (await jobState(`/v1/print-jobs/${id}`)) === 'done', 30_000);
    await waitFor('its page', () => box.pagesWith('PAPER-1') === 1, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(box.pagesWith('PAPER-1')).toBe(1);
  });

  it('leaves a seal job in doubt when the machine line vanishes mid-press, and seals the next one when it returns', async () => {
    await deviceReady('seal-1');
    box.seal.setStampDelay(10_000);
    const job = await createSealJob(daemon, 'SC-FAULT-1');
    const confirming = daemon.fetch(
      `/v1/seal-jobs/${job.id}/confirm`,
      postJson({ token: job.confirmationToken }),
    );
    await waitFor('the press to start', () => box.presses() === 1);
    await box.unplugSeal();
    // The caller is told at once that the press may have happened: the job is in doubt, not retried.
    const answer = await confirming;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { state: string }).state).toBe('in_doubt');
    expect(await jobState(`/v1/seal-jobs/${job.id}`)).toBe('in_doubt');

    await waitFor(
      'the seal machine lost',
      async () => (await jobState('/v1/devices/seal-1')) !== 'ready',
      15_000,
    );
    await box.replugSeal();
    await deviceReady('seal-1');
    const next = await createSealJob(daemon, 'SC-FAULT-2');
    const done = await daemon.fetch(
      `/v1/seal-jobs/${next.id}/confirm`,
      postJson({ token: next.confirmationToken }),
    );
    expect(done.status).toBe(200);
    expect(box.presses()).toBe(2);
    expect(await jobState(`/v1/seal-jobs/${job.id}`)).toBe('in_doubt');
    expect(daemon.proc.exitCode).toBeNull();
  });
});
