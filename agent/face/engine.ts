// The four models behind one small surface: detect, landmarks, embed, liveness. Each call is one
// onnxruntime `run`, which executes on onnxruntime's own threads: the event loop only does the pre- and
// post-processing in between (a few ms per face).
import ort from 'onnxruntime-node';
import type { Manifest, ModelRole, ResolvedModel, Thresholds } from '../../models/manifest.js';
import { alignFace, fivePoints } from './alignment.js';
import { decodeDetections, type Box } from './detection.js';
import { rectMap, warpRgb, type Point } from './geometry.js';
import { resizeRgb, type RgbImage } from './image.js';
import { l2Normalise, softmax, toTensorData } from './tensors.js';

export interface EngineOptions {
  /** onnxruntime intra-op threads per session. */
  threads: number;
  /** Let idle intra-op threads spin (lower latency alone, slower when requests share two cores). */
  spinning: boolean;
}

export interface Liveness {
  live: boolean;
  /** Probability of class 0 (a live face). */
  score: number;
}

const LIVENESS_SCALE = 2.7;

export class FaceEngine {
  private constructor(
    private readonly sessions: Record<ModelRole, ort.InferenceSession>,
    private readonly models: Record<ModelRole, ResolvedModel>,
    readonly thresholds: Thresholds,
  ) {}

  static async load(
    manifest: Manifest,
    models: Record<ModelRole, ResolvedModel>,
    opts: EngineOptions,
  ): Promise<FaceEngine> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: opts.spinning ? '1' : '0' } } },
    };
    const entries = await Promise.all(
      (Object.keys(models) as ModelRole[]).map(
        async (role) => [role, await ort.InferenceSession.create(models[role].path, options)] as const,
      ),
    );
    return new FaceEngine(
      Object.fromEntries(entries) as Record<ModelRole, ort.InferenceSession>,
      models,
      manifest.thresholds,
    );
  }

  get embedderId(): string {
    return this.models.embedder.id;
  }

  async release(): Promise<void> {
    await Promise.all(Object.values(this.sessions).map((s) => s.release()));
  }

  private async run(role: ModelRole, data: Float32Array): Promise<Record<string, Float32Array>> {
    const m = this.models[role];
    const tensor = new ort.Tensor('float32', data, m.input.shape);
    const out = await this.sessions[role].run({ [m.input.name]: tensor });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  }

  /** Faces in the image, most confident first. */
  async detect(img: RgbImage): Promise<Box[]> {
    const input = this.models.detector.input;
    const [, , h, w] = input.shape as [number, number, number, number];
    const small = await resizeRgb(img, w, h);
    const out = await this.run('detector', toTensorData(small, w, h, input));
    const { detectScore, nmsIou } = this.thresholds;
    return decodeDetections(out.scores!, out.boxes!, img.width, img.height, detectScore, nmsIou);
  }

  /** 68 landmarks in image pixels, from the face box resized to the model's grey input. */
  async landmarks(img: RgbImage, box: Box): Promise<Point[]> {
    const input = this.models.landmarks.input;
    const size = input.shape[3]!;
    const bw = box.x2 - box.x1;
    const bh = box.y2 - box.y1;
    const crop = warpRgb(img, rectMap(box.x1, box.y1, bw, bh, size, size), size, size);
    const out = await this.run('landmarks', toTensorData(crop, size, size, input));
    const flat = out.output!;
    const points: Point[] = [];
    for (let i = 0; i < flat.length; i += 2)
      points.push([box.x1 + flat[i]! * bw, box.y1 + flat[i + 1]! * bh]);
    return points;
  }

  fivePoints(l68: Point[]): Point[] {
    return fivePoints(l68);
  }

  align(img: RgbImage, five: Point[]): Uint8Array {
    return alignFace(img, five).rgb;
  }

  /** The L2-normalised embedding of an aligned 112 × 112 RGB crop. */
  async embed(aligned: Uint8Array): Promise<Float32Array> {
    const input = this.models.embedder.input;
    const out = await this.run('embedder', toTensorData(aligned, 112, 112, input));
    return l2Normalise(out.output!);
  }

  async liveness(img: RgbImage, box: Box): Promise<Liveness> {
    const input = this.models.liveness.input;
    const size = input.shape[3]!;
    const r = livenessRect(img, box);
    const crop = warpRgb(img, rectMap(r.x, r.y, r.width, r.height, size, size), size, size);
    const out = await this.run('liveness', toTensorData(crop, size, size, input));
    const score = softmax(out.output!)[0]!;
    return { live: score >= this.thresholds.liveScore, score: Math.round(score * 1e4) / 1e4 };
  }
}

/**
 * The liveness model sees the face with its surroundings: the box scaled 2.7× about its centre (less when
 * the image is too small), moved back inside the image rather than cut.
 */
export function livenessRect(
  img: RgbImage,
  box: Box,
): { x: number; y: number; width: number; height: number } {
  const bw = box.x2 - box.x1;
  const bh = box.y2 - box.y1;
  const scale = Math.min((img.height - 1) / bh, (img.width - 1) / bw, LIVENESS_SCALE);
  const width = bw * scale;
  const height = bh * scale;
  const cx = box.x1 + bw / 2;
  const cy = box.y1 + bh / 2;
  const x = Math.min(Math.max(cx - width / 2, 0), img.width - 1 - width);
  const y = Math.min(Math.max(cy - height / 2, 0), img.height - 1 - height);
  return { x, y, width, height };
}
