// The calibration page an installer measures: decoded from the printer's own bytes, its ruler ticks must sit at
// the distance from the paper edge that their numbers say, and the calibration offsets must move them.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { calibrationPage, RULER_LEFT_MM, RULER_TOP_MM } from '../../../agent/printing/calibration-page.js';
import {
  DEFAULT_SETUP,
  encodeDocument,
  previewPng,
  type PrinterSetup,
} from '../../../drivers/printer/forms.js';
import { mmToDots } from '../../../drivers/printer/units.js';

const A4 = { widthMm: 210, heightMm: 297 };

/** The preview as a grey raster, and a test for "printed" at a point in mm from the paper's top-left. */
async function printed(setup: PrinterSetup) {
  const { bytes } = await encodeDocument(calibrationPage(A4.widthMm, A4.heightMm), setup);
  const paper = { widthDots: mmToDots(A4.widthMm), heightDots: mmToDots(A4.heightMm) };
  const png = await previewPng(bytes, setup, paper);
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  return (xMm: number, yMm: number): boolean => {
    const x = Math.round((xMm * 180) / 25.4);
    const y = Math.round((yMm * 180) / 25.4);
    return (data[y * info.width + x] ?? 255) < 128;
  };
}

describe('printer calibration page', () => {
  it('puts every top-ruler tick its number of mm from the left edge, nothing between the ticks', async () => {
    const at = await printed(DEFAULT_SETUP);
    // Inside the long ticks' band, below the ruler line.
    const band = RULER_TOP_MM + 3;
    for (const mm of [20, 50, 100, 150, 190]) {
      expect(at(mm, band), `tick ${mm}`).toBe(true);
      expect(at(mm + 0.5, band), `gap after ${mm}`).toBe(false);
    }
  });

  it('puts the left ruler ticks their number of mm from the top edge', async () => {
    const at = await printed(DEFAULT_SETUP);
    const band = RULER_LEFT_MM + 3;
    for (const mm of [30, 100, 250]) {
      expect(at(band, mm), `tick ${mm}`).toBe(true);
      expect(at(band, mm + 0.5), `gap after ${mm}`).toBe(false);
    }
  });

  it('prints the page through the calibration offsets like every form', async () => {
    // A printer calibrated +2 mm right: the preview shows the paper, so the ticks stay where their numbers say
    // only when the offsets undo the printer's own shift; the bytes differ, the result on paper does not.
    const shifted: PrinterSetup = { ...DEFAULT_SETUP, calibration: { xMm: 2, yMm: -1 } };
    const plain = await encodeDocument(calibrationPage(210, 297), DEFAULT_SETUP);
    const moved = await encodeDocument(calibrationPage(210, 297), shifted);
    expect(moved.bytes.equals(plain.bytes)).toBe(false);
    const at = await printed(shifted);
    expect(at(100, RULER_TOP_MM + 3)).toBe(true);
  });
});
