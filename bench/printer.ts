// Printer section of `npm run bench`: an A4 form with 40 Chinese fields and one ID photo (and, as a second
// figure, the same with a ruled grid drawn by the printer).
// Times the ESC/P encoding and the preview (decode the bytes + PNG), and compares the bytes on the wire with
// the same page sent as a full-page 180 dpi bit image (computed from the page size: ghostscript's `epson`
// device is not installed here, so its output is not measured).
import sharp from 'sharp';
import type { LayoutDocument } from '../drivers/printer/document.js';
import { DEFAULT_SETUP, encodeDocument, previewPng } from '../drivers/printer/forms.js';
import { mmToDots } from '../drivers/printer/units.js';

export interface BenchRow {
  metric: string;
  value: string;
  notes: string;
}

const RUNS = 5;
const SURNAMES = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '周', '吴'];
const GIVEN = ['伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '䶮'];

async function photo(): Promise<Buffer> {
  // A synthetic ID photo: a grey gradient with a darker oval, 300×400 JPEG.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="400">
    <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#eee"/><stop offset="1" stop-color="#555"/></linearGradient></defs>
    <rect width="300" height="400" fill="url(#g)"/><ellipse cx="150" cy="170" rx="85" ry="110" fill="#9a8070"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg().toBuffer();
}

/** The fields a clerk prints onto pre-printed stationery, with `ruled` also the grid drawn by the printer. */
export async function formDocument(ruled = false): Promise<LayoutDocument> {
  const items: LayoutDocument['items'] = [];
  for (let i = 0; i < 20; i++) {
    const y = 30 + i * 11;
    const name = `${SURNAMES[i % 10] ?? '张'}${GIVEN[(i * 3) % 10] ?? '伟'}`;
    items.push(
      {
        type: 'text',
        xMm: 22,
        yMm: y,
        text: `申请人${i + 1}姓名`,
        sizePt: 10.5,
        bold: true,
        doubleWidth: false,
        overflow: 'error',
      },
      {
        type: 'text',
        xMm: 70,
        yMm: y,
        text: `${name} 住址：河北省保定市第${i + 1}村`,
        sizePt: 10.5,
        bold: false,
        doubleWidth: false,
        overflow: 'error',
      },
    );
    if (ruled) items.push({ type: 'line', x1Mm: 20, y1Mm: y + 8, x2Mm: 160, y2Mm: y + 8, thicknessMm: 0.25 });
  }
  if (ruled) items.push({ type: 'box', xMm: 18, yMm: 26, widthMm: 145, heightMm: 224, thicknessMm: 0.4 });
  items.push({
    type: 'image',
    xMm: 168,
    yMm: 30,
    widthMm: 26,
    heightMm: 32,
    data: (await photo()).toString('base64'),
    threshold: 128,
    dither: true,
  });
  return { page: { size: 'A4' }, items, copies: 1 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export async function benchPrinter(): Promise<BenchRow[]> {
  const doc = await formDocument();
  const paper = { widthDots: mmToDots(210), heightDots: mmToDots(297) };
  const t0 = performance.now();
  const cold = await encodeDocument(doc, DEFAULT_SETUP);
  const coldEncode = performance.now() - t0;
  const encodeMs: number[] = [];
  const previewMs: number[] = [];
  let png: Buffer = Buffer.alloc(0);
  for (let i = 0; i < RUNS; i++) {
    const a = performance.now();
    await encodeDocument(doc, DEFAULT_SETUP);
    encodeMs.push(performance.now() - a);
    const b = performance.now();
    png = await previewPng(cold.bytes, DEFAULT_SETUP, paper);
    previewMs.push(performance.now() - b);
  }
  const bytes = cold.bytes.length;
  const ruledBytes = (await encodeDocument(await formDocument(true), DEFAULT_SETUP)).bytes.length;
  // The same page as bit images only: one ESC * 39 band (5-byte header + 3 bytes a column) and one
  // ESC J 24 + CR per 24 rows, across the full printable width.
  const bands = Math.ceil(paper.heightDots / 24);
  const bitmapBytes = bands * (5 + paper.widthDots * 3 + 4);
  const atBaud = (n: number): string => `${(n / 960).toFixed(1)} s`;
  return [
    {
      metric: 'printer: encode A4 form, first run',
      value: `${coldEncode.toFixed(0)} ms`,
      notes: '40 Chinese fields + photo; includes font loading',
    },
    {
      metric: 'printer: encode A4 form (median)',
      value: `${median(encodeMs).toFixed(1)} ms`,
      notes: `${RUNS} runs, glyph cache warm`,
    },
    {
      metric: 'printer: preview PNG from the bytes (median)',
      value: `${median(previewMs).toFixed(1)} ms`,
      notes: `decode ESC/P + draw ROM glyphs + PNG (${(png.length / 1024).toFixed(0)} kB)`,
    },
    {
      metric: 'printer: ESC/P bytes for the page',
      value: `${bytes} B`,
      notes: `text from ROM, grid/photo/rare chars as bit images; ${atBaud(bytes)} at 9600 baud 8N1`,
    },
    {
      metric: 'printer: ESC/P bytes with a ruled grid',
      value: `${ruledBytes} B`,
      notes: `the same plus 20 rules and a frame drawn as bit images; ${atBaud(ruledBytes)} at 9600 baud`,
    },
    {
      metric: 'printer: same page as a 180 dpi bitmap',
      value: `${bitmapBytes} B`,
      notes: `computed full-page ESC * 39 stream (no ghostscript here); ${atBaud(bitmapBytes)} at 9600 baud; text mode is ${(bitmapBytes / bytes).toFixed(1)}× smaller`,
    },
  ];
}
