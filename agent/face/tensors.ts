// Pixel buffers to model input tensors, as the manifest describes them (colour order, mean, scale).
import type { ModelInput } from '../../models/manifest.js';

/** Interleaved RGB → planar NCHW float, in the model's colour order, (pixel - mean) * scale. */
export function toTensorData(
  rgb: Uint8Array,
  width: number,
  height: number,
  input: ModelInput,
): Float32Array {
  const plane = width * height;
  const { mean, scale } = input;
  if (input.colour === 'GREY') {
    const out = new Float32Array(plane);
    for (let i = 0; i < plane; i++) out[i] = (luma(rgb, i * 3) - mean) * scale;
    return out;
  }
  const out = new Float32Array(plane * 3);
  // Channel offsets of the first, second and third plane within an RGB pixel.
  const order = input.colour === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let p = 0; p < 3; p++) {
    const ch = order[p]!;
    const base = p * plane;
    for (let i = 0; i < plane; i++) out[base + i] = (rgb[i * 3 + ch]! - mean) * scale;
  }
  return out;
}

/** ITU-R BT.601 luma, the weights OpenCV's BGR2GRAY uses. */
export function luma(rgb: Uint8Array, i: number): number {
  return 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
}

export function l2Normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * k;
  return out;
}

/** Cosine similarity of two L2-normalised vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`vector lengths differ (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const e = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - max));
  const sum = e.reduce((x, y) => x + y, 0);
  return e.map((x) => x / sum);
}
