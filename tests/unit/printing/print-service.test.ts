// The print queue with a real store and the real ESC/P driver on a socat pty (the simulator on the far end):
// FIFO order, a link lost mid-job (in doubt) or before any byte (queued again), reprint after resolve.
import { pino } from 'pino';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../../config/schema.js';
import { DeviceManager } from '../../../agent/devices/device-manager.js';
import { createDriver } from '../../../agent/kinds/index.js';
import { EventLog } from '../../../agent/events/event-log.js';
import { PrintService, type PrintJobView } from '../../../agent/printing/print-service.js';
import { Store } from '../../../agent/store/store.js';
import { DEFAULT_SETUP, encodeDocument } from '../../../drivers/printer/forms.js';
import { PrinterSimulatorEndpoint } from '../../../drivers/printer/simulator-endpoint.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { openPtyPair, type PtyPair } from '../../helpers/pty-pair.js';
import { waitFor } from '../../helpers/wait-for.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const POLICY = { probeIntervalMs: 50, failuresBeforeError: 1, backoffInitialMs: 50, backoffMaxMs: 100 };

async function rig() {
  const dir = tempDir();
  const pty: PtyPair = await openPtyPair(dir);
  const sim = await PrinterSimulatorEndpoint.serial(pty.peer, { setup: DEFAULT_SETUP });
  const store = Store.open(dir);
  const events = new EventLog(store, 10_000);
  const seen: { type: string; payload: Record<string, unknown> }[] = [];
  events.subscribe((e) => seen.push({ type: e.type, payload: e.payload as Record<string, unknown> }));
  const config: DeviceConfig = {
    id: 'lq',
    kind: 'printer',
    transport: {
      type: 'serial',
      path: pty.device,
      baudRate: 115200,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      rtscts: false,
    },
    printer: {
      calibration: { xMm: 0, yMm: 0 },
      romCharset: 'gbk',
      escp2: false,
      fallbackFonts: [],
      stallMs: 200,
    },
  };
  const devices = new DeviceManager([config], POLICY, createDriver, log, () => undefined);
  const printing = new PrintService({ store, events, devices, log, storageDir: dir, pollMs: 50 });
  cleanups.push(
    () => removeDir(dir),
    () => store.close(),
    () => pty.close(),
    () => sim.close(),
    () => devices.stop(),
    () => printing.stop(100),
  );
  devices.start();
  printing.start();
  await waitFor('printer ready', () => devices.get('lq')?.currentState() === 'ready');
  return { dir, pty, sim, store, devices, printing, seen };
}

async function form(text: string, big = false): Promise<Buffer> {
  const items: Parameters<typeof encodeDocument>[0]['items'] = [
    { type: 'text', xMm: 20, yMm: 30, text, sizePt: 12, bold: false, doubleWidth: false, overflow: 'error' },
  ];
  if (big) {
    // A grey photo across the page: a few hundred kB, more than the pty holds.
    const png = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#777777' } })
      .png()
      .toBuffer();
    items.push({
      type: 'image',
      xMm: 10,
      yMm: 40,
      widthMm: 190,
      heightMm: 190,
      data: png.toString('base64'),
      threshold: 128,
      dither: true,
    });
  }
  return (await encodeDocument({ page: { size: 'A4' }, items, copies: 1 }, DEFAULT_SETUP)).bytes;
}

const meta = { copies: 1, template: null, submittedBy: 'test' };

describe('print queue', () => {
  it('prints jobs for a printer in the order they were submitted', async () => {
    const { sim, printing } = await rig();
    const jobs: PrintJobView[] = [];
    for (const name of ['甲', '乙', '丙']) jobs.push(printing.submit('lq', await form(name), meta));
    await waitFor('three pages', () => sim.printer.pages.length === 3, 15_000);
    expect(sim.printer.pages.map((p) => p.cells[0]?.ch)).toEqual(['甲', '乙', '丙']);
    await waitFor('all done', () => jobs.every((j) => printing.get(j.id).state === 'done'));
  });

  it('a link lost mid-job leaves the job in doubt until an operator asks for a reprint, then prints it', async () => {
    const r = await rig();
    r.sim.setPaperOut(true);
    const job = r.printing.submit('lq', await form('张三', true), meta);
    await waitFor('sending', () => r.printing.get(job.id).state === 'sending');
    await waitFor('queue paused', () =>
      r.seen.some((e) => e.type === 'print.queue' && e.payload.state === 'paused'),
    );
    await r.pty.close();
    await waitFor('in doubt', () => r.printing.get(job.id).state === 'in_doubt', 15_000);
    expect(r.printing.get(job.id).error).toMatch(/may have reached the printer/);
    expect(r.seen.filter((e) => e.type === 'print.job').map((e) => e.payload.state)).toEqual([
      'queued',
      'sending',
      'in_doubt',
    ]);
    // Nothing is sent again on its own.
    await new Promise((res) => setTimeout(res, 300));
    expect(r.printing.get(job.id).state).toBe('in_doubt');
    // The adapter is plugged back in (a new pty at the same path) with paper loaded.
    const again = await openPtyPair(r.dir);
    const sim2 = await PrinterSimulatorEndpoint.serial(again.peer, { setup: DEFAULT_SETUP });
    cleanups.push(
      () => again.close(),
      () => sim2.close(),
    );
    await waitFor('printer ready again', () => r.devices.get('lq')?.currentState() === 'ready', 15_000);
    const requeued = r.printing.resolve(job.id, 'reprint', 'operator');
    expect(requeued.state).toBe('queued');
    await waitFor('reprinted', () => r.printing.get(job.id).state === 'done', 20_000);
    await waitFor('the page', () => sim2.printer.pages.length === 1, 15_000);
    expect(r.printing.get(job.id).outcome).toBe('sent');
  });

  it('a job that could not start (printer gone) stays queued and is not in doubt', async () => {
    const r = await rig();
    await r.pty.close();
    await waitFor('printer not ready', () => r.devices.get('lq')?.currentState() !== 'ready');
    const job = r.printing.submit('lq', await form('李四'), meta);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.printing.get(job.id).state).toBe('queued');
    expect(r.seen.some((e) => e.type === 'print.queue' && e.payload.state === 'paused')).toBe(true);
    expect(r.printing.cancel(job.id, 'clerk').state).toBe('canceled');
  });
});
