// An independent, deliberately small reading of an ESC/P stream for tests: where each printed character
// and each bit-image band lands, in 1/180". It shares no code with drivers/printer/ so that a mistake in the
// encoder cannot hide behind the same mistake in the driver's decoder.
import iconv from 'iconv-lite';

export interface CheckedChar {
  ch: string;
  x: number;
  y: number;
}

export interface CheckedImage {
  x: number;
  y: number;
  /** ESC * mode: 39 (180 dpi) or 40 (360 dpi). */
  mode: number;
  columns: number;
  /** Column-major, 3 bytes per column, as sent. */
  data: Buffer;
}

export interface CheckedStream {
  chars: CheckedChar[];
  images: CheckedImage[];
  formFeeds: number;
  /** Every character as text, lines in order of y. */
  text(): string;
}

export function checkEscp(bytes: Buffer, latinWidth = 18, cjkWidth = 30): CheckedStream {
  const chars: CheckedChar[] = [];
  const images: CheckedImage[] = [];
  let x = 0;
  let y = 0;
  let spacing = 30;
  let wide = 1;
  let chinese = false;
  let formFeeds = 0;
  let i = 0;
  const u16 = (at: number): number => (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b === 0x1b) {
      const op = String.fromCharCode(bytes[i + 1] ?? 0);
      if (op === '@') {
        wide = 1;
        chinese = false;
        i += 2;
      } else if (op === 'J') {
        y += bytes[i + 2] ?? 0;
        i += 3;
      } else if (op === '3') {
        spacing = bytes[i + 2] ?? 0;
        i += 3;
      } else if (op === '$') {
        x = u16(i + 2) * 3;
        i += 4;
      } else if (op === '\\') {
        const v = u16(i + 2);
        x += v >= 0x8000 ? v - 0x10000 : v;
        i += 4;
      } else if (op === 'W') {
        wide = (bytes[i + 2] ?? 0) & 1 ? 2 : 1;
        i += 3;
      } else if (op === 'E' || op === 'F') i += 2;
      else if (op === 'C') i += bytes[i + 2] === 0 ? 4 : 3;
      else if (op === '*') {
        const mode = bytes[i + 2] ?? 0;
        const cols = u16(i + 3);
        images.push({ x, y, mode, columns: cols, data: bytes.subarray(i + 5, i + 5 + cols * 3) });
        // Mode 40 is 360 dpi: two of its columns per 1/180".
        x += mode === 40 ? Math.ceil(cols / 2) : cols;
        i += 5 + cols * 3;
      } else if (op === '(') i += 5 + u16(i + 3);
      else i += 3;
    } else if (b === 0x1c) {
      const op = String.fromCharCode(bytes[i + 1] ?? 0);
      if (op === '&') {
        chinese = true;
        i += 2;
      } else if (op === '.') {
        chinese = false;
        i += 2;
      } else if (op === 'S') i += 4;
      else i += 3;
    } else if (b === 0x0d) {
      x = 0;
      i++;
    } else if (b === 0x0a) {
      x = 0;
      y += spacing;
      i++;
    } else if (b === 0x0c) {
      formFeeds++;
      x = 0;
      y = 0;
      i++;
    } else if (chinese && b >= 0x81) {
      const n = (bytes[i + 1] ?? 0) >= 0x30 && (bytes[i + 1] ?? 0) <= 0x39 ? 4 : 2;
      chars.push({ ch: iconv.decode(bytes.subarray(i, i + n), 'gb18030'), x, y });
      x += cjkWidth * wide;
      i += n;
    } else if (b >= 0x20 && b < 0x7f) {
      if (b !== 0x20) chars.push({ ch: String.fromCharCode(b), x, y });
      x += latinWidth * wide;
      i++;
    } else i++;
  }
  return {
    chars,
    images,
    formFeeds,
    text() {
      const rows = new Map<number, CheckedChar[]>();
      for (const c of chars) rows.set(c.y, [...(rows.get(c.y) ?? []), c]);
      return [...rows.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([, cs]) =>
          cs
            .sort((a, b) => a.x - b.x)
            .map((c) => c.ch)
            .join(''),
        )
        .join('\n');
    },
  };
}
