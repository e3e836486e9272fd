// A decoded page → PNG at 180 dpi: bit image dots as they are, ROM characters drawn with the glyph fonts into
// their cells, optionally over a scan of the pre-printed form.
import { loadSharp } from './lazy-modules.js';
import { Bitmap } from './bitmap.js';
import type { DecodedPage } from './decoder.js';
import type { GlyphFont } from './fonts.js';
import { renderCell } from './glyphs.js';
import { IMAGE_PIXEL_LIMIT } from './raster-items.js';

export interface PreviewFonts {
  regular: GlyphFont[];
  bold: GlyphFont[];
}

/** All ink on the page as one bitmap: the bit image dots plus the ROM characters. */
export async function pageInk(
  page: DecodedPage,
  fonts: PreviewFonts,
  size = { widthDots: page.widthDots, heightDots: page.heightDots },
): Promise<Bitmap> {
  const ink = new Bitmap(size.widthDots, size.heightDots);
  if (page.dots.width === ink.width) {
    ink.pixels.set(page.dots.pixels.subarray(0, Math.min(page.dots.pixels.length, ink.pixels.length)));
  } else ink.blit(page.dots, 0, 0);
  for (const cell of page.cells) {
    const k = cell.doubleWidth ? 2 : 1;
    const glyphWidth = cell.cjk ? cell.height : cell.width / k;
    const glyph = await renderCell(cell.ch, cell.bold ? fonts.bold : fonts.regular, glyphWidth, cell.height);
    for (let y = 0; y < glyph.height; y++) {
      for (let x = 0; x < glyph.width * k; x++) {
        if (glyph.get(Math.floor(x / k), y)) {
          ink.set(cell.x + x, cell.y + y);
          // ESC E prints each dot twice, a little to the right.
          if (cell.bold) ink.set(cell.x + x + 1, cell.y + y);
        }
      }
    }
  }
  return ink;
}

/** The page as a PNG of `paper` size (the stream's page length may differ from the paper by a dot or two). */
export async function renderPreviewPng(
  page: DecodedPage,
  fonts: PreviewFonts,
  paper: { widthDots: number; heightDots: number },
  background?: Buffer,
): Promise<Buffer> {
  const sharp = await loadSharp();
  const ink = await pageInk(page, fonts, paper);
  const { widthDots: w, heightDots: h } = paper;
  if (!background) {
    const grey = Buffer.alloc(w * h, 255);
    for (let i = 0; i < w * h; i++) if (ink.pixels[i]) grey[i] = 0;
    return sharp(grey, { raw: { width: w, height: h, channels: 1 } })
      .png({ compressionLevel: 6 })
      .withMetadata({ density: 180 })
      .toBuffer();
  }
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) if (ink.pixels[i]) rgba[i * 4 + 3] = 255; // black, opaque where a dot is
  const overlay = { input: rgba, raw: { width: w, height: h, channels: 4 as const } };
  const base = sharp(background, { limitInputPixels: IMAGE_PIXEL_LIMIT })
    .resize(w, h, { fit: 'fill' })
    .flatten({ background: '#ffffff' });
  // Composite in a second pipeline: sharp applies resize after composite otherwise.
  const baseRaw = await base.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return sharp(baseRaw.data, { raw: { width: w, height: h, channels: baseRaw.info.channels } })
    .composite([overlay])
    .png({ compressionLevel: 6 })
    .withMetadata({ density: 180 })
    .toBuffer();
}
