// The ESC/P encoder and layout, checked through an independent reading of the bytes (tests/helpers).
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETUP, encodeDocument, decodeForPaper, previewPng } from '../../../drivers/printer/forms.js';
import type { LayoutDocument } from '../../../drivers/printer/document.js';
import { layoutDocument, LayoutError } from '../../../drivers/printer/layout.js';
import { loadFonts, notoFonts } from '../../../drivers/printer/fonts.js';
import { LQ_630K } from '../../../drivers/printer/profile.js';
import { mmToDots } from '../../../drivers/printer/units.js';
import { checkEscp } from '../../helpers/escp-checker.js';
import { SAMPLE_TABLE } from '../../helpers/print-documents.js';

const A4 = { widthMm: 210, heightMm: 297 };
const doc = (items: LayoutDocument['items'], page: LayoutDocument['page'] = A4): LayoutDocument => ({
  page,
  items,
  copies: 1,
});
const text = (xMm: number, yMm: number, t: string, extra: Record<string, unknown> = {}) =>
  ({ type: 'text', xMm, yMm, text: t, sizePt: 12, ...extra }) as LayoutDocument['items'][number];

/** Exact position asked, in dots (not rounded): the printer must land within one dot of it. */
const exact = (mm: number): number => (mm * 180) / 25.4;

async function layoutError(d: LayoutDocument): Promise<LayoutError> {
  const err = await encodeDocument(d, DEFAULT_SETUP).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LayoutError);
  return err as LayoutError;
}

