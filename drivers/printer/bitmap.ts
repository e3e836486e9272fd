// A one-bit raster at the printer's resolution: what lines, boxes, images, barcodes and glyphs the ROM lacks
// become before they are cut into 24-dot bands for `ESC * 39`.

export class Bitmap {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    pixels?: Uint8Array,
  ) {
    this.pixels = pixels ?? new Uint8Array(width * height);
  }

  get(x: number, y: number): boolean {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return false;
    return this.pixels[y * this.width + x] === 1;
  }

  set(x: number, y: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.pixels[y * this.width + x] = 1;
  }

  fillRect(x: number, y: number, w: number, h: number): void {
    const x0 = Math.max(0, x);
    const x1 = Math.min(this.width, x + w);
    for (let yy = Math.max(0, y); yy < Math.min(this.height, y + h); yy++) {
      this.pixels.fill(1, yy * this.width + x0, yy * this.width + Math.max(x0, x1));
    }
  }

  /** ORs `src` onto this bitmap with its top-left at (x, y). */
  blit(src: Bitmap, x: number, y: number): void {
    for (let sy = 0; sy < src.height; sy++) {
      for (let sx = 0; sx < src.width; sx++) if (src.get(sx, sy)) this.set(x + sx, y + sy);
    }
  }

  isBlank(): boolean {
    return !this.pixels.includes(1);
  }

  /** From 8-bit grey (one byte a pixel, 0 = black): dark pixels become dots. */
  static fromGrey(data: Uint8Array, width: number, height: number, threshold = 128): Bitmap {
    const bmp = new Bitmap(width, height);
    for (let i = 0; i < width * height; i++) if ((data[i] ?? 255) < threshold) bmp.pixels[i] = 1;
    return bmp;
  }

  /** Columns of band `top..top+23` as ESC * 39 data: 3 bytes per column, top dot in the high bit. */
  band24(top: number, x0 = 0, x1 = this.width): Buffer {
    const out = Buffer.alloc((x1 - x0) * 3);
    for (let x = x0; x < x1; x++) {
      for (let pin = 0; pin < 24; pin++) {
        if (this.get(x, top + pin)) out[(x - x0) * 3 + (pin >> 3)]! |= 0x80 >> (pin & 7);
      }
    }
    return out;
  }
}

/** A straight line of the given thickness from (x1, y1) to (x2, y2), all in dots. */
export function drawLine(
  bmp: Bitmap,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  thickness: number,
): void {
  const t = Math.max(1, thickness);
  const steps = Math.max(Math.abs(x2 - x1), Math.abs(y2 - y1), 1);
  const half = Math.floor((t - 1) / 2);
  for (let i = 0; i <= steps; i++) {
    const x = Math.round(x1 + ((x2 - x1) * i) / steps);
    const y = Math.round(y1 + ((y2 - y1) * i) / steps);
    bmp.fillRect(x - half, y - half, t, t);
  }
}
