// The driver's ESC/P decoder (used by the preview and the simulator): same pages whatever the chunking.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { EscpDecoder, type DecodedPage } from '../../../drivers/printer/decoder.js';
import { DEFAULT_SETUP, encodeDocument } from '../../../drivers/printer/forms.js';
import { LQ_630K } from '../../../drivers/printer/profile.js';
import { mmToDots } from '../../../drivers/printer/units.js';

const WIDTH = mmToDots(210);

function decodeChunks(bytes: Buffer, sizes: (i: number) => number): DecodedPage[] {
  const pages: DecodedPage[] = [];
  const d = new EscpDecoder({ profile: LQ_630K, widthDots: WIDTH }, (p) => pages.push(p));
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes(i));
    d.push(bytes.subarray(at, at + n));
    at += n;
  }
  return pages;
}

const summary = (p: DecodedPage) => ({
  cells: p.cells.map((c) => `${c.ch}@${c.x},${c.y}${c.bold ? 'b' : ''}${c.doubleWidth ? 'w' : ''}`),
  dots: p.dots.pixels.reduce((a, b) => a + b, 0),
  height: p.heightDots,
});

describe('ESC/P decoder', () => {
  it('decodes the same pages from one chunk, single bytes, and odd splits', async () => {
    const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#202020' } })
      .png()
      .toBuffer();
    const { bytes } = await encodeDocument(
      {
        page: { size: 'A4' },
        copies: 2,
        items: [
          {
            type: 'text',
            xMm: 20,
            yMm: 30,
            text: '张三 ZHANG 䶮',
            sizePt: 10.5,
            bold: true,
            doubleWidth: false,
            overflow: 'error',
          },
          {
            type: 'text',
            xMm: 20,
            yMm: 60,
            text: 'Wide 宽',
            sizePt: 10.5,
            bold: false,
            doubleWidth: true,
            overflow: 'error',
          },
          { type: 'box', xMm: 15, yMm: 25, widthMm: 100, heightMm: 50, thicknessMm: 0.5 },
          {
            type: 'image',
            xMm: 150,
            yMm: 30,
            widthMm: 20,
            data: png.toString('base64'),
            threshold: 128,
            dither: true,
          },
        ],
      },
      DEFAULT_SETUP,
    );
    const whole = decodeChunks(bytes, () => bytes.length);
    expect(whole).toHaveLength(2);
    const ref = summary(whole[0]!);
    expect(ref.cells).toContain(`张@${mmToDots(20)},${mmToDots(30)}b`);
    expect(ref.cells).toContain(`W@${mmToDots(20)},${mmToDots(60)}w`);
    expect(ref.cells.find((c) => c.startsWith('宽'))).toBe(
      `宽@${mmToDots(20) + 4 * 36 + 36},${mmToDots(60)}w`,
    );
    expect(ref.dots).toBeGreaterThan(1000);
    for (const split of [() => 1, (i: number) => (i % 7) + 1, (i: number) => (i * 31) % 97]) {
      const pages = decodeChunks(bytes, split);
      expect(pages.map(summary)).toEqual([ref, ref]);
    }
  });

  it('reads ESC * 40 (360 dpi) columns at half width on the 180 dpi grid', () => {
    const cols = 8;
    const data = Buffer.alloc(cols * 3, 0xff);
    const bytes = Buffer.from([0x1b, 0x40, 0x1b, 0x24, 10, 0, 0x1b, 0x2a, 40, cols, 0, ...data, 0x0c]);
    const page = decodeChunks(bytes, () => 5)[0]!;
    let dots = 0;
    for (let x = 0; x < WIDTH; x++) if (page.dots.get(x, 0)) dots++;
    expect(dots).toBe(cols / 2);
    expect(page.dots.get(30, 23)).toBe(true);
    expect(page.dots.get(34, 0)).toBe(false);
  });
});