describe('ESC/P encoder', () => {
  it('produces the golden byte stream for a short mixed line', async () => {
    const { bytes } = await encodeDocument(doc([text(10, 20, 'Zh张')]), DEFAULT_SETUP);
    expect(bytes.toString('hex')).toBe(
      [
        '1b40', // ESC @
        '1b7801', // ESC x 1: letter quality
        '1b3312',
        '1b4375', // ESC 3 18, ESC C 117: page length 117 × 18/180" = 2106/180" ≈ 297 mm
        '1b331e', // ESC 3 30: line spacing 1/6"
        '1c530006', // FS S 0 6: Chinese character spacing
        '1b4a8e', // ESC J 142: down to 20 mm
        '1b241700',
        '1b5c0200', // ESC $ 23 (69/180"), ESC \ 2: 71/180" = 10 mm
        '5a68', // "Zh"
        '1c26',
        'd5c5',
        '1c2e', // FS & 张 FS .
        '0d', // CR
        '0d0c', // CR FF
      ].join(''),
    );
  });

  it('sets the exact page length with ESC ( C only when the printer speaks ESC/P2', async () => {
    const plain = (await encodeDocument(doc([text(10, 20, 'A')]), DEFAULT_SETUP)).bytes;
    expect(plain.includes(Buffer.from([0x1b, 0x28]))).toBe(false);
    const setup = { ...DEFAULT_SETUP, profile: { ...DEFAULT_SETUP.profile, escp2: true } };
    const p2 = (await encodeDocument(doc([text(10, 20, 'A')]), setup)).bytes;
    // ESC ( U 1 0 20: unit 1/180"; ESC ( C 2 0 nL nH: 2105/180" = 297 mm.
    expect(
      p2.includes(Buffer.from([0x1b, 0x28, 0x55, 1, 0, 20, 0x1b, 0x28, 0x43, 2, 0, 2105 & 0xff, 2105 >> 8])),
    ).toBe(true);
    expect(decodeForPaper(p2, setup, mmToDots(210))[0]!.heightDots).toBe(2105);
  });

  it('puts the minimal document text at the asked position within 1/180"', async () => {
    const { bytes } = await encodeDocument(doc([text(20, 30, '张三 ZHANG San')]), DEFAULT_SETUP);
    const read = checkEscp(bytes);
    expect(read.text()).toBe('张三ZHANGSan');
    const first = read.chars[0]!;
    expect(first.ch).toBe('张');
    expect(Math.abs(first.x - exact(20))).toBeLessThanOrEqual(1);
    expect(Math.abs(first.y - exact(30))).toBeLessThanOrEqual(1);
    expect(read.chars.every((c) => c.y === first.y)).toBe(true);
    expect(read.formFeeds).toBe(1);
  });

  it('sends items top to bottom whatever their order in the document, each at its place', async () => {
    const fields = [
      text(150, 250, '签名'),
      text(20, 40, '姓名'),
      text(120.3, 40, '性别 M'),
      text(20.1, 100.7, 'ID 123'),
    ];
    const read = checkEscp((await encodeDocument(doc(fields), DEFAULT_SETUP)).bytes);
    for (const f of fields) {
      if (f.type !== 'text') continue;
      const c = read.chars.find((ch) => ch.ch === [...f.text][0]);
      expect(c, f.text).toBeDefined();
      expect(Math.abs(c!.x - exact(f.xMm))).toBeLessThanOrEqual(1);
      expect(Math.abs(c!.y - exact(f.yMm))).toBeLessThanOrEqual(1);
    }
    const ys = read.chars.map((c) => c.y);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
  });

  it('prints Chinese from ROM, and rare characters (䶮, 𠀀) as bit images, never as "?"', async () => {
    const { bytes } = await encodeDocument(
      doc([text(20, 30, '王䶮'), text(20, 50, '李𠀀明')]),
      DEFAULT_SETUP,
    );
    const read = checkEscp(bytes);
    expect(read.text()).toBe('王\n李明');
    expect(read.chars.some((c) => c.ch === '?')).toBe(false);
    // One glyph image per rare character, in the cell right after its neighbour, with ink in it.
    expect(read.images).toHaveLength(2);
    const [yan, zi] = read.images;
    expect(yan!.x).toBe(read.chars.find((c) => c.ch === '王')!.x + 30);
    expect(zi!.x).toBe(read.chars.find((c) => c.ch === '李')!.x + 30);
    expect(zi!.y).toBe(mmToDots(50));
    for (const img of read.images) expect(img.data.some((b) => b !== 0)).toBe(true);
  });

  it('applies the calibration offsets to the bytes, and the printer puts the text back where asked', async () => {
    const setup = { ...DEFAULT_SETUP, calibration: { xMm: 2, yMm: -1.5 } };
    const { bytes } = await encodeDocument(doc([text(20, 30, '张三')]), setup);
    const sent = checkEscp(bytes).chars[0]!;
    expect(sent.x).toBe(mmToDots(20) + mmToDots(2));
    expect(sent.y).toBe(mmToDots(30) - mmToDots(1.5));
    const onPaper = decodeForPaper(bytes, setup, mmToDots(210))[0]!.cells[0]!;
    expect(Math.abs(onPaper.x - exact(20))).toBeLessThanOrEqual(1);
    expect(Math.abs(onPaper.y - exact(30))).toBeLessThanOrEqual(1);
  });

  it('draws boxes and lines as 24-dot bit image bands', async () => {
    const { bytes } = await encodeDocument(
      doc([{ type: 'box', xMm: 10, yMm: 10, widthMm: 50, heightMm: 20, thicknessMm: 0.3 }]),
      DEFAULT_SETUP,
    );
    const read = checkEscp(bytes);
    expect(read.chars).toHaveLength(0);
    expect(read.images.length).toBeGreaterThanOrEqual(2);
    expect(read.images[0]!.y).toBe(mmToDots(10));
    expect(read.images[0]!.x).toBe(mmToDots(10));
    expect(read.images[0]!.columns).toBe(mmToDots(50));
  });

  it('prints images, barcodes and QR codes as bit images of the asked size', async () => {
    const png = await sharp({ create: { width: 60, height: 80, channels: 3, background: '#404040' } })
      .png()
      .toBuffer();
    const { bytes } = await encodeDocument(
      doc([
        {
          type: 'image',
          xMm: 150,
          yMm: 30,
          widthMm: 30,
          heightMm: 40,
          data: png.toString('base64'),
          threshold: 128,
          dither: true,
        },
        {
          type: 'barcode',
          xMm: 20,
          yMm: 200,
          widthMm: 60,
          heightMm: 12,
          symbology: 'code128',
          data: 'BX-2024-0001',
        },
        { type: 'qr', xMm: 100, yMm: 200, sizeMm: 20, data: 'https://example.invalid/form/1' },
      ]),
      DEFAULT_SETUP,
    );
    const read = checkEscp(bytes);
    const photo = read.images.filter((i) => i.x >= mmToDots(150) - 1);
    expect(photo.length).toBeGreaterThan(5);
    expect(
      read.images.some((i) => i.y === mmToDots(200) && i.x >= mmToDots(20) - 1 && i.x < mmToDots(25)),
    ).toBe(true);
    expect(read.images.some((i) => i.y === mmToDots(200) && i.x === mmToDots(100))).toBe(true);
  });
});

