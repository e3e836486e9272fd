// The shipped default profile loads and checks its own test vectors; a profile with a wrong checksum spec or a
// bad field is refused with the field named; the frame codec reassembles split and coalesced frames and
// resyncs after garbage, bad checksums, impossible lengths and inter-byte gaps.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { encodeFrame, FrameDecoder } from '../../../drivers/seal/frame-codec.js';
import {
  parseSealProfile,
  resolveSealProfile,
  sealProfileDir,
  SealProfileError,
  type SealProfileDocument,
} from '../../../drivers/seal/profile.js';
import { decodeStatus, encodeStatus, unmetConditions } from '../../../drivers/seal/status.js';

const profile = resolveSealProfile('default');
const rawDefault = (): SealProfileDocument =>
  parse(readFileSync(`${sealProfileDir()}/default.yaml`, 'utf8')) as SealProfileDocument;

describe('seal profiles', () => {
  it('loads the default profile', () => {
    expect(profile.name).toBe('default');
    expect(profile.header).toEqual(Buffer.from([0xa5, 0x5a]));
    expect(profile.commands.stamp.retrySafe).toBe(false);
    expect(profile.commands.status.retrySafe).toBe(true);
  });

  it('refuses a checksum spec that does not reproduce its test vectors', () => {
    const doc = rawDefault();
    doc.checksum.algorithm = 'crc16-ccitt';
    expect(() => parseSealProfile(doc, 'vendor.yaml')).toThrow(
      /vendor\.yaml: \/checksum\/vectors\/0: crc16-ccitt of .* is 0x29b1, the profile says 0x4b37/,
    );
    const wrongParam = rawDefault();
    wrongParam.checksum.params = { init: 0 };
    expect(() => parseSealProfile(wrongParam)).toThrow(SealProfileError);
  });

  it('names the field of a schema error', () => {
    const doc = rawDefault() as unknown as { checksum: { algorithm: string } };
    doc.checksum.algorithm = 'md5';
    expect(() => parseSealProfile(doc, 'p.yaml')).toThrow(/p\.yaml: \/checksum\/algorithm/);
    const noHeader = rawDefault();
    noHeader.framing.header = '';
    expect(() => parseSealProfile(noHeader)).toThrow(/\/framing\/header/);
    const clash = rawDefault();
    clash.commands.reset.reply = clash.commands.status.reply;
    expect(() => parseSealProfile(clash)).toThrow(
      /\/commands\/reset\/reply: 0x81 is also the reply of status/,
    );
  });

  it('refuses an unknown profile name', () => {
    expect(() => resolveSealProfile('no-such-model')).toThrow(/seal profile "no-such-model" not found/);
  });

  it('decodes status bits and checks interlocks', () => {
    const s = decodeStatus(profile, Buffer.from([0b0000_0110, 0]));
    expect(s).toEqual({
      documentPresent: false,
      coverClosed: true,
      headHome: true,
      busy: false,
      faultCode: 0,
    });
    expect(unmetConditions(s, profile.interlocks.beforeStamp)).toEqual([
      { condition: 'documentPresent', expected: true, actual: false },
    ]);
    expect(decodeStatus(profile, encodeStatus(profile, { ...s, busy: true, faultCode: 7 }))).toEqual({
      ...s,
      busy: true,
      faultCode: 7,
    });
    const low = parseSealProfile({
      ...rawDefault(),
      status: { ...rawDefault().status, coverClosed: { byte: 0, bit: 1, activeLow: true } },
    });
    expect(decodeStatus(low, Buffer.from([0b10, 0])).coverClosed).toBe(false);
  });
});

describe('seal frame codec', () => {
  const status = encodeFrame(profile, { code: 0x01, data: Buffer.alloc(0) });
  const reply = encodeFrame(profile, { code: 0x81, data: Buffer.from([0x07, 0x00]) });

  it('encodes header | length | code | data | crc16 (little-endian) | trailer', () => {
    // Length 1, code 01; CRC-16/MODBUS of 01 01 is 0xE0C1, sent low byte first.
    expect(status).toEqual(Buffer.from([0xa5, 0x5a, 0x01, 0x01, 0xc1, 0xe0, 0x0d]));
  });

  it('reassembles a frame split into single bytes', () => {
    const d = new FrameDecoder(profile);
    const frames = [...reply].flatMap((b) => d.push(Buffer.from([b]), 0).frames);
    expect(frames).toEqual([{ code: 0x81, data: Buffer.from([0x07, 0x00]) }]);
  });

  it('splits coalesced frames and skips garbage between them', () => {
    const d = new FrameDecoder(profile);
    const { frames, drops } = d.push(
      Buffer.concat([Buffer.from([0x00, 0xa5]), status, Buffer.from('zz'), reply]),
      0,
    );
    expect(frames.map((f) => f.code)).toEqual([0x01, 0x81]);
    expect(drops).toEqual([]);
  });

  it('drops a frame with a bad checksum and keeps the next one', () => {
    const bad = Buffer.from(status);
    bad[4] = (bad[4] as number) ^ 0xff;
    const d = new FrameDecoder(profile);
    const r = d.push(Buffer.concat([bad, reply]), 0);
    expect(r.frames.map((f) => f.code)).toEqual([0x81]);
    expect(r.drops).toEqual([{ reason: 'checksum', bytes: bad.length }]);
  });

  it('resyncs after an impossible length and a wrong trailer', () => {
    const d = new FrameDecoder(profile);
    const oversized = Buffer.from([0xa5, 0x5a, 0xf0, 0x01]);
    const noTrailer = Buffer.from(status);
    noTrailer[noTrailer.length - 1] = 0x0a;
    const r = d.push(Buffer.concat([oversized, noTrailer, reply]), 0);
    expect(r.frames.map((f) => f.code)).toEqual([0x81]);
    expect(r.drops.map((x) => x.reason)).toEqual(['oversized', 'trailer']);
  });

  it('drops a partial frame after an inter-byte gap longer than the profile allows', () => {
    const d = new FrameDecoder(profile);
    expect(d.push(reply.subarray(0, 4), 1000).frames).toEqual([]);
    const later = 1000 + profile.framing.interByteTimeoutMs + 1;
    const r = d.push(Buffer.concat([reply.subarray(4), status]), later);
    expect(r.drops).toEqual([{ reason: 'timeout', bytes: 4 }]);
    expect(r.frames.map((f) => f.code)).toEqual([0x01]);
  });

  it('keeps a header split across chunks', () => {
    const d = new FrameDecoder(profile);
    expect(d.push(Buffer.from([0x33, 0xa5]), 0).frames).toEqual([]);
    expect(d.push(status.subarray(1), 0).frames.map((f) => f.code)).toEqual([0x01]);
  });

  it('refuses to encode a frame longer than maxFrame', () => {
    expect(() => encodeFrame(profile, { code: 1, data: Buffer.alloc(200) })).toThrow(/maxFrame/);
  });
});
