// Turns a document into marks on the printer's 180 dpi grid: runs of ROM text (with the characters the ROM
// lacks drawn as glyph bitmaps) and one-bit bitmaps. Every check that names a bad item happens here, before
// a byte is produced, so a bad document is refused whole.
import { Bitmap, drawLine } from './bitmap.js';
import type {
  DocumentItem,
  ImageItem,
  LayoutDocument,
  TableItem,
  TextBoxItem,
  TextItem,
} from './document.js';
import { resolvePage } from './document.js';
import type { GlyphFont } from './fonts.js';
import { routeChar } from './gb18030.js';
import { renderCell, renderText, UnprintableCharacterError } from './glyphs.js';
import { cjkAdvance, type PrinterProfile } from './profile.js';
import { BadImageError, barcodeToBitmap, imageToBitmap } from './raster-items.js';
import { mmToDots, ptToDots } from './units.js';

export interface TextCell {
  ch: string;
  /** Offset from the run's start, in dots. */
  dx: number;
  width: number;
  /** ROM bytes (Latin: one byte; Chinese: GB18030 pair), or a glyph to send as a bit image. */
  rom?: { cjk: boolean; bytes: Buffer };
  glyph?: Bitmap;
}

export interface TextMark {
  kind: 'text';
  x: number;
  y: number;
  bold: boolean;
  doubleWidth: boolean;
  cells: TextCell[];
}

export interface BitmapMark {
  kind: 'bitmap';
  x: number;
  y: number;
  /** At `density` 360 the bitmap has two columns per 1/180" dot. */
  bitmap: Bitmap;
  density?: 180 | 360;
}

export type Mark = TextMark | BitmapMark;

export interface PageLayout {
  widthDots: number;
  heightDots: number;
  copies: number;
  marks: Mark[];
}

export interface LayoutOptions {
  profile: PrinterProfile;
  /** Fonts for glyphs the ROM lacks, in order of preference; `bold` for bold text. */
  fonts: { regular: GlyphFont[]; bold: GlyphFont[] };
  /** Where the printer's own origin sits relative to the paper, measured at install (mm). */
  calibration: { xMm: number; yMm: number };
}

