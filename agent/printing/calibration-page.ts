// The page `boxagent devices test <printer>` prints so the installer can measure the printer's offset: mm
// rulers along the top and left whose numbers are the intended distance from the paper's edge, a 10 mm grid
// to see skew, and a Chinese line to see that the ROM font prints. It is an ordinary layout document, so it
// goes through the same encoder, calibration and job queue as every form.
import type { DocumentItem, LayoutDocument } from '../../drivers/printer/document.js';
import { LQ_630K } from '../../drivers/printer/profile.js';
import { dotsToMm } from '../../drivers/printer/units.js';

/** Where the rulers run, mm from the paper's top and left edges. */
export const RULER_TOP_MM = 12;
export const RULER_LEFT_MM = 12;
/** The first numbered tick (the rulers start here, away from the unprintable margin). */
const RULER_START_MM = 10;
const GRID_STEP_MM = 10;
/** Nothing further right than the carriage reaches (8" on the LQ-630K class), with room for calibration. */
const REACH_MM = Math.floor(dotsToMm(LQ_630K.maxLineDots)) - 8;

function tickLength(mm: number): number {
  if (mm % 10 === 0) return 4;
  if (mm % 5 === 0) return 2.5;
  return 1.5;
}

/** The calibration page for paper of this size. */
export function calibrationPage(widthMm: number, heightMm: number): LayoutDocument {
  const items: DocumentItem[] = [];
  const line = (x1Mm: number, y1Mm: number, x2Mm: number, y2Mm: number): void => {
    items.push({ type: 'line', x1Mm, y1Mm, x2Mm, y2Mm, thicknessMm: 0.2 });
  };
  const label = (xMm: number, yMm: number, text: string, sizePt = 7): void => {
    items.push({ type: 'text', xMm, yMm, text, sizePt, bold: false, doubleWidth: false, overflow: 'error' });
  };

  // Top ruler: a tick at every mm, pointing down from the ruler line; numbers every 10 mm.
  const right = Math.min(Math.floor(widthMm - 10), REACH_MM);
  line(RULER_START_MM, RULER_TOP_MM, right, RULER_TOP_MM);
  for (let x = RULER_START_MM; x <= right; x++) {
    line(x, RULER_TOP_MM, x, RULER_TOP_MM + tickLength(x));
    if (x % 10 === 0 && x + 6 < right) label(x + 0.6, RULER_TOP_MM + 1.2, String(x));
  }
  // Left ruler, the same downwards.
  const bottom = Math.floor(heightMm - 10);
  line(RULER_LEFT_MM, RULER_START_MM, RULER_LEFT_MM, bottom);
  for (let y = RULER_START_MM; y <= bottom; y++) {
    line(RULER_LEFT_MM, y, RULER_LEFT_MM + tickLength(y), y);
    if (y % 10 === 0 && y > RULER_TOP_MM + 10 && y + 4 < bottom)
      label(RULER_LEFT_MM + 4.6, y - 1.2, String(y));
  }

  // A 10 mm grid in the middle of the page: its squares show skew and scale at a glance.
  const gx0 = 40;
  const gy0 = 60;
  const gx1 =
    gx0 + GRID_STEP_MM * Math.max(1, Math.floor((Math.min(widthMm - 40, REACH_MM) - gx0) / GRID_STEP_MM));
  const gy1 =
    gy0 + GRID_STEP_MM * Math.max(1, Math.min(10, Math.floor((heightMm - 30 - gy0) / GRID_STEP_MM)));
  for (let x = gx0; x <= gx1; x += GRID_STEP_MM) line(x, gy0, x, gy1);
  for (let y = gy0; y <= gy1; y += GRID_STEP_MM) line(gx0, y, gx1, y);

  label(40, 28, '打印机校准页 Printer calibration page', 12);
  label(40, 36, '刻度上的数字应等于它到纸边的距离（毫米）。', 10.5);
  label(40, 43, 'Ruler numbers = mm from the paper edge.', 9);
  label(40, 49, `${GRID_STEP_MM} mm grid. 汉字：老年人优待证 社会保障`, 9);
  return { page: { widthMm, heightMm }, items, copies: 1 };
}
