// The one durable job engine. Every job of every kind lives in the store's one `jobs` table; the engine
// creates jobs, moves them by compare-and-set along the moves their kind allows, publishes each change as
// a `<kind>.job` event inside the transaction that makes it (listeners hear it only after the commit),
// recovers jobs a stopped agent left in flight, lets an operator cancel or settle them, and runs one FIFO
// worker per device. What a job does on its device (bytes, a stamp, an IPP job) stays with its service.
import type { EventPayload, JobEventType } from '../events/catalog.js';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../config/atomic-write.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventLog } from '../events/event-log.js';
import { Problem } from '../problems/problem.js';
import type { JobChange, JobRecord } from '../store/jobs.js';
import type { Store } from '../store/store.js';
import { Wakers } from './wakers.js';
import type { Job, JobKind } from './kind.js';
import { t, term, type Text } from '../messages/text.js';

export const SYSTEM_ACTOR = 'boxagent';

export interface JobEngineDeps {
  store: Store;
  events: EventLog;
  log: Logger;
  /** `storage.dir`; spool files go under `<storageDir>/spool`. Needed only by kinds with a spool. */
  storageDir?: string;
}

/** A change with a move: `reason` becomes the job's error (through the kind) and the event's `reason`. */
export interface MoveChange<St extends object> extends Omit<JobChange, 'steps'> {
  steps?: { [K in keyof St]?: St[K] | null };
  reason?: string;
}

/** A move the kind does not allow: a bug in the service, never a caller's mistake. */
export class JobMoveError extends Error {
  override name = 'JobMoveError';
}

