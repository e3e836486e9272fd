// BENCH_ONLY=load: the counter's mixed load on the built daemon, then a soak.
//   1. 50 concurrent clients (fetch loops in this process) mixing GET /v1/health, GET /v1/devices,
//      POST /v1/print-jobs (to the simulated printer, held out of paper; each job is cancelled right away, so
//      the queue stays short) for BENCH_SECONDS, once without and once with POST /v1/face/verify in the mix (two LFW
//      images from ../shared/data/faces). Per route: throughput, p50/p99, errors; and the health p99 with and
//      without face inference running, which shows whether face work starves the API.
//   2. A soak of BENCH_SOAK_SECONDS (default 600) with a bounded loop (10 clients, each pausing 20 ms between
//      requests) over the same mix: the daemon's RSS and open file descriptors sampled every 10 s, reported
//      as first / last / max and a least-squares slope per minute.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startDaemon, type Daemon } from '../tests/helpers/daemon.js';
import { readPairs } from './face-pairs.js';
import { removeScratchDir, rssMb, scratchDir, stopChild, track } from './children.js';

type Row = (metric: string, value: string, notes?: string) => void;
type Progress = (msg: string) => void;

const CLIENTS = 50;
const SOAK_CLIENTS = 10;
const SOAK_PAUSE_MS = 20;
const SAMPLE_EVERY_MS = 10_000;
const ROUTES = ['health', 'devices', 'print', 'face'] as const;
type Route = (typeof ROUTES)[number];

interface RouteStats {
  latencies: number[];
  ok: number;
  errors: number;
  /** 503 face-busy: the face queue's designed back-pressure, counted apart from errors. */
  busy: number;
  firstError?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function soakSeconds(): number {
  const raw = process.env.BENCH_SOAK_SECONDS;
  if (raw === undefined || raw === '') return 600;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`BENCH_SOAK_SECONDS must be >= 0, got "${raw}"`);
  return n;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return num / den;
}

function openFds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

const PRINT_BODY = JSON.stringify({
  printer: 'printer-1',
  document: {
    page: { widthMm: 210, heightMm: 100 },
    items: [{ type: 'text', xMm: 10, yMm: 10, text: '张三 load test', sizePt: 12 }],
  },
});

function faceBody(): string {
  const pair = readPairs('dev').find((p) => p.same);
  if (!pair) throw new Error('no same-person pair in the dev set');
  return JSON.stringify({
    probe: { image: readFileSync(pair.a).toString('base64') },
    reference: { image: readFileSync(pair.b).toString('base64') },
  });
}

/** One request of `route`; resolves with its outcome. */
async function request(
  d: Daemon,
  route: Route,
  face: string,
): Promise<{ ok: boolean; busy: boolean; err?: string }> {
  const post = (path: string, body: string): Promise<Response> =>
    d.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  let r: Response;
  switch (route) {
    case 'health':
      r = await d.fetch('/v1/health');
      break;
    case 'devices':
      r = await d.fetch('/v1/devices');
      break;
    case 'print': {
      r = await post('/v1/print-jobs', PRINT_BODY);
      if (r.status === 202) {
        const { id } = (await r.json()) as { id: string };
        // Cancel it (the printer is out of paper, so it is still queued): the queue stays bounded.
        await (await d.fetch(`/v1/print-jobs/${id}`, { method: 'DELETE' })).arrayBuffer();
        return { ok: true, busy: false };
      }
      break;
    }
    case 'face':
      r = await post('/v1/face/verify', face);
      break;
  }
  const text = await r.text();
  if (r.status < 300) return { ok: true, busy: false };
  if (r.status === 503 && text.includes('face-busy')) return { ok: false, busy: true };
  return { ok: false, busy: false, err: `${route} ${r.status}: ${text.slice(0, 120)}` };
}

/** Picks a route: health 40 %, devices 30 %, print 20 %, face 10 % (its share goes to health without face). */
function pick(withFace: boolean): Route {
  const x = Math.random();
  if (x < 0.4) return 'health';
  if (x < 0.7) return 'devices';
  if (x < 0.9) return 'print';
  return withFace ? 'face' : 'health';
}

interface MixResult {
  seconds: number;
  stats: Record<Route, RouteStats>;
}

async function runMix(
  d: Daemon,
  opts: { clients: number; seconds: number; withFace: boolean; pauseMs?: number; face: string },
  onTick?: () => void,
): Promise<MixResult> {
  const stats = {} as Record<Route, RouteStats>;
  for (const r of ROUTES) stats[r] = { latencies: [], ok: 0, errors: 0, busy: 0 };
  const started = performance.now();
  const end = started + opts.seconds * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      const route = pick(opts.withFace);
      const t0 = performance.now();
      const s = stats[route];
      try {
        const out = await request(d, route, opts.face);
        if (out.ok) {
          s.ok++;
          s.latencies.push(performance.now() - t0);
        } else if (out.busy) s.busy++;
        else {
          s.errors++;
          s.firstError ??= out.err;
        }
      } catch (e) {
        s.errors++;
        s.firstError ??= `${route}: ${e instanceof Error ? e.message : String(e)}`;
      }
      onTick?.();
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, client));
  return { seconds: (performance.now() - started) / 1000, stats };
}

const ms = (n: number): string => (Number.isNaN(n) ? 'n/a' : `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`);

