// Frames of a seal profile:  header | length | code | data | checksum | trailer, all shapes from the profile.
// Bytes only: the driver and the simulator both use this, each on its own transport.
import type { SealProfile } from './profile.js';

export interface SealFrame {
  code: number;
  data: Buffer;
}

/** Something the decoder threw away, so the driver can tell a garbled reply from silence. */
export interface FrameDrop {
  reason: 'checksum' | 'trailer' | 'oversized' | 'timeout';
  bytes: number;
}

function writeUInt(buf: Buffer, value: number, offset: number, size: number, endian: 'big' | 'little'): void {
  if (endian === 'big') buf.writeUIntBE(value, offset, size);
  else buf.writeUIntLE(value, offset, size);
}

function readUInt(buf: Buffer, offset: number, size: number, endian: 'big' | 'little'): number {
  return endian === 'big' ? buf.readUIntBE(offset, size) : buf.readUIntLE(offset, size);
}

export function encodeFrame(profile: SealProfile, frame: SealFrame): Buffer {
  const { framing, checksumFn, header, trailer } = profile;
  const payloadLength = 1 + frame.data.length;
  const csSize = checksumFn.size;
  const lengthValue = framing.length.counts === 'payload' ? payloadLength : payloadLength + csSize;
  const total = header.length + framing.length.size + payloadLength + csSize + trailer.length;
  if (total > framing.maxFrame)
    throw new RangeError(`a ${total}-byte frame exceeds maxFrame ${framing.maxFrame}`);
  if (lengthValue >= 2 ** (8 * framing.length.size))
    throw new RangeError('payload too long for the length field');
  const out = Buffer.alloc(total);
  header.copy(out, 0);
  let at = header.length;
  writeUInt(out, lengthValue, at, framing.length.size, framing.length.endian);
  at += framing.length.size;
  out[at++] = frame.code;
  frame.data.copy(out, at);
  at += frame.data.length;
  const from = profile.checksum.covers === 'length+payload' ? header.length : 0;
  writeUInt(out, checksumFn.compute(out.subarray(from, at)), at, csSize, profile.checksum.endian);
  at += csSize;
  trailer.copy(out, at);
  return out;
}

/**
 * Reassembles frames from chunks as they arrive (split or coalesced). Garbage before a header is skipped; a
 * frame with a bad checksum or trailer, an impossible length, or a gap longer than the inter-byte timeout is
 * dropped and the search resumes one byte after its header, so one bad frame costs only itself.
 */
export class FrameDecoder {
  private buf = Buffer.alloc(0);
  private lastByteAt = 0;

  constructor(private readonly profile: SealProfile) {}

  reset(): void {
    this.buf = Buffer.alloc(0);
  }

  /** Feeds a chunk received at `now` (ms); returns the complete frames and what was dropped. */
  push(chunk: Buffer, now = Date.now()): { frames: SealFrame[]; drops: FrameDrop[] } {
    const drops: FrameDrop[] = [];
    if (this.buf.length > 0 && now - this.lastByteAt > this.profile.framing.interByteTimeoutMs) {
      drops.push({ reason: 'timeout', bytes: this.buf.length });
      this.buf = Buffer.alloc(0);
    }
    this.lastByteAt = now;
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const frames: SealFrame[] = [];
    for (;;) {
      const r = this.next();
      if (r === 'need-more') break;
      if ('code' in r) frames.push(r);
      else drops.push(r);
    }
    return { frames, drops };
  }

  private next(): SealFrame | FrameDrop | 'need-more' {
    const { header, trailer, checksumFn, framing } = this.profile;
    const start = this.buf.indexOf(header);
    if (start < 0) {
      // Keep a tail that may be the beginning of a header split across chunks.
      this.buf = this.buf.subarray(Math.max(0, this.buf.length - (header.length - 1)));
      return 'need-more';
    }
    if (start > 0) this.buf = this.buf.subarray(start);
    const lenAt = header.length;
    if (this.buf.length < lenAt + framing.length.size) return 'need-more';
    const lengthValue = readUInt(this.buf, lenAt, framing.length.size, framing.length.endian);
    const payloadLength = framing.length.counts === 'payload' ? lengthValue : lengthValue - checksumFn.size;
    const total = lenAt + framing.length.size + payloadLength + checksumFn.size + trailer.length;
    if (payloadLength < 1 || total > framing.maxFrame) return this.skip('oversized', 1);
    if (this.buf.length < total) return 'need-more';
    const payloadAt = lenAt + framing.length.size;
    const csAt = payloadAt + payloadLength;
    const from = this.profile.checksum.covers === 'length+payload' ? lenAt : 0;
    const expected = checksumFn.compute(this.buf.subarray(from, csAt));
    const got = readUInt(this.buf, csAt, checksumFn.size, this.profile.checksum.endian);
    if (!this.buf.subarray(csAt + checksumFn.size, total).equals(trailer)) return this.skip('trailer', 1);
    if (got !== expected) return this.skip('checksum', total);
    const frame = {
      code: this.buf[payloadAt] as number,
      data: Buffer.from(this.buf.subarray(payloadAt + 1, csAt)),
    };
    this.buf = this.buf.subarray(total);
    return frame;
  }

  /** Drops `n` bytes from the front (1 = resync inside what looked like a frame). */
  private skip(reason: FrameDrop['reason'], n: number): FrameDrop {
    this.buf = this.buf.subarray(n);
    return { reason, bytes: n };
  }
}
