// Token guessing is throttled per caller: each failed token check takes one from a bucket that refills
// slowly; an empty bucket answers 429 without checking the token at all, so a guess made then is worthless.
// Callers are told apart by address and Origin: every caller of this loopback API comes from 127.0.0.1, but a
// hostile web page carries its own Origin, so it cannot lock out the counter software.
import type { FastifyRequest } from 'fastify';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets kept at most; the least recently touched go first (a flood of new keys cannot grow memory). */
const MAX_CALLERS = 1000;

export class AuthThrottle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  static callerOf(request: FastifyRequest): string {
    return `${request.ip}|${request.headers.origin ?? ''}`;
  }

  /** Seconds until this caller may try again; 0 when it may try now. */
  retryAfter(caller: string): number {
    const b = this.refill(caller);
    if (!b || b.tokens >= 1) return 0;
    return Math.ceil(((1 - b.tokens) * 60) / this.perMinute);
  }

  /** Records a failed token check. */
  failed(caller: string): void {
    const b = this.refill(caller) ?? { tokens: this.burst, updatedAt: this.now() };
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.delete(caller); // re-insert: Map order is the eviction order
    this.buckets.set(caller, b);
    if (this.buckets.size > MAX_CALLERS) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }

  private refill(caller: string): Bucket | undefined {
    const b = this.buckets.get(caller);
    if (!b) return undefined;
    const t = this.now();
    // A clock that jumps back refills nothing rather than going negative.
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, t - b.updatedAt) * this.perMinute) / 60_000);
    b.updatedAt = t;
    if (b.tokens >= this.burst) this.buckets.delete(caller);
    return b;
  }
}
