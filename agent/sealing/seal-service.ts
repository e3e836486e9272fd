// Seal jobs: create (pending, with a confirmation token), confirm (checking → firing → done | failed |
// in_doubt), resolve (an operator settles in_doubt). The seal is pressed at most once per job: `firing` and
// its audit entry are committed before the stamp command is sent, a job found `firing` at start-up becomes
// `in_doubt` and is never re-fired, and every state change is published in the same transaction.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  SealCommandError,
  SealInterlockError,
  SealMachine,
  type FireOutcome,
} from '../../drivers/seal/machine.js';
import type { DeviceManager } from '../devices/device-manager.js';
import { DeviceBusyError, DeviceNotReadyError, type SupervisedDevice } from '../devices/supervised-device.js';
import type { EventLog } from '../events/event-log.js';
import type { EventPayload } from '../events/catalog.js';
import { Problem } from '../problems/problem.js';
import type { SealDocument, SealJobRecord, SealJobState } from '../store/seal-jobs.js';
import type { Store } from '../store/store.js';

export const SYSTEM_ACTOR = 'boxagent';

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export class SealService {
  /**
   * Each pending job's confirmation deadline on the monotonic clock. The wall clock can jump (a wrong RTC
   * corrected at boot); a job expires when either clock says its window has passed, so a jump can shorten a
   * window but never lengthen it.
   */
  private readonly deadlines = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly devices: DeviceManager,
    private readonly log: Logger,
  ) {}

  /**
   * Settles what a previous run left half-done: `firing` → `in_doubt` (the stamp may have been pressed),
   * `checking` → `failed` (the stamp command was never sent), `pending` → `expired`: a restart ends every
   * confirmation window, since how long the agent was down cannot be trusted to the wall clock.
   */
  start(): void {
    for (const job of this.store.sealJobs.inState('firing')) {
      this.move(job, 'firing', 'in_doubt', SYSTEM_ACTOR, {
        error: { reason: 'the agent stopped while the seal was firing; whether it pressed is unknown' },
      });
      this.log.error({ job: job.id, device: job.device }, 'seal job left firing by a crash is now in doubt');
    }
    for (const job of this.store.sealJobs.inState('checking')) {
      this.move(job, 'checking', 'failed', SYSTEM_ACTOR, {
        error: { reason: 'the agent stopped before the stamp command was sent' },
      });
    }
    for (const job of this.store.sealJobs.inState('pending')) {
      this.move(job, 'pending', 'expired', SYSTEM_ACTOR, {
        error: { reason: 'the agent restarted before the job was confirmed; create it again' },
      });
    }
  }

  create(
    input: { device: string; document: SealDocument; operator: string },
    by: string,
  ): { job: SealJobRecord; token: string } {
    const device = this.sealDevice(input.device);
    const token = `sct_${randomBytes(24).toString('base64url')}`;
    const windowMs = device.config.seal.confirmWindowMs;
    const expiresAt = new Date(Date.now() + windowMs).toISOString();
    const job = this.store.transaction(() => {
      const j = this.store.sealJobs.insert({
        id: randomUUID(),
        device: input.device,
        document: input.document,
        operator: input.operator,
        createdBy: by,
        expiresAt,
        tokenHash: hashToken(token),
      });
      this.store.audit.append({
        actor: by,
        action: 'seal.create',
        target: j.id,
        detail: { device: j.device, document: j.document, operator: j.operator, expiresAt },
      });
      this.publish(j, null);
      return j;
    });
    this.deadlines.set(job.id, performance.now() + windowMs);
    return { job, token };
  }

  get(id: string): SealJobRecord {
    this.expireOverdue();
    const job = this.store.sealJobs.get(id);
    if (!job) throw new Problem('not-found', `no seal job "${id}"`, ['id']);
    return job;
  }

  list(filter: { state?: SealJobState; device?: string; limit: number }): SealJobRecord[] {
    this.expireOverdue();
    return this.store.sealJobs.list(filter);
  }

  /** Checks the token and the interlocks, then presses the seal once. */
  async confirm(id: string, token: string, by: string): Promise<SealJobRecord> {
    const job = this.store.sealJobs.get(id);
    if (!job) throw new Problem('not-found', `no seal job "${id}"`, ['id']);
    const given = Buffer.from(hashToken(token), 'hex');
    if (!timingSafeEqual(given, Buffer.from(job.tokenHash, 'hex'))) {
      throw new Problem('seal-token-invalid', 'the confirmation token is not the one issued for this job', [
        'token',
      ]);
    }
    if (job.state === 'pending' && this.overdue(job)) {
      this.move(job, 'pending', 'expired', SYSTEM_ACTOR);
      throw new Problem('seal-job-expired', `seal job ${id} expired at ${job.expiresAt}; create a new one`);
    }
    if (job.state !== 'pending') throw this.conflict(job, 'confirmed');
    const device = this.sealDevice(job.device);
    const checking = this.move(job, 'pending', 'checking', by);
    this.deadlines.delete(id);
    if (!checking) throw this.conflict(this.store.sealJobs.get(id) ?? job, 'confirmed');

    let fired: { outcome: FireOutcome; serial: string | null } | undefined;
    try {
      fired = await device.use(async (driver) => {
        if (!(driver instanceof SealMachine)) throw new Error('not a seal machine');
        await driver.checkBeforeStamp();
        const serial = device.status().identity?.serial ?? null;
        // The point of no return is recorded before the command leaves: a crash after this line is in doubt.
        this.store.transaction(() => {
          this.store.sealJobs.transition(id, 'checking', 'firing');
          this.store.audit.append({
            actor: by,
            action: 'seal.firing',
            target: id,
            detail: {
              device: job.device,
              deviceSerial: serial,
              document: job.document,
              operator: job.operator,
            },
          });
          this.events.publish('seal.job', this.eventPayload({ ...checking, state: 'firing' }, 'checking'));
        });
        return { outcome: await driver.fire(), serial };
      });
    } catch (err) {
      // Nothing after the firing commit throws by design; should it, the press is still unaccounted for.
      if (this.store.sealJobs.get(id)?.state === 'firing') {
        const reason = err instanceof Error ? err.message : String(err);
        return this.settle(checking, { outcome: 'unknown', reason }, null, by);
      }
      throw this.refuse(checking, err, by);
    }
    return this.settle(checking, fired.outcome, fired.serial, by);
  }

  /** An operator says what happened to an in-doubt job (after looking at the document). */
  resolve(id: string, outcome: 'done' | 'failed', note: string, by: string): SealJobRecord {
    const job = this.get(id);
    if (job.state !== 'in_doubt') throw this.conflict(job, 'resolved');
    const resolved = this.move(job, 'in_doubt', outcome, by, {
      result: { ...(job.result ?? {}), resolution: { outcome, note, by, at: new Date().toISOString() } },
    });
    if (!resolved) throw this.conflict(this.store.sealJobs.get(id) ?? job, 'resolved');
    return resolved;
  }

  private settle(job: SealJobRecord, outcome: FireOutcome, serial: string | null, by: string): SealJobRecord {
    const to: SealJobState =
      outcome.outcome === 'stamped' ? 'done' : outcome.outcome === 'refused' ? 'failed' : 'in_doubt';
    const change =
      outcome.outcome === 'stamped'
        ? {
            result: {
              stampedAt: new Date().toISOString(),
              deviceSerial: serial,
              postconditions: outcome.postconditions,
            },
          }
        : { error: { reason: outcome.reason, deviceSerial: serial } };
    const settled = this.store.transaction(() => {
      const j = this.store.sealJobs.transition(job.id, 'firing', to, change);
      this.store.audit.append({
        actor: by,
        action: 'seal.executed',
        target: job.id,
        detail: {
          device: job.device,
          deviceSerial: serial,
          document: job.document,
          operator: job.operator,
          result: to,
          ...('reason' in outcome ? { reason: outcome.reason } : {}),
        },
      });
      if (j) this.publish(j, 'firing');
      return j;
    });
    if (outcome.outcome === 'stamped' && outcome.postconditions.length > 0) {
      this.log.warn({ job: job.id, postconditions: outcome.postconditions }, 'seal machine after the stamp');
    }
    return settled ?? (this.store.sealJobs.get(job.id) as SealJobRecord);
  }

  /** A confirmation stopped before the stamp command: the job fails and the caller gets why. */
  private refuse(job: SealJobRecord, err: unknown, by: string): Problem {
    let problem: Problem;
    if (err instanceof SealInterlockError) {
      const onlyBusy = err.failures.every((f) => f.condition === 'busy');
      problem = new Problem(onlyBusy ? 'device-busy' : 'seal-interlock', err.message, undefined, {
        failures: err.failures,
      });
    } else if (err instanceof DeviceBusyError) {
      problem = new Problem('device-busy', err.message);
    } else if (err instanceof DeviceNotReadyError) {
      problem = new Problem('device-unavailable', err.message);
    } else if (err instanceof SealCommandError) {
      problem = new Problem('seal-device-error', err.message);
    } else {
      problem = new Problem('internal', err instanceof Error ? err.message : String(err));
    }
    this.store.transaction(() => {
      this.move(job, 'checking', 'failed', by, { error: { reason: problem.message, code: problem.code } });
      this.store.audit.append({
        actor: by,
        action: 'seal.refused',
        target: job.id,
        detail: {
          device: job.device,
          document: job.document,
          operator: job.operator,
          reason: problem.message,
        },
      });
    });
    return problem;
  }

  private overdue(job: SealJobRecord): boolean {
    const deadline = this.deadlines.get(job.id);
    return (
      job.expiresAt < new Date().toISOString() || (deadline !== undefined && performance.now() > deadline)
    );
  }

  private expireOverdue(): void {
    for (const job of this.store.sealJobs.overdue(new Date().toISOString())) {
      this.move(job, 'pending', 'expired', SYSTEM_ACTOR);
    }
    for (const [id, deadline] of this.deadlines) {
      if (performance.now() <= deadline) continue;
      this.deadlines.delete(id);
      const job = this.store.sealJobs.get(id);
      if (job?.state === 'pending') this.move(job, 'pending', 'expired', SYSTEM_ACTOR);
    }
  }

  /** A compare-and-set state change with its audit entry (for operator actions) and event, in one transaction. */
  private move(
    job: SealJobRecord,
    from: SealJobState,
    to: SealJobState,
    actor: string,
    change: { result?: Record<string, unknown>; error?: Record<string, unknown> } = {},
  ): SealJobRecord | undefined {
    return this.store.transaction(() => {
      const moved = this.store.sealJobs.transition(job.id, from, to, change);
      if (!moved) return undefined;
      if (to === 'in_doubt' || from === 'in_doubt' || to === 'expired') {
        this.store.audit.append({
          actor,
          action: from === 'in_doubt' ? 'seal.resolve' : `seal.${to}`,
          target: job.id,
          detail: { device: job.device, document: job.document, operator: job.operator, from, to, ...change },
        });
      }
      this.publish(moved, from);
      return moved;
    });
  }

  private publish(job: SealJobRecord, previous: SealJobState | null): void {
    this.events.publish('seal.job', this.eventPayload(job, previous));
  }

  private eventPayload(job: SealJobRecord, previous: SealJobState | null): EventPayload<'seal.job'> {
    return {
      job: job.id,
      kind: 'seal',
      device: job.device,
      state: job.state,
      previous,
      document: { kind: job.document.kind, number: job.document.number },
      operator: job.operator,
    };
  }

  private conflict(job: SealJobRecord, verb: string): Problem {
    return new Problem(
      'seal-job-conflict',
      `seal job ${job.id} is ${job.state}; it cannot be ${verb}`,
      undefined,
      {
        state: job.state,
      },
    );
  }

  private sealDevice(id: string): SupervisedDevice<'seal'> {
    return this.devices.require(id, 'seal', ['device']);
  }
}
