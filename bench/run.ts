// `npm run bench`: loopback performance of the built daemon, printed as a Markdown table on stdout
// (progress goes to stderr). It measures
//   1. a bare fastify hello-world in a child process: the ceiling for this machine,
//   2. the real daemon (dist/, spawned as a process): authenticated GET /v1/health and GET /v1/devices,
//   3. the daemon's health throughput as a fraction of the bare fastify one (target >= 0.5),
//   4. cold start to ready (log line, and READY=1 on a real NOTIFY_SOCKET when socat is installed),
//   5. the daemon's resident memory at idle and after the load,
//   6. the dot-matrix printer: ESC/P encoding and preview of an A4 form, bytes on the wire (bench/printer.ts).
//   7. face recognition (bench/face.ts): per-stage latency, RSS, 1:N over 230 000 templates, accuracy.
//   8. the fleet link through a local mosquitto (bench/fleet.ts): RPC round trip, outbox drain, memory.
//   9. the face camera (bench/camera.ts): MJPEG frames/s and daemon CPU with 1 and 3 viewers, capture latency.
//  10. the counter web app in Chromium (bench/browser.ts): client bundle size, page load to device list and
//      to the first snapshot event.
//  11. BENCH_ONLY=load (bench/load-mix.ts): 50 clients mixing health, devices, print submits and face
//      verifies, then a soak (BENCH_SOAK_SECONDS, default 600) watching RSS and open fds. Not in the default
//      run: the soak alone takes ten minutes.
//  12. BENCH_ONLY=transaction (bench/transaction.ts): the senior-card counter transaction, each step's
//      device-side time and the total. Not in the default run (the face and camera sections cover its parts).
//  BENCH_ONLY=api runs 1-6 only; =face, =certificates, =camera, =browser run that section alone.
// Everything runs one after another (the boxes and CI have two cores) and every child process is stopped,
// even on error. Timings are informative: nothing here fails on a slow number (see DESIGN.md, Testing).
import { cpus } from 'node:os';
import { CLI, startDaemon, type Daemon } from '../tests/helpers/daemon.js';
import { killLeftovers, removeScratchDir, rssMb, scratchDir, stopChild, track } from './children.js';
import { coldStartOnce, socatAvailable, type ColdStart } from './cold-start.js';
import { benchFleet } from './fleet.js';
import { startHelloServer } from './hello-server.js';
import { measureLoad, WARMUP_SECONDS, type LoadResult } from './load.js';
import { benchPrinter } from './printer.js';
import { benchFace } from './face.js';
import { benchCertificates } from './certificates.js';
import { benchCamera } from './camera.js';
import { benchLoadMix } from './load-mix.js';
import { benchBrowser } from './browser.js';
import { benchTransaction } from './transaction.js';

const CONNECTIONS = 10;
const IDLE_SECONDS = 3;
const COLD_STARTS = 5;
const RATIO_TARGET = 0.5;
// The daemon's default level. Per-request lines are debug (the test helper's default), so at info the load
// is not measuring the logger; at warn the "boxagent ready" line the helper waits for would not be written.
const DAEMON_ENV = { BOXAGENT_LOG_LEVEL: 'info' };

interface Row {
  metric: string;
  value: string;
  notes: string;
}

const rows: Row[] = [];
function row(metric: string, value: string, notes = ''): void {
  rows.push({ metric, value, notes });
}
function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

