// ID photo sizes and the framing rules of each: where the eye line sits and how tall the head is, in mm
// of the printed photo. Named sizes follow the usual Chinese certificate photo sizes; a custom size scales
// the 1-inch proportions.

export const PHOTO_DPI = 300;

export interface IdPhotoSpec {
  name: string;
  widthMm: number;
  heightMm: number;
  /** Crown to chin, mm: allowed range. */
  headHeightMm: [number, number];
  /** Eye line, mm from the top edge: allowed range. */
  eyeLineMm: [number, number];
}

export const NAMED_SPECS: Record<'1-inch' | '2-inch', IdPhotoSpec> = {
  '1-inch': { name: '1-inch', widthMm: 25, heightMm: 35, headHeightMm: [20, 24], eyeLineMm: [13, 16.5] },
  '2-inch': { name: '2-inch', widthMm: 35, heightMm: 49, headHeightMm: [28, 33.5], eyeLineMm: [18, 23] },
};

/** A custom size keeps the 1-inch photo's proportions of head and eye line to the height. */
export function customSpec(widthMm: number, heightMm: number): IdPhotoSpec {
  const base = NAMED_SPECS['1-inch'];
  const k = heightMm / base.heightMm;
  return {
    name: `${widthMm}x${heightMm}mm`,
    widthMm,
    heightMm,
    headHeightMm: [base.headHeightMm[0] * k, base.headHeightMm[1] * k],
    eyeLineMm: [base.eyeLineMm[0] * k, base.eyeLineMm[1] * k],
  };
}

export const mmToPx = (mm: number, dpi = PHOTO_DPI): number => Math.round((mm * dpi) / 25.4);
