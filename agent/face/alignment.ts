// From 68 landmarks to the five points ArcFace-style embedders are trained on, and the warp of a face onto
// the standard 112 × 112 template.
import { fitSimilarity, inverseMap, warpRgb, type Point, type Similarity } from './geometry.js';
import type { RgbImage } from './image.js';

export const ALIGNED_SIZE = 112;

/** The ArcFace reference points in a 112 × 112 crop: eye, eye, nose tip, mouth corner, mouth corner. */
export const ARCFACE_TEMPLATE: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/**
 * The five points from iBUG-68 landmarks (image-left eye first): eye centres as the mean of each eye's six
 * contour points (36-41, 42-47), nose tip (30), mouth corners (48, 54).
 */
export function fivePoints(l68: readonly Point[]): Point[] {
  if (l68.length !== 68) throw new Error(`expected 68 landmarks, got ${l68.length}`);
  const mean = (from: number, to: number): Point => {
    let x = 0;
    let y = 0;
    for (let i = from; i <= to; i++) {
      x += l68[i]![0];
      y += l68[i]![1];
    }
    const n = to - from + 1;
    return [x / n, y / n];
  };
  return [mean(36, 41), mean(42, 47), l68[30]!, l68[48]!, l68[54]!];
}

export interface Aligned {
  /** 112 × 112 interleaved RGB. */
  rgb: Uint8Array;
  transform: Similarity;
}

export function alignFace(img: RgbImage, five: readonly Point[]): Aligned {
  const transform = fitSimilarity(five, ARCFACE_TEMPLATE);
  return { rgb: warpRgb(img, inverseMap(transform), ALIGNED_SIZE, ALIGNED_SIZE), transform };
}
