// The printer's grid: 24-pin heads place dots at 1/180 inch, the unit every position here is counted in.
export const DPI = 180;
const MM_PER_INCH = 25.4;

/** Millimetres to the nearest dot (1/180"). */
export function mmToDots(mm: number): number {
  return Math.round((mm * DPI) / MM_PER_INCH);
}

export function dotsToMm(dots: number): number {
  return (dots * MM_PER_INCH) / DPI;
}

/** Typographic points (1/72") to dots. */
export function ptToDots(pt: number): number {
  return (pt * DPI) / 72;
}
