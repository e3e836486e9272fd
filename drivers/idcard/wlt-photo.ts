// What the vendors' WLT decoders hand back, made into plain RGB: the card photo is 102×126, written either
// as 38 556 bytes of raw pixels (BGR, rows bottom-up as in a BMP, unless the vendor says otherwise) or as
// a whole 38 862-byte BMP file (54-byte header, rows padded to 4 bytes).

export const PHOTO_WIDTH = 102;
export const PHOTO_HEIGHT = 126;
/** Raw pixels, no padding: 102 × 126 × 3. */
export const PIXEL_BYTES = PHOTO_WIDTH * PHOTO_HEIGHT * 3;
const BMP_HEADER_BYTES = 54;
const BMP_ROW_BYTES = Math.ceil((PHOTO_WIDTH * 3) / 4) * 4;
/** A whole 24-bit BMP file of the photo: 54 + 308 × 126. */
export const BMP_BYTES = BMP_HEADER_BYTES + BMP_ROW_BYTES * PHOTO_HEIGHT;

export interface PixelLayout {
  rowOrder: 'bottom-up' | 'top-down';
  colour: 'bgr' | 'rgb';
}

/** The decoder's output did not hold a photo (wrong size, a BMP of another shape). */
export class PhotoLayoutError extends Error {
  override name = 'PhotoLayoutError';
}

/**
 * RGB pixels, rows top-down, from what the decoder wrote into its output buffer. A buffer starting with a
 * BMP header is read by that header (its own row order, always BGR); anything else is raw pixels laid out
 * as `layout` says.
 */
export function photoToRgb(out: Buffer, layout: PixelLayout): Buffer {
  if (isBmp(out)) return bmpToRgb(out);
  if (out.length < PIXEL_BYTES) {
    throw new PhotoLayoutError(`the decoder wrote ${out.length} bytes; a photo needs ${PIXEL_BYTES}`);
  }
  return reorder(out, 0, PHOTO_WIDTH * 3, layout.rowOrder === 'bottom-up', layout.colour === 'bgr');
}

function isBmp(buf: Buffer): boolean {
  return buf.length >= BMP_HEADER_BYTES && buf[0] === 0x42 && buf[1] === 0x4d && buf.readUInt32LE(14) === 40;
}

function bmpToRgb(bmp: Buffer): Buffer {
  const offset = bmp.readUInt32LE(10);
  const width = bmp.readInt32LE(18);
  const height = bmp.readInt32LE(22);
  const bits = bmp.readUInt16LE(28);
  const compression = bmp.readUInt32LE(30);
  if (width !== PHOTO_WIDTH || Math.abs(height) !== PHOTO_HEIGHT || bits !== 24 || compression !== 0) {
    throw new PhotoLayoutError(
      `the decoder wrote a ${width}×${Math.abs(height)} ${bits}-bit BMP (compression ${compression}); ` +
        `a card photo is ${PHOTO_WIDTH}×${PHOTO_HEIGHT} 24-bit`,
    );
  }
  if (bmp.length < offset + BMP_ROW_BYTES * PHOTO_HEIGHT) {
    throw new PhotoLayoutError(`the decoder's BMP is cut short (${bmp.length} bytes)`);
  }
  // A positive height means rows bottom-up (the usual BMP); negative, top-down.
  return reorder(bmp, offset, BMP_ROW_BYTES, height > 0, true);
}

function reorder(src: Buffer, offset: number, stride: number, bottomUp: boolean, bgr: boolean): Buffer {
  const rgb = Buffer.alloc(PIXEL_BYTES);
  for (let y = 0; y < PHOTO_HEIGHT; y++) {
    const from = offset + (bottomUp ? PHOTO_HEIGHT - 1 - y : y) * stride;
    const to = y * PHOTO_WIDTH * 3;
    for (let x = 0; x < PHOTO_WIDTH; x++) {
      const s = from + x * 3;
      const d = to + x * 3;
      rgb[d] = src[bgr ? s + 2 : s]!;
      rgb[d + 1] = src[s + 1]!;
      rgb[d + 2] = src[bgr ? s : s + 2]!;
    }
  }
  return rgb;
}
