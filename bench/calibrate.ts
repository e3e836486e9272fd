// `npm run calibrate`: scores the dev and East-Asian pairs, picks the shipped thresholds and writes them into
// models/manifest.json. Reproducible: same models + same pairs = same numbers.
//   verify   = the lowest threshold with FAR ≤ 1e-3 on BOTH sets (in practice the East-Asian pairs decide;
//              a threshold from the LFW dev pairs alone accepts several % of different East-Asian people)
//   identify = the highest different-person score seen in either set, rounded up (FAR 0 on these pairs;
//              1:N over a town compares a probe with thousands of people, so it must be stricter)
import { writeFileSync } from 'node:fs';
import { FaceEngine } from '../agent/face/engine.js';
import { bestAccuracy, rateAt, thresholdForFar, type ScoredPair } from '../agent/face/calibration.js';
import { loadManifest, MANIFEST_FILE, resolveModels, type Calibration } from '../models/manifest.js';
import { scorePairSet } from './face-pairs.js';

const VERIFY_MAX_FAR = 1e-3;

const manifest = loadManifest();
const engine = await FaceEngine.load(manifest, resolveModels(manifest), { threads: 1, spinning: false });
const dev = await scorePairSet(engine, 'dev');
process.stderr.write(`calibrate: dev ${dev.images} images, ${dev.msPerImage.toFixed(1)} ms/image\n`);
const ea = await scorePairSet(engine, 'eastasian-dev');
process.stderr.write(`calibrate: eastasian-dev ${ea.images} images\n`);
await engine.release();

const verify = Math.max(
  thresholdForFar(dev.pairs, VERIFY_MAX_FAR),
  thresholdForFar(ea.pairs, VERIFY_MAX_FAR),
);
const maxNegative = (pairs: ScoredPair[]): number =>
  Math.max(...pairs.filter((p) => !p.same).map((p) => p.score));
const identify = Math.max(
  verify,
  Math.ceil((Math.max(maxNegative(dev.pairs), maxNegative(ea.pairs)) + 1e-4) * 100) / 100,
);
const atDev = rateAt(dev.pairs, verify);
const atEa = rateAt(ea.pairs, verify);
const best = bestAccuracy(dev.pairs);
const count = (r: typeof dev): Calibration['sets'][string] => ({
  pairs: r.pairs.length,
  same: r.pairs.filter((p) => p.same).length,
  different: r.pairs.filter((p) => !p.same).length,
  failed: r.failed,
});
const round = (x: number): number => Math.round(x * 1e5) / 1e5;
const calibration: Calibration = {
  at: new Date().toISOString(),
  sets: { dev: count(dev), 'eastasian-dev': count(ea) },
  verify: {
    threshold: verify,
    farEastAsian: round(atEa.far),
    farDev: round(atDev.far),
    devAccuracy: round(atDev.accuracy),
    tarDev: round(atDev.tar),
  },
  identify: {
    threshold: identify,
    note: 'above every different-person score in dev and eastasian-dev (FAR 0 on these pairs)',
  },
  bestDevAccuracy: { threshold: round(best.threshold), accuracy: round(best.accuracy) },
};
manifest.thresholds.verify = verify;
manifest.thresholds.identify = identify;
manifest.thresholds.calibration = calibration;
writeFileSync(MANIFEST_FILE, JSON.stringify(manifest, null, 2) + '\n');
process.stdout.write(JSON.stringify(calibration, null, 2) + '\n');
