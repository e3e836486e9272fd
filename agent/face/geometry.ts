// Plain image geometry on interleaved RGB: affine warps with bilinear sampling (crops, resizes and the
// alignment are all affine), and the least-squares similarity transform between two point sets.
import type { RgbImage } from './image.js';

export type Point = [number, number];

/** Maps an output pixel (u, v) to a source point: x = a*u + b*v + c, y = d*u + e*v + f. */
export type Affine = [a: number, b: number, c: number, d: number, e: number, f: number];

/** Samples `src` through `map` into a new `outW` × `outH` RGB image; outside the source is black. */
export function warpRgb(src: RgbImage, map: Affine, outW: number, outH: number): Uint8Array {
  const [a, b, c, d, e, f] = map;
  const { data, width: w, height: h } = src;
  const out = new Uint8Array(outW * outH * 3);
  let o = 0;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++, o += 3) {
      const x = a * u + b * v + c;
      const y = d * u + e * v + f;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) continue;
      const fx = x - x0;
      const fy = y - y0;
      for (let ch = 0; ch < 3; ch++) {
        const p00 = x0 >= 0 && y0 >= 0 ? data[(y0 * w + x0) * 3 + ch]! : 0;
        const p10 = x0 + 1 < w && y0 >= 0 ? data[(y0 * w + x0 + 1) * 3 + ch]! : 0;
        const p01 = x0 >= 0 && y0 + 1 < h ? data[((y0 + 1) * w + x0) * 3 + ch]! : 0;
        const p11 = x0 + 1 < w && y0 + 1 < h ? data[((y0 + 1) * w + x0 + 1) * 3 + ch]! : 0;
        const top = p00 + (p10 - p00) * fx;
        const bottom = p01 + (p11 - p01) * fx;
        out[o + ch] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return out;
}

/** The affine map that resamples the rectangle (x, y, width, height) of the source to `outW` × `outH`. */
export function rectMap(
  x: number,
  y: number,
  width: number,
  height: number,
  outW: number,
  outH: number,
): Affine {
  const sx = width / outW;
  const sy = height / outH;
  // Pixel centres: output centre u + 0.5 lands on source centre x + (u + 0.5) * sx - 0.5.
  return [sx, 0, x + 0.5 * sx - 0.5, 0, sy, y + 0.5 * sy - 0.5];
}

/** Similarity transform dst ≈ s·R·src + t as [a, -b, tx; b, a, ty] (a = s·cos θ, b = s·sin θ). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * Least-squares similarity (Umeyama 1991, without reflection) mapping `src` onto `dst`. In 2-D the SVD of
 * the 2×2 cross-covariance reduces to a closed form: with both sets centred,
 * a = Σ(x·y) / Σ|x|², b = Σ(x × y) / Σ|x|² minimise Σ|[a -b; b a]x + t - y|².
 */
export function fitSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error('fitSimilarity needs two equal sets of at least 2 points');
  let msx = 0, msy = 0, mdx = 0, mdy = 0; // prettier-ignore
  for (let i = 0; i < n; i++) {
    msx += src[i]![0];
    msy += src[i]![1];
    mdx += dst[i]![0];
    mdy += dst[i]![1];
  }
  msx /= n;
  msy /= n;
  mdx /= n;
  mdy /= n;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i]![0] - msx;
    const sy = src[i]![1] - msy;
    const dx = dst[i]![0] - mdx;
    const dy = dst[i]![1] - mdy;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  if (norm === 0) throw new Error('fitSimilarity: the source points coincide');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: mdx - (a * msx - b * msy), ty: mdy - (b * msx + a * msy) };
}

/** The inverse of a similarity as an Affine sampling map (output/template → source). */
export function inverseMap(t: Similarity): Affine {
  const k = t.a * t.a + t.b * t.b;
  const ia = t.a / k;
  const ib = t.b / k;
  // Inverse of [a -b; b a] is [a b; -b a]/k.
  return [ia, ib, -(ia * t.tx + ib * t.ty), -ib, ia, -(-ib * t.tx + ia * t.ty)];
}

export function applySimilarity(t: Similarity, p: Point): Point {
  return [t.a * p[0] - t.b * p[1] + t.tx, t.b * p[0] + t.a * p[1] + t.ty];
}
