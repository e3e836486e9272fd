// Page layout → ESC/P byte stream for a 24-pin printer. The paper only moves forward, so every mark is cut
// into rows (text runs, 24-dot bit image bands) and sent top to bottom, left to right, with absolute
// horizontal positions and exact n/180" feeds.
import * as cmd from './escp.js';
import type { Bitmap } from './bitmap.js';
import type { PageLayout, TextMark } from './layout.js';
import type { PrinterProfile } from './profile.js';

interface Row {
  y: number;
  x: number;
  bytes: Buffer[];
}

export function encodePage(layout: PageLayout, profile: PrinterProfile): Buffer {
  // One ESC @ per job (a printer or simulator may take it as the start of a job); copies repeat the page.
  const page = Buffer.concat([...rows(layout), cmd.CR_FF]);
  return Buffer.concat([
    ...setup(layout.heightDots, profile),
    ...Array.from({ length: layout.copies }, () => page),
  ]);
}

/** Reset, letter quality, page length, Chinese character spacing. */
function setup(heightDots: number, profile: PrinterProfile): Buffer[] {
  const out: Buffer[] = [cmd.RESET, cmd.letterQuality];
  if (profile.escp2) {
    // ESC ( U: unit 20/3600" = 1/180"; ESC ( C: page length in that unit.
    out.push(
      Buffer.from([cmd.ESC, 0x28, 0x55, 1, 0, 20]),
      Buffer.from([cmd.ESC, 0x28, 0x43, 2, 0, heightDots & 0xff, heightDots >> 8]),
    );
  } else {
    // ESC C counts lines at the current spacing (at most 127): pick the spacing that comes closest.
    let best = { n: 255, lines: 1, err: Infinity };
    for (let n = 17; n <= 255; n++) {
      const lines = Math.min(127, Math.max(1, Math.round(heightDots / n)));
      const err = Math.abs(lines * n - heightDots);
      if (err < best.err) best = { n, lines, err };
    }
    out.push(cmd.lineSpacing(best.n), Buffer.from([cmd.ESC, 0x43, best.lines]));
  }
  out.push(
    cmd.lineSpacing(profile.cellHeight + profile.cjkSpaceRight),
    cmd.chineseSpacing(0, profile.cjkSpaceRight),
  );
  return out;
}

function rows(layout: PageLayout): Buffer[] {
  const all: Row[] = [];
  for (const m of layout.marks) {
    if (m.kind === 'text') all.push({ y: m.y, x: m.x, bytes: textBytes(m) });
    else {
      for (let top = 0; top < m.bitmap.height; top += 24) {
        if (m.density === 360) {
          all.push(...fineBand(m.bitmap, m.x, m.y, top));
          continue;
        }
        // Each stretch of ink is its own ESC * 39: blank columns cost 3 bytes each, a new command ~13.
        for (const [x0, x1] of inkRuns(m.bitmap, top)) {
          all.push({
            y: m.y + top,
            x: m.x + x0,
            bytes: [cmd.bitImageHeader(cmd.BIT_IMAGE_24_180, x1 - x0), m.bitmap.band24(top, x0, x1)],
          });
        }
      }
    }
  }
  all.sort((a, b) => a.y - b.y || a.x - b.x);
  const out: Buffer[] = [];
  let y = 0;
  for (let i = 0; i < all.length;) {
    const rowY = (all[i] as Row).y;
    for (let d = rowY - y; d > 0; d -= cmd.MAX_FEED) out.push(cmd.feed(Math.min(d, cmd.MAX_FEED)));
    y = rowY;
    for (; i < all.length && (all[i] as Row).y === rowY; i++) {
      const r = all[i] as Row;
      out.push(...moveTo(r.x), ...r.bytes);
    }
    out.push(CR);
  }
  return out;
}

const CR = Buffer.from([cmd.CR]);

/** ESC $ reaches 1/60"; the rest (0–2 dots) is a relative ESC \ move in 1/180". */
function moveTo(x: number): Buffer[] {
  const coarse = Math.floor(x / 3);
  const fine = x - coarse * 3;
  return fine === 0 ? [cmd.absoluteX(coarse)] : [cmd.absoluteX(coarse), cmd.relativeX(fine)];
}

/**
 * One band at 360 dpi (ESC * 40): a pass may not put dots in adjacent columns, so the even columns go in one
 * pass and the odd ones in a second pass over the same place.
 */
function fineBand(bmp: Bitmap, x: number, y: number, top: number): Row[] {
  const rows: Row[] = [];
  for (const parity of [0, 1]) {
    const data = bmp.band24(top);
    for (let c = 0; c < bmp.width; c++) if (c % 2 !== parity) data.fill(0, c * 3, c * 3 + 3);
    if (!data.some((b) => b !== 0)) continue;
    rows.push({ y: y + top, x, bytes: [cmd.bitImageHeader(cmd.BIT_IMAGE_24_360, bmp.width), data] });
  }
  return rows;
}

/** Blank columns worth skipping with a move instead of sending them as zeros. */
const MIN_GAP = 8;

/** Column ranges [start, end) of the band `top..top+23` that hold ink, split at gaps of MIN_GAP or more. */
function inkRuns(
  bmp: { width: number; get(x: number, y: number): boolean },
  top: number,
): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  let lastInk = -1;
  for (let x = 0; x < bmp.width; x++) {
    let ink = false;
    for (let pin = 0; pin < 24 && !ink; pin++) ink = bmp.get(x, top + pin);
    if (!ink) continue;
    if (start >= 0 && x - lastInk - 1 >= MIN_GAP) {
      runs.push([start, lastInk + 1]);
      start = -1;
    }
    if (start < 0) start = x;
    lastInk = x;
  }
  if (start >= 0) runs.push([start, lastInk + 1]);
  return runs;
}

function textBytes(m: TextMark): Buffer[] {
  const out: Buffer[] = [];
  if (m.bold) out.push(cmd.boldOn);
  if (m.doubleWidth) out.push(cmd.doubleWidth(true));
  let cjk = false;
  for (const cell of m.cells) {
    if (cell.rom?.cjk) {
      if (!cjk) out.push(cmd.chineseOn);
      cjk = true;
      out.push(cell.rom.bytes);
      continue;
    }
    if (cjk) out.push(cmd.chineseOff);
    cjk = false;
    if (cell.rom) out.push(cell.rom.bytes);
    else if (cell.glyph) out.push(cmd.bitImageHeader(cmd.BIT_IMAGE_24_180, cell.width), cell.glyph.band24(0));
  }
  if (cjk) out.push(cmd.chineseOff);
  if (m.doubleWidth) out.push(cmd.doubleWidth(false));
  if (m.bold) out.push(cmd.boldOff);
  return out;
}