/** What a queue step says: go on with the next job at once, or wait (a poll, or a wake) first. */
export type QueueStep = 'next' | 'wait';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class JobEngine<S extends string, I, St extends object = Record<string, unknown>> {
  private readonly wakers = new Wakers();
  private readonly workers: Promise<void>[] = [];
  private stopped = true;
  private readonly spoolDir: string | undefined;

  constructor(
    private readonly deps: JobEngineDeps,
    readonly kind: JobKind<S, I, St>,
  ) {
    if (kind.spool !== undefined) {
      if (deps.storageDir === undefined) throw new Error(`job kind ${kind.name} needs a storage dir`);
      this.spoolDir = join(deps.storageDir, 'spool', kind.spool);
    }
  }

  /**
   * Creates a job in the kind's initial state: its row, its event, and what `also` adds (the idempotency
   * key, an audit entry) in one transaction.
   */
  create(
    device: string,
    input: I,
    opts: { id?: string; steps?: Partial<St>; also?: (job: Job<S, I, St>) => void } = {},
  ): Job<S, I, St> {
    const job = this.deps.store.transaction(() => {
      const j = this.typed(
        this.deps.store.jobs.insert({
          id: opts.id ?? randomUUID(),
          kind: this.kind.name,
          device,
          state: this.kind.initial,
          input,
          ...(opts.steps ? { steps: opts.steps } : {}),
        }),
      );
      this.publish(j, null);
      opts.also?.(j);
      return j;
    });
    this.wake(device);
    return job;
  }

  get(id: string): Job<S, I, St> | undefined {
    const j = this.deps.store.jobs.get(id);
    return j && j.kind === this.kind.name ? this.typed(j) : undefined;
  }

  /** The job, or a 404 problem naming `/id`. */
  require(id: string): Job<S, I, St> {
    const j = this.get(id);
    if (!j) throw new Problem('not-found', t`no ${term(this.kind.label)} "${id}"`, ['id']);
    return j;
  }

  /** Newest first. */
  list(filter: { state?: S; device?: string; limit: number }): Job<S, I, St>[] {
    return this.deps.store.jobs.list({ kind: this.kind.name, ...filter }).map((j) => this.typed(j));
  }

  /** Oldest first. */
  inState(state: S): Job<S, I, St>[] {
    return this.deps.store.jobs.inState(this.kind.name, state).map((j) => this.typed(j));
  }

  /**
   * Jobs not in a final state (one the kind allows no move from: in_doubt is not final, it waits for an
   * operator), oldest first per state: what a freshly opened page must show as in flight.
   */
  unfinished(): Job<S, I, St>[] {
    return this.kind.states
      .filter((s) => (this.kind.moves[s]?.length ?? 0) > 0)
      .flatMap((s) => this.inState(s));
  }

  /** A job as its `<kind>.job` events show it, without the move: id, kind, device, state and the kind's fields. */
  view(
    job: Job<S, I, St>,
  ): { job: string; kind: string; device: string; state: S } & Record<string, unknown> {
    return {
      job: job.id,
      kind: this.kind.name,
      device: job.device,
      state: job.state,
      ...(this.kind.eventFields?.(job) ?? {}),
    };
  }

  /**
   * Moves a job from one of `from` to `to` if it is still there, with its event and what `also` adds (an
   * audit entry) in one transaction. Undefined when the job had already moved on (a cancel won the race):
   * the caller decides; nothing is overwritten. A move the kind does not allow throws.
   */
  tryMove(
    id: string,
    from: S | readonly S[],
    to: S,
    change: MoveChange<St> = {},
    also?: (job: Job<S, I, St>, previous: S) => void,
  ): Job<S, I, St> | undefined {
    const froms: readonly S[] = typeof from === 'string' ? [from] : from;
    for (const f of froms) {
      if (f !== to && !this.kind.moves[f]?.includes(to)) {
        throw new JobMoveError(`${this.kind.name} jobs do not move from ${f} to ${to}`);
      }
    }
    const { reason, ...rest } = change;
    const stored: JobChange = { ...(rest as JobChange) };
    if (reason !== undefined && stored.error === undefined) stored.error = this.kind.error(reason);
    return this.deps.store.transaction(() => {
      const before = this.deps.store.jobs.get(id);
      if (!before || before.kind !== this.kind.name) return undefined;
      const moved = this.deps.store.jobs.transition(id, froms, to, stored);
      if (!moved) return undefined;
      const j = this.typed(moved);
      this.publish(j, before.state as S, reason);
      also?.(j, before.state as S);
      return j;
    });
  }

  /** Like `tryMove`, but a job that is not in `from` is a 409 problem naming its state. */
  move(
    id: string,
    from: S | readonly S[],
    to: S,
    change: MoveChange<St> = {},
    also?: (job: Job<S, I, St>, previous: S) => void,
  ): Job<S, I, St> {
    const moved = this.tryMove(id, from, to, change, also);
    if (!moved) throw this.conflict(this.require(id), t`moved to ${term(to)}`);
    return moved;
  }

  /**
   * Records steps on a job still in `state`, without a move or an event (bookkeeping no listener waits
   * for: the printer's job id, a token forgotten). False when the job has moved on.
   */
  note(id: string, state: S, steps: MoveChange<St>['steps']): boolean {
    return (
      this.deps.store.jobs.transition(id, [state], state, { steps: steps as Record<string, unknown> }) !==
      undefined
    );
  }

  /** A 409 problem: the job is in a state where `verb` is not possible. */
  conflict(job: Job<S, I, St>, verb: Text): Problem {
    return new Problem(
      this.kind.conflictCode ?? 'job-state-conflict',
      t`${term(this.kind.label)} ${job.id} is ${term(job.state)}; it cannot be ${verb}`,
      this.kind.conflictCode ? undefined : ['id'],
      { state: job.state },
    );
  }

  /**
   * Start-up: every job the kind's recovery names was in flight when the agent stopped and moves on as
   * declared (in_doubt where the device may have acted: never re-sent silently). `also` runs in each
   * move's transaction (an audit entry). Returns the jobs moved.
   */
  recover(also?: (job: Job<S, I, St>, previous: S) => void): Job<S, I, St>[] {
    if (this.spoolDir) mkdirSync(this.spoolDir, { recursive: true, mode: 0o700 });
    const moved: Job<S, I, St>[] = [];
    for (const from of this.kind.states) {
      const rule = this.kind.recovery?.[from];
      if (!rule) continue;
      for (const job of this.inState(from)) {
        const reason = typeof rule.reason === 'string' ? rule.reason : rule.reason(job);
        const j = this.tryMove(job.id, from, rule.to, { reason }, also);
        if (!j) continue;
        moved.push(j);
        this.deps.log.warn(
          { job: job.id, kind: this.kind.name, from, to: rule.to },
          `${this.kind.label} found ${from} at start-up: now ${rule.to}`,
        );
      }
    }
    return moved;
  }

  /** An operator cancels a job that has not started; 409 once it has. */
  cancel(id: string, by: string, change: MoveChange<St> = {}): Job<S, I, St> {
    const cancelable = this.kind.cancelable ?? [];
    const current = this.require(id);
    const j =
      cancelable.length === 0
        ? undefined
        : this.tryMove(id, cancelable, 'canceled' as S, { reason: `canceled by ${by}`, ...change });
    if (!j) {
      const now = this.get(id) ?? current;
      throw new Problem(
        this.kind.conflictCode ?? 'job-state-conflict',
        cancelable.length === 0
          ? t`${term(this.kind.label)} ${id} is ${term(now.state)}; it cannot be canceled`
          : t`${term(this.kind.label)} ${id} is ${term(now.state)}; only a ${anyOf(cancelable)} one can be canceled`,
        ['id'],
        { state: now.state },
      );
    }
    return j;
  }

  /**
   * An operator settles a job in doubt: `outcome` names the state it goes to (done, or back to the queue
   * where the kind allows a retry). Audited as `<kind>.resolve` with the move, in one transaction.
   */
  resolve(
    id: string,
    outcome: string,
    by: string,
    change: MoveChange<St> = {},
    detail: Record<string, unknown> = {},
  ): Job<S, I, St> {
    const rules = this.kind.resolutions;
    const to = rules?.to[outcome];
    const current = this.require(id);
    if (!rules || to === undefined) throw new Problem('invalid-request', t`unknown outcome "${outcome}"`);
    const j = this.tryMove(id, rules.from, to, change, (moved, previous) => {
      this.deps.store.audit.append({
        actor: by,
        action: `${this.kind.name}.resolve`,
        target: id,
        detail: { device: moved.device, outcome, from: previous, to, ...detail },
      });
    });
    if (!j) throw this.conflict(this.get(id) ?? current, t`resolved`);
    return j;
  }

  // ---- the per-device queue ----

  /**
   * Starts one worker per device: it takes the device's oldest job in the kind's queued state and hands it
   * to `step`, which does the work (and its moves) and says whether to go on at once or wait a poll.
   */
  runQueues(
    devices: readonly string[],
    step: (device: string, job: Job<S, I, St>) => Promise<QueueStep>,
    pollMs: number,
    idle?: (device: string) => void,
  ): void {
    const queued = this.kind.queued;
    if (queued === undefined) throw new Error(`${this.kind.name} jobs have no queue`);
    this.stopped = false;
    for (const device of devices) {
      this.workers.push(
        (async () => {
          while (!this.stopped) {
            try {
              const raw = this.deps.store.jobs.next(this.kind.name, device, queued);
              if (!raw) {
                idle?.(device);
                await this.wakers.idle(device, pollMs);
                continue;
              }
              if ((await step(device, this.typed(raw))) === 'wait') await this.wakers.idle(device, pollMs);
            } catch (err) {
              this.deps.log.error({ device, kind: this.kind.name, err }, 'job queue worker error');
              await this.wakers.idle(device, pollMs);
            }
          }
        })(),
      );
    }
  }

  /** Wakes a device's worker (a job was queued for it). */
  wake(device: string): void {
    this.wakers.wake(device);
  }

  /** Stops taking jobs; a job in flight is left `graceMs` to finish, else start-up recovery finds it. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    this.wakers.wakeAll();
    await Promise.race([Promise.all(this.workers), sleep(graceMs)]);
  }

  // ---- spool files ----

  /** `<storage>/spool/<kind folder>/<id>.<ext>`. */
  spoolFile(id: string, ext: string): string {
    if (!this.spoolDir) throw new Error(`${this.kind.name} jobs have no spool`);
    return join(this.spoolDir, `${id}.${ext}`);
  }

  writeSpool(id: string, ext: string, data: Buffer): void {
    if (this.spoolDir) mkdirSync(this.spoolDir, { recursive: true, mode: 0o700 });
    // Durable before the job row that points at it commits: a power cut never leaves a queued job's bytes torn.
    writeFileAtomic(this.spoolFile(id, ext), data, { mode: 0o600 });
  }

  readSpool(id: string, ext: string): Buffer {
    return readFileSync(this.spoolFile(id, ext));
  }

  removeSpool(id: string, ...exts: string[]): void {
    for (const ext of exts) rmSync(this.spoolFile(id, ext), { force: true });
  }

  private publish(job: Job<S, I, St>, previous: S | null, reason?: string): void {
    // The engine is generic over kinds, so the payload's kind fields are not known here; the catalog's schema
    // for `<kind>.job` checks them at publish (and every kind's tests publish each of its states).
    const type: JobEventType = `${this.kind.name}.job`;
    this.deps.events.publish<JobEventType>(type, {
      ...this.view(job),
      previous,
      ...(reason === undefined ? {} : { reason }),
    } as EventPayload<JobEventType>);
  }

  private typed(j: JobRecord): Job<S, I, St> {
    return j as Job<S, I, St>;
  }
}

/** "queued or sending", in the caller's language. */
function anyOf(words: readonly string[]): Text {
  return words.map(term).reduce((list, word) => t`${list} or ${word}`);
}