/** A document the printer cannot print as asked; `field` is a JSON pointer into the document. */
export class LayoutError extends Error {
  override name = 'LayoutError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** ROM characters are one head pass high; sizes this close to it print from ROM, others as bitmaps. */
const ROM_PT_MIN = 9;
const ROM_PT_MAX = 12;
const MIN_SHRINK_DOTS = 12;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export async function layoutDocument(doc: LayoutDocument, opts: LayoutOptions): Promise<PageLayout> {
  const page = resolvePage(doc.page);
  if (typeof page === 'string') throw new LayoutError('/page', page);
  const widthDots = mmToDots(page.widthMm);
  const heightDots = mmToDots(page.heightMm);
  const marks: Mark[] = [];
  for (const [i, item] of doc.items.entries()) {
    const where = `/items/${i}`;
    let placed: { marks: Mark[]; box: Box };
    try {
      placed = await layoutItem(item, { ...opts, pageWidthDots: widthDots });
    } catch (err) {
      if (err instanceof UnprintableCharacterError || err instanceof BadImageError) {
        throw new LayoutError(where, `item ${i}: ${err.message}`);
      }
      if (err instanceof LayoutError) throw new LayoutError(where + err.field, `item ${i}: ${err.message}`);
      throw err;
    }
    const b = placed.box;
    if (b.x < 0 || b.y < 0 || b.x + b.w > widthDots || b.y + b.h > heightDots) {
      throw new LayoutError(
        where,
        `item ${i} (${item.type}) is outside the ${page.widthMm}×${page.heightMm} mm page ` +
          `(it spans x ${mmOf(b.x)}–${mmOf(b.x + b.w)} mm, y ${mmOf(b.y)}–${mmOf(b.y + b.h)} mm)`,
      );
    }
    // Calibration moves what the printer is told, so the marks land where the document asks on paper.
    const dx = mmToDots(opts.calibration.xMm);
    const dy = mmToDots(opts.calibration.yMm);
    for (const m of placed.marks) {
      m.x += dx;
      m.y += dy;
      const right = m.x + (m.kind === 'bitmap' ? markWidth(m) : textWidth(m));
      if (m.x < 0 || m.y < 0 || right > opts.profile.maxLineDots) {
        throw new LayoutError(
          where,
          `item ${i} is outside what the printer's carriage can reach after calibration`,
        );
      }
      marks.push(m);
    }
  }
  return { widthDots, heightDots, copies: doc.copies ?? 1, marks };
}

const mmOf = (dots: number): string => ((dots * 25.4) / 180).toFixed(1);

function markWidth(m: BitmapMark): number {
  return m.density === 360 ? Math.ceil(m.bitmap.width / 2) : m.bitmap.width;
}

function textWidth(m: TextMark): number {
  const last = m.cells.at(-1);
  return last ? last.dx + last.width : 0;
}

/** What one item's layout needs: the options plus the page width (room for text without maxWidthMm). */
type ItemOptions = LayoutOptions & { pageWidthDots: number };

async function layoutItem(item: DocumentItem, opts: ItemOptions): Promise<{ marks: Mark[]; box: Box }> {
  switch (item.type) {
    case 'text':
      return layoutText(item, opts);
    case 'textbox':
      return layoutTextBox(item, opts);
    case 'line': {
      const t = Math.max(1, mmToDots(item.thicknessMm ?? 0.3));
      const [x1, y1, x2, y2] = [item.x1Mm, item.y1Mm, item.x2Mm, item.y2Mm].map(mmToDots) as [
        number,
        number,
        number,
        number,
      ];
      // drawLine centres the stroke on the line: the bitmap starts half a stroke before it.
      const half = Math.floor((t - 1) / 2);
      const x = Math.min(x1, x2) - half;
      const y = Math.min(y1, y2) - half;
      const bmp = new Bitmap(Math.abs(x2 - x1) + t, Math.abs(y2 - y1) + t);
      drawLine(bmp, x1 - x, y1 - y, x2 - x, y2 - y, t);
      return bitmapAt(bmp, x, y);
    }
    case 'box': {
      const t = Math.max(1, mmToDots(item.thicknessMm ?? 0.3));
      const w = mmToDots(item.widthMm);
      const h = mmToDots(item.heightMm);
      const bmp = new Bitmap(w, h);
      bmp.fillRect(0, 0, w, t);
      bmp.fillRect(0, h - t, w, t);
      bmp.fillRect(0, 0, t, h);
      bmp.fillRect(w - t, 0, t, h);
      return bitmapAt(bmp, mmToDots(item.xMm), mmToDots(item.yMm));
    }
    case 'image':
      return layoutImage(item);
    case 'barcode': {
      const bmp = await barcodeToBitmap(
        item.symbology ?? 'code128',
        item.data,
        mmToDots(item.widthMm),
        mmToDots(item.heightMm),
      );
      return bitmapAt(bmp, mmToDots(item.xMm), mmToDots(item.yMm));
    }
    case 'table':
      return layoutTable(item, opts);
    case 'qr': {
      const side = mmToDots(item.sizeMm);
      return bitmapAt(
        await barcodeToBitmap('qrcode', item.data, side, side),
        mmToDots(item.xMm),
        mmToDots(item.yMm),
      );
    }
  }
}

/** A table is cells (text boxes, wrapped within the cell) and rules; a cell that fails names its row and column. */
async function layoutTable(t: TableItem, opts: LayoutOptions): Promise<{ marks: Mark[]; box: Box }> {
  const pad = t.paddingMm ?? 1;
  const widthMm = t.columnsMm.reduce((a, b) => a + b, 0);
  const heightMm = t.rows.length * t.rowHeightMm;
  const marks: Mark[] = [];
  for (const [r, row] of t.rows.entries()) {
    if (row.length > t.columnsMm.length) {
      throw new LayoutError(
        `/rows/${r}`,
        `row ${r} has ${row.length} cells but the table has ${t.columnsMm.length} columns`,
      );
    }
    let x = t.xMm;
    for (const [c, text] of row.entries()) {
      const w = t.columnsMm[c] ?? 0;
      if (text !== '') {
        try {
          const cell = await layoutTextBox(
            {
              type: 'textbox',
              xMm: x + pad,
              yMm: t.yMm + r * t.rowHeightMm + pad,
              widthMm: Math.max(0.1, w - 2 * pad),
              heightMm: Math.max(0.1, t.rowHeightMm - 2 * pad),
              text,
              sizePt: t.sizePt ?? 10.5,
              bold: (t.boldFirstRow ?? false) && r === 0,
              overflow: t.overflow ?? 'error',
            },
            opts,
          );
          marks.push(...cell.marks);
        } catch (err) {
          if (err instanceof LayoutError)
            throw new LayoutError(`/rows/${r}/${c}`, `cell (${r}, ${c}): ${err.message}`);
          throw err;
        }
      }
      x += w;
    }
  }
  const x0 = mmToDots(t.xMm);
  const y0 = mmToDots(t.yMm);
  const w = mmToDots(widthMm);
  const h = mmToDots(heightMm);
  if (t.borders ?? true) {
    const th = Math.max(1, mmToDots(t.thicknessMm ?? 0.3));
    const grid = new Bitmap(w + th, h + th);
    for (let r = 0; r <= t.rows.length; r++) grid.fillRect(0, mmToDots(r * t.rowHeightMm), w + th, th);
    let cx = 0;
    for (let c = 0; c <= t.columnsMm.length; c++) {
      grid.fillRect(mmToDots(cx), 0, th, h + th);
      cx += t.columnsMm[c] ?? 0;
    }
    marks.push({ kind: 'bitmap', x: x0, y: y0, bitmap: grid });
  }
  return { marks, box: { x: x0, y: y0, w, h } };
}

function bitmapAt(bitmap: Bitmap, x: number, y: number): { marks: Mark[]; box: Box } {
  return { marks: [{ kind: 'bitmap', x, y, bitmap }], box: { x, y, w: bitmap.width, h: bitmap.height } };
}

async function layoutImage(item: ImageItem): Promise<{ marks: Mark[]; box: Box }> {
  const data = Buffer.from(item.data, 'base64');
  if (data.length === 0) throw new LayoutError('/data', 'the image data is not base64');
  const fine = item.density === 360;
  const w = mmToDots(item.widthMm);
  const bmp = await imageToBitmap(
    data,
    fine ? w * 2 : w,
    item.heightMm === undefined ? undefined : mmToDots(item.heightMm),
    {
      threshold: item.threshold ?? 128,
      dither: item.dither ?? true,
    },
  );
  if (!fine) return bitmapAt(bmp, mmToDots(item.xMm), mmToDots(item.yMm));
  const x = mmToDots(item.xMm);
  const y = mmToDots(item.yMm);
  return { marks: [{ kind: 'bitmap', x, y, bitmap: bmp, density: 360 }], box: { x, y, w, h: bmp.height } };
}

// ---- text ----

interface Style {
  bold: boolean;
  doubleWidth: boolean;
  /** Em size in dots for bitmap text; undefined: ROM characters. */
  bitmapPx?: number;
}

const isRomSize = (pt: number): boolean => pt >= ROM_PT_MIN && pt <= ROM_PT_MAX;

function fontsFor(style: Style, opts: LayoutOptions): GlyphFont[] {
  return style.bold ? opts.fonts.bold : opts.fonts.regular;
}

/** Width of `text` in dots in this style (ROM widths are fixed per character class). */
async function measure(text: string, style: Style, opts: LayoutOptions): Promise<number> {
  if (style.bitmapPx !== undefined)
    return text === '' ? 0 : (await renderText(text, fontsFor(style, opts), style.bitmapPx)).width;
  const k = style.doubleWidth ? 2 : 1;
  let w = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    w += (cp >= 0x20 && cp <= 0x7e ? opts.profile.latinAdvance : cjkAdvance(opts.profile)) * k;
  }
  return w;
}

