// An ID photo cut from a portrait by its face landmarks: the face is turned upright (eyes level), scaled so
// the head has the spec's height and placed so the eye line sits where the spec wants it, then encoded as
// a 300 dpi JPEG. The head is estimated from the five landmarks: crown and chin lie at fixed multiples of
// the eye-to-mouth distance above and below the eye line (adult proportions; see docs/decisions.md).
import sharp from 'sharp';
import type { Box } from '../face/detection.js';
import { fitSimilarity, inverseMap, warpRgb, type Affine, type Point } from '../face/geometry.js';
import type { RgbImage } from '../face/image.js';
import { luma } from '../face/tensors.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import { mmToPx, PHOTO_DPI, type IdPhotoSpec } from './id-photo-specs.js';
import { t } from '../messages/text.js';

/** Crown above the eye line and chin below it, in eye-to-mouth distances. */
export const CROWN_ABOVE_EYES = 1.6;
export const CHIN_BELOW_EYES = 1.7;
/** Below this eye-to-mouth distance (source pixels) the face is too small to make a sharp photo. */
const MIN_EYE_MOUTH_PX = 18;
/** Share of the photo that may fall outside the source picture (filled white) before it is refused. */
const MAX_OUTSIDE = 0.02;

export interface LocatedFace {
  box: Box;
  landmarks: Point[];
}

export interface IdPhoto {
  jpeg: Buffer;
  spec: IdPhotoSpec;
  widthPx: number;
  heightPx: number;
  dpi: number;
  /** The framing achieved, measured from the landmarks mapped into the photo. */
  headHeightMm: number;
  eyeLineMm: number;
  /** How much the face was turned to level the eyes, degrees. */
  rollDeg: number;
  /** Output pixels per source pixel (above ~2 the source was small). */
  scale: number;
  background: BackgroundCheck;
}

export interface BackgroundCheck {
  light: boolean;
  /** Mean luma (0-255) of the strips above and beside the head. */
  meanLuma: number;
  /** Standard deviation of that luma: a plain background is low. */
  spread: number;
}

/** Geometry helpers shared with the tests: the eye and mouth midpoints of five landmarks. */
export function eyeAndMouth(landmarks: readonly Point[]): { eyes: Point; mouth: Point } {
  const [le, re, , lm, rm] = landmarks as [Point, Point, Point, Point, Point];
  return {
    eyes: [(le[0] + re[0]) / 2, (le[1] + re[1]) / 2],
    mouth: [(lm[0] + rm[0]) / 2, (lm[1] + rm[1]) / 2],
  };
}

/** The one face of the picture, else the problem the face operations use. */
export function singleFace(faces: readonly LocatedFace[], field: FieldPath): LocatedFace {
  if (faces.length === 0) throw new Problem('no-face', t`no face was found in the picture`, field);
  if (faces.length > 1) {
    throw new Problem(
      'several-faces',
      t`${faces.length} faces were found; an ID photo needs a picture of one person`,
      field,
      { faces: faces.length },
    );
  }
  return faces[0]!;
}