function benchSeconds(): number {
  const raw = process.env.BENCH_SECONDS;
  if (raw === undefined || raw === '') return 10;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_SECONDS must be a positive number, got "${raw}"`);
  return n;
}

const fmtRps = (n: number): string => `${Math.round(n)} req/s`;
const fmtMs = (n: number): string => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;
const fmtMb = (n: number | null): string => (n === null ? 'n/a' : `${n.toFixed(1)} MB`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function loadRows(name: string, r: LoadResult, notes: string): void {
  row(`${name}: throughput`, fmtRps(r.requestsPerSec), notes);
  row(`${name}: latency p50`, fmtMs(r.p50Ms));
  row(`${name}: latency p99`, fmtMs(r.p99Ms));
}

function checkedRows(name: string, r: LoadResult): void {
  const bad = r.non2xx + r.errors + r.timeouts;
  row(
    `${name}: non-2xx`,
    String(r.non2xx),
    `${bad === 0 ? 'ok' : 'MUST BE 0'}; ${r.total} responses, ${r.errors} errors, ${r.timeouts} timeouts`,
  );
  if (bad > 0) process.exitCode = 1;
}

async function benchHello(seconds: number): Promise<LoadResult> {
  progress('bare fastify hello-world');
  const hello = await startHelloServer();
  try {
    const r = await measureLoad({ url: `${hello.url}/`, seconds, connections: CONNECTIONS });
    loadRows('fastify hello-world GET /', r, `bare fastify, logger off, own process; ${CONNECTIONS} conns`);
    row('fastify hello-world: RSS after load', fmtMb(rssMb(hello.pid)), 'reference for the daemon RSS');
    return r;
  } finally {
    await hello.stop();
  }
}

async function benchDaemon(seconds: number): Promise<LoadResult> {
  progress('daemon: start, idle');
  const storageDir = scratchDir('boxagent-bench-state-');
  let daemon: Daemon | undefined;
  try {
    daemon = await startDaemon({ storageDir, env: DAEMON_ENV });
    track(daemon.proc, 'boxagent daemon');
    const pid = daemon.proc.pid;
    await sleep(IDLE_SECONDS * 1000);
    row('daemon RSS at idle', fmtMb(rssMb(pid)), `VmRSS ${IDLE_SECONDS} s after ready, no requests`);

    const logsBefore = daemon.logs.length;
    const headers = { authorization: `Bearer ${daemon.adminToken}` };
    const notes = `authenticated (admin token), log level info; ${CONNECTIONS} conns`;
    progress('daemon: GET /v1/health');
    const health = await measureLoad({ url: `${daemon.url}/v1/health`, headers, seconds });
    loadRows('daemon GET /v1/health', health, notes);
    checkedRows('daemon GET /v1/health', health);

    progress('daemon: GET /v1/devices');
    const devices = await measureLoad({ url: `${daemon.url}/v1/devices`, headers, seconds });
    loadRows('daemon GET /v1/devices', devices, notes);
    checkedRows('daemon GET /v1/devices', devices);

    row('daemon RSS after load', fmtMb(rssMb(pid)), 'VmRSS right after the two load runs');
    row(
      'daemon log lines during load',
      String(daemon.logs.length - logsBefore),
      'per-request lines are debug, so ~0 at info: the load does not measure the logger',
    );
    return health;
  } finally {
    if (daemon) await stopChild(daemon.proc);
    removeScratchDir(storageDir);
  }
}

async function benchColdStart(): Promise<void> {
  const withNotify = socatAvailable();
  const runs: ColdStart[] = [];
  for (let i = 1; i <= COLD_STARTS; i++) {
    progress(`cold start ${i}/${COLD_STARTS}`);
    runs.push(await coldStartOnce(DAEMON_ENV, withNotify));
  }
  const spread = (xs: number[]): string => `${Math.round(median(xs))} / ${Math.round(Math.max(...xs))} ms`;
  const fresh = `${COLD_STARTS} spawns, fresh state dir each`;
  row(
    'cold start to "boxagent ready" log (median / max)',
    spread(runs.map((r) => r.readyLogMs)),
    `${fresh}; spawn → the line's pino timestamp`,
  );
  row(
    'cold start to startDaemon() resolved (median / max)',
    spread(runs.map((r) => r.resolvedMs)),
    'includes the helper polling the log every 20 ms',
  );
  const notify = runs.map((r) => r.notifyMs).filter((n): n is number => n !== null);
  if (notify.length === runs.length) {
    row(
      'cold start to READY=1 on NOTIFY_SOCKET (median / max)',
      spread(notify),
      `${fresh}; socat UNIX-RECV listener`,
    );
  } else {
    row('cold start to READY=1 on NOTIFY_SOCKET', 'n/a', 'socat not installed');
  }
}

