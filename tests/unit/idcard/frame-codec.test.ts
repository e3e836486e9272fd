// The SAM frame codec against the published constant frames, and the streaming decoder with chunks split and
// coalesced anyhow, noise before a preamble, bad checksums and impossible lengths.
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  FrameDecoder,
  encodeCommand,
  encodeReply,
  parseCommand,
  parseReply,
  type DecodedItem,
} from '../../../drivers/idcard/frame-codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Frames as printed in reader manuals and SDK docs; the checksum is the XOR of length..data.
const FIND = hex('AA AA AA 96 69 00 03 20 01 22');
const SELECT = hex('AA AA AA 96 69 00 03 20 02 21');
const READ = hex('AA AA AA 96 69 00 03 30 01 32');
const SAM_STATUS = hex('AA AA AA 96 69 00 03 11 FF ED');
const CARD_FOUND = hex('AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97');
const NO_CARD = hex('AA AA AA 96 69 00 04 00 00 80 84');

function frames(items: DecodedItem[]): string[] {
  return items.map((i) => (i.type === 'frame' ? i.body.toString('hex') : `error:${i.kind}`));
}

describe('encoding', () => {
  it('produces the published command frames', () => {
    expect(encodeCommand(COMMANDS.findCard)).toEqual(FIND);
    expect(encodeCommand(COMMANDS.selectCard)).toEqual(SELECT);
    expect(encodeCommand(COMMANDS.readTextAndPhoto)).toEqual(READ);
    expect(encodeCommand(COMMANDS.samStatus)).toEqual(SAM_STATUS);
  });

  it('produces the published reply frames', () => {
    expect(encodeReply({ sw1: 0, sw2: 0, sw3: 0x9f, data: Buffer.alloc(4) })).toEqual(CARD_FOUND);
    expect(encodeReply({ sw1: 0, sw2: 0, sw3: 0x80, data: Buffer.alloc(0) })).toEqual(NO_CARD);
  });

  it('puts a 1295-byte read reply together with length 0x0508', () => {
    const data = Buffer.concat([hex('0100 0400'), Buffer.alloc(256, 0x20), Buffer.alloc(1024, 0x55)]);
    const frame = encodeReply({ sw1: 0, sw2: 0, sw3: 0x90, data });
    expect(frame.length).toBe(1295);
    expect(frame.readUInt16BE(5)).toBe(0x0508);
  });
});

describe('streaming decoder', () => {
  it('decodes the constant frames and reads commands and replies out of them', () => {
    const d = new FrameDecoder();
    const items = d.push(Buffer.concat([FIND, SAM_STATUS, CARD_FOUND]));
    expect(frames(items)).toEqual(['2001', '11ff', '00009f00000000']);
    const [find, sam, found] = items.map((i) => (i.type === 'frame' ? i.body : Buffer.alloc(0)));
    expect(parseCommand(find!)).toMatchObject({ command: 0x20, parameter: 0x01 });
    expect(parseCommand(sam!)).toMatchObject({ command: 0x11, parameter: 0xff });
    expect(parseReply(found!)).toMatchObject({ sw1: 0, sw2: 0, sw3: 0x9f, data: Buffer.alloc(4) });
  });

  it('decodes a frame delivered one byte at a time, including a preamble split across chunks', () => {
    const d = new FrameDecoder();
    const out: DecodedItem[] = [];
    for (const b of Buffer.concat([READ, NO_CARD])) out.push(...d.push(Buffer.from([b])));
    expect(frames(out)).toEqual(['3001', '000080']);
    expect(d.pending).toBe(0);
    expect(d.skippedBytes).toBe(0);
  });

  it('decodes the same stream cut at every possible point', () => {
    const stream = Buffer.concat([SELECT, CARD_FOUND, READ]);
    for (let cut = 1; cut < stream.length; cut++) {
      const d = new FrameDecoder();
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(frames(out), `cut at ${cut}`).toEqual(['2002', '00009f00000000', '3001']);
    }
  });

  it('skips garbage before a preamble, including a lone AA and a partial preamble', () => {
    const d = new FrameDecoder();
    const noise = hex('00 FF AA 13 AA AA 96 55');
    expect(frames(d.push(Buffer.concat([noise, FIND])))).toEqual(['2001']);
    expect(d.skippedBytes).toBe(noise.length);
  });

  it('reports a bad checksum and still decodes the frame after it', () => {
    const bad = Buffer.from(FIND);
    bad[bad.length - 1] = 0x23;
    const d = new FrameDecoder();
    const items = d.push(Buffer.concat([bad, SELECT]));
    expect(frames(items)).toEqual(['error:checksum', '2002']);
    expect(items[0]).toMatchObject({ detail: expect.stringContaining('0x22') as unknown });
  });

  it('reports a length below the minimum and resynchronises', () => {
    const d = new FrameDecoder();
    expect(frames(d.push(Buffer.concat([hex('AA AA AA 96 69 00 01 01'), READ])))).toEqual([
      'error:short',
      '3001',
    ]);
  });

  it('reports an oversized length at once instead of waiting for bytes that never come', () => {
    const d = new FrameDecoder(0x0600);
    expect(frames(d.push(hex('AA AA AA 96 69 FF F0 00 00 90')))).toEqual(['error:oversized']);
    expect(frames(d.push(SAM_STATUS))).toEqual(['11ff']);
  });

  it('holds an incomplete frame until reset, then treats its tail as garbage', () => {
    const d = new FrameDecoder();
    expect(d.push(READ.subarray(0, 8))).toEqual([]);
    expect(d.pending).toBe(8);
    d.reset();
    expect(frames(d.push(Buffer.concat([READ.subarray(8), FIND])))).toEqual(['2001']);
  });
});
