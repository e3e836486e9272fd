// What a printer model can do, as far as the encoder and decoder care. One profile per model family.

export interface PrinterProfile {
  model: string;
  /** Which two-byte characters the ROM holds: GBK's range, or only GB2312's. Others print as bit images. */
  romCharset: 'gbk' | 'gb2312';
  /** ESC/P2 commands (`ESC ( …`, `ESC .`) may be sent. The LQ-630K speaks ESC/P with the Chinese extension. */
  escp2: boolean;
  /** Width of a Latin character at 10 cpi, in dots. */
  latinAdvance: number;
  /** Chinese glyphs are `cellHeight` dots square; `FS S` adds `cjkSpaceRight` dots after each. */
  cjkSpaceRight: number;
  /** Height of a ROM character cell (one pass of the 24-pin head). */
  cellHeight: number;
  /** Widest printable line, in dots (the carriage width). */
  maxLineDots: number;
}

export const LQ_630K: PrinterProfile = {
  model: 'EPSON LQ-630K',
  romCharset: 'gbk',
  escp2: false,
  latinAdvance: 18,
  cjkSpaceRight: 6,
  cellHeight: 24,
  // 80 columns at 10 cpi: 8 inches.
  maxLineDots: 1440,
};

/** Advance of a full-width (Chinese) ROM character. */
export function cjkAdvance(p: PrinterProfile): number {
  return p.cellHeight + p.cjkSpaceRight;
}
