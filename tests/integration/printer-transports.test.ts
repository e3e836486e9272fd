// The ESC/P printer driver against the printer simulator on real transports: a socat pty pair (serial) and
// loopback TCP. The simulator decodes what arrives into pages; out of paper it stops reading.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETUP, encodeDocument } from '../../drivers/printer/forms.js';
import type { LayoutDocument } from '../../drivers/printer/document.js';
import { EscpLinkPrinter } from '../../drivers/printer/link-printer.js';
import { PrintInterruptedError } from '../../drivers/printer/printer-driver.js';
import { PrinterSimulatorEndpoint } from '../../drivers/printer/simulator-endpoint.js';
import { mmToDots } from '../../drivers/printer/units.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { openTcp } from '../../drivers/transport/tcp.js';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { openPtyPair, serialOptions } from '../helpers/pty-pair.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FORM: LayoutDocument = {
  page: { size: 'A4' },
  copies: 1,
  items: [
    {
      type: 'text',
      xMm: 20,
      yMm: 30,
      text: '张三 ZHANG San',
      sizePt: 12,
      bold: false,
      doubleWidth: false,
      overflow: 'error',
    },
    {
      type: 'text',
      xMm: 20,
      yMm: 45,
      text: '王䶮',
      sizePt: 12,
      bold: false,
      doubleWidth: false,
      overflow: 'error',
    },
    { type: 'box', xMm: 15, yMm: 25, widthMm: 120, heightMm: 35, thicknessMm: 0.4 },
  ],
};

/** A job big enough to fill the pty and socket buffers: a full-width grey photo. */
async function bigJob(): Promise<Buffer> {
  const png = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#777777' } })
    .png()
    .toBuffer();
  const doc: LayoutDocument = {
    page: { size: 'A4' },
    copies: 1,
    items: [
      {
        type: 'image',
        xMm: 10,
        yMm: 10,
        widthMm: 190,
        heightMm: 190,
        data: png.toString('base64'),
        threshold: 128,
        dither: true,
      },
    ],
  };
  return (await encodeDocument(doc, DEFAULT_SETUP)).bytes;
}

async function ptyPrinter(stallMs = 300) {
  const dir = tempDir();
  const pair = await openPtyPair(dir);
  const endpoint = await PrinterSimulatorEndpoint.serial(pair.peer, {
    setup: DEFAULT_SETUP,
    outputDir: join(dir, 'out'),
  });
  const driver = new EscpLinkPrinter({
    open: () => openSerial(serialOptions(pair.device)),
    describe: 'serial',
    setup: DEFAULT_SETUP,
    stallMs,
  });
  cleanups.push(
    () => removeDir(dir),
    () => pair.close(),
    () => endpoint.close(),
    () => driver.close(),
  );
  await driver.open();
  return { dir, pair, endpoint, driver };
}

function expectFormOnPage(endpoint: PrinterSimulatorEndpoint): void {
  const page = endpoint.printer.pages[0]!;
  const zhang = page.cells.find((c) => c.ch === '张')!;
  expect(Math.abs(zhang.x - (20 * 180) / 25.4)).toBeLessThanOrEqual(1);
  expect(Math.abs(zhang.y - (30 * 180) / 25.4)).toBeLessThanOrEqual(1);
  expect(page.cells.map((c) => c.ch).join('')).toBe('张三ZHANGSan王');
  // 䶮 is not in the ROM: it arrived as dots in the cell after 王.
  const wang = page.cells.find((c) => c.ch === '王')!;
  let ink = 0;
  for (let y = wang.y; y < wang.y + 24; y++)
    for (let x = wang.x + 30; x < wang.x + 60; x++) if (page.dots.get(x, y)) ink++;
  expect(ink).toBeGreaterThan(20);
}

describe('printer simulator over a socat pty (serial)', () => {
  it('prints a form: the simulator decodes it to a page and writes it as PNG with a job log', async () => {
    const { dir, endpoint, driver } = await ptyPrinter();
    const { bytes } = await encodeDocument(FORM, DEFAULT_SETUP);
    await driver.print(bytes);
    await waitFor('the page', () => endpoint.printer.pages.length === 1);
    expectFormOnPage(endpoint);
    await endpoint.printer.flushed();
    const png = join(dir, 'out', 'page-1.png');
    expect(existsSync(png)).toBe(true);
    expect((await sharp(png).metadata()).width).toBe(mmToDots(241));
    const log = readFileSync(join(dir, 'out', 'jobs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    expect(log.map((l) => l.event)).toEqual(['started', 'page']);
  });

  it('out of paper: the write stalls, status says so, and the job completes when paper is back', async () => {
    const { endpoint, driver } = await ptyPrinter(300);
    endpoint.setPaperOut(true);
    const job = driver.print(await bigJob());
    let done = false;
    void job.then(() => (done = true));
    await waitFor('status stalled', async () => (await driver.status()).state === 'stalled', 15_000);
    expect(done).toBe(false);
    endpoint.setPaperOut(false);
    await job;
    await waitFor('the page', () => endpoint.printer.pages.length === 1, 15_000);
    expect((await driver.status()).state).toBe('ready');
  });

  it('a link lost mid-job rejects with the bytes that may have reached the printer', async () => {
    const { pair, endpoint, driver } = await ptyPrinter();
    endpoint.setPaperOut(true);
    const outcome = driver.print(await bigJob()).then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor('status stalled', async () => (await driver.status()).state === 'stalled', 15_000);
    await pair.close();
    const err = await outcome;
    expect(err).toBeInstanceOf(PrintInterruptedError);
    expect((err as PrintInterruptedError).sentBytes).toBeGreaterThan(0);
  });
});

describe('printer simulator over TCP', () => {
  it('prints a form sent to its port', async () => {
    const endpoint = await PrinterSimulatorEndpoint.tcp(0, { setup: DEFAULT_SETUP });
    const driver = new EscpLinkPrinter({
      open: () => openTcp({ host: '127.0.0.1', port: endpoint.port, connectTimeoutMs: 2000 }),
      describe: 'tcp',
      setup: DEFAULT_SETUP,
    });
    cleanups.push(
      () => endpoint.close(),
      () => driver.close(),
    );
    expect((await driver.open()).model).toContain('LQ-630K');
    await driver.print((await encodeDocument(FORM, DEFAULT_SETUP)).bytes);
    await waitFor('the page', () => endpoint.printer.pages.length === 1);
    expectFormOnPage(endpoint);
    expect(endpoint.printer.jobs).toHaveLength(1);
  });
});
