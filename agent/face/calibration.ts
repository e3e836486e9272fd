// Verification statistics over scored pairs: the threshold that holds a false-accept rate, accuracy and
// true-accept rate at a threshold, and the best-accuracy threshold. Used by `npm run calibrate`, the tests
// and the benchmark, so all three judge the same way.

export interface ScoredPair {
  score: number;
  same: boolean;
}

export interface RateAt {
  threshold: number;
  /** Different-person pairs accepted / different-person pairs. */
  far: number;
  /** Same-person pairs accepted / same-person pairs. */
  tar: number;
  accuracy: number;
}

/** A pair is accepted when score ≥ threshold. */
export function rateAt(pairs: readonly ScoredPair[], threshold: number): RateAt {
  let fa = 0;
  let ta = 0;
  let neg = 0;
  let pos = 0;
  for (const p of pairs) {
    if (p.same) {
      pos++;
      if (p.score >= threshold) ta++;
    } else {
      neg++;
      if (p.score >= threshold) fa++;
    }
  }
  return {
    threshold,
    far: neg ? fa / neg : 0,
    tar: pos ? ta / pos : 0,
    accuracy: (ta + (neg - fa)) / Math.max(pos + neg, 1),
  };
}

/**
 * The lowest threshold whose false-accept rate is ≤ `maxFar`: just above the (k+1)-th highest
 * different-person score, where k = ⌊maxFar · negatives⌋ false accepts are allowed.
 */
export function thresholdForFar(pairs: readonly ScoredPair[], maxFar: number): number {
  const neg = pairs.filter((p) => !p.same).map((p) => p.score);
  if (neg.length === 0) throw new Error('no different-person pairs');
  neg.sort((a, b) => b - a);
  const allowed = Math.floor(maxFar * neg.length + 1e-9);
  if (allowed >= neg.length) return -1;
  // Round up to 4 decimals so the shipped number keeps the guarantee.
  return Math.ceil((neg[allowed]! + 1e-7) * 1e4) / 1e4;
}

export function bestAccuracy(pairs: readonly ScoredPair[]): RateAt {
  const candidates = [...new Set(pairs.map((p) => p.score))].sort((a, b) => a - b);
  let best = rateAt(pairs, candidates[0] ?? 0);
  for (const t of candidates) {
    const r = rateAt(pairs, t);
    if (r.accuracy > best.accuracy) best = r;
  }
  return best;
}

/** Area under the ROC curve (probability a same-person pair outscores a different-person pair). */
export function auc(pairs: readonly ScoredPair[]): number {
  const pos = pairs.filter((p) => p.same).map((p) => p.score);
  const neg = pairs
    .filter((p) => !p.same)
    .map((p) => p.score)
    .sort((a, b) => a - b);
  let wins = 0;
  for (const s of pos) {
    let lo = 0;
    let hi = neg.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (neg[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    wins += lo;
  }
  return pos.length && neg.length ? wins / (pos.length * neg.length) : 0;
}
