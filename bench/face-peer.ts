// A peer on the same labelled pairs: @vladmandic/face-api (SSD MobileNet v1 detector, 68 landmarks, 128-d
// ResNet descriptor; weights shipped inside the npm package) on tfjs's WebAssembly backend, the pure-JS/wasm
// route a Node service could take without onnxruntime. A devDependency, used here only. Its descriptors
// are compared by Euclidean distance (its own convention); scored as −distance so "higher = same" and the
// same statistics apply.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type * as FaceApi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import type * as Tfjs from '@tensorflow/tfjs';
import { auc, bestAccuracy, rateAt, thresholdForFar, type ScoredPair } from '../agent/face/calibration.js';
import { readPairs, type PairSet } from './face-pairs.js';

type Row = (metric: string, value: string, notes?: string) => void;

const require = createRequire(import.meta.url);

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

async function loadFaceApi(): Promise<typeof FaceApi> {
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as typeof FaceApi;
  // The same tfjs instance face-api's node-wasm build requires; its wasm binary ships in the package.
  const tf = require('@tensorflow/tfjs') as typeof Tfjs;
  await tf.setBackend('wasm');
  await tf.ready();
  const models = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(models);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(models);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(models);
  return faceapi;
}

/**
 * The descriptor of the face nearest the image centre (as bench/face-pairs.ts picks), with its time. The
 * detector's confidence floor is lowered from its default 0.5 to 0.2 so that, like ours, it finds a face in
 * (nearly) every picture: a missed face would count against its accuracy rather than its recognition.
 */
async function describe(
  faceapi: typeof FaceApi,
  path: string,
): Promise<{ descriptor: Float32Array | null; ms: number }> {
  const { data, info } = await sharp(readFileSync(path))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const t0 = performance.now();
  const input = faceapi.tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  try {
    const found = await faceapi
      .detectAllFaces(input, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.2 }))
      .withFaceLandmarks()
      .withFaceDescriptors();
    const off = (b: FaceApi.Box): number =>
      Math.hypot(b.x + b.width / 2 - info.width / 2, b.y + b.height / 2 - info.height / 2);
    const central = [...found].sort((a, b) => off(a.detection.box) - off(b.detection.box))[0];
    return { descriptor: central?.descriptor ?? null, ms: performance.now() - t0 };
  } finally {
    input.dispose();
  }
}

function distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

async function scoreSet(
  faceapi: typeof FaceApi,
  set: PairSet,
): Promise<{ pairs: ScoredPair[]; failed: number; ms: number[] }> {
  const descriptors = new Map<string, Float32Array | null>();
  const ms: number[] = [];
  const pairs = readPairs(set);
  for (const p of pairs) {
    for (const f of [p.a, p.b]) {
      if (descriptors.has(f)) continue;
      const d = await describe(faceapi, f);
      descriptors.set(f, d.descriptor);
      ms.push(d.ms);
    }
  }
  let failed = 0;
  const scored = pairs.map((p) => {
    const a = descriptors.get(p.a);
    const b = descriptors.get(p.b);
    if (!a || !b) {
      failed++;
      return { score: -Infinity, same: p.same };
    }
    return { score: -distance(a, b), same: p.same };
  });
  return { pairs: scored, failed, ms };
}

/** Rows for the peer: latency per image, best accuracy, and dev accuracy at its East-Asian FAR 1e-3 point. */
export async function benchFacePeer(row: Row): Promise<void> {
  const faceapi = await loadFaceApi();
  const dev = await scoreSet(faceapi, 'dev');
  const ea = await scoreSet(faceapi, 'eastasian-dev');
  const ms = [...dev.ms, ...ea.ms];
  row(
    'peer @vladmandic/face-api (tfjs wasm): per image (p50 / p90)',
    `${quantile(ms, 0.5).toFixed(0)} / ${quantile(ms, 0.9).toFixed(0)} ms`,
    `detect + 68 landmarks + 128-d descriptor, ${ms.length} images (LFW 250×250), ${(require('@tensorflow/tfjs') as typeof Tfjs).getBackend()} backend`,
  );
  for (const [name, r] of [
    ['dev', dev],
    ['eastasian-dev', ea],
  ] as const) {
    const best = bestAccuracy(r.pairs);
    row(
      `peer ${name}: best accuracy`,
      pct(best.accuracy),
      `distance ≤ ${(-best.threshold).toFixed(3)}; AUC ${auc(r.pairs).toFixed(4)}; ${r.failed} pairs without a face`,
    );
  }
  // The same rule as the shipped threshold: FAR ≤ 1e-3 on both sets, then dev accuracy there.
  const t = Math.max(thresholdForFar(dev.pairs, 1e-3), thresholdForFar(ea.pairs, 1e-3));
  const atDev = rateAt(dev.pairs, t);
  row(
    'peer dev: at its East-Asian FAR ≤ 1e-3 threshold',
    `accuracy ${pct(atDev.accuracy)}`,
    `distance ≤ ${(-t).toFixed(4)}; TAR ${pct(atDev.tar)}, East-Asian FAR ${rateAt(ea.pairs, t).far.toFixed(5)}`,
  );
}
