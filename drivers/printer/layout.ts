// Turns a document into marks on the printer's 180 dpi grid: runs of ROM text (with the characters the ROM
// lacks drawn as glyph bitmaps) and one-bit bitmaps. Every check that names a bad item happens here, before
// a byte is produced, so a bad document is refused whole. Each kind of item is laid out by its own module
// (layout-text, layout-table, layout-shapes, layout-raster); this one places them on the page.
import type { DocumentItem, LayoutDocument } from './document.js';
import { resolvePage } from './document.js';
import { UnprintableCharacterError } from './glyphs.js';
import {
  LayoutError,
  markWidth,
  mmOf,
  type ItemOptions,
  type LayoutOptions,
  type Mark,
  type PageLayout,
  type Placed,
} from './layout-marks.js';
import { layoutBarcode, layoutImage, layoutQr } from './layout-raster.js';
import { layoutBox, layoutLine } from './layout-shapes.js';
import { layoutTable } from './layout-table.js';
import { layoutText, layoutTextBox } from './layout-text.js';
import { BadImageError } from './raster-items.js';
import { mmToDots } from './units.js';

export {
  LayoutError,
  type BitmapMark,
  type LayoutOptions,
  type Mark,
  type PageLayout,
  type TextCell,
  type TextMark,
} from './layout-marks.js';

export async function layoutDocument(doc: LayoutDocument, opts: LayoutOptions): Promise<PageLayout> {
  const page = resolvePage(doc.page);
  if (typeof page === 'string') throw new LayoutError('/page', page);
  const widthDots = mmToDots(page.widthMm);
  const heightDots = mmToDots(page.heightMm);
  const marks: Mark[] = [];
  for (const [i, item] of doc.items.entries()) {
    const where = `/items/${i}`;
    let placed: Placed;
    try {
      placed = await layoutItem(item, { ...opts, pageWidthDots: widthDots });
    } catch (err) {
      if (err instanceof UnprintableCharacterError || err instanceof BadImageError) {
        throw new LayoutError(where, `item ${i}: ${err.message}`);
      }
      if (err instanceof LayoutError) throw new LayoutError(where + err.field, `item ${i}: ${err.message}`);
      throw err;
    }
    const b = placed.box;
    if (b.x < 0 || b.y < 0 || b.x + b.w > widthDots || b.y + b.h > heightDots) {
      throw new LayoutError(
        where,
        `item ${i} (${item.type}) is outside the ${page.widthMm}×${page.heightMm} mm page ` +
          `(it spans x ${mmOf(b.x)}–${mmOf(b.x + b.w)} mm, y ${mmOf(b.y)}–${mmOf(b.y + b.h)} mm)`,
      );
    }
    // Calibration moves what the printer is told, so the marks land where the document asks on paper.
    const dx = mmToDots(opts.calibration.xMm);
    const dy = mmToDots(opts.calibration.yMm);
    for (const m of placed.marks) {
      m.x += dx;
      m.y += dy;
      if (m.x < 0 || m.y < 0 || m.x + markWidth(m) > opts.profile.maxLineDots) {
        throw new LayoutError(
          where,
          `item ${i} is outside what the printer's carriage can reach after calibration`,
        );
      }
      marks.push(m);
    }
  }
  return { widthDots, heightDots, copies: doc.copies ?? 1, marks };
}

function layoutItem(item: DocumentItem, opts: ItemOptions): Promise<Placed> | Placed {
  switch (item.type) {
    case 'text':
      return layoutText(item, opts);
    case 'textbox':
      return layoutTextBox(item, opts);
    case 'line':
      return layoutLine(item);
    case 'box':
      return layoutBox(item);
    case 'image':
      return layoutImage(item);
    case 'barcode':
      return layoutBarcode(item);
    case 'table':
      return layoutTable(item, opts);
    case 'qr':
      return layoutQr(item);
  }
}
