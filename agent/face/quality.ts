// Image quality of a detected face, from cheap measurements: size of the box, sharpness (variance of the
// Laplacian of the aligned crop), head pose estimated from the five points, and brightness.
import { ALIGNED_SIZE } from './alignment.js';
import type { Point } from './geometry.js';
import { luma } from './tensors.js';
import { render, t, type Text } from '../messages/text.js';

export interface FaceQuality {
  /** Shorter side of the face box in pixels of the decoded image. */
  size: number;
  /** Variance of the 4-neighbour Laplacian over the aligned crop's centre; low = blurred. */
  sharpness: number;
  /** Degrees; yaw and pitch are estimates from landmark proportions, roll is the eye-line angle. */
  pose: { yaw: number; pitch: number; roll: number };
  /** Mean luma of the aligned crop, 0..255. */
  brightness: number;
}

export function measureQuality(
  faceSize: number,
  five: readonly Point[],
  alignedRgb: Uint8Array,
): FaceQuality {
  return {
    size: Math.round(faceSize),
    sharpness: round1(laplacianVariance(alignedRgb)),
    pose: estimatePose(five),
    brightness: round1(meanLuma(alignedRgb)),
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function laplacianVariance(rgb: Uint8Array): number {
  const n = ALIGNED_SIZE;
  const grey = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) grey[i] = luma(rgb, i * 3);
  // The centre of the template (eyes to mouth) only: the corners are background or black border.
  const lo = 24;
  const hi = n - 16;
  let sum = 0;
  let sum2 = 0;
  let count = 0;
  for (let y = lo; y < hi; y++) {
    for (let x = 20; x < n - 20; x++) {
      const i = y * n + x;
      const l = grey[i - 1]! + grey[i + 1]! + grey[i - n]! + grey[i + n]! - 4 * grey[i]!;
      sum += l;
      sum2 += l * l;
      count++;
    }
  }
  const mean = sum / count;
  return sum2 / count - mean * mean;
}

function meanLuma(rgb: Uint8Array): number {
  let s = 0;
  const n = rgb.length / 3;
  for (let i = 0; i < n; i++) s += luma(rgb, i * 3);
  return s / n;
}

/**
 * Yaw: where the nose tip sits between the eyes (−90 = nose at the image-left eye, 90 = at the right one).
 * Pitch: eyes-to-nose against nose-to-mouth height, 0 when they are equal as in the frontal template.
 * Roll: the eye line's angle. Rough but monotonic: good enough to refuse a turned head at enrolment.
 */
function estimatePose(five: readonly Point[]): FaceQuality['pose'] {
  const [le, re, nose, lm, rm] = five as [Point, Point, Point, Point, Point];
  const roll = (Math.atan2(re[1] - le[1], re[0] - le[0]) * 180) / Math.PI;
  // Work in the eye-line frame so roll does not leak into yaw and pitch.
  const c = Math.cos((-roll * Math.PI) / 180);
  const s = Math.sin((-roll * Math.PI) / 180);
  const rot = (p: Point): Point => [p[0] * c - p[1] * s, p[0] * s + p[1] * c];
  const [l, r, nz, ml, mr] = [rot(le), rot(re), rot(nose), rot(lm), rot(rm)];
  const eyeSpan = Math.max(r[0] - l[0], 1e-6);
  const yaw = ((nz[0] - (l[0] + r[0]) / 2) / (eyeSpan / 2)) * 90;
  const eyeY = (l[1] + r[1]) / 2;
  const mouthY = (ml[1] + mr[1]) / 2;
  const upper = nz[1] - eyeY;
  const lower = mouthY - nz[1];
  const pitch = ((upper - lower) / Math.max(upper + lower, 1e-6)) * 90;
  const clamp90 = (x: number): number => Math.round(Math.max(-90, Math.min(90, x)) * 10) / 10;
  return { yaw: clamp90(yaw), pitch: clamp90(pitch), roll: Math.round(roll * 10) / 10 };
}

export interface EnrolmentGate {
  minFaceSize: number;
  minSharpness: number;
  maxYaw: number;
  maxPitch: number;
  minBrightness: number;
  maxBrightness: number;
}

/** Why a face is not good enough to enrol, one human reason per failed check; empty when it is. */
export function enrolmentProblems(q: FaceQuality, gate: EnrolmentGate): string[] {
  return enrolmentProblemTexts(q, gate).map((text) => render(text, 'en'));
}

/** The failed checks as catalog texts, for a problem detail in the caller's language. */
export function enrolmentProblemTexts(q: FaceQuality, gate: EnrolmentGate): Text[] {
  const reasons: Text[] = [];
  if (q.size < gate.minFaceSize) reasons.push(t`face too small (${q.size} px < ${gate.minFaceSize})`);
  if (q.sharpness < gate.minSharpness)
    reasons.push(t`blurred (sharpness ${q.sharpness} < ${gate.minSharpness})`);
  if (Math.abs(q.pose.yaw) > gate.maxYaw) reasons.push(t`head turned (yaw ${q.pose.yaw}°)`);
  if (Math.abs(q.pose.pitch) > gate.maxPitch)
    reasons.push(t`head tilted up or down (pitch ${q.pose.pitch}°)`);
  if (q.brightness < gate.minBrightness) reasons.push(t`too dark (${q.brightness})`);
  if (q.brightness > gate.maxBrightness) reasons.push(t`too bright (${q.brightness})`);
  return reasons;
}
