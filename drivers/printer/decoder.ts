// ESC/P byte stream → pages, as a 24-pin printer would print them: character cells where the ROM prints
// text, and the dots of bit images, on a 180 dpi grid. A streaming codec: bytes may arrive in any chunks.
// The preview and the simulator both use it, so what they show is what the bytes say.
import { Bitmap } from './bitmap.js';
import { BIT_IMAGE_24_360, CR, ESC, FF, FS, LF } from './escp.js';
import { decodeGb18030 } from './gb18030.js';
import type { PrinterProfile } from './profile.js';

export interface DecodedCell {
  ch: string;
  /** Top-left of the character cell on the page, in dots. */
  x: number;
  y: number;
  width: number;
  height: number;
  bold: boolean;
  doubleWidth: boolean;
  cjk: boolean;
}

export interface DecodedPage {
  widthDots: number;
  heightDots: number;
  cells: DecodedCell[];
  /** Dots printed by bit images. */
  dots: Bitmap;
}

export interface DecoderOptions {
  profile: PrinterProfile;
  /** Width of the paper (the preview's width), in dots. */
  widthDots: number;
  /** Page length until the stream sets one (power-on default: 11 inches). */
  defaultHeightDots?: number;
  /**
   * Where the printer's origin lands on the paper, in dots: the mechanical offset that install-time
   * calibration compensates. The preview passes minus the calibration, so it shows the paper.
   */
  origin?: { x: number; y: number };
}

const NEED_MORE = -1;