function lineHeight(style: Style, opts: LayoutOptions): number {
  return style.bitmapPx === undefined ? opts.profile.cellHeight : Math.ceil(style.bitmapPx * 1.2);
}

function linePitch(style: Style, opts: LayoutOptions): number {
  return style.bitmapPx === undefined ? cjkAdvance(opts.profile) : Math.ceil(style.bitmapPx * 1.4);
}

/** One line of text as a mark at (x, y). */
async function lineMark(
  text: string,
  x: number,
  y: number,
  style: Style,
  opts: LayoutOptions,
): Promise<Mark> {
  if (style.bitmapPx !== undefined) {
    const bitmap = await renderText(text, fontsFor(style, opts), style.bitmapPx);
    return { kind: 'bitmap', x, y, bitmap };
  }
  const k = style.doubleWidth ? 2 : 1;
  const cells: TextCell[] = [];
  let dx = 0;
  for (const ch of text) {
    const route = routeChar(ch, opts.profile);
    if (route.kind === 'latin') {
      const width = opts.profile.latinAdvance * k;
      cells.push({ ch, dx, width, rom: { cjk: false, bytes: Buffer.from([route.byte]) } });
      dx += width;
    } else {
      const width = cjkAdvance(opts.profile) * k;
      if (route.kind === 'cjk') cells.push({ ch, dx, width, rom: { cjk: true, bytes: route.bytes } });
      else {
        const h = opts.profile.cellHeight;
        const glyph = await renderCell(ch, fontsFor(style, opts), h * k, h);
        const cell = new Bitmap(width, h);
        cell.blit(glyph, 0, 0);
        cells.push({ ch, dx, width, glyph: cell });
      }
      dx += width;
    }
  }
  return { kind: 'text', x, y, bold: style.bold, doubleWidth: style.doubleWidth, cells };
}

