// The MJPEG frame splitter on real JPEGs (made by sharp) cut and joined the ways a pipe delivers them.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { JpegFrameSplitter } from '../../../drivers/camera/jpeg-splitter.js';

async function jpeg(seed: number, size = 64): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + seed * 31) & 0xff;
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** A JPEG with an APP1 segment that holds another whole JPEG (as an EXIF thumbnail does). */
function withThumbnail(main: Buffer, thumb: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(thumb.length + 2);
  return Buffer.concat([main.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, thumb, main.subarray(2)]);
}

function split(chunks: Buffer[]): { frames: Buffer[]; splitter: JpegFrameSplitter } {
  const frames: Buffer[] = [];
  const splitter = new JpegFrameSplitter((f) => frames.push(f));
  for (const c of chunks) splitter.push(c);
  return { frames, splitter };
}

function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

let a: Buffer, b: Buffer, c: Buffer;
beforeAll(async () => {
  [a, b, c] = await Promise.all([jpeg(1), jpeg(2), jpeg(3)]);
});

describe('JpegFrameSplitter', () => {
  it('gives back each frame whole when several come in one chunk', () => {
    const { frames } = split([Buffer.concat([a, b, c])]);
    expect(frames).toEqual([a, b, c]);
  });

  it('joins frames cut at every possible size, down to one byte at a time', () => {
    const stream = Buffer.concat([a, b, c]);
    for (const size of [1, 2, 3, 7, 100, 1000]) {
      expect(split(chunked(stream, size)).frames, `chunks of ${size}`).toEqual([a, b, c]);
    }
  });

  it('skips garbage before, between and after frames, including stray FF D8 / FF D9 pairs', () => {
    const junk = Buffer.from([0x00, 0xff, 0xd9, 0x12, 0xff, 0xd8, 0x00, 0xff]);
    const { frames, splitter } = split(chunked(Buffer.concat([junk, a, junk, b, junk]), 5));
    expect(frames).toEqual([a, b]);
    expect(splitter.stats.droppedBytes).toBeGreaterThanOrEqual(junk.length * 2);
  });

  it('drops a frame cut off by the next one and keeps the next', () => {
    const cut = a.subarray(0, Math.floor(a.length / 2));
    const { frames } = split([cut, b, c]);
    expect(frames).toEqual([b, c]);
  });

  it('does not end a frame at the EOI of a thumbnail inside an APP1 segment', async () => {
    const withThumb = withThumbnail(await jpeg(4, 128), await jpeg(5, 16));
    const { frames } = split(chunked(Buffer.concat([withThumb, a]), 9));
    expect(frames).toEqual([withThumb, a]);
    // And it is still a JPEG an image library reads whole.
    expect((await sharp(frames[0]).metadata()).width).toBe(128);
  });

  it('keeps a partial frame until the rest arrives', () => {
    const frames: Buffer[] = [];
    const s = new JpegFrameSplitter((f) => frames.push(f));
    s.push(a.subarray(0, a.length - 1));
    expect(frames).toEqual([]);
    s.push(a.subarray(a.length - 1));
    expect(frames).toEqual([a]);
  });

  it('throws away a "frame" that grows past the limit and finds the next one', () => {
    const frames: Buffer[] = [];
    const s = new JpegFrameSplitter((f) => frames.push(f), 4096);
    // An SOI and a scan header, then endless entropy data with no EOI.
    s.push(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02]));
    for (let i = 0; i < 10; i++) s.push(Buffer.alloc(1000, 0x11));
    s.push(b);
    expect(frames).toEqual([b]);
  });
});
