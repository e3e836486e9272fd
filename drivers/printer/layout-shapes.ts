// Lines and boxes: strokes drawn into a bitmap the size of the shape.
import { Bitmap, drawLine } from './bitmap.js';
import type { BoxItem, LineItem } from './document.js';
import { bitmapAt, type Placed } from './layout-marks.js';
import { mmToDots } from './units.js';

/** Stroke width in dots: 0.3 mm unless asked, never thinner than one dot. */
const stroke = (thicknessMm: number | undefined): number => Math.max(1, mmToDots(thicknessMm ?? 0.3));

export function layoutLine(item: LineItem): Placed {
  const t = stroke(item.thicknessMm);
  const [x1, y1, x2, y2] = [item.x1Mm, item.y1Mm, item.x2Mm, item.y2Mm].map(mmToDots) as [
    number,
    number,
    number,
    number,
  ];
  // drawLine centres the stroke on the line: the bitmap starts half a stroke before it.
  const half = Math.floor((t - 1) / 2);
  const x = Math.min(x1, x2) - half;
  const y = Math.min(y1, y2) - half;
  const bmp = new Bitmap(Math.abs(x2 - x1) + t, Math.abs(y2 - y1) + t);
  drawLine(bmp, x1 - x, y1 - y, x2 - x, y2 - y, t);
  return bitmapAt(bmp, x, y);
}

export function layoutBox(item: BoxItem): Placed {
  const t = stroke(item.thicknessMm);
  const w = mmToDots(item.widthMm);
  const h = mmToDots(item.heightMm);
  const bmp = new Bitmap(w, h);
  bmp.fillRect(0, 0, w, t);
  bmp.fillRect(0, h - t, w, t);
  bmp.fillRect(0, 0, t, h);
  bmp.fillRect(w - t, 0, t, h);
  return bitmapAt(bmp, mmToDots(item.xMm), mmToDots(item.yMm));
}
