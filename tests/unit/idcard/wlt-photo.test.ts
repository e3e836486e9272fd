// What the vendors' WLT decoders write, made into RGB rows top-down: raw pixels in either row and channel
// order, and a whole BMP read by its header. Plus the ELF check that names a library's architecture, and the
// config's decoder entry.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../config/load.js';
import { elfMismatch } from '../../../drivers/idcard/elf-arch.js';
import {
  BMP_BYTES,
  PHOTO_HEIGHT,
  PHOTO_WIDTH,
  PIXEL_BYTES,
  PhotoLayoutError,
  photoToRgb,
} from '../../../drivers/idcard/wlt-photo.js';

/** A recognisable picture: red rises down the rows, green across the columns, blue constant. */
function expectedRgb(): Buffer {
  const rgb = Buffer.alloc(PIXEL_BYTES);
  for (let y = 0; y < PHOTO_HEIGHT; y++) {
    for (let x = 0; x < PHOTO_WIDTH; x++) {
      rgb.set([y * 2, x * 2, 77], (y * PHOTO_WIDTH + x) * 3);
    }
  }
  return rgb;
}

/** The same picture as a decoder would lay it out. */
function layOut(rgb: Buffer, bottomUp: boolean, bgr: boolean, stride = PHOTO_WIDTH * 3): Buffer {
  const out = Buffer.alloc(stride * PHOTO_HEIGHT);
  for (let y = 0; y < PHOTO_HEIGHT; y++) {
    const row = bottomUp ? PHOTO_HEIGHT - 1 - y : y;
    for (let x = 0; x < PHOTO_WIDTH; x++) {
      const [r, g, b] = rgb.subarray((y * PHOTO_WIDTH + x) * 3, (y * PHOTO_WIDTH + x) * 3 + 3);
      out.set(bgr ? [b!, g!, r!] : [r!, g!, b!], row * stride + x * 3);
    }
  }
  return out;
}

function bmp(rgb: Buffer, topDown = false): Buffer {
  const stride = Math.ceil((PHOTO_WIDTH * 3) / 4) * 4;
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(BMP_BYTES, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(PHOTO_WIDTH, 18);
  header.writeInt32LE(topDown ? -PHOTO_HEIGHT : PHOTO_HEIGHT, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  return Buffer.concat([header, layOut(rgb, !topDown, true, stride)]);
}

describe('photoToRgb', () => {
  const rgb = expectedRgb();

  it('reads raw BGR rows bottom-up by default, the way a BMP holds them', () => {
    expect(BMP_BYTES).toBe(38_862);
    expect(PIXEL_BYTES).toBe(38_556);
    const out = layOut(rgb, true, true);
    expect(photoToRgb(out, { rowOrder: 'bottom-up', colour: 'bgr' }).equals(rgb)).toBe(true);
  });

  it('follows the vendor options for raw pixels top-down or in RGB', () => {
    expect(photoToRgb(layOut(rgb, false, false), { rowOrder: 'top-down', colour: 'rgb' }).equals(rgb)).toBe(
      true,
    );
    expect(photoToRgb(layOut(rgb, false, true), { rowOrder: 'top-down', colour: 'bgr' }).equals(rgb)).toBe(
      true,
    );
    // The wrong option gives a different picture, not the same one: the options matter.
    expect(photoToRgb(layOut(rgb, true, true), { rowOrder: 'top-down', colour: 'bgr' }).equals(rgb)).toBe(
      false,
    );
  });

  it('reads a whole BMP by its header whatever the raw-pixel options say', () => {
    const layout = { rowOrder: 'top-down', colour: 'rgb' } as const;
    expect(bmp(rgb).length).toBe(BMP_BYTES);
    expect(photoToRgb(bmp(rgb), layout).equals(rgb)).toBe(true);
    expect(photoToRgb(bmp(rgb, true), layout).equals(rgb)).toBe(true);
  });

  it('refuses output too short for a photo, or a BMP of another shape', () => {
    const layout = { rowOrder: 'bottom-up', colour: 'bgr' } as const;
    expect(() => photoToRgb(Buffer.alloc(1000), layout)).toThrow(PhotoLayoutError);
    const wide = bmp(rgb);
    wide.writeInt32LE(200, 18);
    expect(() => photoToRgb(wide, layout)).toThrow(/200×126 24-bit BMP/);
  });
});

describe('elfMismatch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function elf(machine: number, bits: 32 | 64): string {
    const head = Buffer.alloc(64);
    head.writeUInt32BE(0x7f454c46, 0);
    head[4] = bits === 32 ? 1 : 2;
    head[5] = 1; // little-endian
    head.writeUInt16LE(machine, 18);
    const file = join(dir, `lib-${machine}-${bits}.so`);
    writeFileSync(file, head);
    return file;
  }

  it('names the architecture a library was built for when it is not this one', () => {
    expect(elfMismatch(elf(0xb7, 64), 'x64')).toMatch(/is built for arm64 \(64-bit\); this box runs x64/);
    expect(elfMismatch(elf(0x28, 32), 'arm64')).toMatch(/is built for arm \(32-bit\); this box runs arm64/);
    expect(elfMismatch(elf(0x3e, 64), 'x64')).toBeNull();
    expect(elfMismatch(elf(0xb7, 64), 'arm64')).toBeNull();
  });

  it('says when the file is not a library at all', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'licence key: 1234\n');
    expect(elfMismatch(file)).toMatch(/is not a shared library \(no ELF header\)/);
  });
});

describe('idcard.decoder in the config', () => {
  const reader = (idcard: string): string =>
    `box:\n  id: box-1\ndevices:\n  - id: reader-1\n    kind: idcard\n    transport: { type: simulated }\n    idcard: ${idcard}\n`;

  it('fills in the defaults of the ABI options', () => {
    const config = parseConfig(
      reader('{ decoder: { library: /opt/v/libwlt2bmp.so, abi: unpack } }'),
      'c.yaml',
    );
    const device = config.devices[0]!;
    expect(device.kind === 'idcard' && device.idcard.decoder).toEqual({
      library: '/opt/v/libwlt2bmp.so',
      abi: 'unpack',
      saveBmp: 0,
      rowOrder: 'bottom-up',
      colour: 'bgr',
      timeoutMs: 3000,
    });
  });

  it('names the ABIs it knows, and says what replaced decoderLibrary', () => {
    const wrongAbi = (): unknown =>
      parseConfig(reader('{ decoder: { library: /x.so, abi: GetBmp } }'), 'c.yaml');
    expect(wrongAbi).toThrow(ConfigError);
    expect(wrongAbi).toThrow(/devices\.0\.idcard\.decoder\.abi.*must be one of: unpack, wlt2bmpBuffer/);
    const old = (): unknown => parseConfig(reader('{ decoderLibrary: /opt/v/libwlt.so }'), 'c.yaml');
    expect(old).toThrow(/decoderLibrary.*replaced by decoder: \{library, abi\}/);
  });
});
