// Power loss: the daemon is killed with SIGKILL at random points while 200 print jobs, 50 seal jobs and over
// 1 000 events flow, and restarted each time. The printer and the seal machine are simulators on socat ptys
// in this process, so their own logs (pages ejected, presses made) outlive every kill. Afterwards: every
// accepted job is done or in doubt, none lost (a seal job a restart caught before its press expired or
// failed unpressed, and was made again); no page printed twice and no job stamped twice, by the simulators' logs; every event a
// client saw is still in the log; SQLite's integrity check passes; the audit chain verifies. The kill points come from a seeded PRNG (RELIABILITY_SEED repeats a run).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSealProfile } from '../../drivers/seal/profile.js';
import { Store } from '../../agent/store/store.js';
import { PRINT_JOB_KIND } from '../../agent/printing/print-service.js';
import { startCounterBox, runSeed, type CounterBox } from '../helpers/counter-box.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { removeDir, runCli, startDaemon, tempDir, testEnv, type Daemon } from '../helpers/daemon.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

const PRINT_JOBS = 200;
const SEAL_JOBS = 50;
const MIN_EVENTS = 1000;
const MIN_KILLS = 4;
const STAMP = resolveSealProfile('default').commands.stamp.code;
const ENV = { BOXAGENT_FACE_ENABLED: 'false', BOXAGENT_LOG_LEVEL: 'info' };

const dir = tempDir('boxagent-power-');
const storageDir = join(dir, 'state');
let box: CounterBox | undefined;
let daemon: Daemon | undefined;
let sse: SseStream | undefined;

afterAll(async () => {
  sse?.close();
  await daemon?.stop('SIGKILL');
  await box?.close();
  removeDir(dir);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const marker = (n: number): string => `JOB${String(n).padStart(4, '0')}END`;

/**
 * Calls the current daemon; a connection the kill broke is retried against the next one, like a counter
 * app that retries with the same Idempotency-Key.
 */
async function call(path: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const d = daemon;
    try {
      if (!d || d.proc.exitCode !== null || d.proc.signalCode !== null) throw new Error('daemon down');
      return await d.fetch(path, init);
    } catch {
      await sleep(100);
    }
  }
}

const post = (body: unknown, key?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
  body: JSON.stringify(body),
});

interface PrintJob {
  id: string;
  state: string;
}
interface SealJob {
  id: string;
  state: string;
  confirmationToken?: string;
}

const printAccepted = new Map<string, string>(); // marker → job id
const sealAccepted = new Map<string, string>(); // job id → number
const seenEvents = new Map<number, string>(); // seq → event id, as a live client saw them

async function submitPrints(): Promise<void> {
  for (let n = 1; n <= PRINT_JOBS; n++) {
    const m = marker(n);
    const document = {
      page: { widthMm: 210, heightMm: 100 },
      items: [
        { type: 'text', xMm: 10, yMm: 10, text: `${m} 张三 certificate of residence`, sizePt: 12 },
        { type: 'text', xMm: 10, yMm: 20, text: 'Village hall counter, reliability run', sizePt: 10 },
      ],
    };
    const r = await call('/v1/print-jobs', post({ printer: 'printer-1', document }, `print-${n}`));
    expect(r.status).toBe(202);
    printAccepted.set(m, ((await r.json()) as PrintJob).id);
    await sleep(20);
  }
}

async function runSeals(): Promise<void> {
  for (let n = 1; n <= SEAL_JOBS; n++) {
    const number = `SC-REL-${n}`;
    const body = {
      device: 'seal-1',
      document: { kind: 'senior-citizen-card', number },
      operator: 'clerk Li',
    };
    // A job a restart caught before the press ends expired or failed, unpressed: the clerk makes it again.
    for (let attempt = 1; ; attempt++) {
      const r = await call('/v1/seal-jobs', post(body, `seal-${n}-${attempt}`));
      expect(r.status).toBe(201);
      const job = (await r.json()) as SealJob;
      sealAccepted.set(job.id, number);
      if (['done', 'in_doubt'].includes(await confirmSeal(job))) break;
    }
  }
}

/** Confirms until the job has left `pending`, and returns the state it reached. */
async function confirmSeal(job: SealJob): Promise<string> {
  for (;;) {
    const c = await call(`/v1/seal-jobs/${job.id}/confirm`, post({ token: job.confirmationToken }));
    // 409/410: a kill interrupted an earlier try (the job is in doubt, failed or expired); 502/503: the
    // machine is not open yet after a restart.
    expect([200, 409, 410, 502, 503]).toContain(c.status);
    const state = ((await (await call(`/v1/seal-jobs/${job.id}`)).json()) as SealJob).state;
    if (state !== 'pending') return state;
    await sleep(200);
  }
}

async function followEvents(): Promise<void> {
  sse?.close();
  const last = Math.max(0, ...seenEvents.keys());
  const d = daemon as Daemon;
  sse = await openSse(`${d.url}/v1/events`, {
    authorization: `Bearer ${d.adminToken}`,
    'last-event-id': String(last),
  });
}

