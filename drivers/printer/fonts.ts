// Fonts for what the printer ROM cannot print: Noto Sans Hans (npm `@embedpdf/fonts-sc`, OFL) first, then
// any extra font files the install lists (Debian's fonts-hanazono covers CJK extension B, e.g. 𠀀). A font is
// chosen per character by its cmap, so a missing glyph is an error, never a tofu box or a `?`.
import { openSync, readSync, closeSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface GlyphFont {
  file: string;
  /** The family name fontconfig knows the file by. */
  family: string;
  /** Inclusive code point ranges with a glyph. */
  ranges: [number, number][];
}

export interface FontSpec {
  file: string;
  family: string;
}

const notoDir = (): string =>
  join(dirname(createRequire(import.meta.url).resolve('@embedpdf/fonts-sc')), '..', 'fonts');

export function notoFonts(): { regular: FontSpec; bold: FontSpec } {
  const dir = notoDir();
  return {
    regular: { file: join(dir, 'NotoSansHans-Regular.otf'), family: 'Noto Sans S Chinese' },
    bold: { file: join(dir, 'NotoSansHans-Bold.otf'), family: 'Noto Sans S Chinese Bold' },
  };
}

/** Fallbacks used when present: Debian fonts-hanazono (extension A and B). */
export const DEFAULT_FALLBACK_FONTS: FontSpec[] = [
  { file: '/usr/share/fonts/truetype/hanazono/HanaMinA.ttf', family: 'HanaMinA' },
  { file: '/usr/share/fonts/truetype/hanazono/HanaMinB.ttf', family: 'HanaMinB' },
];

const loaded = new Map<string, GlyphFont>();

/** Reads the font's cmap once; fonts whose file is missing are left out. */
export function loadFonts(specs: FontSpec[]): GlyphFont[] {
  const out: GlyphFont[] = [];
  for (const spec of specs) {
    let font = loaded.get(spec.file);
    if (!font) {
      if (!existsSync(spec.file)) continue;
      font = { ...spec, ranges: readCmapRanges(spec.file) };
      loaded.set(spec.file, font);
    }
    out.push(font);
  }
  return out;
}

export function covers(font: GlyphFont, cp: number): boolean {
  let lo = 0;
  let hi = font.ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = font.ranges[mid] as [number, number];
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** The first font with a glyph for `ch`. */
export function fontFor(fonts: GlyphFont[], ch: string): GlyphFont | undefined {
  const cp = ch.codePointAt(0) ?? 0;
  return fonts.find((f) => covers(f, cp));
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  readSync(fd, buf, 0, length, offset);
  return buf;
}

/** Code point ranges from the font's Unicode cmap subtable (format 12 preferred, else format 4). */
function readCmapRanges(file: string): [number, number][] {
  const fd = openSync(file, 'r');
  try {
    const head = readAt(fd, 0, 12);
    const numTables = head.readUInt16BE(4);
    const dir = readAt(fd, 12, numTables * 16);
    let cmapOffset = -1;
    let cmapLength = 0;
    for (let i = 0; i < numTables; i++) {
      if (dir.toString('latin1', i * 16, i * 16 + 4) === 'cmap') {
        cmapOffset = dir.readUInt32BE(i * 16 + 8);
        cmapLength = dir.readUInt32BE(i * 16 + 12);
      }
    }
    if (cmapOffset < 0) return [];
    const cmap = readAt(fd, cmapOffset, cmapLength);
    const n = cmap.readUInt16BE(2);
    let best: { format: number; offset: number } | undefined;
    for (let i = 0; i < n; i++) {
      const platform = cmap.readUInt16BE(4 + i * 8);
      const encoding = cmap.readUInt16BE(6 + i * 8);
      const offset = cmap.readUInt32BE(8 + i * 8);
      const format = cmap.readUInt16BE(offset);
      const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
      if (!unicode || (format !== 4 && format !== 12)) continue;
      if (!best || (format === 12 && best.format === 4)) best = { format, offset };
    }
    if (!best) return [];
    return best.format === 12 ? format12(cmap, best.offset) : format4(cmap, best.offset);
  } finally {
    closeSync(fd);
  }
}

function format12(cmap: Buffer, at: number): [number, number][] {
  const groups = cmap.readUInt32BE(at + 12);
  const out: [number, number][] = [];
  for (let i = 0; i < groups; i++) {
    out.push([cmap.readUInt32BE(at + 16 + i * 12), cmap.readUInt32BE(at + 20 + i * 12)]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function format4(cmap: Buffer, at: number): [number, number][] {
  const segs = cmap.readUInt16BE(at + 6) / 2;
  const ends = at + 14;
  const starts = ends + segs * 2 + 2;
  const out: [number, number][] = [];
  for (let i = 0; i < segs; i++) {
    const start = cmap.readUInt16BE(starts + i * 2);
    const end = cmap.readUInt16BE(ends + i * 2);
    if (start !== 0xffff) out.push([start, end]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}
