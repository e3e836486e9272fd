// Pictures placed on the page: images (180 or 360 dpi), barcodes and QR codes, each turned into a one-bit
// bitmap of the asked size by raster-items.ts.
import type { BarcodeItem, ImageItem, QrItem } from './document.js';
import { bitmapAt, LayoutError, type Placed } from './layout-marks.js';
import { barcodeToBitmap, imageToBitmap } from './raster-items.js';
import { mmToDots } from './units.js';

export async function layoutImage(item: ImageItem): Promise<Placed> {
  const data = Buffer.from(item.data, 'base64');
  if (data.length === 0) throw new LayoutError('/data', 'the image data is not base64');
  const fine = item.density === 360;
  const w = mmToDots(item.widthMm);
  const bmp = await imageToBitmap(
    data,
    fine ? w * 2 : w,
    item.heightMm === undefined ? undefined : mmToDots(item.heightMm),
    {
      threshold: item.threshold ?? 128,
      dither: item.dither ?? true,
    },
  );
  if (!fine) return bitmapAt(bmp, mmToDots(item.xMm), mmToDots(item.yMm));
  const x = mmToDots(item.xMm);
  const y = mmToDots(item.yMm);
  return { marks: [{ kind: 'bitmap', x, y, bitmap: bmp, density: 360 }], box: { x, y, w, h: bmp.height } };
}

export async function layoutBarcode(item: BarcodeItem): Promise<Placed> {
  const bmp = await barcodeToBitmap(
    item.symbology ?? 'code128',
    item.data,
    mmToDots(item.widthMm),
    mmToDots(item.heightMm),
  );
  return bitmapAt(bmp, mmToDots(item.xMm), mmToDots(item.yMm));
}

export async function layoutQr(item: QrItem): Promise<Placed> {
  const side = mmToDots(item.sizeMm);
  return bitmapAt(
    await barcodeToBitmap('qrcode', item.data, side, side),
    mmToDots(item.xMm),
    mmToDots(item.yMm),
  );
}
