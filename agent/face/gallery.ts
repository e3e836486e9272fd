// The 1:N gallery in memory: every template of the current model in one contiguous Float32Array, stored
// transposed (`dim` rows of `capacity` values: template i is column i, L2-normalised), searched exactly by
// brute force. Scores are cosine similarities. The layout is the one onnxruntime scores fastest (see
// topk-model.ts); "row" below means a template.
// With a TopKSearcher the scoring runs in onnxruntime (MatMul + TopK, off the event loop); without one, in JS.
import type { TopKSearcher } from './topk-model.js';

export interface Candidate {
  personId: string;
  score: number;
}

/** Capacity growth: small steps, because the search also scores the unused columns (zeros). */
const GROWTH = 1.25;

export class Gallery {
  private matrix: Float32Array;
  private capacity: number;
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
    this.capacity = Math.max(1, capacity);
    this.matrix = new Float32Array(this.capacity * dim);
  }

  get size(): number {
    return this.count;
  }

  add(personId: string, embedding: Float32Array): void {
    if (embedding.length !== this.dim)
      throw new Error(`template has ${embedding.length} values, not ${this.dim}`);
    if (this.count === this.capacity)
      this.resize(Math.max(this.capacity + 1024, Math.ceil(this.capacity * GROWTH)));
    for (let j = 0; j < this.dim; j++) this.matrix[j * this.capacity + this.count] = embedding[j]!;
    this.persons[this.count] = personId;
    this.count++;
    this.rowsOf.set(personId, (this.rowsOf.get(personId) ?? 0) + 1);
    this.version++;
  }

  /** Drops the unused capacity (after loading the whole gallery), so searches score no empty columns. */
  trim(): void {
    if (this.count < this.capacity) this.resize(Math.max(this.count, 1));
  }

  private resize(capacity: number): void {
    const bigger = new Float32Array(capacity * this.dim);
    for (let j = 0; j < this.dim; j++) {
      bigger.set(this.matrix.subarray(j * this.capacity, j * this.capacity + this.count), j * capacity);
    }
    this.matrix = bigger;
    this.capacity = capacity;
    this.version++;
  }

  /** Removes every row of the person (the last rows move into the holes); returns how many. */
  removePerson(personId: string): number {
    let removed = 0;
    const m = this.matrix;
    const cap = this.capacity;
    for (let i = this.count - 1; i >= 0; i--) {
      if (this.persons[i] !== personId) continue;
      const last = this.count - 1;
      if (i !== last) {
        for (let j = 0; j < this.dim; j++) m[j * cap + i] = m[j * cap + last]!;
        this.persons[i] = this.persons[last]!;
      }
      for (let j = 0; j < this.dim; j++) m[j * cap + last] = 0;
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
      const top = await this.searcher.search(this.matrix, this.capacity, this.count, query, depth);
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
    // Column by column: a running score per template, reading the matrix in memory order.
    const scores = new Float64Array(this.count);
    const m = this.matrix;
    for (let j = 0; j < this.dim; j++) {
      const base = j * this.capacity;
      const qj = query[j]!;
      for (let r = 0; r < this.count; r++) scores[r]! += m[base + r]! * qj;
    }
    const top: Candidate[] = [];
    let floor = -Infinity;
    for (let r = 0; r < this.count; r++) {
      const score = scores[r]!;
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
