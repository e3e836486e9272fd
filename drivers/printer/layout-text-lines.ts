// Setting lines of text: how wide and high a line is in a style, one line as a mark (ROM cells, glyph cells
// for characters the ROM lacks, or one bitmap at sizes the ROM has not), and greedy line breaking.
import { Bitmap } from './bitmap.js';
import type { GlyphFont } from './fonts.js';
import { routeChar } from './gb18030.js';
import { renderCell, renderText } from './glyphs.js';
import { markWidth, type LayoutOptions, type Mark, type Placed, type TextCell } from './layout-marks.js';
import { cjkAdvance } from './profile.js';
import { ptToDots } from './units.js';

/** ROM characters are one head pass high; sizes this close to it print from ROM, others as bitmaps. */
const ROM_PT_MIN = 9;
const ROM_PT_MAX = 12;

export interface Style {
  bold: boolean;
  doubleWidth: boolean;
  /** Em size in dots for bitmap text; undefined: ROM characters. */
  bitmapPx?: number;
}

/** The style for text at `sizePt`: ROM characters near the ROM's size, a bitmap at any other. */
export function styleFor(sizePt: number, bold: boolean, doubleWidth: boolean): Style {
  const rom = sizePt >= ROM_PT_MIN && sizePt <= ROM_PT_MAX;
  return { bold, doubleWidth, ...(rom ? {} : { bitmapPx: Math.round(ptToDots(sizePt)) }) };
}

function fontsFor(style: Style, opts: LayoutOptions): GlyphFont[] {
  return style.bold ? opts.fonts.bold : opts.fonts.regular;
}

/** Width of `text` in dots in this style (ROM widths are fixed per character class). */
export async function measure(text: string, style: Style, opts: LayoutOptions): Promise<number> {
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

/** Height in dots of `n` lines in this style: the pitch between them, one line's height for the last. */
export function linesHeight(n: number, style: Style, opts: LayoutOptions): number {
  return n === 0 ? 0 : (n - 1) * linePitch(style, opts) + lineHeight(style, opts);
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
export async function wrap(text: string, room: number, style: Style, opts: LayoutOptions): Promise<string[]> {
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

/** Lines one pitch apart from (x, y); empty lines take their place but leave no mark. */
export async function layoutLines(
  lines: string[],
  x: number,
  y: number,
  style: Style,
  opts: LayoutOptions,
): Promise<Placed> {
  const pitch = linePitch(style, opts);
  const marks: Mark[] = [];
  let w = 0;
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    const m = await lineMark(line, x, y + i * pitch, style, opts);
    w = Math.max(w, markWidth(m));
    marks.push(m);
  }
  return { marks, box: { x, y, w, h: linesHeight(lines.length, style, opts) } };
}
