// What the face service answers: the shapes the face and person operations return (their TypeBox schemas
// are in agent/operations/face-schemas.ts and face-ops.ts).
import type { AnalysedFace } from './analyse.js';
import type { Liveness } from './engine.js';
import type { Candidate } from './gallery.js';
import type { FaceQuality } from './quality.js';

/** A probe or reference image, as the operations receive it (base64, optionally a data: URL). */
export interface ImageRef {
  image: string;
}

export interface DetectedFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: [number, number][];
  quality: FaceQuality;
  liveness?: Liveness;
  template?: string;
}

export interface VerifyResult {
  score: number;
  match: boolean;
  /** `not-live` is a result of its own: the probe is not trusted whatever its score. */
  decision: 'match' | 'no-match' | 'not-live';
  threshold: number;
  liveness: Liveness;
  quality: FaceQuality;
  /** Quality of the reference face, when the reference is an image (or a card photo). */
  referenceQuality?: FaceQuality;
  modelId: string;
  timingMs: number;
}

export interface IdentifyResult {
  candidates: (Candidate & { name: string })[];
  /** The top candidate when it clears the verify threshold; `confirm` unless it is beyond doubt. */
  best: (Candidate & { name: string; margin: number; confirm: boolean }) | null;
  threshold: number;
  identifyThreshold: number;
  liveness: Liveness;
  quality: FaceQuality;
  modelId: string;
  gallerySize: number;
  timingMs: number;
}

export interface PersonView {
  id: string;
  name: string;
  faces: { id: string; modelId: string; createdAt: string }[];
  createdAt: string;
  updatedAt: string;
}

/** `camera`: a live capture (must pass liveness). `document`: an ID-card or file photo (no liveness). */
export type FaceSource = 'camera' | 'document';

/** One decimal place: what callers see of pixel positions and timings. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** A found face as callers see it: box as x/y/width/height, rounded positions (no template). */
export function faceView(f: AnalysedFace): Omit<DetectedFace, 'template'> {
  return {
    box: {
      x: round1(f.box.x1),
      y: round1(f.box.y1),
      width: round1(f.box.x2 - f.box.x1),
      height: round1(f.box.y2 - f.box.y1),
    },
    score: Math.round(f.box.score * 1e4) / 1e4,
    landmarks: f.landmarks.map(([x, y]) => [round1(x), round1(y)] as [number, number]),
    quality: f.quality,
    ...(f.liveness ? { liveness: f.liveness } : {}),
  };
}
