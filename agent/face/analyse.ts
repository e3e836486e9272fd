// One image through the pipeline: decode → detect → landmarks → align → quality, then embedding and
// liveness for the faces that need them. Per-stage timings are kept for the answer and the benchmark.
import type { Box } from './detection.js';
import type { Liveness } from './engine.js';
import { FaceEngine } from './engine.js';
import type { Point } from './geometry.js';
import { decodeImage, type DecodeLimits, type RgbImage } from './image.js';
import { measureQuality, type FaceQuality } from './quality.js';

export type Stage = 'decode' | 'detect' | 'landmarks' | 'align' | 'embed' | 'liveness';
export type Timings = Record<Stage, number>;

export interface AnalysedFace {
  box: Box;
  /** Five points in image pixels: eye, eye, nose tip, mouth corner, mouth corner (image-left first). */
  landmarks: Point[];
  quality: FaceQuality;
  aligned: Uint8Array;
  embedding?: Float32Array;
  liveness?: Liveness;
}

export interface Analysis {
  width: number;
  height: number;
  faces: AnalysedFace[];
  timings: Timings;
}

export interface AnalyseOptions {
  limits: DecodeLimits;
  /** Which faces get an embedding and a liveness score: none, all, or the largest one only. */
  embed: 'none' | 'all' | 'largest';
  liveness: 'none' | 'all' | 'largest';
}

const now = (): number => performance.now();

export async function analyseImage(engine: FaceEngine, buf: Buffer, opts: AnalyseOptions): Promise<Analysis> {
  const timings: Timings = { decode: 0, detect: 0, landmarks: 0, align: 0, embed: 0, liveness: 0 };
  let t = now();
  const img: RgbImage = await decodeImage(buf, opts.limits);
  timings.decode = now() - t;

  t = now();
  const boxes = await engine.detect(img);
  timings.detect = now() - t;

  const faces: AnalysedFace[] = [];
  for (const box of boxes) {
    t = now();
    const l68 = await engine.landmarks(img, box);
    timings.landmarks += now() - t;
    t = now();
    const five = engine.fivePoints(l68);
    const aligned = engine.align(img, five);
    const size = Math.min(box.x2 - box.x1, box.y2 - box.y1);
    faces.push({ box, landmarks: five, aligned, quality: measureQuality(size, five, aligned) });
    timings.align += now() - t;
  }
  // Largest first: the person at the counter is the one nearest the camera.
  faces.sort((a, b) => area(b.box) - area(a.box));

  const pick = (mode: 'none' | 'all' | 'largest'): AnalysedFace[] =>
    mode === 'all' ? faces : mode === 'largest' ? faces.slice(0, 1) : [];
  for (const f of pick(opts.embed)) {
    t = now();
    f.embedding = await engine.embed(f.aligned);
    timings.embed += now() - t;
  }
  for (const f of pick(opts.liveness)) {
    t = now();
    f.liveness = await engine.liveness(img, f.box);
    timings.liveness += now() - t;
  }
  return { width: img.width, height: img.height, faces, timings };
}

function area(b: Box): number {
  return (b.x2 - b.x1) * (b.y2 - b.y1);
}
