// The job engine on a real store, with a small kind of its own (named `print` and using print job states, so
// its `<kind>.job` events pass the event catalog's schema check): only declared moves, compare-and-set (a
// lost race is an error, nothing overwritten), `<kind>.job` events heard only after the commit, start-up
// recovery as the kind declares, resolve and cancel, and a FIFO per device.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../../agent/events/event-log.js';
import { JobEngine, JobMoveError } from '../../../agent/jobs/engine.js';
import type { JobKind } from '../../../agent/jobs/kind.js';
import { Problem } from '../../../agent/problems/problem.js';
import { Store } from '../../../agent/store/store.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait-for.js';

type State = 'queued' | 'sending' | 'done' | 'in_doubt' | 'canceled';
const KIND: JobKind<State, { n: number }, { note: string }> = {
  name: 'print',
  label: 'test job',
  states: ['queued', 'sending', 'done', 'in_doubt', 'canceled'],
  initial: 'queued',
  moves: { queued: ['sending', 'canceled'], sending: ['done', 'in_doubt'], in_doubt: ['done', 'queued'] },
  recovery: { sending: { to: 'in_doubt', reason: 'stopped while working' } },
  queued: 'queued',
  cancelable: ['queued'],
  resolutions: { from: 'in_doubt', to: { done: 'done', again: 'queued' } },
  error: (message) => ({ message }),
};

const dirs: string[] = [];
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  dirs.splice(0).forEach(removeDir);
});

function rig() {
  const dir = tempDir();
  dirs.push(dir);
  const store = Store.open(dir);
  const events = new EventLog(store, 10_000);
  const heard: Record<string, unknown>[] = [];
  events.subscribe((e) => {
    if (e.type === 'print.job') heard.push(e.payload as Record<string, unknown>);
  });
  const engine = new JobEngine({ store, events, log: pino({ level: 'silent' }) }, KIND);
  closers.push(() => store.close());
  return { store, events, engine, heard };
}

describe('job engine', () => {
  it('announces each change as <kind>.job with the state before it', () => {
    const { engine, heard } = rig();
    const job = engine.create('dev-1', { n: 1 });
    engine.move(job.id, 'queued', 'sending', { steps: { note: 'started' } });
    const done = engine.move(job.id, 'sending', 'done', { result: { ok: true } });
    expect(done).toMatchObject({ state: 'done', steps: { note: 'started' }, result: { ok: true } });
    expect(heard).toEqual([
      { job: job.id, kind: 'print', device: 'dev-1', state: 'queued', previous: null },
      { job: job.id, kind: 'print', device: 'dev-1', state: 'sending', previous: 'queued' },
      { job: job.id, kind: 'print', device: 'dev-1', state: 'done', previous: 'sending' },
    ]);
  });

  it('refuses a move the kind does not declare, and changes nothing', () => {
    const { engine, heard } = rig();
    const job = engine.create('dev-1', { n: 1 });
    expect(() => engine.move(job.id, 'queued', 'done')).toThrow(JobMoveError);
    expect(engine.get(job.id)?.state).toBe('queued');
    expect(heard).toHaveLength(1);
  });

  it('makes a lost race an error, not an overwrite', () => {
    const { engine, heard } = rig();
    const job = engine.create('dev-1', { n: 1 });
    engine.cancel(job.id, 'clerk');
    // The queue picking the job after the cancel: nothing moves, nothing is announced.
    expect(engine.tryMove(job.id, 'queued', 'sending')).toBeUndefined();
    let problem: unknown;
    try {
      engine.move(job.id, 'queued', 'sending');
    } catch (err) {
      problem = err;
    }
    expect(problem).toBeInstanceOf(Problem);
    expect(problem).toMatchObject({ code: 'job-state-conflict', extensions: { state: 'canceled' } });
    expect(engine.get(job.id)?.state).toBe('canceled');
    expect(heard.map((e) => e.state)).toEqual(['queued', 'canceled']);
    expect(() => engine.cancel(job.id, 'clerk')).toThrow(/is canceled; only a queued one can be canceled/);
  });

  it('lets listeners hear a change only once it is committed; a rollback takes back row and event', () => {
    const { store, engine, heard } = rig();
    const job = engine.create('dev-1', { n: 1 });
    expect(() =>
      engine.move(job.id, 'queued', 'sending', {}, () => {
        expect(heard).toHaveLength(1); // not yet: the transaction is open
        throw new Error('the step after the move failed');
      }),
    ).toThrow(/failed/);
    expect(engine.get(job.id)?.state).toBe('queued');
    expect(heard).toHaveLength(1);
    expect(store.outbox.after(0, 100).filter((e) => e.type === 'print.job')).toHaveLength(1);
  });

  it('recovers jobs left in flight as the kind declares, and an operator resolves them (audited)', () => {
    const { store, engine, heard } = rig();
    const a = engine.create('dev-1', { n: 1 });
    engine.move(a.id, 'queued', 'sending');
    const b = engine.create('dev-1', { n: 2 });
    const recovered = engine.recover();
    expect(recovered.map((j) => [j.id, j.state])).toEqual([[a.id, 'in_doubt']]);
    expect(engine.get(a.id)?.error).toEqual({ message: 'stopped while working' });
    expect(heard.at(-1)).toMatchObject({ job: a.id, state: 'in_doubt', reason: 'stopped while working' });
    expect(engine.get(b.id)?.state).toBe('queued');

    expect(() => engine.resolve(b.id, 'done', 'op')).toThrow(/is queued; it cannot be resolved/);
    expect(() => engine.resolve(a.id, 'maybe', 'op')).toThrow(/unknown outcome/);
    expect(engine.resolve(a.id, 'again', 'op').state).toBe('queued');
    expect(store.audit.list(0, 10).map((e) => [e.action, e.target, e.detail])).toEqual([
      ['print.resolve', a.id, { device: 'dev-1', outcome: 'again', from: 'in_doubt', to: 'queued' }],
    ]);
  });

  it('runs each device its jobs oldest first, one device not waiting for another', async () => {
    const { engine } = rig();
    const ran: string[] = [];
    const ids = [
      engine.create('dev-1', { n: 1 }),
      engine.create('dev-2', { n: 2 }),
      engine.create('dev-1', { n: 3 }),
      engine.create('dev-1', { n: 4 }),
    ];
    closers.push(() => engine.stop(100));
    engine.runQueues(
      ['dev-1', 'dev-2'],
      (device, job) => {
        engine.move(job.id, 'queued', 'sending');
        ran.push(`${device}:${job.input.n}`);
        engine.move(job.id, 'sending', 'done');
        return Promise.resolve('next');
      },
      20,
    );
    await waitFor('all done', () => ids.every((j) => engine.get(j.id)?.state === 'done'));
    expect(ran.filter((r) => r.startsWith('dev-1'))).toEqual(['dev-1:1', 'dev-1:3', 'dev-1:4']);
    expect(ran).toContain('dev-2:2');
  });
});
