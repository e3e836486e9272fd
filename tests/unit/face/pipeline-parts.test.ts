// The pipeline's pure parts: similarity fit, NMS, the gallery's exact search, the template cipher and codec,
// the bounded queue.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCFACE_TEMPLATE } from '../../../agent/face/alignment.js';
import { nms } from '../../../agent/face/detection.js';
import { enrolmentProblems } from '../../../agent/face/quality.js';
import { Gallery } from '../../../agent/face/gallery.js';
import { TopKSearcher } from '../../../agent/face/topk-model.js';
import { applySimilarity, fitSimilarity, type Point } from '../../../agent/face/geometry.js';
import { KEY_FILE, TemplateCipher } from '../../../agent/face/template-cipher.js';
import { decodeTemplate, encodeTemplate } from '../../../agent/face/template-codec.js';
import { l2Normalise } from '../../../agent/face/tensors.js';
import { QueueFullError, WorkQueue } from '../../../agent/face/work-queue.js';
import { seededRandom } from '../../helpers/seeded-random.js';

function randomUnit(dim: number, next: () => number): Float32Array {
  return l2Normalise(Float32Array.from({ length: dim }, () => next() * 2 - 1));
}

describe('fitSimilarity', () => {
  it('recovers a known rotation, scale and shift exactly', () => {
    const angle = 0.3;
    const scale = 1.7;
    const truth = { a: scale * Math.cos(angle), b: scale * Math.sin(angle), tx: 12, ty: -5 };
    const dst = ARCFACE_TEMPLATE.map((p) => applySimilarity(truth, p));
    const fit = fitSimilarity(ARCFACE_TEMPLATE, dst);
    expect(fit.a).toBeCloseTo(truth.a, 9);
    expect(fit.b).toBeCloseTo(truth.b, 9);
    expect(fit.tx).toBeCloseTo(truth.tx, 9);
    expect(fit.ty).toBeCloseTo(truth.ty, 9);
  });

  it('is the least-squares fit for noisy points (residual no worse than the true transform)', () => {
    const next = seededRandom(7);
    const truth = { a: 0.9, b: -0.2, tx: 3, ty: 4 };
    const src: Point[] = ARCFACE_TEMPLATE.map((p) => [p[0], p[1]]);
    const dst = src.map((p) => {
      const q = applySimilarity(truth, p);
      return [q[0] + next() * 2 - 1, q[1] + next() * 2 - 1] as Point;
    });
    const residual = (t: typeof truth): number =>
      src.reduce((s, p, i) => {
        const q = applySimilarity(t, p);
        return s + (q[0] - dst[i]![0]) ** 2 + (q[1] - dst[i]![1]) ** 2;
      }, 0);
    expect(residual(fitSimilarity(src, dst))).toBeLessThanOrEqual(residual(truth));
  });
});

describe('nms', () => {
  it('keeps the best of overlapping boxes and separate faces', () => {
    const kept = nms(
      [
        { x1: 0, y1: 0, x2: 100, y2: 100, score: 0.8 },
        { x1: 5, y1: 5, x2: 105, y2: 105, score: 0.95 },
        { x1: 300, y1: 0, x2: 380, y2: 90, score: 0.9 },
      ],
      0.3,
    );
    expect(kept.map((b) => b.score)).toEqual([0.95, 0.9]);
  });
});

