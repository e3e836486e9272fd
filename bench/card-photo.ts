// `npm run calibrate:card`: verify accuracy when the reference is an ID-card photo. Each pair's first image
// is made card-like (tests/helpers/card-photo.ts: 102×126, heavily compressed) and compared with the second
// image as it is (the live capture stands in for it). Picks the card-reference threshold as `calibrate`
// picks the image one (lowest with FAR ≤ 1e-3 on both sets) and writes it into models/manifest.json
// (thresholds.verifyCard) with the figures. Both directions of a pair are not scored: one card per pair.
import { readFileSync, writeFileSync } from 'node:fs';
import { analyseImage, type AnalysedFace } from '../agent/face/analyse.js';
import { rateAt, thresholdForFar, type ScoredPair } from '../agent/face/calibration.js';
import { FaceEngine } from '../agent/face/engine.js';
import { cosine } from '../agent/face/tensors.js';
import { loadManifest, MANIFEST_FILE, resolveModels } from '../models/manifest.js';
import { cardPhotoJpeg } from '../tests/helpers/card-photo.js';
import { embedFile, readPairs, type PairSet } from './face-pairs.js';

const VERIFY_MAX_FAR = 1e-3;
const LIMITS = { maxPixels: 40_000_000, maxSide: 1920 };

const manifest = loadManifest();
const engine = await FaceEngine.load(manifest, resolveModels(manifest), { threads: 1, spinning: false });

async function embedCard(path: string): Promise<Float32Array | null> {
  const jpeg = await cardPhotoJpeg(readFileSync(path));
  const a = await analyseImage(engine, jpeg, { limits: LIMITS, embed: 'none', liveness: 'none' });
  const largest: AnalysedFace | undefined = a.faces[0];
  return largest ? engine.embed(largest.aligned) : null;
}

interface SetResult {
  card: ScoredPair[];
  image: ScoredPair[];
  failedCards: number;
}

async function scoreSet(set: PairSet): Promise<SetResult> {
  const pairs = readPairs(set);
  const full = new Map<string, Float32Array | null>();
  const cards = new Map<string, Float32Array | null>();
  for (const p of pairs) {
    if (!cards.has(p.a)) cards.set(p.a, await embedCard(p.a));
    for (const f of [p.a, p.b]) if (!full.has(f)) full.set(f, await embedFile(engine, f));
  }
  const score = (x: Float32Array | null | undefined, y: Float32Array | null | undefined): number =>
    x && y ? cosine(x, y) : -1;
  return {
    card: pairs.map((p) => ({ score: score(cards.get(p.a), full.get(p.b)), same: p.same })),
    image: pairs.map((p) => ({ score: score(full.get(p.a), full.get(p.b)), same: p.same })),
    failedCards: [...cards.values()].filter((e) => !e).length,
  };
}

const dev = await scoreSet('dev');
process.stderr.write('card-photo: dev done\n');
const ea = await scoreSet('eastasian-dev');
await engine.release();

const round = (x: number): number => Math.round(x * 1e5) / 1e5;
const imageThreshold = manifest.thresholds.verify;
const cardThreshold = Math.max(
  thresholdForFar(dev.card, VERIFY_MAX_FAR),
  thresholdForFar(ea.card, VERIFY_MAX_FAR),
);
const figures = (pairs: ScoredPair[], t: number): { far: number; tar: number; accuracy: number } => {
  const r = rateAt(pairs, t);
  return { far: round(r.far), tar: round(r.tar), accuracy: round(r.accuracy) };
};
const report = {
  at: new Date().toISOString(),
  reference: 'card-like photo: 102x126, half-resolution round trip, JPEG q35 4:2:0',
  sets: {
    dev: { pairs: dev.card.length, failedCards: dev.failedCards },
    'eastasian-dev': { pairs: ea.card.length, failedCards: ea.failedCards },
  },
  imageReference: {
    threshold: imageThreshold,
    eastAsian: figures(ea.image, imageThreshold),
    dev: figures(dev.image, imageThreshold),
  },
  cardReferenceAtImageThreshold: {
    threshold: imageThreshold,
    eastAsian: figures(ea.card, imageThreshold),
    dev: figures(dev.card, imageThreshold),
  },
  cardReference: {
    threshold: cardThreshold,
    eastAsian: figures(ea.card, cardThreshold),
    dev: figures(dev.card, cardThreshold),
  },
};
if (process.argv.includes('--write')) {
  manifest.thresholds.verifyCard = cardThreshold;
  manifest.thresholds.cardCalibration = report;
  writeFileSync(MANIFEST_FILE, JSON.stringify(manifest, null, 2) + '\n');
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
