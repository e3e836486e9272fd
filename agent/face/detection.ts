// UltraFace post-processing: the model gives a face score and a normalised box per prior; we keep the
// confident ones and remove overlaps with greedy non-maximum suppression.

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

/** Boxes in pixels of a `width` × `height` image, scores ≥ `minScore`, overlaps (IoU > `maxIou`) removed. */
export function decodeDetections(
  scores: Float32Array,
  boxes: Float32Array,
  width: number,
  height: number,
  minScore: number,
  maxIou: number,
): Box[] {
  const n = scores.length / 2;
  const found: Box[] = [];
  for (let i = 0; i < n; i++) {
    const score = scores[i * 2 + 1]!;
    if (score < minScore) continue;
    const x1 = clamp(boxes[i * 4]! * width, 0, width);
    const y1 = clamp(boxes[i * 4 + 1]! * height, 0, height);
    const x2 = clamp(boxes[i * 4 + 2]! * width, 0, width);
    const y2 = clamp(boxes[i * 4 + 3]! * height, 0, height);
    if (x2 - x1 < 1 || y2 - y1 < 1) continue;
    found.push({ x1, y1, x2, y2, score });
  }
  return nms(found, maxIou);
}

/** Greedy NMS: highest score first; drops every later box overlapping a kept one by more than `maxIou`. */
export function nms(boxes: Box[], maxIou: number): Box[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: Box[] = [];
  for (const b of sorted) {
    if (kept.every((k) => iou(k, b) <= maxIou)) kept.push(b);
  }
  return kept;
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return inter / union;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
