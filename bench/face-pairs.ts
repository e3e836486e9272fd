// Scores the labelled pairs of ../shared/data/faces (LFW-derived, see its README) with the face
// pipeline: each image once through decode → detect → align → embed, then cosine per pair. The data is
// read in place and never copied into the project.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyseImage, type AnalysedFace } from '../agent/face/analyse.js';
import type { ScoredPair } from '../agent/face/calibration.js';
import type { FaceEngine } from '../agent/face/engine.js';
import { cosine } from '../agent/face/tensors.js';

/** The shared test data sits beside the repository (`../shared`), in a checkout and in CI alike. */
export const FACE_DATA =
  process.env.BOXAGENT_FACE_DATA ??
  resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data/faces');
export const PAIR_SETS = ['dev', 'eastasian-dev'] as const;
export type PairSet = (typeof PAIR_SETS)[number];

export interface PairSetResult {
  set: PairSet;
  pairs: ScoredPair[];
  /** Pairs with an image where no face was found: scored −1 (a reject), counted here. */
  failed: number;
  images: number;
  msPerImage: number;
}

const LIMITS = { maxPixels: 40_000_000, maxSide: 1920 };

export function readPairs(set: PairSet): { a: string; b: string; same: boolean }[] {
  const file = join(FACE_DATA, set, 'pairs.tsv');
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [a, b, same] = line.split('\t');
    if (!a || !b || (same !== '0' && same !== '1')) throw new Error(`${file}: bad line "${line}"`);
    return { a: join(FACE_DATA, set, a), b: join(FACE_DATA, set, b), same: same === '1' };
  });
}

/**
 * Embeds the face nearest the image centre (LFW images are centred on the labelled person; other people
 * may be in the picture), or null when there is none.
 */
export async function embedFile(engine: FaceEngine, path: string): Promise<Float32Array | null> {
  const a = await analyseImage(engine, readFileSync(path), {
    limits: LIMITS,
    embed: 'none',
    liveness: 'none',
  });
  const off = (f: AnalysedFace): number =>
    Math.hypot((f.box.x1 + f.box.x2) / 2 - a.width / 2, (f.box.y1 + f.box.y2) / 2 - a.height / 2);
  const central = [...a.faces].sort((x, y) => off(x) - off(y))[0];
  return central ? engine.embed(central.aligned) : null;
}

export async function scorePairSet(engine: FaceEngine, set: PairSet): Promise<PairSetResult> {
  const pairs = readPairs(set);
  const embeddings = new Map<string, Float32Array | null>();
  const t0 = performance.now();
  for (const p of pairs) {
    for (const f of [p.a, p.b]) if (!embeddings.has(f)) embeddings.set(f, await embedFile(engine, f));
  }
  const ms = performance.now() - t0;
  let failed = 0;
  const scored = pairs.map((p) => {
    const ea = embeddings.get(p.a);
    const eb = embeddings.get(p.b);
    if (!ea || !eb) {
      failed++;
      return { score: -1, same: p.same };
    }
    return { score: cosine(ea, eb), same: p.same };
  });
  return {
    set,
    pairs: scored,
    failed,
    images: embeddings.size,
    msPerImage: ms / Math.max(embeddings.size, 1),
  };
}
