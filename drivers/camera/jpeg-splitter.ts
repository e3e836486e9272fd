// Splits an MJPEG byte stream (JPEG images back to back, as ffmpeg's `-f mjpeg` writes them) into frames.
// It walks the marker segments by their lengths, so an EOI-looking pair inside an APPn thumbnail does not
// end the frame, then scans the entropy-coded data for the EOI marker. Anything between frames that is
// not a JPEG (garbage, a cut-off frame) is dropped, and the splitter looks for the next SOI.

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

/** A frame larger than this is not a frame: the splitter drops it and resynchronises. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface SplitterStats {
  frames: number;
  /** Bytes thrown away: garbage between frames, truncated or malformed frames. */
  droppedBytes: number;
}

export class JpegFrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Where parsing resumes inside `buf` (past the segments already walked), or -1 before an SOI. */
  private pos = -1;
  /** True once the SOS header is passed: the rest up to EOI is entropy-coded data. */
  private inScan = false;
  readonly stats: SplitterStats = { frames: 0, droppedBytes: 0 };

  constructor(
    private readonly onFrame: (jpeg: Buffer) => void,
    private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.pos < 0 && !this.findStart()) return;
      const end = this.parse();
      if (end === 'more') {
        if (this.buf.length > this.maxFrameBytes) this.resync(this.buf.length);
        return;
      }
      if (end === 'bad') {
        // Not a JPEG after all: skip this SOI and look for the next one.
        this.resync(2);
        continue;
      }
      this.onFrame(Buffer.from(this.buf.subarray(0, end)));
      this.stats.frames++;
      this.buf = this.buf.subarray(end);
      this.pos = -1;
      this.inScan = false;
    }
  }

  /** Moves `buf` to the next SOI (FF D8 FF); false when there is none yet (keeps a trailing partial one). */
  private findStart(): boolean {
    let i = this.buf.indexOf(0xff);
    while (i >= 0 && i + 2 < this.buf.length) {
      if (this.buf[i + 1] === SOI && this.buf[i + 2] === 0xff) {
        this.drop(i);
        this.pos = 2;
        this.inScan = false;
        return true;
      }
      i = this.buf.indexOf(0xff, i + 1);
    }
    // Keep what could still become an SOI: the last two bytes at most.
    const keep = i >= 0 ? this.buf.length - i : 0;
    this.drop(this.buf.length - keep);
    return false;
  }

  /** The end offset of the frame starting at 0, 'more' when it is not complete, 'bad' when malformed. */
  private parse(): number | 'more' | 'bad' {
    const b = this.buf;
    while (!this.inScan) {
      if (this.pos + 4 > b.length) return 'more';
      if (b[this.pos] !== 0xff) return 'bad';
      const marker = b[this.pos + 1]!;
      if (marker === 0xff) {
        this.pos++; // fill byte
        continue;
      }
      if (marker === EOI) return this.pos + 2; // a frame without a scan: odd but complete
      if (marker === SOI || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7)) return 'bad';
      const length = b.readUInt16BE(this.pos + 2);
      if (length < 2) return 'bad';
      this.pos += 2 + length;
      if (marker === SOS) this.inScan = true;
    }
    // Entropy-coded data: FF 00 is a stuffed byte, FF D0..D7 a restart marker, FF FF fill; FF D9 ends it.
    for (let i = this.pos; i + 1 < b.length; i++) {
      if (b[i] !== 0xff) continue;
      const next = b[i + 1]!;
      if (next === EOI) return i + 2;
      if (next === SOI) return 'bad'; // a new frame began: this one was cut off
    }
    // Resume at the last byte next time (it may be the FF of a marker split across chunks).
    this.pos = Math.max(this.pos, b.length - 1);
    return 'more';
  }

  private resync(skip: number): void {
    this.drop(skip);
    this.pos = -1;
    this.inScan = false;
  }

  private drop(n: number): void {
    if (n <= 0) return;
    this.stats.droppedBytes += n;
    this.buf = this.buf.subarray(n);
  }
}
