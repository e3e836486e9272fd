// The IPP photo-printer driver against a real IPP Everywhere printer (Debian's ippeveprinter): identity,
// printer-state, a JPEG job handed over and completed, the spooled document byte for byte.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IppPhotoPrinter } from '../../drivers/photo-printer/ipp-printer.js';
import { startIppPrinter, type IppPrinter } from '../helpers/ipp-printer.js';
import { waitFor } from '../helpers/wait-for.js';

let printer: IppPrinter;

beforeAll(async () => {
  printer = await startIppPrinter();
}, 30_000);

afterAll(async () => {
  await printer?.stop();
});

describe('IPP photo printer driver on ippeveprinter', () => {
  it('identifies the printer and reports printer-state in its self-test', async () => {
    const driver = new IppPhotoPrinter({ url: printer.url });
    const identity = await driver.open();
    expect(identity.model).toMatch(/Test|Printer/);
    expect(identity.serial).toMatch(/^urn:uuid:/);
    expect(driver.formats()).toEqual(['image/jpeg', 'image/png']);
    await driver.probe();
    const test = await driver.selfTest();
    expect(test.ok).toBe(true);
    expect(test.summary).toContain('printer-state idle');
    expect(test.details).toMatchObject({ printerState: 'idle' });
  });

  it('prints a JPEG: the job completes and the spooled file is the document', async () => {
    const driver = new IppPhotoPrinter({ url: printer.url });
    await driver.open();
    const jpeg = await sharp({
      create: { width: 1011, height: 638, channels: 3, background: { r: 240, g: 240, b: 250 } },
    })
      .jpeg()
      .toBuffer();
    const job = await driver.submit({ data: jpeg, format: 'image/jpeg', jobName: 'card test' });
    expect(job.id).toBeGreaterThan(0);
    let state = job.state;
    await waitFor(
      'the job to complete',
      async () => {
        state = (await driver.job(job.id)).state;
        return state === 'completed' || state === 'aborted' || state === 'canceled';
      },
      60_000,
    );
    expect(state).toBe('completed');
    const files = printer.spooledFiles();
    expect(files.at(-1)).toMatch(/\.jpg$/);
    expect(readFileSync(files.at(-1)!).equals(jpeg)).toBe(true);
  }, 90_000);

  it('an unreachable URL is an absent device', async () => {
    const driver = new IppPhotoPrinter({ url: 'ipp://127.0.0.1:9/ipp/print', timeoutMs: 2000 });
    await expect(driver.open()).rejects.toMatchObject({ name: 'DeviceAbsentError' });
  });
});