function mixRows(row: Row, label: string, r: MixResult): boolean {
  let clean = true;
  let total = 0;
  for (const route of ROUTES) {
    const s = r.stats[route];
    const n = s.ok + s.errors + s.busy;
    if (n === 0) continue;
    total += s.ok;
    if (s.errors > 0) clean = false;
    row(
      `load ${label}: ${route} (rate / p50 / p99)`,
      `${Math.round(s.ok / r.seconds)} req/s / ${ms(percentile(s.latencies, 50))} / ${ms(percentile(s.latencies, 99))}`,
      `${s.ok} ok, ${s.errors} errors${s.busy ? `, ${s.busy} face-busy 503 (back-pressure)` : ''}` +
        (s.firstError ? `; first error: ${s.firstError.replaceAll('|', '\\|')}` : ''),
    );
  }
  row(
    `load ${label}: total`,
    `${Math.round(total / r.seconds)} req/s`,
    `${CLIENTS} clients, ${r.seconds.toFixed(0)} s`,
  );
  return clean;
}

export async function benchLoadMix(row: Row, progress: Progress, seconds: number): Promise<void> {
  const face = faceBody();
  const storageDir = scratchDir('boxagent-bench-load-');
  let daemon: Daemon | undefined;
  try {
    // Info level: per-request lines are debug, so the load does not measure the logger.
    daemon = await startDaemon({ storageDir, env: { BOXAGENT_LOG_LEVEL: 'info' } });
    track(daemon.proc, 'boxagent daemon');
    const d = daemon;
    // The simulated printer is out of paper: submits are encoded, stored and queued (what the API does), then
    // cancelled; decoding pages in the daemon, which a real printer does itself, is not measured.
    const paperOut = await d.fetch('/v1/devices/printer-1/simulator', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: 'paper-out' }),
    });
    if (paperOut.status !== 200)
      throw new Error(`paper-out fault: ${paperOut.status} ${await paperOut.text()}`);
    progress(`load: warm-up`);
    await runMix(d, { clients: CLIENTS, seconds: 2, withFace: true, face });

    progress(`load: ${CLIENTS} clients without face, ${seconds} s`);
    const without = await runMix(d, { clients: CLIENTS, seconds, withFace: false, face });
    progress(`load: ${CLIENTS} clients with face verify, ${seconds} s`);
    const withFace = await runMix(d, { clients: CLIENTS, seconds, withFace: true, face });
    const clean = mixRows(row, 'without face', without) && mixRows(row, 'with face', withFace);
    const p99 = (r: MixResult): number => percentile(r.stats.health.latencies, 99);
    row(
      'load: health p99 without / with face verifies',
      `${ms(p99(without))} / ${ms(p99(withFace))}`,
      'face inference runs off the event loop (onnxruntime threads); the ratio shows what it costs the API',
    );
    if (!clean) process.exitCode = 1;

    const soak = soakSeconds();
    if (soak === 0) return;
    progress(`soak: ${soak} s, ${SOAK_CLIENTS} clients pausing ${SOAK_PAUSE_MS} ms`);
    const pid = d.proc.pid;
    const t: number[] = [];
    const rss: number[] = [];
    const fds: number[] = [];
    const t0 = performance.now();
    const sample = (): void => {
      const m = rssMb(pid);
      const f = openFds(pid);
      if (m === null || f === null) return;
      t.push((performance.now() - t0) / 60_000);
      rss.push(m);
      fds.push(f);
    };
    sample();
    const timer = setInterval(() => {
      sample();
      progress(
        `soak: ${Math.round((performance.now() - t0) / 1000)} s, RSS ${rss.at(-1)?.toFixed(1)} MB, ${fds.at(-1)} fds`,
      );
    }, SAMPLE_EVERY_MS);
    let result: MixResult;
    try {
      result = await runMix(d, {
        clients: SOAK_CLIENTS,
        seconds: soak,
        withFace: true,
        pauseMs: SOAK_PAUSE_MS,
        face,
      });
    } finally {
      clearInterval(timer);
    }
    sample();
    const requests = ROUTES.reduce((n, r) => n + result.stats[r].ok, 0);
    const errors = ROUTES.reduce((n, r) => n + result.stats[r].errors, 0);
    const fmt = (xs: number[], unit: string, digits: number): string =>
      `${(xs[0] as number).toFixed(digits)} / ${(xs.at(-1) as number).toFixed(digits)} / ${Math.max(...xs).toFixed(digits)} ${unit}`;
    row(
      `soak ${soak} s: requests`,
      String(requests),
      `${errors} errors; ${SOAK_CLIENTS} clients, same mix with face`,
    );
    row(
      `soak: RSS first / last / max`,
      fmt(rss, 'MB', 1),
      `${rss.length} samples every ${SAMPLE_EVERY_MS / 1000} s`,
    );
    row('soak: RSS slope', `${slope(t, rss).toFixed(2)} MB/min`, 'least squares over all samples');
    row('soak: open fds first / last / max', fmt(fds, '', 0), '/proc/<pid>/fd');
    row('soak: open fds slope', `${slope(t, fds).toFixed(2)} fds/min`);
    if (errors > 0) process.exitCode = 1;
  } finally {
    if (daemon) await stopChild(daemon.proc);
    removeScratchDir(storageDir);
  }
}
