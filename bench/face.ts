// The face section of `npm run bench` (alone: `BENCH_ONLY=face npm run bench`):
//   1. per-stage latency (decode, detect, landmarks, align, embed, liveness) and end to end, p50/p90, for a
//      640 × 480 JPEG, at 1 and 2 onnxruntime intra-op threads (spinning off);
//   2. the daemon's RSS at idle with the face models loaded and with face disabled;
//   3. exact 1:N over 230 000 synthetic 512-d templates: onnxruntime MatMul + TopK and the plain JS loop;
//   4. verification accuracy on the dev and East-Asian pairs (best accuracy, AUC, TAR at FAR 1e-2/1e-3/1e-4,
//      and the shipped threshold);
//   5. the peer @vladmandic/face-api (tfjs wasm) on the same pairs: latency and accuracy (face-peer.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { analyseImage, type Stage } from '../agent/face/analyse.js';
import { auc, bestAccuracy, rateAt, thresholdForFar, type ScoredPair } from '../agent/face/calibration.js';
import { FaceEngine } from '../agent/face/engine.js';
import { Gallery } from '../agent/face/gallery.js';
import { l2Normalise } from '../agent/face/tensors.js';
import { TopKSearcher } from '../agent/face/topk-model.js';
import { benchFacePeer } from './face-peer.js';
import { loadManifest, resolveModels } from '../models/manifest.js';
import { startDaemon, type Daemon } from '../tests/helpers/daemon.js';
import { removeScratchDir, rssMb, scratchDir, stopChild, track } from './children.js';
import { FACE_DATA, scorePairSet } from './face-pairs.js';

type Row = (metric: string, value: string, notes?: string) => void;

const STAGES: Stage[] = ['decode', 'detect', 'landmarks', 'align', 'embed', 'liveness'];
const RUNS = 40;
const WARMUP = 5;
const GALLERY_SIZE = 230_000;
const DIM = 512;
const LIMITS = { maxPixels: 40_000_000, maxSide: 1920 };