describe('Gallery', () => {
  it('finds the same top persons as a naive scan, one entry per person', () => {
    const next = seededRandom(42);
    const g = new Gallery(512, 4);
    const rows: { person: string; v: Float32Array }[] = [];
    for (let i = 0; i < 600; i++) {
      const person = `p${i % 200}`;
      const v = randomUnit(512, next);
      rows.push({ person, v });
      g.add(person, v);
    }
    const q = randomUnit(512, next);
    const best = new Map<string, number>();
    for (const r of rows) {
      let s = 0;
      for (let j = 0; j < 512; j++) s += r.v[j]! * q[j]!;
      best.set(r.person, Math.max(best.get(r.person) ?? -Infinity, s));
    }
    const naive = [...best.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const got = g.searchJs(q, 5);
    expect(got.map((c) => c.personId)).toEqual(naive.map(([p]) => p));
    got.forEach((c, i) => expect(c.score).toBeCloseTo(naive[i]![1], 4));
  });

  it('gives the same exact answer through onnxruntime (MatMul + TopK) as in JS', async () => {
    const next = seededRandom(11);
    const searcher = await TopKSearcher.create(512, 1);
    try {
      const g = new Gallery(512, 16, searcher);
      // Uneven rows per person: the fast path must still return one entry per person, the right ones.
      for (let i = 0; i < 3000; i++) g.add(`p${i % 700}`, randomUnit(512, next));
      const compare = async (): Promise<string[]> => {
        const seen: string[] = [];
        for (let t = 0; t < 5; t++) {
          const q = randomUnit(512, next);
          const fast = await g.search(q, 7);
          const slow = g.searchJs(q, 7);
          expect(fast.map((c) => c.personId)).toEqual(slow.map((c) => c.personId));
          fast.forEach((c, i) => expect(c.score).toBeCloseTo(slow[i]!.score, 4));
          seen.push(...fast.map((c) => c.personId));
        }
        return seen;
      };
      await compare();
      // Removals move the last templates into the holes; trimming and growing again re-lay the columns.
      for (let p = 0; p < 700; p += 3) g.removePerson(`p${p}`);
      g.trim();
      for (let i = 0; i < 500; i++) g.add(`q${i % 90}`, randomUnit(512, next));
      const seen = await compare();
      expect(seen.filter((id) => /^p\d+$/.test(id) && Number(id.slice(1)) % 3 === 0)).toEqual([]);
    } finally {
      await searcher.release();
    }
  });

  it('forgets every template of a removed person', async () => {
    const next = seededRandom(3);
    const g = new Gallery(512);
    const alice = randomUnit(512, next);
    g.add('alice', alice);
    g.add('bob', randomUnit(512, next));
    g.add('alice', randomUnit(512, next));
    expect(g.removePerson('alice')).toBe(2);
    expect(g.size).toBe(1);
    expect((await g.search(alice, 3)).map((c) => c.personId)).toEqual(['bob']);
  });
});

describe('TemplateCipher', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a 0600 key, round-trips a template, and refuses one moved to another person', () => {
    dir = mkdtempSync(join(tmpdir(), 'boxagent-face-key-'));
    const cipher = TemplateCipher.open(dir);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    const v = randomUnit(512, seededRandom(1));
    const binding = { templateId: 't1', personId: 'alice', modelId: 'm1' };
    const ct = cipher.encrypt(v, binding);
    expect(ct.includes(Buffer.from(v.buffer).subarray(0, 64))).toBe(false);
    expect(Array.from(TemplateCipher.open(dir).decrypt(ct, binding))).toEqual(Array.from(v));
    expect(() => cipher.decrypt(ct, { ...binding, personId: 'mallory' })).toThrow(/re-enrol/);
  });
});

describe('template codec', () => {
  it('carries the model id with the vector', () => {
    const v = randomUnit(512, seededRandom(9));
    const t = decodeTemplate(encodeTemplate('model-a', v));
    expect(t.modelId).toBe('model-a');
    expect(Array.from(t.embedding)).toEqual(Array.from(v));
    expect(() => decodeTemplate('not a template')).toThrow(/bxt1/);
  });
});

describe('WorkQueue', () => {
  it('runs at most `concurrency` at once and refuses beyond the waiting room', async () => {
    const q = new WorkQueue(1, 1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let peak = 0;
    const job = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      await gate;
      running--;
    };
    const first = q.run(job);
    const second = q.run(job);
    await expect(q.run(job)).rejects.toBeInstanceOf(QueueFullError);
    release();
    await Promise.all([first, second]);
    expect(peak).toBe(1);
    expect(q.depth).toBe(0);
  });
});

describe('enrolmentProblems', () => {
  const gate = {
    minFaceSize: 80,
    minSharpness: 25,
    maxYaw: 45,
    maxPitch: 40,
    minBrightness: 40,
    maxBrightness: 220,
  };
  const good = { size: 120, sharpness: 150, pose: { yaw: 5, pitch: -3, roll: 1 }, brightness: 120 };

  it('passes a good face and names every failed check of a bad one', () => {
    expect(enrolmentProblems(good, gate)).toEqual([]);
    const turned = enrolmentProblems({ ...good, pose: { yaw: -60, pitch: 0, roll: 0 } }, gate);
    expect(turned).toEqual(['head turned (yaw -60°)']);
    const bad = enrolmentProblems(
      { size: 40, sharpness: 3, pose: { yaw: 0, pitch: 55, roll: 0 }, brightness: 20 },
      gate,
    );
    expect(bad).toHaveLength(4);
    expect(bad.join('; ')).toMatch(/too small.*blurred.*tilted.*too dark/);
  });
});
