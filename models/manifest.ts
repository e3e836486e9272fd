// The face model manifest (models/manifest.json) as types, and the loader that resolves each model file in
// the cache folder and checks its sha256. Replacing a model means changing the manifest, not the code.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ModelInput {
  name: string;
  shape: number[];
  colour: 'RGB' | 'BGR' | 'GREY';
  /** Tensor value = (pixel - mean) * scale. */
  mean: number;
  scale: number;
  crop?: string;
}

export interface ModelEntry {
  id: string;
  file: string;
  sha256: string;
  architecture: string;
  /** Length of the output vector (embedder). */
  dimensions?: number;
  input: ModelInput;
  outputs: Record<string, string>;
  provenance: string;
}

export type ModelRole = 'detector' | 'landmarks' | 'embedder' | 'liveness';
export const MODEL_ROLES: readonly ModelRole[] = ['detector', 'landmarks', 'embedder', 'liveness'];

export interface Calibration {
  at: string;
  sets: Record<string, { pairs: number; same: number; different: number; failed: number }>;
  verify: { threshold: number; farEastAsian: number; farDev: number; devAccuracy: number; tarDev: number };
  identify: { threshold: number; note: string };
  bestDevAccuracy: { threshold: number; accuracy: number };
}

export interface Thresholds {
  detectScore: number;
  nmsIou: number;
  liveScore: number;
  /** Cosine score at or above which two faces are the same person (1:1). */
  verify: number;
  /** Stricter score for a 1:N candidate to be trusted without confirmation. */
  identify: number;
  /** Lead over the runner-up (another person) needed to skip confirmation. */
  identifyMargin: number;
  /**
   * 1:1 threshold when the reference is an ID-card photo (102×126, heavily compressed); `verify` when absent.
   * Set by `npm run calibrate:card -- --write`.
   */
  verifyCard?: number;
  calibration: Calibration | null;
  /** The figures behind `verifyCard` (bench/card-photo.ts). */
  cardCalibration?: Record<string, unknown>;
}

export interface Manifest {
  schema: 1;
  source: { npm: string; note: string };
  licence: { package: string; caveat: string };
  models: Record<ModelRole, ModelEntry>;
  thresholds: Thresholds;
}

/** A model file that is missing or not the one the manifest names. */
export class ModelError extends Error {
  override name = 'ModelError';
}

/** The folder holding manifest.json, found from this module whether it runs from source or from dist/. */
export const MODELS_DIR = findModelsDir(dirname(fileURLToPath(import.meta.url)));
export const MANIFEST_FILE = join(MODELS_DIR, 'manifest.json');
export const DEFAULT_CACHE_DIR = join(MODELS_DIR, '.cache');

function findModelsDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'models');
    if (dirname(dir) === dir) return resolve(from);
  }
}

export function loadManifest(file = MANIFEST_FILE): Manifest {
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

export interface ResolvedModel extends ModelEntry {
  path: string;
}

/** Resolves every model in the cache folder and checks its hash; throws one ModelError naming all problems. */
export function resolveModels(
  manifest: Manifest,
  cacheDir = DEFAULT_CACHE_DIR,
): Record<ModelRole, ResolvedModel> {
  const problems: string[] = [];
  const out = {} as Record<ModelRole, ResolvedModel>;
  for (const role of MODEL_ROLES) {
    const m = manifest.models[role];
    const path = join(cacheDir, m.file);
    if (!existsSync(path)) {
      problems.push(`${m.file} (${role}) is missing`);
      continue;
    }
    const got = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (got !== m.sha256) {
      problems.push(
        `${m.file} (${role}) has sha256 ${got.slice(0, 16)}…, the manifest says ${m.sha256.slice(0, 16)}…`,
      );
      continue;
    }
    out[role] = { ...m, path };
  }
  if (problems.length > 0) {
    throw new ModelError(
      `face models not usable in ${cacheDir}: ${problems.join('; ')}. Run \`node models/fetch.mjs\` (npm ci runs it as the prepare script)`,
    );
  }
  return out;
}
