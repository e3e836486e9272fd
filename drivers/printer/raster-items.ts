// Images, barcodes and QR codes to one-bit bitmaps at the printer's resolution, with sharp and bwip-js.
import type { OutputInfo } from 'sharp';
import { loadBwip, loadSharp } from './lazy-modules.js';
import { Bitmap } from './bitmap.js';

/** Input pixel limit for pictures (sharp's decompression-bomb guard): about a 6000×4000 photo. */
export const IMAGE_PIXEL_LIMIT = 24_000_000;

export class BadImageError extends Error {
  override name = 'BadImageError';
}

/** Decodes a PNG/JPEG and scales it to `w`×`h` dots (h undefined: keep the aspect ratio). */
export async function imageToBitmap(
  data: Buffer,
  w: number,
  h: number | undefined,
  opts: { threshold: number; dither: boolean; nearest?: boolean },
): Promise<Bitmap> {
  let grey: { data: Buffer; info: OutputInfo };
  try {
    const sharp = await loadSharp();
    const img = sharp(data, { limitInputPixels: IMAGE_PIXEL_LIMIT, failOn: 'error' });
    const meta = await img.metadata();
    if (meta.format !== 'png' && meta.format !== 'jpeg') {
      throw new BadImageError(`the image is ${meta.format ?? 'of an unknown format'}, not PNG or JPEG`);
    }
    const height = h ?? Math.max(1, Math.round((w * (meta.height ?? 1)) / (meta.width ?? 1)));
    grey = await img
      .flatten({ background: '#ffffff' })
      .resize(w, height, { fit: 'fill', kernel: opts.nearest ? 'nearest' : 'lanczos3' })
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (err instanceof BadImageError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new BadImageError(
      /pixel limit/i.test(msg)
        ? `the image is larger than ${IMAGE_PIXEL_LIMIT} pixels`
        : `not a readable image: ${msg}`,
    );
  }
  const { width, height } = grey.info;
  return opts.dither
    ? dither(grey.data, width, height)
    : Bitmap.fromGrey(grey.data, width, height, opts.threshold);
}

/** Floyd–Steinberg error diffusion: photos keep their tones as dot density. */
function dither(data: Buffer, width: number, height: number): Bitmap {
  const err = new Float32Array(width * height);
  for (let i = 0; i < err.length; i++) err[i] = data[i] ?? 255;
  const bmp = new Bitmap(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const old = err[i] ?? 0;
      const dot = old < 128;
      if (dot) bmp.pixels[i] = 1;
      const e = old - (dot ? 0 : 255);
      if (x + 1 < width) err[i + 1]! += (e * 7) / 16;
      if (y + 1 < height) {
        if (x > 0) err[i + width - 1]! += (e * 3) / 16;
        err[i + width]! += (e * 5) / 16;
        if (x + 1 < width) err[i + width + 1]! += e / 16;
      }
    }
  }
  return bmp;
}

/** A barcode or QR code (bwip-js symbology name) scaled to exactly `w`×`h` dots. */
export async function barcodeToBitmap(bcid: string, text: string, w: number, h: number): Promise<Bitmap> {
  let png: Buffer;
  try {
    const bwipjs = await loadBwip();
    png = await bwipjs.toBuffer({ bcid, text, scale: 2, ...(bcid === 'qrcode' ? {} : { height: 10 }) });
  } catch (err) {
    throw new BadImageError(
      `cannot encode "${text}" as ${bcid}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return imageToBitmap(png, w, h, { threshold: 128, dither: false, nearest: true });
}