export async function cropIdPhoto(
  image: RgbImage,
  face: LocatedFace,
  spec: IdPhotoSpec,
  opts: { field: FieldPath; requireLightBackground: boolean },
): Promise<IdPhoto> {
  const W = mmToPx(spec.widthMm);
  const H = mmToPx(spec.heightMm);
  const { eyes, mouth } = eyeAndMouth(face.landmarks);
  const eyeMouth = Math.hypot(mouth[0] - eyes[0], mouth[1] - eyes[1]);
  if (eyeMouth < MIN_EYE_MOUTH_PX) {
    throw new Problem(
      'photo-unusable',
      t`the face is too small (${eyeMouth.toFixed(0)} px eye to mouth, at least ${MIN_EYE_MOUTH_PX}); come closer to the camera`,
      opts.field,
      { reason: 'face-too-small' },
    );
  }
  const headMm = (spec.headHeightMm[0] + spec.headHeightMm[1]) / 2;
  const eyeMm = (spec.eyeLineMm[0] + spec.eyeLineMm[1]) / 2;
  const headPx = mmToPx(headMm);
  const eyeY = mmToPx(eyeMm);
  const outEyeMouth = headPx / (CROWN_ABOVE_EYES + CHIN_BELOW_EYES);
  // Eye midpoint and mouth midpoint onto the photo's vertical centre line: levels, scales and places at once.
  const fit = fitSimilarity(
    [eyes, mouth],
    [
      [W / 2, eyeY],
      [W / 2, eyeY + outEyeMouth],
    ],
  );
  const map = inverseMap(fit);
  const rgb = warpRgb(image, map, W, H);
  const outside = whitenOutside(rgb, map, W, H, image.width, image.height);
  if (outside > MAX_OUTSIDE) {
    throw new Problem(
      'photo-unusable',
      t`the head is too close to the edge of the picture: ${(outside * 100).toFixed(1)} % of the ${spec.name} photo would lie outside it; centre the face with space above the head`,
      opts.field,
      { reason: 'face-near-edge' },
    );
  }
  const background = checkBackground(rgb, W, H);
  if (opts.requireLightBackground && !background.light) {
    throw new Problem(
      'photo-unusable',
      t`the background is not light and plain (mean luma ${background.meanLuma.toFixed(0)}, spread ${background.spread.toFixed(0)}); use a light plain wall`,
      opts.field,
      { reason: 'background', background },
    );
  }
  const jpeg = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length), {
    raw: { width: W, height: H, channels: 3 },
  })
    .withMetadata({ density: PHOTO_DPI })
    .jpeg({ quality: 92, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const pxToMm = (px: number): number => Math.round(((px * 25.4) / PHOTO_DPI) * 10) / 10;
  return {
    jpeg,
    spec,
    widthPx: W,
    heightPx: H,
    dpi: PHOTO_DPI,
    headHeightMm: pxToMm(outEyeMouth * (CROWN_ABOVE_EYES + CHIN_BELOW_EYES)),
    eyeLineMm: pxToMm(eyeY),
    rollDeg: Math.round(((Math.atan2(fit.b, fit.a) * 180) / Math.PI) * 10) / 10,
    scale: Math.round(Math.hypot(fit.a, fit.b) * 100) / 100,
    background,
  };
}

/** Paints white the photo pixels whose source lies outside the picture; returns their share. */
function whitenOutside(rgb: Uint8Array, map: Affine, W: number, H: number, w: number, h: number): number {
  const [a, b, c, d, e, f] = map;
  let n = 0;
  for (let v = 0, o = 0; v < H; v++) {
    for (let u = 0; u < W; u++, o += 3) {
      const x = a * u + b * v + c;
      const y = d * u + e * v + f;
      if (x < -0.5 || y < -0.5 || x > w - 0.5 || y > h - 0.5) {
        rgb[o] = rgb[o + 1] = rgb[o + 2] = 255;
        n++;
      }
    }
  }
  return n / (W * H);
}

/** Luma of the strip above the head and the two upper side strips beside it. */
export function checkBackground(rgb: Uint8Array, W: number, H: number): BackgroundCheck {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  const add = (x0: number, y0: number, x1: number, y1: number): void => {
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const l = luma(rgb, (y * W + x) * 3);
        sum += l;
        sumSq += l * l;
        n++;
      }
    }
  };
  const top = Math.round(H * 0.06);
  const side = Math.round(W * 0.1);
  add(0, 0, W, top);
  add(0, top, side, Math.round(H * 0.4));
  add(W - side, top, W, Math.round(H * 0.4));
  const mean = sum / n;
  const spread = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  return {
    light: mean >= 170 && spread <= 35,
    meanLuma: Math.round(mean * 10) / 10,
    spread: Math.round(spread * 10) / 10,
  };
}
