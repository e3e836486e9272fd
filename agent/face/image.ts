// Decoding: any image sharp reads becomes interleaved 8-bit RGB, upright (EXIF orientation applied) and no
// larger than `maxSide`. The pixel limit is checked from the header, before decoding, so a 20 000 × 20 000
// picture costs nothing but the refusal.
import sharp, { type Metadata } from 'sharp';

export interface RgbImage {
  /** Interleaved R, G, B; row-major; no padding. */
  data: Uint8Array;
  width: number;
  height: number;
}

export type ImageErrorReason = 'not-an-image' | 'too-large' | 'corrupt';

export class ImageError extends Error {
  override name = 'ImageError';
  constructor(
    readonly reason: ImageErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface DecodeLimits {
  /** Refuse images with more pixels than this (header check). */
  maxPixels: number;
  /** Downscale larger images so their longer side is this many pixels. */
  maxSide: number;
}

export async function decodeImage(buf: Buffer, limits: DecodeLimits): Promise<RgbImage> {
  if (buf.length === 0) throw new ImageError('not-an-image', 'the image is empty');
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageError('not-an-image', 'not a JPEG, PNG, WebP or other image this box can read');
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > limits.maxPixels) {
    throw new ImageError(
      'too-large',
      `the image is ${meta.width} × ${meta.height} pixels; at most ${limits.maxPixels} pixels are accepted`,
    );
  }
  try {
    // failOn 'truncated': a cut-off JPEG is refused instead of decoded with a grey bottom.
    const { data, info } = await sharp(buf, { limitInputPixels: limits.maxPixels, failOn: 'truncated' })
      .rotate()
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
    };
  } catch (err) {
    throw new ImageError(
      'corrupt',
      `the image could not be decoded (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
    );
  }
}

/** Resizes the whole image to exactly `width` × `height` (aspect not kept), as the detector wants it. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<Uint8Array> {
  const out = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize({ width, height, fit: 'fill' })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
