// One HTTP load measurement with autocannon's programmatic API: a short warm-up run (discarded, so JIT and
// connection setup do not count), then the measured run. Throughput and tail latency of the local API are
// what the counter software feels when it polls the box.
// Latency percentiles are computed from every response's own hrtime duration: autocannon's histogram stores
// whole milliseconds, which reads as "0 ms" for a loopback p50.
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

function run(opts: autocannon.Options, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err: unknown, result: autocannon.Result) => {
      if (err) reject(err instanceof Error ? err : new Error(`autocannon failed: ${JSON.stringify(err)}`));
      else resolve(result);
    });
    if (onLatency) instance.on('response', (_client, _status, _bytes, ms) => onLatency(ms));
  });
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export async function measureLoad(opts: LoadOptions): Promise<LoadResult> {
  const base = { url: opts.url, headers: opts.headers ?? {}, connections: opts.connections ?? 10 };
  await run({ ...base, duration: opts.warmupSeconds ?? WARMUP_SECONDS });
  const latencies: number[] = [];
  const r = await run({ ...base, duration: opts.seconds }, (ms) => latencies.push(ms));
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSec: r.requests.average,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}
