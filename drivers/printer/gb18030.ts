// Chinese text for the printer ROM: GB18030 bytes (iconv-lite's `gb2312` is really GBK and turns unknown
// characters into `?`, so it is never used), each character checked by decoding it back.
import iconv from 'iconv-lite';
import type { PrinterProfile } from './profile.js';

/** How one character reaches paper: ROM Latin, ROM two-byte Chinese, or drawn as a bit image. */
export type CharRoute = { kind: 'latin'; byte: number } | { kind: 'cjk'; bytes: Buffer } | { kind: 'image' };

/** The character's GB18030 bytes, or undefined when the encoding does not round-trip. */
export function gb18030Bytes(ch: string): Buffer | undefined {
  const bytes = iconv.encode(ch, 'gb18030');
  return iconv.decode(bytes, 'gb18030') === ch ? bytes : undefined;
}

export function decodeGb18030(bytes: Buffer): string {
  return iconv.decode(bytes, 'gb18030');
}

export function routeChar(ch: string, profile: PrinterProfile): CharRoute {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0x20 && cp <= 0x7e) return { kind: 'latin', byte: cp };
  const bytes = gb18030Bytes(ch);
  if (bytes?.length === 2 && inRom(bytes[0] ?? 0, bytes[1] ?? 0, profile)) return { kind: 'cjk', bytes };
  return { kind: 'image' };
}

/**
 * Whether a two-byte code is a character the ROM has. User-defined areas and the FE50–FEA0 block (where
 * GB18030-2022 moved characters such as 䶮 that older ROMs hold as private-use codes) never are.
 */
function inRom(lead: number, trail: number, profile: PrinterProfile): boolean {
  if (profile.romCharset === 'gb2312') {
    return lead >= 0xa1 && lead <= 0xf7 && trail >= 0xa1 && trail <= 0xfe && !(lead >= 0xaa && lead <= 0xaf);
  }
  const code = (lead << 8) | trail;
  if (lead >= 0xaa && lead <= 0xaf && trail >= 0xa1) return false; // user-defined area 1
  if (lead >= 0xf8 && trail >= 0xa1) return false; // user-defined area 2
  if (lead >= 0xa1 && lead <= 0xa7 && trail < 0xa1) return false; // user-defined area 3
  if (code >= 0xfe50 && code <= 0xfea0) return false;
  return lead >= 0x81 && lead <= 0xfe;
}
