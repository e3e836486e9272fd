// Tables: each cell is a text box inside its column and row (padding around it), and the rules are one
// bitmap over the whole grid. A cell that fails names its row and column.
import { Bitmap } from './bitmap.js';
import type { TableItem } from './document.js';
import { LayoutError, type LayoutOptions, type Mark, type Placed } from './layout-marks.js';
import { layoutTextBox } from './layout-text.js';
import { mmToDots } from './units.js';

export async function layoutTable(t: TableItem, opts: LayoutOptions): Promise<Placed> {
  const pad = t.paddingMm ?? 1;
  const widthMm = t.columnsMm.reduce((a, b) => a + b, 0);
  const heightMm = t.rows.length * t.rowHeightMm;
  const marks: Mark[] = [];
  for (const [r, row] of t.rows.entries()) {
    if (row.length > t.columnsMm.length) {
      throw new LayoutError(
        `/rows/${r}`,
        `row ${r} has ${row.length} cells but the table has ${t.columnsMm.length} columns`,
      );
    }
    let x = t.xMm;
    for (const [c, text] of row.entries()) {
      const w = t.columnsMm[c] ?? 0;
      if (text !== '') {
        try {
          const cell = await layoutTextBox(
            {
              type: 'textbox',
              xMm: x + pad,
              yMm: t.yMm + r * t.rowHeightMm + pad,
              widthMm: Math.max(0.1, w - 2 * pad),
              heightMm: Math.max(0.1, t.rowHeightMm - 2 * pad),
              text,
              sizePt: t.sizePt ?? 10.5,
              bold: (t.boldFirstRow ?? false) && r === 0,
              overflow: t.overflow ?? 'error',
            },
            opts,
          );
          marks.push(...cell.marks);
        } catch (err) {
          if (err instanceof LayoutError)
            throw new LayoutError(`/rows/${r}/${c}`, `cell (${r}, ${c}): ${err.message}`);
          throw err;
        }
      }
      x += w;
    }
  }
  const x0 = mmToDots(t.xMm);
  const y0 = mmToDots(t.yMm);
  const w = mmToDots(widthMm);
  const h = mmToDots(heightMm);
  if (t.borders ?? true) marks.push({ kind: 'bitmap', x: x0, y: y0, bitmap: rules(t, w, h) });
  return { marks, box: { x: x0, y: y0, w, h } };
}

/** The rules around and between the cells, `w` × `h` dots plus one stroke. */
function rules(t: TableItem, w: number, h: number): Bitmap {
  const th = Math.max(1, mmToDots(t.thicknessMm ?? 0.3));
  const grid = new Bitmap(w + th, h + th);
  for (let r = 0; r <= t.rows.length; r++) grid.fillRect(0, mmToDots(r * t.rowHeightMm), w + th, th);
  let cx = 0;
  for (let c = 0; c <= t.columnsMm.length; c++) {
    grid.fillRect(mmToDots(cx), 0, th, h + th);
    cx += t.columnsMm[c] ?? 0;
  }
  return grid;
}
