// What a layout produces: marks on the printer's 180 dpi grid (runs of ROM text, one-bit bitmaps), the
// options every element is laid out with, and the error that names the element a document cannot have.
import type { Bitmap } from './bitmap.js';
import type { GlyphFont } from './fonts.js';
import type { PrinterProfile } from './profile.js';
import { dotsToMm } from './units.js';

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

/** What one item's layout needs: the options plus the page width (room for text without maxWidthMm). */
export type ItemOptions = LayoutOptions & { pageWidthDots: number };

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

/** The area an item takes on the page, in dots: checked against the page before anything is printed. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One laid-out item: its marks and the area it claims. */
export interface Placed {
  marks: Mark[];
  box: Box;
}

export function bitmapAt(bitmap: Bitmap, x: number, y: number): Placed {
  return { marks: [{ kind: 'bitmap', x, y, bitmap }], box: { x, y, w: bitmap.width, h: bitmap.height } };
}

/** Width in 1/180" dots: a 360 dpi bitmap's columns are half dots; a text run ends at its last cell. */
export function markWidth(m: Mark): number {
  if (m.kind === 'bitmap') return m.density === 360 ? Math.ceil(m.bitmap.width / 2) : m.bitmap.width;
  const last = m.cells.at(-1);
  return last ? last.dx + last.width : 0;
}

/** Dots as millimetres with one decimal, for messages. */
export const mmOf = (dots: number): string => dotsToMm(dots).toFixed(1);
