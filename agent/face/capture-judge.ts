// Whether one camera frame holds the face a capture wants, and if not, what is missing and what to tell
// the resident. The checks run cheapest first, so the hint names the first thing to fix.
import { CAPTURE_HINT_TEXTS } from '../messages/capture-hints.js';
import type { AnalysedFace, Analysis } from './analyse.js';
import type { EnrolmentGate } from './quality.js';

export const CAPTURE_MISSING = [
  'no-face',
  'several-faces',
  'too-far',
  'not-frontal',
  'blurred',
  'too-dark',
  'too-bright',
  'not-live',
] as const;
export type CaptureMissing = (typeof CAPTURE_MISSING)[number];

/**
 * What the counter UI can show the resident for each missing thing, in English; every locale's text is in
 * the catalog (agent/messages/capture-hints.ts), and adapters re-render `hint` from `missing` per caller.
 */
export const CAPTURE_HINTS: Record<CaptureMissing, string> = Object.fromEntries(
  CAPTURE_MISSING.map((m) => [m, CAPTURE_HINT_TEXTS[m].en]),
) as Record<CaptureMissing, string>;

export type FrameVerdict = { ok: true; face: AnalysedFace } | { ok: false; missing: CaptureMissing };

export function judgeFrame(a: Analysis, gate: EnrolmentGate, liveness: boolean): FrameVerdict {
  if (a.faces.length === 0) return { ok: false, missing: 'no-face' };
  // A face far smaller than the nearest one is someone passing behind, not a second resident.
  const [face, second] = a.faces as [AnalysedFace, AnalysedFace | undefined];
  if (second && second.quality.size >= face.quality.size * 0.5)
    return { ok: false, missing: 'several-faces' };
  const q = face.quality;
  if (q.size < gate.minFaceSize) return { ok: false, missing: 'too-far' };
  if (Math.abs(q.pose.yaw) > gate.maxYaw || Math.abs(q.pose.pitch) > gate.maxPitch)
    return { ok: false, missing: 'not-frontal' };
  if (q.sharpness < gate.minSharpness) return { ok: false, missing: 'blurred' };
  if (q.brightness < gate.minBrightness) return { ok: false, missing: 'too-dark' };
  if (q.brightness > gate.maxBrightness) return { ok: false, missing: 'too-bright' };
  if (liveness && !face.liveness?.live) return { ok: false, missing: 'not-live' };
  return { ok: true, face };
}
