// The exact bytes the printer receives for each kind of layout element, pinned by their SHA-256: a change
// here is a change on paper (a dot moved, a line broken elsewhere, a character sent another way). When a
// pin moves on purpose, check the print (preview or a real printer) before writing the new hash.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { LayoutDocument, TableItem } from '../../../drivers/printer/document.js';
import { DEFAULT_SETUP, encodeDocument, type PrinterSetup } from '../../../drivers/printer/forms.js';
import { SAMPLE_TABLE } from '../../helpers/print-documents.js';

type Item = LayoutDocument['items'][number];

/** A grey ramp with a dark disc: threshold and dithering both decide dots in it. */
async function rampPng(width: number, height: number): Promise<string> {
  const raw = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inDisc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 3) ** 2;
      raw[y * width + x] = inDisc ? 30 : Math.round((255 * x) / (width - 1));
    }
  }
  const png = await sharp(raw, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
  return png.toString('base64');
}

const text = (extra: Partial<Extract<Item, { type: 'text' }>>): Item => ({
  type: 'text',
  xMm: 20,
  yMm: 30,
  text: 'Zh张三 No.7',
  sizePt: 10.5,
  bold: false,
  doubleWidth: false,
  overflow: 'error',
  ...extra,
});

const textbox = (extra: Partial<Extract<Item, { type: 'textbox' }>>): Item => ({
  type: 'textbox',
  xMm: 15,
  yMm: 40,
  widthMm: 40,
  heightMm: 30,
  text: 'Remarks: 申请人于本月办理 senior card 业务，材料齐全',
  sizePt: 10.5,
  bold: false,
  overflow: 'error',
  ...extra,
});

const table = (extra: Partial<TableItem>): Item => ({ ...SAMPLE_TABLE, ...extra });

const LONG = '中华人民共和国居民身份证号码 ID 110101199003071234';

async function cases(): Promise<[string, Item[], Partial<LayoutDocument>?, PrinterSetup?][]> {
  const image = await rampPng(90, 60);
  return [
    ['ROM text: Latin, Chinese', [text({})]],
    ['ROM text: bold, double width', [text({ bold: true, doubleWidth: true })]],
    ['ROM text with rare characters as glyph cells', [text({ text: '王䶮 李𠀀明' })]],
    ['bitmap text (a size the ROM has not)', [text({ sizePt: 20, bold: true })]],
    ['several lines of text', [text({ text: '第一行\nsecond line\n\n第四行' })]],
    ['text wrapped within maxWidthMm', [text({ text: LONG, maxWidthMm: 35, overflow: 'wrap' })]],
    ['text shrunk into maxWidthMm', [text({ text: LONG, maxWidthMm: 80, overflow: 'shrink' })]],
    ['text wrapped at the carriage', [text({ xMm: 150, text: LONG, overflow: 'wrap' })]],
    ['text box that fits', [textbox({})]],
    ['text box shrunk', [textbox({ heightMm: 9, overflow: 'shrink', bold: true })]],
    ['bitmap text box', [textbox({ sizePt: 16, heightMm: 50 })]],
    [
      'lines',
      [
        { type: 'line', x1Mm: 10, y1Mm: 10, x2Mm: 120, y2Mm: 10, thicknessMm: 0.3 },
        { type: 'line', x1Mm: 100, y1Mm: 20, x2Mm: 20, y2Mm: 60, thicknessMm: 0.8 },
      ],
    ],
    ['box', [{ type: 'box', xMm: 10, yMm: 10, widthMm: 50, heightMm: 20, thicknessMm: 0.5 }]],
    [
      'image, 180 dpi, dithered',
      [{ type: 'image', xMm: 30, yMm: 20, widthMm: 30, data: image, threshold: 128, dither: true }],
    ],
    [
      'image, 360 dpi, thresholded',
      [
        {
          type: 'image',
          xMm: 30,
          yMm: 20,
          widthMm: 30,
          heightMm: 15,
          density: 360,
          data: image,
          threshold: 100,
          dither: false,
        },
      ],
    ],
    [
      'barcodes',
      [
        { type: 'barcode', xMm: 20, yMm: 20, widthMm: 60, heightMm: 12, symbology: 'code128', data: 'BX-1' },
        { type: 'barcode', xMm: 20, yMm: 40, widthMm: 20, heightMm: 20, symbology: 'datamatrix', data: 'BX' },
      ],
    ],
    ['QR code', [{ type: 'qr', xMm: 100, yMm: 200, sizeMm: 20, data: 'https://example.invalid/form/1' }]],
    ['table with rules, bold first row, shrunk cell', [table({})]],
    ['table without rules, no padding', [table({ borders: false, paddingMm: 0, boldFirstRow: false })]],
    [
      'calibration offsets, two copies, a named page',
      [text({}), { type: 'box', xMm: 10, yMm: 10, widthMm: 50, heightMm: 20, thicknessMm: 0.3 }],
      { page: { size: 'A5' }, copies: 2 },
      { ...DEFAULT_SETUP, calibration: { xMm: 2, yMm: -1.5 } },
    ],
  ];
}

/** Byte count and the first 128 bits of the SHA-256, per case (taken on the code before the layout split). */
const PINS: Record<string, string> = {
  'ROM text: Latin, Chinese': '47:feec79700eb3519aeb6fb564accbd49f',
  'ROM text: bold, double width': '57:e9bc78cd625a09c0a35a904659840cae',
  'ROM text with rare characters as glyph cells': '241:422618638d8d19622fb15a76fad53cde',
  'bitmap text (a size the ROM has not)': '1480:bdd55b077bedebac9c7e631c8a985ffa',
  'several lines of text': '87:5e3f80a618f8827986689fad1b37bfcd',
  'text wrapped within maxWidthMm': '125:d0c3c74b57219ccedc4cbb56423cc410',
  'text shrunk into maxWidthMm': '1622:28a125521d41661184c985903caf0918',
  'text wrapped at the carriage': '113:2dc7a131b597e522b08018e851edee3e',
  'text box that fits': '138:b1ad5300d391289a86191a400c3441ad',
  'text box shrunk': '1596:1790051cd298612508d0b7f4e5700812',
  'bitmap text box': '5144:0b4420b3259ad0b869f831b24e88117a',
  lines: '4792:790905bb5d03eb5433a64dfa1e493f65',
  box: '2394:26f22792ae9a9028d18524d671557ab5',
  'image, 180 dpi, dithered': '3857:fd4208507d2ef57a7746db75fcae5ff2',
  'image, 360 dpi, thresholded': '12910:0ac9b3ec9a578bae596f653c80c171ff',
  barcodes: '6393:bbb1ea61e187dd5c9f22fb0b83ecf094',
  'QR code': '2676:08ef4a1542898909a988c2c9bb80829e',
  'table with rules, bold first row, shrunk cell': '9284:88e01a9e1eb968549e4ccf2e2318f75b',
  'table without rules, no padding': '263:b7637c2003565632121cc6dffe62bcdc',
  'calibration offsets, two copies, a named page': '4720:5164a4364174a9492a7c6da215e562e5',
};

describe('layout bytes', () => {
  it('sends the same bytes as before for every kind of layout element', async () => {
    const got: Record<string, string> = {};
    for (const [name, items, extra, setup] of await cases()) {
      const doc: LayoutDocument = { page: { widthMm: 210, heightMm: 297 }, items, copies: 1, ...extra };
      const { bytes } = await encodeDocument(doc, setup ?? DEFAULT_SETUP);
      got[name] = `${bytes.length}:${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}`;
    }
    expect(got).toEqual(PINS);
  });
});