describe('360 dpi images', () => {
  it('prints ESC * 40 in two passes over the same place, never with adjacent dots in a pass', async () => {
    const png = await sharp({ create: { width: 80, height: 40, channels: 3, background: '#000000' } })
      .png()
      .toBuffer();
    const { bytes } = await encodeDocument(
      doc([
        {
          type: 'image',
          xMm: 30,
          yMm: 50,
          widthMm: 20,
          heightMm: 10,
          density: 360,
          data: png.toString('base64'),
          threshold: 128,
          dither: false,
        },
      ]),
      DEFAULT_SETUP,
    );
    const read = checkEscp(bytes);
    expect(read.images.every((i) => i.mode === 40)).toBe(true);
    expect(read.images.length % 2).toBe(0);
    for (let k = 0; k < read.images.length; k += 2) {
      const [a, b] = [read.images[k]!, read.images[k + 1]!];
      expect([a.x, a.y]).toEqual([b.x, b.y]);
      expect(a.x).toBe(mmToDots(30));
      expect(a.columns).toBe(2 * mmToDots(20));
      for (const pass of [a, b]) {
        for (let c = 1; c < pass.columns; c++) {
          for (let j = 0; j < 3; j++)
            expect((pass.data[c * 3 + j]! & pass.data[(c - 1) * 3 + j]!) === 0).toBe(true);
        }
      }
    }
    // Together the passes cover the whole black area: every dot of the 180 dpi grid is inked.
    const page = decodeForPaper(bytes, DEFAULT_SETUP, mmToDots(210))[0]!;
    for (let x = mmToDots(30); x < mmToDots(50); x++) expect(page.dots.get(x, mmToDots(50) + 5)).toBe(true);
  });
});

describe('tables', () => {
  it('sets each cell inside its column and row, with rules around them', async () => {
    const { bytes } = await encodeDocument(doc([SAMPLE_TABLE]), DEFAULT_SETUP);
    const read = checkEscp(bytes);
    const xing = read.chars.find((c) => c.ch === '姓')!;
    expect(Math.abs(xing.x - exact(21))).toBeLessThanOrEqual(1);
    expect(Math.abs(xing.y - exact(49))).toBeLessThanOrEqual(1);
    const nei = read.chars.find((c) => c.ch === '内')!;
    expect(Math.abs(nei.x - exact(51))).toBeLessThanOrEqual(1);
    // The rules: a band at the table's top-left spanning its full width.
    expect(
      read.images.some((i) => i.y === mmToDots(40) && i.x === mmToDots(20) && i.columns >= mmToDots(90)),
    ).toBe(true);
  });

  it('names the cell whose text does not fit', async () => {
    const err = await layoutError(
      doc([
        text(10, 10, 'x'),
        {
          type: 'table',
          xMm: 20,
          yMm: 40,
          columnsMm: [30, 20],
          rowHeightMm: 6,
          rows: [['姓名', '一个非常非常非常长的名字写不下']],
          sizePt: 10.5,
          boldFirstRow: false,
          borders: true,
          thicknessMm: 0.3,
          paddingMm: 1,
          overflow: 'error',
        },
      ]),
    );
    expect(err.field).toBe('/items/1/rows/0/1');
  });
});