const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** A 640 × 480 counter-camera-like frame: one LFW face (about 150 px) on a plain background. */
async function testFrame(): Promise<Buffer> {
  const face = await sharp(join(FACE_DATA, 'eastasian-dev/images/Hu_Jintao/Hu_Jintao_0001.jpg'))
    .resize(380, 380)
    .toBuffer();
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#6b7078' } })
    .composite([{ input: face, left: 130, top: 50 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function stageLatency(row: Row): Promise<void> {
  const manifest = loadManifest();
  const models = resolveModels(manifest);
  const frame = await testFrame();
  for (const threads of [1, 2]) {
    const engine = await FaceEngine.load(manifest, models, { threads, spinning: false });
    try {
      const per: Record<Stage | 'total', number[]> = {
        decode: [],
        detect: [],
        landmarks: [],
        align: [],
        embed: [],
        liveness: [],
        total: [], // prettier-ignore
      };
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const t0 = performance.now();
        const a = await analyseImage(engine, frame, {
          limits: LIMITS,
          embed: 'largest',
          liveness: 'largest',
        });
        const total = performance.now() - t0;
        if (a.faces.length !== 1)
          throw new Error(`the test frame should show one face, found ${a.faces.length}`);
        if (i < WARMUP) continue;
        for (const s of STAGES) per[s].push(a.timings[s]);
        per.total.push(total);
      }
      for (const s of [...STAGES, 'total'] as const) {
        row(
          `face ${s}, ${threads} thread${threads > 1 ? 's' : ''} (p50 / p90)`,
          `${fmt(quantile(per[s], 0.5))} / ${fmt(quantile(per[s], 0.9))} ms`,
          s === 'total' ? `640×480 JPEG, one face, ${RUNS} runs after ${WARMUP} warm-up` : '',
        );
      }
      // Two requests in flight, as the daemon allows by default (face.concurrency: 2).
      const t0 = performance.now();
      await Promise.all(
        [0, 1].map(async () => {
          for (let i = 0; i < RUNS / 2; i++) {
            await analyseImage(engine, frame, { limits: LIMITS, embed: 'largest', liveness: 'largest' });
          }
        }),
      );
      row(
        `face throughput, ${threads} thread${threads > 1 ? 's' : ''}, 2 in flight`,
        `${((RUNS * 1000) / (performance.now() - t0)).toFixed(1)} images/s`,
      );
    } finally {
      await engine.release();
    }
  }
}

async function daemonRss(row: Row): Promise<void> {
  for (const enabled of [true, false]) {
    const dir = scratchDir('boxagent-bench-face-');
    let d: Daemon | undefined;
    try {
      d = await startDaemon({
        storageDir: dir,
        env: { BOXAGENT_LOG_LEVEL: 'info', BOXAGENT_FACE_ENABLED: String(enabled) },
      });
      track(d.proc, 'boxagent daemon');
      await new Promise((r) => setTimeout(r, 2000));
      row(
        `daemon RSS at idle, face ${enabled ? 'models loaded' : 'disabled'}`,
        `${rssMb(d.proc.pid)?.toFixed(1) ?? 'n/a'} MB`,
        enabled ? 'four sessions + the 1:N session, empty gallery' : 'BOXAGENT_FACE_ENABLED=false',
      );
    } finally {
      if (d) await stopChild(d.proc);
      removeScratchDir(dir);
    }
  }
}

async function oneToN(row: Row): Promise<void> {
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const searcher = await TopKSearcher.create(DIM, 2);
  try {
    const gallery = new Gallery(DIM, GALLERY_SIZE, searcher);
    const v = new Float32Array(DIM);
    for (let i = 0; i < GALLERY_SIZE; i++) {
      for (let j = 0; j < DIM; j++) v[j] = next();
      gallery.add(`p${i}`, l2Normalise(v));
    }
    gallery.trim(); // as the service does after loading
    const queries = Array.from({ length: 25 }, () => l2Normalise(Float32Array.from({ length: DIM }, next)));
    const time = async (fn: (q: Float32Array) => Promise<unknown>, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n + 3; i++) {
        const t0 = performance.now();
        await fn(queries[i % queries.length]!);
        if (i >= 3) out.push(performance.now() - t0);
      }
      return out;
    };
    const fast = await time((q) => gallery.search(q, 5), 20);
    row(
      `1:N identify, ${GALLERY_SIZE} × ${DIM} templates, onnxruntime (p50 / p90)`,
      `${fmt(quantile(fast, 0.5))} / ${fmt(quantile(fast, 0.9))} ms`,
      'exact: MatMul (1 × 512 × n, transposed gallery) + TopK, float32 (goal ≤ 20 ms)',
    );
    const slow = await time((q) => Promise.resolve(gallery.searchJs(q, 5)), 5);
    row(
      `1:N identify, ${GALLERY_SIZE} × ${DIM} templates, JS loop (p50)`,
      `${fmt(quantile(slow, 0.5))} ms`,
      'the reference implementation, blocks the event loop',
    );
    let same = 0;
    for (const q of queries) {
      const fastTop = (await gallery.search(q, 5)).map((c) => c.personId).join();
      if (
        fastTop ===
        gallery
          .searchJs(q, 5)
          .map((c) => c.personId)
          .join()
      )
        same++;
    }
    row(
      '1:N onnxruntime vs JS top-5',
      same === queries.length ? 'identical' : 'DIFFERENT',
      `${same} of ${queries.length} random queries`,
    );
  } finally {
    await searcher.release();
  }
}

async function accuracy(row: Row): Promise<void> {
  const manifest = loadManifest();
  const engine = await FaceEngine.load(manifest, resolveModels(manifest), { threads: 2, spinning: false });
  try {
    for (const set of ['dev', 'eastasian-dev'] as const) {
      const r = await scorePairSet(engine, set);
      const pairs: ScoredPair[] = r.pairs;
      const neg = pairs.filter((p) => !p.same).length;
      const best = bestAccuracy(pairs);
      row(
        `${set}: best accuracy`,
        pct(best.accuracy),
        `threshold ${best.threshold.toFixed(3)}; AUC ${auc(pairs).toFixed(4)}; ${pairs.length} pairs, ${r.failed} without a face`,
      );
      for (const far of [1e-2, 1e-3, 1e-4]) {
        const allowed = far * neg;
        const t = thresholdForFar(pairs, far);
        row(
          `${set}: TAR at FAR ${far}`,
          pct(rateAt(pairs, t).tar),
          allowed < 1
            ? `${neg} different-person pairs: FAR ${far} means 0 false accepts (threshold ${t})`
            : `threshold ${t}`,
        );
      }
      const shipped = rateAt(pairs, manifest.thresholds.verify);
      row(
        `${set}: at the shipped threshold ${manifest.thresholds.verify}`,
        `accuracy ${pct(shipped.accuracy)}`,
        `TAR ${pct(shipped.tar)}, FAR ${shipped.far.toFixed(5)}`,
      );
    }
  } finally {
    await engine.release();
  }
}

export async function benchFace(row: Row, progress: (msg: string) => void): Promise<void> {
  readFileSync(join(FACE_DATA, 'README.md')); // fail early and clearly when the data is not there
  progress('face: per-stage latency at 1 and 2 threads');
  await stageLatency(row);
  progress('face: daemon RSS with and without the models');
  await daemonRss(row);
  progress(`face: 1:N over ${GALLERY_SIZE} synthetic templates`);
  await oneToN(row);
  progress('face: accuracy on the dev and East-Asian pairs');
  await accuracy(row);
  progress('face: the peer @vladmandic/face-api (tfjs wasm) on the same pairs (several minutes)');
  await benchFacePeer(row);
}