function recordEvents(): void {
  for (const e of sse?.events ?? []) {
    if (e.id === undefined) continue;
    seenEvents.set(Number(e.id), (JSON.parse(e.data) as { id: string }).id);
  }
}

async function boot(): Promise<void> {
  daemon = await startDaemon({ config: (box as CounterBox).config, storageDir, env: ENV });
  await followEvents();
}

describe('power loss under load', () => {
  it('loses no accepted job, prints and stamps nothing twice, and keeps the store and audit chain sound', async () => {
    const random = seededRandom(runSeed());
    box = await startCounterBox(dir, { storageDir, printerBytesPerSecond: 6000, sealStampDelayMs: 80 });
    await boot();

    let workDone = false;
    const work = Promise.all([submitPrints(), runSeals()]).finally(() => (workDone = true));
    const drained = async (): Promise<boolean> => {
      for (const state of ['queued', 'sending']) {
        const r = await call(`/v1/print-jobs?state=${state}&limit=1`);
        if (((await r.json()) as { jobs: PrintJob[] }).jobs.length > 0) return false;
      }
      return true;
    };

    // Kill at random points until the work is submitted and the queue has drained (and at least MIN_KILLS).
    let kills = 0;
    while (kills < MIN_KILLS || !workDone || !(await drained())) {
      await sleep(400 + random() * 2600);
      recordEvents();
      await (daemon as Daemon).stop('SIGKILL');
      kills++;
      await boot();
      if (kills > 40) throw new Error('the work did not finish within 40 kills');
    }
    await work;
    await waitFor('the print queue to drain', drained, 60_000);
    await sleep(500);
    recordEvents();
    sse?.close();
    expect(await (daemon as Daemon).stop('SIGTERM')).toBe(0);

    // Printer: every accepted job is done or in doubt; a done job is on exactly one page, none on two.
    const store = Store.open(storageDir);
    try {
      expect(store.integrityCheck({ full: true })).toBe('ok');
      const states: Record<string, number> = {};
      for (const [m, id] of printAccepted) {
        const job = store.jobs.get(id);
        expect(job?.kind, `print job ${m}`).toBe(PRINT_JOB_KIND);
        const state = job?.state as string;
        states[state] = (states[state] ?? 0) + 1;
        expect(['done', 'in_doubt'], `print job ${m} state`).toContain(state);
        const pages = box.pagesWith(m);
        if (state === 'done') expect(pages, `pages of done job ${m}`).toBe(1);
        else expect(pages, `pages of in-doubt job ${m}`).toBeLessThanOrEqual(1);
      }
      expect(printAccepted.size).toBe(PRINT_JOBS);
      for (let n = 1; n <= PRINT_JOBS; n++) expect(box.pagesWith(marker(n))).toBeLessThanOrEqual(1);

      // Seal: every job done or in doubt; each fired at most once; the machine pressed no more often.
      const sealStates: Record<string, number> = {};
      const audit = store.audit.list(0, 100_000);
      const firings = new Map<string, number>();
      for (const e of audit)
        if (e.action === 'seal.firing') firings.set(e.target ?? '', (firings.get(e.target ?? '') ?? 0) + 1);
      for (const [id] of sealAccepted) {
        const state = store.jobs.get(id)?.state as string;
        sealStates[state] = (sealStates[state] ?? 0) + 1;
        expect(['done', 'in_doubt', 'expired', 'failed'], `seal job ${id}`).toContain(state);
        // Expired or failed: a restart caught it before the stamp command; it never fired.
        if (state === 'expired' || state === 'failed') expect(firings.has(id)).toBe(false);
      }
      expect((sealStates.done ?? 0) + (sealStates.in_doubt ?? 0)).toBe(SEAL_JOBS);
      expect([...firings.values()].every((n) => n === 1)).toBe(true);
      const presses = box.presses();
      expect(box.seal.received.filter((c) => c === STAMP)).toHaveLength(presses);
      expect(presses).toBeGreaterThanOrEqual(sealStates.done ?? 0);
      expect(presses).toBeLessThanOrEqual(firings.size);

      // Events: over MIN_EVENTS flowed, and every one a live client saw is still there, unchanged.
      const events = store.outbox.after(0, 1_000_000);
      expect(events.length).toBeGreaterThanOrEqual(MIN_EVENTS);
      const byseq = new Map(events.map((e) => [e.seq, e.id]));
      const missing = [...seenEvents].filter(([seq, id]) => byseq.get(seq) !== id);
      expect(missing).toEqual([]);
      process.stderr.write(
        `power loss: ${kills} kills; print ${JSON.stringify(states)}; seal ${JSON.stringify(sealStates)}, ` +
          `${presses} presses; ${events.length} events (${seenEvents.size} seen live)\n`,
      );
    } finally {
      store.close();
    }
    const verify = runCli(['audit', 'verify', '--config', box.config], testEnv(storageDir, ENV));
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toMatch(/audit chain intact/);
  }, 300_000);
});