export class EscpDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private readonly pages: DecodedPage[] = [];
  private page!: DecodedPage;
  private heightDots: number;
  private x = 0;
  private y = 0;
  private lineSpacing = 30;
  private bold = false;
  private doubleWidth = false;
  private cjk = false;
  private cjkLeft = 0;
  private cjkRight: number;
  private inkOnPage = false;
  private unit360 = false;

  constructor(
    private readonly opts: DecoderOptions,
    private readonly onPage: (page: DecodedPage) => void = () => undefined,
    private readonly onReset: () => void = () => undefined,
  ) {
    this.heightDots = opts.defaultHeightDots ?? 11 * 180;
    this.cjkRight = opts.profile.cjkSpaceRight;
    this.newPage();
  }

  /** Feeds bytes; complete pages (ended by FF) are handed to `onPage`. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (at < this.pending.length) {
      const used = this.step(this.pending, at);
      if (used === NEED_MORE) break;
      at += used;
    }
    this.pending = this.pending.subarray(at);
  }

  /** Pages finished so far, plus the page in progress if anything was printed on it. */
  finish(): DecodedPage[] {
    const out = [...this.pages];
    if (this.inkOnPage) out.push(this.page);
    return out;
  }

  private newPage(): void {
    this.page = {
      widthDots: this.opts.widthDots,
      heightDots: this.heightDots,
      cells: [],
      dots: new Bitmap(this.opts.widthDots, this.heightDots),
    };
    this.inkOnPage = false;
    this.x = 0;
    this.y = 0;
  }

  private endPage(): void {
    this.pages.push(this.page);
    this.onPage(this.page);
    this.newPage();
  }

  private reset(): void {
    this.lineSpacing = 30;
    this.bold = false;
    this.doubleWidth = false;
    this.cjk = false;
    this.cjkLeft = 0;
    this.cjkRight = this.opts.profile.cjkSpaceRight;
    this.x = 0;
  }

  /** Interprets one command or character at `at`; returns the bytes used, or NEED_MORE. */
  private step(b: Buffer, at: number): number {
    const c = b[at] as number;
    if (c === ESC) return this.esc(b, at);
    if (c === FS) return this.fs(b, at);
    if (c === CR) {
      this.x = 0;
      return 1;
    }
    if (c === LF) {
      this.x = 0;
      this.y += this.lineSpacing;
      return 1;
    }
    if (c === FF) {
      this.endPage();
      return 1;
    }
    if (this.cjk && c >= 0x81 && c <= 0xfe) {
      if (at + 1 >= b.length) return NEED_MORE;
      const second = b[at + 1] as number;
      const len = second >= 0x30 && second <= 0x39 ? 4 : 2;
      if (at + len > b.length) return NEED_MORE;
      const k = this.doubleWidth ? 2 : 1;
      this.cell(
        decodeGb18030(b.subarray(at, at + len)),
        (this.cjkLeft + this.cjkRight + this.opts.profile.cellHeight) * k,
        true,
      );
      return len;
    }
    if (c >= 0x20 && c <= 0x7e) {
      this.cell(String.fromCharCode(c), this.opts.profile.latinAdvance * (this.doubleWidth ? 2 : 1), false);
      return 1;
    }
    return 1; // other control codes do not move the head
  }

  private cell(ch: string, width: number, cjk: boolean): void {
    const o = this.opts.origin ?? { x: 0, y: 0 };
    if (ch !== ' ') {
      this.page.cells.push({
        ch,
        x: this.x + o.x + (cjk ? this.cjkLeft : 0),
        y: this.y + o.y,
        width,
        height: this.opts.profile.cellHeight,
        bold: this.bold,
        doubleWidth: this.doubleWidth,
        cjk,
      });
      this.inkOnPage = true;
    }
    this.x += width;
  }

  private esc(b: Buffer, at: number): number {
    if (at + 1 >= b.length) return NEED_MORE;
    const op = b[at + 1] as number;
    const arg = (i: number): number | undefined => b[at + 2 + i];
    const need = (n: number): boolean => at + 2 + n <= b.length;
    switch (op) {
      case 0x40: // @
        this.reset();
        this.onReset();
        return 2;
      case 0x33: // 3 n
        if (!need(1)) return NEED_MORE;
        this.lineSpacing = arg(0) as number;
        return 3;
      case 0x4a: // J n
        if (!need(1)) return NEED_MORE;
        this.y += arg(0) as number;
        return 3;
      case 0x43: // C n | C NUL n
        if (!need(1)) return NEED_MORE;
        if (arg(0) === 0) {
          if (!need(2)) return NEED_MORE;
          this.setPageLength((arg(1) as number) * 180);
          return 4;
        }
        this.setPageLength((arg(0) as number) * this.lineSpacing);
        return 3;
      case 0x24: // $ nL nH, 1/60"
        if (!need(2)) return NEED_MORE;
        this.x = ((arg(0) as number) + (arg(1) as number) * 256) * 3;
        return 4;
      case 0x5c: {
        // \ nL nH, signed, 1/180" in LQ mode
        if (!need(2)) return NEED_MORE;
        const v = (arg(0) as number) + (arg(1) as number) * 256;
        this.x += v >= 0x8000 ? v - 0x10000 : v;
        return 4;
      }
      case 0x45:
        this.bold = true;
        return 2;
      case 0x46:
        this.bold = false;
        return 2;
      case 0x57: // W n
        if (!need(1)) return NEED_MORE;
        this.doubleWidth = (arg(0) as number) % 0x30 === 1;
        return 3;
      case 0x2a: // * m nL nH data
        return this.bitImage(b, at);
      case 0x28: {
        // ESC ( c nL nH data: ESC/P2 extended commands; C (page length) and U (unit) are understood.
        if (!need(3)) return NEED_MORE;
        const len = (arg(1) as number) + (arg(2) as number) * 256;
        if (!need(3 + len)) return NEED_MORE;
        if (arg(0) === 0x55) this.unit360 = arg(3) === 10;
        if (arg(0) === 0x43)
          this.setPageLength(((arg(3) as number) + (arg(4) as number) * 256) / (this.unit360 ? 2 : 1));
        return 5 + len;
      }
      default:
        // One-parameter commands this renderer does not draw (ESC x, ESC w, ESC ! , ESC t, ESC l, ESC Q…).
        if (!need(1)) return NEED_MORE;
        return op === 0x0d || op === 0x0c ? 2 : 3;
    }
  }

  private fs(b: Buffer, at: number): number {
    if (at + 1 >= b.length) return NEED_MORE;
    const op = b[at + 1] as number;
    if (op === 0x26) {
      this.cjk = true;
      return 2;
    }
    if (op === 0x2e) {
      this.cjk = false;
      return 2;
    }
    if (op === 0x53) {
      if (at + 4 > b.length) return NEED_MORE;
      this.cjkLeft = b[at + 2] as number;
      this.cjkRight = b[at + 3] as number;
      return 4;
    }
    if (at + 3 > b.length) return NEED_MORE;
    return 3; // FS W n, FS ! n and the like: one parameter
  }

  private setPageLength(dots: number): void {
    this.heightDots = Math.max(1, Math.round(dots));
    if (!this.inkOnPage && this.y === 0) this.newPage();
  }

  private bitImage(b: Buffer, at: number): number {
    if (at + 5 > b.length) return NEED_MORE;
    const mode = b[at + 2] as number;
    const cols = (b[at + 3] as number) + (b[at + 4] as number) * 256;
    const bytesPerCol = mode >= 32 ? 3 : 1;
    const total = 5 + cols * bytesPerCol;
    if (at + total > b.length) return NEED_MORE;
    // Horizontal density: 39 and 33 are 180 dpi, 40 is 360 dpi (two of its columns per printed dot here).
    const perDot = mode === BIT_IMAGE_24_360 ? 2 : 1;
    const o = this.opts.origin ?? { x: 0, y: 0 };
    for (let c = 0; c < cols; c++) {
      const x = this.x + Math.floor(c / perDot) + o.x;
      for (let pin = 0; pin < 8 * bytesPerCol; pin++) {
        const byte = b[at + 5 + c * bytesPerCol + (pin >> 3)] as number;
        if (byte & (0x80 >> (pin & 7))) {
          this.page.dots.set(x, this.y + pin + o.y);
          this.inkOnPage = true;
        }
      }
    }
    this.x += Math.ceil(cols / perDot);
    return total;
  }
}

/** Decodes a whole stream at once. */
export function decodeStream(bytes: Buffer, opts: DecoderOptions): DecodedPage[] {
  const d = new EscpDecoder(opts);
  d.push(bytes);
  return d.finish();
}