/** Greedy line breaking: Latin words stay whole when they fit, Chinese breaks between any characters. */
async function wrap(text: string, room: number, style: Style, opts: LayoutOptions): Promise<string[]> {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    const tokens = para.match(/[\x21-\x7e]+ *| +|[^\x20-\x7e]/gu) ?? [''];
    let line = '';
    for (const token of tokens) {
      const candidate = line + token;
      if ((await measure(candidate.trimEnd(), style, opts)) <= room) {
        line = candidate;
        continue;
      }
      if (line !== '') lines.push(line.trimEnd());
      line = '';
      // A token wider than the room is broken between characters.
      for (const ch of token) {
        if (line !== '' && (await measure((line + ch).trimEnd(), style, opts)) > room) {
          lines.push(line.trimEnd());
          line = '';
        }
        line += ch;
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

async function layoutLines(
  lines: string[],
  x: number,
  y: number,
  style: Style,
  opts: LayoutOptions,
): Promise<{ marks: Mark[]; box: Box }> {
  const pitch = linePitch(style, opts);
  const marks: Mark[] = [];
  let w = 0;
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    const m = await lineMark(line, x, y + i * pitch, style, opts);
    w = Math.max(w, m.kind === 'bitmap' ? m.bitmap.width : textWidth(m));
    marks.push(m);
  }
  const h = lines.length === 0 ? 0 : (lines.length - 1) * pitch + lineHeight(style, opts);
  return { marks, box: { x, y, w, h } };
}

async function layoutText(item: TextItem, opts: ItemOptions): Promise<{ marks: Mark[]; box: Box }> {
  const x = mmToDots(item.xMm);
  const y = mmToDots(item.yMm);
  const sizePt = item.sizePt ?? 10.5;
  const style: Style = {
    bold: item.bold ?? false,
    doubleWidth: item.doubleWidth ?? false,
    ...(isRomSize(sizePt) ? {} : { bitmapPx: Math.round(ptToDots(sizePt)) }),
  };
  const lines = item.text.split('\n');
  const overflow = item.overflow ?? 'error';
  if (item.maxWidthMm === undefined && overflow === 'error') return layoutLines(lines, x, y, style, opts);
  // Without maxWidthMm the room ends at the page edge or at the carriage's reach, whichever comes first.
  const reach = Math.min(opts.pageWidthDots, opts.profile.maxLineDots - mmToDots(opts.calibration.xMm));
  const room = item.maxWidthMm === undefined ? reach - x : mmToDots(item.maxWidthMm);
  const widest = Math.max(...(await Promise.all(lines.map((l) => measure(l, style, opts)))));
  if (widest <= room) return layoutLines(lines, x, y, style, opts);
  if (overflow === 'error') {
    throw new LayoutError(
      '/text',
      `the text is ${mmOf(widest)} mm wide but has ${mmOf(room)} mm (set overflow to "shrink" or "wrap")`,
    );
  }
  if (overflow === 'wrap') return layoutLines(await wrap(item.text, room, style, opts), x, y, style, opts);
  return shrinkToFit(
    lines,
    x,
    y,
    style,
    opts,
    async (s) => Math.max(...(await Promise.all(lines.map((l) => measure(l, s, opts))))) <= room,
  );
}

/** Re-sets the text as a bitmap at falling sizes until `fits`; refuses below a legible size. */
async function shrinkToFit(
  lines: string[],
  x: number,
  y: number,
  style: Style,
  opts: LayoutOptions,
  fits: (s: Style) => Promise<boolean>,
  relayout?: (s: Style) => Promise<string[]>,
): Promise<{ marks: Mark[]; box: Box }> {
  let px = style.bitmapPx ?? opts.profile.cellHeight;
  for (;;) {
    px = Math.floor(px * 0.9);
    if (px < MIN_SHRINK_DOTS)
      throw new LayoutError('/text', 'the text does not fit even at the smallest legible size');
    const s: Style = { ...style, doubleWidth: false, bitmapPx: px };
    const ls = relayout ? await relayout(s) : lines;
    if (await fits(s)) return layoutLines(ls, x, y, s, opts);
  }
}

async function layoutTextBox(item: TextBoxItem, opts: LayoutOptions): Promise<{ marks: Mark[]; box: Box }> {
  const x = mmToDots(item.xMm);
  const y = mmToDots(item.yMm);
  const w = mmToDots(item.widthMm);
  const h = mmToDots(item.heightMm);
  const sizePt = item.sizePt ?? 10.5;
  const style: Style = {
    bold: item.bold ?? false,
    doubleWidth: false,
    ...(isRomSize(sizePt) ? {} : { bitmapPx: Math.round(ptToDots(sizePt)) }),
  };
  const height = (n: number, s: Style) => (n === 0 ? 0 : (n - 1) * linePitch(s, opts) + lineHeight(s, opts));
  const lines = await wrap(item.text, w, style, opts);
  if (height(lines.length, style) <= h) {
    const placed = await layoutLines(lines, x, y, style, opts);
    return { marks: placed.marks, box: { x, y, w, h } };
  }
  if ((item.overflow ?? 'error') === 'error') {
    throw new LayoutError(
      '/text',
      `the text needs ${lines.length} lines (${mmOf(height(lines.length, style))} mm) but the box is ${item.heightMm} mm high (set overflow to "shrink")`,
    );
  }
  const placed = await shrinkToFit(
    lines,
    x,
    y,
    style,
    opts,
    async (s) => height((await wrap(item.text, w, s, opts)).length, s) <= h,
    (s) => wrap(item.text, w, s, opts),
  );
  return { marks: placed.marks, box: { x, y, w, h } };
}
