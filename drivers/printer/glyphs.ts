// Draws text into a Bitmap with sharp (pango) and the chosen fonts: for characters the ROM lacks, for text
// at sizes the ROM does not have, and for the preview of ROM characters. Results are cached per string.
import { loadSharp } from './lazy-modules.js';
import { Bitmap } from './bitmap.js';
import { fontFor, type GlyphFont } from './fonts.js';
import { DPI } from './units.js';

/** A character no configured font has a glyph for. */
export class UnprintableCharacterError extends Error {
  override name = 'UnprintableCharacterError';
  constructor(readonly char: string) {
    super(
      `no printer ROM glyph and no font glyph for "${char}" (U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase()})`,
    );
  }
}

const cache = new Map<string, Promise<Bitmap>>();
const CACHE_LIMIT = 4000;

const escapeMarkup = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One run of text in one font, as rendered by pango: width = its advance, height = the line height. */
function renderRun(text: string, font: GlyphFont, sizePx: number): Promise<Bitmap> {
  const key = `${font.file}\0${sizePx}\0${text}`;
  let hit = cache.get(key);
  if (!hit) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    hit = (async () => {
      const pt = (sizePx * 72) / DPI;
      const sharp = await loadSharp();
      const { data, info } = await sharp({
        text: {
          text: escapeMarkup(text),
          fontfile: font.file,
          font: `${font.family} ${pt.toFixed(2)}`,
          dpi: DPI,
        },
      })
        .extractChannel(0)
        .raw()
        .toBuffer({ resolveWithObject: true });
      // sharp's text image is the ink as white on black.
      const bmp = new Bitmap(info.width, info.height);
      for (let i = 0; i < bmp.pixels.length; i++) if ((data[i] ?? 0) >= 128) bmp.pixels[i] = 1;
      return bmp;
    })();
    cache.set(key, hit);
  }
  return hit;
}

/** Splits text into runs that one font covers; throws UnprintableCharacterError for a character none has. */
export function fontRuns(text: string, fonts: GlyphFont[]): { text: string; font: GlyphFont }[] {
  const runs: { text: string; font: GlyphFont }[] = [];
  for (const ch of text) {
    const font = ch === ' ' ? (runs.at(-1)?.font ?? fonts[0]) : fontFor(fonts, ch);
    if (!font) throw new UnprintableCharacterError(ch);
    const last = runs.at(-1);
    if (last && last.font === font) last.text += ch;
    else runs.push({ text: ch, font });
  }
  return runs;
}

/** Text on one line at an em size of `sizePx` dots; runs in different fonts are set side by side. */
export async function renderText(text: string, fonts: GlyphFont[], sizePx: number): Promise<Bitmap> {
  const parts = await Promise.all(fontRuns(text, fonts).map((r) => renderRun(r.text, r.font, sizePx)));
  const width = parts.reduce((w, p) => w + p.width, 0);
  const height = Math.max(1, ...parts.map((p) => p.height));
  const out = new Bitmap(Math.max(1, width), height);
  let x = 0;
  for (const p of parts) {
    out.blit(p, x, 0);
    x += p.width;
  }
  return out;
}

/** One character drawn into a fixed cell (`w`×`h` dots), centred horizontally, scaled down if it is wider. */
export function renderCell(ch: string, fonts: GlyphFont[], w: number, h: number): Promise<Bitmap> {
  const key = `cell\0${fonts.map((f) => f.file).join('|')}\0${w}x${h}\0${ch}`;
  let hit = cache.get(key);
  if (!hit) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    hit = drawCell(ch, fonts, w, h);
    cache.set(key, hit);
  }
  return hit;
}

async function drawCell(ch: string, fonts: GlyphFont[], w: number, h: number): Promise<Bitmap> {
  const glyph = await renderText(ch, fonts, h);
  const out = new Bitmap(w, h);
  if (glyph.width <= w && glyph.height <= h) {
    out.blit(glyph, Math.floor((w - glyph.width) / 2), Math.floor((h - glyph.height) / 2));
    return out;
  }
  const scale = Math.min(w / glyph.width, h / glyph.height);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const gx = Math.floor((x - (w - glyph.width * scale) / 2) / scale);
      const gy = Math.floor((y - (h - glyph.height * scale) / 2) / scale);
      if (glyph.get(gx, gy)) out.set(x, y);
    }
  }
  return out;
}
