// The checksums seal-machine vendors put in their frames. The CRCs are one parametrised routine (width,
// polynomial, init, reflection, final xor, as in the usual CRC catalogue), so a profile can describe a
// vendor's variant without code; the named presets carry the catalogue's parameters.

export const CHECKSUM_ALGORITHMS = ['xor', 'sum8', 'sum16', 'crc16-modbus', 'crc16-ccitt', 'crc32'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface CrcParams {
  width: 16 | 32;
  poly: number;
  init: number;
  refIn: boolean;
  refOut: boolean;
  xorOut: number;
}

/** Catalogue parameters; "CCITT" here is CRC-16/CCITT-FALSE (init FFFF, not reflected), the common one in devices. */
export const CRC_PRESETS: Record<'crc16-modbus' | 'crc16-ccitt' | 'crc32', CrcParams> = {
  'crc16-modbus': { width: 16, poly: 0x8005, init: 0xffff, refIn: true, refOut: true, xorOut: 0 },
  'crc16-ccitt': { width: 16, poly: 0x1021, init: 0xffff, refIn: false, refOut: false, xorOut: 0 },
  crc32: { width: 32, poly: 0x04c11db7, init: 0xffffffff, refIn: true, refOut: true, xorOut: 0xffffffff },
};

export interface ChecksumSpec {
  algorithm: ChecksumAlgorithm;
  /** Overrides of a CRC preset's parameters (ignored by xor and the sums). */
  params?: Partial<Omit<CrcParams, 'width'>>;
}

export interface Checksum {
  /** Bytes the checksum takes in the frame. */
  readonly size: number;
  compute(data: Buffer): number;
}

function reflect(value: number, bits: number): number {
  let r = 0;
  for (let i = 0; i < bits; i++) if (value & (2 ** i)) r += 2 ** (bits - 1 - i);
  return r;
}

/** A bitwise CRC of any width up to 32 (frames are short; a table would buy nothing here). */
export function crc(params: CrcParams, data: Buffer): number {
  const { width, poly, init, refIn, refOut, xorOut } = params;
  const top = 2 ** (width - 1);
  const mask = 2 ** width - 1;
  let reg = init;
  for (const byte of data) {
    const b = refIn ? reflect(byte, 8) : byte;
    for (let i = 7; i >= 0; i--) {
      const inBit = (b >> i) & 1;
      const topBit = reg >= top ? 1 : 0;
      reg = (reg * 2) % (mask + 1);
      if (topBit ^ inBit) reg = (reg ^ poly) >>> 0;
    }
  }
  if (refOut) reg = reflect(reg, width);
  return ((reg ^ xorOut) >>> 0) % (mask + 1);
}

export function makeChecksum(spec: ChecksumSpec): Checksum {
  switch (spec.algorithm) {
    case 'xor':
      return { size: 1, compute: (d) => d.reduce((x, b) => x ^ b, 0) };
    case 'sum8':
      return { size: 1, compute: (d) => d.reduce((s, b) => (s + b) & 0xff, 0) };
    case 'sum16':
      return { size: 2, compute: (d) => d.reduce((s, b) => (s + b) & 0xffff, 0) };
    default: {
      const params = { ...CRC_PRESETS[spec.algorithm], ...spec.params };
      return { size: params.width / 8, compute: (d) => crc(params, d) };
    }
  }
}
