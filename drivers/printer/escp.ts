// ESC/P command bytes for 24-pin printers (Epson LQ class) and the Chinese (FS) extension. Protocol
// constants only: the encoder builds streams from these and the decoder recognises them.
export const ESC = 0x1b;
export const FS = 0x1c;
export const CR = 0x0d;
export const LF = 0x0a;
export const FF = 0x0c;
/** End of page: back to the left margin and eject (top of the next form). */
export const CR_FF = Buffer.from([CR, FF]);

/** `ESC @`: initialise (margins, spacing, modes back to power-on defaults). */
export const RESET = Buffer.from([ESC, 0x40]);
/** `ESC 3 n`: line spacing n/180". */
export const lineSpacing = (n: number): Buffer => Buffer.from([ESC, 0x33, byte(n)]);
/** `ESC J n`: feed the paper n/180" once (no carriage return). */
export const feed = (n: number): Buffer => Buffer.from([ESC, 0x4a, byte(n)]);
/** `ESC C NUL n`: page length n inches. */
export const pageLengthInches = (n: number): Buffer => Buffer.from([ESC, 0x43, 0x00, byte(n)]);
/** `ESC $ nL nH`: absolute horizontal position in 1/60" from the left margin. */
export const absoluteX = (sixtieths: number): Buffer => Buffer.from([ESC, 0x24, ...le16(sixtieths)]);
/** `ESC \ nL nH`: relative horizontal move, 1/180" in LQ mode on 24-pin printers (signed). */
export const relativeX = (dots: number): Buffer => Buffer.from([ESC, 0x5c, ...le16(dots & 0xffff)]);
/** `ESC E` / `ESC F`: bold on / off. */
export const boldOn = Buffer.from([ESC, 0x45]);
export const boldOff = Buffer.from([ESC, 0x46]);
/** `ESC W n`: double width on (1) / off (0). */
export const doubleWidth = (on: boolean): Buffer => Buffer.from([ESC, 0x57, on ? 1 : 0]);
/** `ESC x 1`: letter quality. */
export const letterQuality = Buffer.from([ESC, 0x78, 0x01]);
/** `FS &`: enter Chinese (two-byte) mode; `FS .`: leave it. */
export const chineseOn = Buffer.from([FS, 0x26]);
export const chineseOff = Buffer.from([FS, 0x2e]);
/** `FS S n1 n2`: space left/right of each Chinese character, in 1/180". */
export const chineseSpacing = (left: number, right: number): Buffer =>
  Buffer.from([FS, 0x53, byte(left), byte(right)]);
/** `ESC * 39`: 24-dot, 180 dpi bit image; 3 bytes per column, top pin in the high bit of the first byte. */
export const BIT_IMAGE_24_180 = 39;
/** `ESC * 40`: 24-dot, 360 dpi horizontally; adjacent dots in a row are not allowed (two passes). */
export const BIT_IMAGE_24_360 = 40;
export const bitImageHeader = (mode: number, columns: number): Buffer =>
  Buffer.from([ESC, 0x2a, mode, ...le16(columns)]);

/** The most one `ESC J` can feed. */
export const MAX_FEED = 255;

function byte(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new RangeError(`ESC/P parameter ${n} is not a byte`);
  return n;
}

function le16(n: number): [number, number] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`ESC/P parameter ${n} out of range`);
  return [n & 0xff, n >> 8];
}
