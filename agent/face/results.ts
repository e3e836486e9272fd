// What the face service answers: the shapes the face and person operations return (their TypeBox schemas
// are in agent/operations/face-schemas.ts and face-ops.ts).
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
