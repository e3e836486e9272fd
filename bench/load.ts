// One HTTP load measurement with autocannon's programmatic API: a short warm-up run (discarded, so JIT and
// connection setup do not count), then the measured run. Throughput and tail latency of the local API are
// what the counter software feels when it polls the box.
import autocannon from 'autocannon';

/** Each measured run is preceded by a discarded warm-up run this long. */
export const WARMUP_SECONDS = 2;

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  seconds: number;
  connections?: number;
  warmupSeconds?: number;
}

export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export async function measureLoad(opts: LoadOptions): Promise<LoadResult> {
  const base = { url: opts.url, headers: opts.headers ?? {}, connections: opts.connections ?? 10 };
  await autocannon({ ...base, duration: opts.warmupSeconds ?? WARMUP_SECONDS });
  const r = await autocannon({ ...base, duration: opts.seconds });
  return {
    requestsPerSec: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}
