// Failed token checks are throttled per caller and claimed token id: each failure takes one from a bucket
// that refills slowly; once it is empty, failures from that caller for that id answer 429 instead of 401.
// The token is always checked first, and a valid one is never refused: tokens are 256-bit secrets, so the
// throttle is not what protects them, and a throttle that refused before checking would let any local process
// lock the counter software out (every local caller without an Origin is one caller). Callers are address +
// Origin, so a hostile page's failures are counted apart from the counter software's.
import type { FastifyRequest } from 'fastify';
import { claimedTokenId } from '../auth/token-service.js';
import { presentedToken } from './guards.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets kept at most; the least recently touched go first (a flood of new keys cannot grow memory). */
const MAX_KEYS = 1000;

export class AuthThrottle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The bucket a failed check counts in: caller (address + Origin) and the token id it claimed, if any. */
  static keyOf(request: FastifyRequest, allowQueryToken: boolean): string {
    let id: string | undefined;
    try {
      id = claimedTokenId(presentedToken(request, allowQueryToken));
    } catch {
      id = undefined; // another Authorization scheme: no id claimed
    }
    return `${request.ip}|${request.headers.origin ?? ''}|${id ?? ''}`;
  }

  /** Seconds until failures under this key answer 401 again; 0 when they do now. */
  retryAfter(key: string): number {
    const b = this.refill(key);
    if (!b || b.tokens >= 1) return 0;
    return Math.ceil(((1 - b.tokens) * 60) / this.perMinute);
  }

  /** Records a failed token check. */
  failed(key: string): void {
    const b = this.refill(key) ?? { tokens: this.burst, updatedAt: this.now() };
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.delete(key); // re-insert: Map order is the eviction order
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_KEYS) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }

  private refill(key: string): Bucket | undefined {
    const b = this.buckets.get(key);
    if (!b) return undefined;
    const t = this.now();
    // A clock that jumps back refills nothing rather than going negative.
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, t - b.updatedAt) * this.perMinute) / 60_000);
    b.updatedAt = t;
    if (b.tokens >= this.burst) this.buckets.delete(key);
    return b;
  }
}
