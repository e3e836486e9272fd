// The printer's public face for documents: document → ESC/P bytes, and bytes → preview PNG. The preview is
// made by decoding the bytes, never by a second layout path.
import { EscpDecoder, type DecodedPage } from './decoder.js';
import type { LayoutDocument } from './document.js';
import { encodePage } from './encoder.js';
import { DEFAULT_FALLBACK_FONTS, loadFonts, notoFonts, type FontSpec, type GlyphFont } from './fonts.js';
import { layoutDocument, type PageLayout } from './layout.js';
import { renderPreviewPng } from './preview.js';
import { LQ_630K, type PrinterProfile } from './profile.js';
import { mmToDots } from './units.js';

export interface PrinterSetup {
  profile: PrinterProfile;
  /** Offsets measured at install, mm: added to every position sent to this printer. */
  calibration: { xMm: number; yMm: number };
  /** Extra font files for characters neither the ROM nor Noto Sans Hans has. */
  fallbackFonts?: FontSpec[];
}

export const DEFAULT_SETUP: PrinterSetup = { profile: LQ_630K, calibration: { xMm: 0, yMm: 0 } };

export function setupFonts(setup: PrinterSetup): { regular: GlyphFont[]; bold: GlyphFont[] } {
  const noto = notoFonts();
  const extra = [...(setup.fallbackFonts ?? []), ...DEFAULT_FALLBACK_FONTS];
  return {
    regular: loadFonts([noto.regular, ...extra]),
    bold: loadFonts([noto.bold, noto.regular, ...extra]),
  };
}

export interface EncodedDocument {
  bytes: Buffer;
  layout: PageLayout;
}

/** Lays out and encodes a document; throws LayoutError naming the item for anything it cannot print. */
export async function encodeDocument(doc: LayoutDocument, setup: PrinterSetup): Promise<EncodedDocument> {
  const layout = await layoutDocument(doc, {
    profile: setup.profile,
    fonts: setupFonts(setup),
    calibration: setup.calibration,
  });
  return { bytes: encodePage(layout, setup.profile), layout };
}

/** Decodes a byte stream as this printer would print it onto paper `widthDots` wide. */
export function decodeForPaper(bytes: Buffer, setup: PrinterSetup, widthDots: number): DecodedPage[] {
  // The printer's origin sits at minus the calibration on the paper: the offsets exist to undo it.
  const decoder = new EscpDecoder({
    profile: setup.profile,
    widthDots,
    origin: { x: -mmToDots(setup.calibration.xMm), y: -mmToDots(setup.calibration.yMm) },
  });
  decoder.push(bytes);
  return decoder.finish();
}

/** The first page of `bytes` as a PNG at 180 dpi, over `background` (a scan of the form) when given. */
export async function previewPng(
  bytes: Buffer,
  setup: PrinterSetup,
  paper: { widthDots: number; heightDots: number },
  background?: Buffer,
): Promise<Buffer> {
  const page = decodeForPaper(bytes, setup, paper.widthDots)[0];
  if (!page) throw new Error('the byte stream prints nothing');
  return renderPreviewPng(page, setupFonts(setup), paper, background);
}
