// The catalogue check values ("123456789") of every checksum a profile can name, and parameter overrides.
import { describe, expect, it } from 'vitest';
import { crc, CRC_PRESETS, makeChecksum } from '../../../drivers/seal/checksum.js';

const CHECK = Buffer.from('123456789', 'ascii');

describe('seal checksums', () => {
  it.each([
    ['xor', 0x31, 1],
    ['sum8', 0xdd, 1],
    ['sum16', 0x01dd, 2],
    ['crc16-modbus', 0x4b37, 2],
    ['crc16-ccitt', 0x29b1, 2],
    ['crc32', 0xcbf43926, 4],
  ] as const)('%s of "123456789" is the catalogue value', (algorithm, value, size) => {
    const c = makeChecksum({ algorithm });
    expect(c.compute(CHECK)).toBe(value);
    expect(c.size).toBe(size);
  });

  it('takes CRC parameters from the profile (XMODEM = CCITT with init 0; KERMIT reflected)', () => {
    expect(makeChecksum({ algorithm: 'crc16-ccitt', params: { init: 0 } }).compute(CHECK)).toBe(0x31c3);
    expect(
      makeChecksum({ algorithm: 'crc16-ccitt', params: { init: 0, refIn: true, refOut: true } }).compute(
        CHECK,
      ),
    ).toBe(0x2189);
    // CRC-32/BZIP2: the same polynomial, not reflected.
    expect(crc({ ...CRC_PRESETS.crc32, refIn: false, refOut: false }, CHECK)).toBe(0xfc891918);
  });

  it('handles the empty input and wraps the sums', () => {
    expect(makeChecksum({ algorithm: 'crc16-modbus' }).compute(Buffer.alloc(0))).toBe(0xffff);
    expect(makeChecksum({ algorithm: 'sum8' }).compute(Buffer.from([0xff, 0x02]))).toBe(0x01);
    expect(makeChecksum({ algorithm: 'sum16' }).compute(Buffer.alloc(300, 0xff))).toBe((300 * 255) & 0xffff);
  });
});
