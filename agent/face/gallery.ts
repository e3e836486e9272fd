// The 1:N gallery in memory: every template of the current model in one contiguous Float32Array (row-major,
// one L2-normalised row per template), searched exactly by brute force. Scores are cosine similarities.
// With a TopKSearcher the scoring runs in onnxruntime (MatMul + TopK, off the event loop); without one, in JS.
import type { TopKSearcher } from './topk-model.js';

export interface Candidate {
  personId: string;
  score: number;
}

export class Gallery {
  private matrix: Float32Array;
  private persons: string[] = [];
  private count = 0;
  /** Rows per person: the most any one person has bounds how deep the row-level top list must go. */
  private readonly rowsOf = new Map<string, number>();
  /** Bumped on every change, so a search that overlapped one can be redone. */
  private version = 0;

  constructor(
    readonly dim: number,
    capacity = 1024,
    private readonly searcher?: TopKSearcher,
  ) {
    this.matrix = new Float32Array(capacity * dim);
  }

  get size(): number {
    return this.count;
  }

  add(personId: string, embedding: Float32Array): void {
    if (embedding.length !== this.dim)
      throw new Error(`template has ${embedding.length} values, not ${this.dim}`);
    if ((this.count + 1) * this.dim > this.matrix.length) {
      const bigger = new Float32Array(this.matrix.length * 2);
      bigger.set(this.matrix);
      this.matrix = bigger;
    }
    this.matrix.set(embedding, this.count * this.dim);
    this.persons[this.count] = personId;
    this.count++;
    this.rowsOf.set(personId, (this.rowsOf.get(personId) ?? 0) + 1);
    this.version++;
  }

  /** Removes every row of the person (the last rows move into the holes); returns how many. */
  removePerson(personId: string): number {
    let removed = 0;
    for (let i = this.count - 1; i >= 0; i--) {
      if (this.persons[i] !== personId) continue;
      const last = this.count - 1;
      if (i !== last) {
        this.matrix.copyWithin(i * this.dim, last * this.dim, (last + 1) * this.dim);
        this.persons[i] = this.persons[last]!;
      }
      this.matrix.fill(0, last * this.dim, (last + 1) * this.dim);
      this.persons.length = last;
      this.count = last;
      removed++;
    }
    this.rowsOf.delete(personId);
    this.version++;
    return removed;
  }

  countOf(personId: string): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.persons[i] === personId) n++;
    return n;
  }

  /**
   * The best `k` persons by their best template's score, highest first. Exact: every row is scored. In
   * onnxruntime the best k × (most rows of one person) rows are fetched, which must hold the best row of
   * each of the top k persons, then reduced to one entry per person.
   */
  async search(query: Float32Array, k: number): Promise<Candidate[]> {
    if (!this.searcher || this.count === 0) return this.searchJs(query, k);
    for (;;) {
      const version = this.version;
      let most = 1;
      for (const n of this.rowsOf.values()) if (n > most) most = n;
      const depth = k * most;
      const top = await this.searcher.search(this.matrix, this.count, query, depth);
      if (version !== this.version) continue; // rows moved under the search: their indices are stale
      const out: Candidate[] = [];
      const seen = new Set<string>();
      for (let i = 0; i < top.rows.length && out.length < k; i++) {
        const personId = this.persons[top.rows[i]!]!;
        if (seen.has(personId)) continue;
        seen.add(personId);
        out.push({ personId, score: top.scores[i]! });
      }
      return out;
    }
  }

  /** The same search as a plain JS loop (no onnxruntime), the reference the fast path is tested against. */
  searchJs(query: Float32Array, k: number): Candidate[] {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values, not ${this.dim}`);
    const top: Candidate[] = [];
    let floor = -Infinity;
    const m = this.matrix;
    const d = this.dim;
    for (let r = 0; r < this.count; r++) {
      const base = r * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      // Four accumulators: independent chains let the CPU overlap the multiply-adds.
      for (let j = 0; j < d; j += 4) {
        s0 += m[base + j]! * query[j]!;
        s1 += m[base + j + 1]! * query[j + 1]!;
        s2 += m[base + j + 2]! * query[j + 2]!;
        s3 += m[base + j + 3]! * query[j + 3]!;
      }
      const score = s0 + s1 + s2 + s3;
      if (score <= floor && top.length >= k) continue;
      const personId = this.persons[r]!;
      const existing = top.findIndex((c) => c.personId === personId);
      if (existing >= 0) {
        if (top[existing]!.score >= score) continue;
        top.splice(existing, 1);
      }
      let at = top.findIndex((c) => c.score < score);
      if (at < 0) at = top.length;
      top.splice(at, 0, { personId, score });
      if (top.length > k) top.length = k;
      if (top.length >= k) floor = top[top.length - 1]!.score;
    }
    return top;
  }
}