/** Runs one section; a failure is reported in the table (and the exit code) and the other sections go on. */
async function section<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    process.exitCode = 1;
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
    row(`${name}`, 'FAILED', msg.replaceAll('|', '\\|'));
    progress(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return undefined;
  } finally {
    // Anything a failed start left behind must not skew the next section.
    killLeftovers(CLI);
  }
}

function printTable(seconds: number): void {
  const lines = [
    `boxagent bench: node ${process.version}, ${cpus().length} CPUs, loopback, autocannon ` +
      `${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up (discarded) + ${seconds} s measured per run`,
    '',
    '| metric | value | notes |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.metric} | ${r.value} | ${r.notes} |`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killLeftovers(CLI);
      process.exit(130);
    });
  }
  process.once('exit', () => killLeftovers(CLI));

  const seconds = benchSeconds();
  // BENCH_ONLY=face runs the face section alone (it needs no load generator and takes a few minutes).
  if (process.env.BENCH_ONLY === 'face') {
    await section('face', () => benchFace(row, progress));
    printTable(seconds);
    return;
  }
  if (process.env.BENCH_ONLY === 'certificates') {
    await section('certificates', async () => {
      for (const r of await benchCertificates()) row(r.metric, r.value, r.notes);
    });
    printTable(seconds);
    return;
  }
  if (process.env.BENCH_ONLY === 'camera') {
    await section('camera', () => benchCamera(row, progress));
    printTable(seconds);
    return;
  }
  if (process.env.BENCH_ONLY === 'browser') {
    await section('browser', () => benchBrowser(row, progress));
    printTable(seconds);
    return;
  }
  if (process.env.BENCH_ONLY === 'transaction') {
    await section('transaction', () => benchTransaction(row, progress));
    printTable(seconds);
    return;
  }
  // BENCH_ONLY=load: the mixed counter load and the soak (bench/load-mix.ts).
  if (process.env.BENCH_ONLY === 'load') {
    await section('load', () => benchLoadMix(row, progress, seconds));
    printTable(seconds);
    return;
  }
  const hello = await section('fastify hello-world', () => benchHello(seconds));
  const health = await section('daemon load', () => benchDaemon(seconds));
  if (hello && health) {
    const ratio = health.requestsPerSec / hello.requestsPerSec;
    row(
      'daemon health / bare fastify throughput',
      ratio.toFixed(2),
      `target >= ${RATIO_TARGET}: ${ratio >= RATIO_TARGET ? 'met' : 'NOT met'}`,
    );
  }
  await section('cold start', benchColdStart);
  await section('printer', async () => {
    progress('printer: encode and preview an A4 form');
    for (const r of await benchPrinter()) row(r.metric, r.value, r.notes);
  });
  // BENCH_ONLY=api: the sections above (HTTP stack, start-up, printer encoding), a few minutes: enough to see
  // whether a change to the daemon's middle cost anything, without the face, camera and fleet sections.
  if (process.env.BENCH_ONLY === 'api') {
    printTable(seconds);
    return;
  }
  await section('certificates', async () => {
    progress('certificates: compose a card, print it to ippeveprinter');
    for (const r of await benchCertificates()) row(r.metric, r.value, r.notes);
  });
  await section('face', () => benchFace(row, progress));
  await section('camera', () => benchCamera(row, progress));
  await section('browser', () => benchBrowser(row, progress));
  await section('fleet link', () => benchFleet(row, progress));
  printTable(seconds);
}

await main();