describe('document checks', () => {
  it('refuses a character no ROM and no configured font can print, naming the item', async () => {
    const err = await layoutDocument(doc([text(10, 10, '李𠀀明')]), {
      profile: LQ_630K,
      fonts: { regular: loadFonts([notoFonts().regular]), bold: loadFonts([notoFonts().bold]) },
      calibration: { xMm: 0, yMm: 0 },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LayoutError);
    expect((err as LayoutError).field).toBe('/items/0');
    expect((err as LayoutError).message).toMatch(/U\+20000/);
  });

  it('refuses a field outside the page, naming the item', async () => {
    const err = await layoutError(
      doc([text(10, 10, 'ok'), text(200, 30, '张三丰')], { widthMm: 210, heightMm: 297 }),
    );
    expect(err.field).toBe('/items/1');
    expect(err.message).toMatch(/outside/);
    expect((await layoutError(doc([text(10, 296, 'low')]))).field).toBe('/items/0');
  });

  it('refuses text wider than its room unless shrink or wrap is asked', async () => {
    const long = '中华人民共和国居民身份证号码';
    const err = await layoutError(doc([text(10, 10, long, { maxWidthMm: 30 })]));
    expect(err.field).toBe('/items/0/text');
    const shrunk = await encodeDocument(
      doc([text(10, 10, long, { maxWidthMm: 30, overflow: 'shrink' })]),
      DEFAULT_SETUP,
    );
    const band = checkEscp(shrunk.bytes).images;
    expect(band.length).toBeGreaterThan(0);
    expect(Math.max(...band.map((b) => b.x + b.columns))).toBeLessThanOrEqual(mmToDots(10) + mmToDots(30));
    const wrapped = checkEscp(
      (await encodeDocument(doc([text(10, 10, long, { maxWidthMm: 30, overflow: 'wrap' })]), DEFAULT_SETUP))
        .bytes,
    );
    expect(wrapped.text().replace(/\n/g, '')).toBe(long);
    expect(wrapped.text().split('\n').length).toBeGreaterThan(1);
    expect(Math.max(...wrapped.chars.map((c) => c.x + 30))).toBeLessThanOrEqual(mmToDots(10) + mmToDots(30));
  });

  it('wraps text without maxWidthMm where the page or the carriage ends, when asked', async () => {
    const long = '申请人住址河北省保定市某某县某某镇某某村幸福路八十八号附近';
    const read = checkEscp(
      (await encodeDocument(doc([text(150, 10, long, { overflow: 'wrap' })]), DEFAULT_SETUP)).bytes,
    );
    expect(read.text().replace(/\n/g, '')).toBe(long);
    // The LQ-630K's carriage reaches 8" (1440 dots), short of the A4 edge.
    expect(Math.max(...read.chars.map((c) => c.x + 30))).toBeLessThanOrEqual(1440);
    expect(read.text().split('\n').length).toBeGreaterThan(1);
  });

  it('wraps a text box and refuses one whose text does not fit its height', async () => {
    const box = {
      type: 'textbox',
      xMm: 10,
      yMm: 10,
      widthMm: 40,
      heightMm: 12,
      text: 'Remarks: 申请人于本月办理 senior card 业务',
    } as const;
    const read = checkEscp(
      (
        await encodeDocument(
          doc([{ ...box, sizePt: 10.5, bold: false, overflow: 'error', heightMm: 30 }]),
          DEFAULT_SETUP,
        )
      ).bytes,
    );
    expect(read.text().split('\n').length).toBeGreaterThan(1);
    const err = await layoutError(
      doc([{ ...box, sizePt: 10.5, bold: false, overflow: 'error', heightMm: 5 }]),
    );
    expect(err.field).toBe('/items/0/text');
  });

  it('refuses an image that is not an image, or is too large', async () => {
    const img = { type: 'image', xMm: 10, yMm: 10, widthMm: 20, threshold: 128, dither: false } as const;
    const notImage = await layoutError(
      doc([text(1, 1, 'x'), { ...img, data: Buffer.from('hello').toString('base64') }]),
    );
    expect(notImage.field).toBe('/items/1');
    const huge = await sharp({ create: { width: 6000, height: 5000, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const tooBig = await layoutError(doc([{ ...img, data: huge.toString('base64') }]));
    expect(tooBig.message).toMatch(/larger than/);
  });
});

describe('preview', () => {
  it('renders the decoded bytes: ink where the text is asked, nothing elsewhere', async () => {
    const { bytes } = await encodeDocument(doc([text(20, 30, '张三 ZHANG San')]), DEFAULT_SETUP);
    const png = await previewPng(bytes, DEFAULT_SETUP, {
      widthDots: mmToDots(210),
      heightDots: mmToDots(297),
    });
    const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([mmToDots(210), mmToDots(297)]);
    let inside = 0;
    let outside = 0;
    const [x0, y0] = [mmToDots(20), mmToDots(30)];
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        if ((data[y * info.width + x] ?? 255) >= 128) continue;
        if (x >= x0 && x < x0 + 12 * 30 && y >= y0 && y < y0 + 24) inside++;
        else outside++;
      }
    }
    expect(inside).toBeGreaterThan(200);
    expect(outside).toBe(0);
  });
});
