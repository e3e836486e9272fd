// Text items and text boxes: where their room ends, and what happens when the text does not fit it
// (refused, wrapped, or shrunk to a smaller bitmap size).
import type { TextBoxItem, TextItem } from './document.js';
import { LayoutError, mmOf, type ItemOptions, type LayoutOptions, type Placed } from './layout-marks.js';
import { layoutLines, linesHeight, measure, styleFor, wrap, type Style } from './layout-text-lines.js';
import { mmToDots } from './units.js';

/** Below this em size (dots) shrunk text is no longer legible: the document is refused instead. */
const MIN_SHRINK_DOTS = 12;

export async function layoutText(item: TextItem, opts: ItemOptions): Promise<Placed> {
  const x = mmToDots(item.xMm);
  const y = mmToDots(item.yMm);
  const style = styleFor(item.sizePt ?? 10.5, item.bold ?? false, item.doubleWidth ?? false);
  const lines = item.text.split('\n');
  const overflow = item.overflow ?? 'error';
  if (item.maxWidthMm === undefined && overflow === 'error') return layoutLines(lines, x, y, style, opts);
  // Without maxWidthMm the room ends at the page edge or at the carriage's reach, whichever comes first.
  const reach = Math.min(opts.pageWidthDots, opts.profile.maxLineDots - mmToDots(opts.calibration.xMm));
  const room = item.maxWidthMm === undefined ? reach - x : mmToDots(item.maxWidthMm);
  const widest = async (s: Style): Promise<number> =>
    Math.max(...(await Promise.all(lines.map((l) => measure(l, s, opts)))));
  const width = await widest(style);
  if (width <= room) return layoutLines(lines, x, y, style, opts);
  if (overflow === 'error') {
    throw new LayoutError(
      '/text',
      `the text is ${mmOf(width)} mm wide but has ${mmOf(room)} mm (set overflow to "shrink" or "wrap")`,
    );
  }
  if (overflow === 'wrap') return layoutLines(await wrap(item.text, room, style, opts), x, y, style, opts);
  return shrinkToFit(lines, x, y, style, opts, async (s) => (await widest(s)) <= room);
}

export async function layoutTextBox(item: TextBoxItem, opts: LayoutOptions): Promise<Placed> {
  const x = mmToDots(item.xMm);
  const y = mmToDots(item.yMm);
  const w = mmToDots(item.widthMm);
  const h = mmToDots(item.heightMm);
  const style = styleFor(item.sizePt ?? 10.5, item.bold ?? false, false);
  const lines = await wrap(item.text, w, style, opts);
  const needed = linesHeight(lines.length, style, opts);
  if (needed <= h) {
    const placed = await layoutLines(lines, x, y, style, opts);
    return { marks: placed.marks, box: { x, y, w, h } };
  }
  if ((item.overflow ?? 'error') === 'error') {
    throw new LayoutError(
      '/text',
      `the text needs ${lines.length} lines (${mmOf(needed)} mm) but the box is ${item.heightMm} mm high (set overflow to "shrink")`,
    );
  }
  const placed = await shrinkToFit(
    lines,
    x,
    y,
    style,
    opts,
    async (s) => linesHeight((await wrap(item.text, w, s, opts)).length, s, opts) <= h,
    (s) => wrap(item.text, w, s, opts),
  );
  return { marks: placed.marks, box: { x, y, w, h } };
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
): Promise<Placed> {
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
