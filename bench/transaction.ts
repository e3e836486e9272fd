// BENCH_ONLY=transaction: the senior-card (老年优待证) counter transaction through the built daemon, the way
// its e2e test drives it (tests/helpers/counter-transaction.ts): simulated devices, the card photo through
// the `unpack` C decoder double, real face models, real ffmpeg. Each step's device-side time and the total,
// median of RUNS runs after one warm-up run (first model use, font loading). Physical printing and the
// press's stroke are left out: a print step ends when the simulator has accepted the job.
import { track } from './children.js';
import type { RowFn } from './fleet.js';
import {
  runTransaction,
  startCounterBox,
  STEP_CLOCKS,
  type StepName,
} from '../tests/helpers/counter-transaction.js';

const RUNS = 5;
const GOAL_MS = 3000;
const STEPS: StepName[] = ['card', 'capture', 'verify', 'form', 'idPhoto', 'certificate', 'seal'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function benchTransaction(row: RowFn, progress: (msg: string) => void): Promise<void> {
  progress('transaction: start the counter box');
  // Log level info: per-request debug lines would be measured too.
  const box = await startCounterBox({ BOXAGENT_LOG_LEVEL: 'info' });
  track(box.daemon.proc, 'boxagent daemon (transaction)');
  try {
    const runs: Record<StepName, number>[] = [];
    for (let i = 0; i <= RUNS; i++) {
      progress(i === 0 ? 'transaction: warm-up run' : `transaction: run ${i}/${RUNS}`);
      const r = await runTransaction(box.daemon, `BENCH-${String(i).padStart(6, '0')}`);
      if (!r.verify.match) throw new Error(`run ${i}: the face did not match the card`);
      if (r.seal.state !== 'done') throw new Error(`run ${i}: seal job ${r.seal.state}`);
      runs.push(r.ms);
    }
    const [warm, ...measured] = runs;
    const total = (ms: Record<StepName, number>): number => STEPS.reduce((s, k) => s + ms[k], 0);
    for (const step of STEPS) {
      row(
        `transaction: ${step}`,
        `${median(measured.map((m) => m[step])).toFixed(0)} ms`,
        `${STEP_CLOCKS[step]}; warm-up ${warm![step].toFixed(0)} ms`,
      );
    }
    const t = median(measured.map(total));
    row(
      'transaction: total (median of run totals)',
      `${t.toFixed(0)} ms`,
      `goal < ${GOAL_MS} ms: ${t < GOAL_MS ? 'met' : 'NOT met'}; ${RUNS} runs after a warm-up of ${total(warm!).toFixed(0)} ms`,
    );
  } finally {
    await box.stop();
  }
}
