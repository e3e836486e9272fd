// Seal jobs on the job engine (kind `seal`, see seal-jobs.ts): create (pending, with a confirmation token),
// confirm (checking → firing → done | failed | in_doubt), resolve (an operator settles in_doubt). This
// service keeps its own steps: the token, the confirmation window, the interlocks, the press and its audit
// entries before and after.
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
import { JobEngine, SYSTEM_ACTOR } from '../jobs/engine.js';
import { Problem } from '../problems/problem.js';
import type { Store } from '../store/store.js';
import {
  SEAL_JOBS,
  sealJobRecord,
  type SealDocument,
  type SealJob,
  type SealJobInput,
  type SealJobRecord,
  type SealJobState,
} from './seal-jobs.js';
import { t, term, verbatim, type Text } from '../messages/text.js';
import { interlockText } from './interlock-text.js';

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export class SealService {
  /**
   * Each pending job's confirmation deadline on the monotonic clock. The wall clock can jump (a wrong RTC
   * corrected at boot); a job expires when either clock says its window has passed, so a jump can shorten a
   * window but never lengthen it.
   */
  private readonly deadlines = new Map<string, number>();
  readonly jobs: JobEngine<SealJobState, SealJobInput>;

  constructor(
    private readonly store: Store,
    events: EventLog,
    private readonly devices: DeviceManager,
    private readonly log: Logger,
  ) {
    this.jobs = new JobEngine({ store, events, log }, SEAL_JOBS);
  }

  /**
   * Settles what a previous run left half-done: `firing` → `in_doubt` (the stamp may have been pressed),
   * `checking` → `failed` (the stamp command was never sent), `pending` → `expired`: a restart ends every
   * confirmation window, since how long the agent was down cannot be trusted to the wall clock.
   */
  start(): void {
    this.jobs.recover((job, from) => {
      if (job.state === 'failed') return;
      this.audit(job, from, SYSTEM_ACTOR, { error: job.error });
      if (job.state === 'in_doubt') {
        this.log.error(
          { job: job.id, device: job.device },
          'seal job left firing by a crash is now in doubt',
        );
      }
    });
  }

  create(
    input: { device: string; document: SealDocument; operator: string },
    by: string,
  ): { job: SealJobRecord; token: string } {
    const device = this.sealDevice(input.device);
    const token = `sct_${randomBytes(24).toString('base64url')}`;
    const windowMs = device.config.seal.confirmWindowMs;
    const expiresAt = new Date(Date.now() + windowMs).toISOString();
    const job = this.jobs.create(
      input.device,
      {
        document: input.document,
        operator: input.operator,
        createdBy: by,
        expiresAt,
        tokenHash: hashToken(token),
      },
      {
        id: randomUUID(),
        also: (j) =>
          this.store.audit.append({
            actor: by,
            action: 'seal.create',
            target: j.id,
            detail: { device: j.device, document: j.input.document, operator: j.input.operator, expiresAt },
          }),
      },
    );
    this.deadlines.set(job.id, performance.now() + windowMs);
    return { job: sealJobRecord(job), token };
  }

  get(id: string): SealJobRecord {
    this.expireOverdue();
    return sealJobRecord(this.jobs.require(id));
  }

  list(filter: { state?: SealJobState; device?: string; limit: number }): SealJobRecord[] {
    this.expireOverdue();
    return this.jobs.list(filter).map(sealJobRecord);
  }

  /** Checks the token and the interlocks, then presses the seal once. */
  async confirm(id: string, token: string, by: string): Promise<SealJobRecord> {
    const job = sealJobRecord(this.jobs.require(id));
    const given = Buffer.from(hashToken(token), 'hex');
    if (!timingSafeEqual(given, Buffer.from(job.tokenHash, 'hex'))) {
      throw new Problem('seal-token-invalid', t`the confirmation token is not the one issued for this job`, [
        'token',
      ]);
    }
    if (job.state === 'pending' && this.overdue(job)) {
      this.move(job, 'pending', 'expired', SYSTEM_ACTOR);
      throw new Problem('seal-job-expired', t`seal job ${id} expired at ${job.expiresAt}; create a new one`);
    }
    if (job.state !== 'pending') throw this.conflict(job, t`confirmed`);
    const device = this.sealDevice(job.device);
    const checking = this.move(job, 'pending', 'checking', by);
    this.deadlines.delete(id);
    if (!checking) throw this.conflict(this.current(id) ?? job, t`confirmed`);

    let fired: { outcome: FireOutcome; serial: string | null } | undefined;
    try {
      fired = await device.use(async (driver) => {
        if (!(driver instanceof SealMachine)) throw new Error('not a seal machine');
        await driver.checkBeforeStamp();
        const serial = device.status().identity?.serial ?? null;
        // The point of no return is recorded before the command leaves: a crash after this line is in doubt.
        this.jobs.move(id, 'checking', 'firing', {}, () =>
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
          }),
        );
        return { outcome: await driver.fire(), serial };
      });
    } catch (err) {
      // Nothing after the firing commit throws by design; should it, the press is still unaccounted for.
      if (this.current(id)?.state === 'firing') {
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
    if (job.state !== 'in_doubt') throw this.conflict(job, t`resolved`);
    const resolution = { outcome, note, by, at: new Date().toISOString() };
    return sealJobRecord(
      this.jobs.resolve(
        id,
        outcome,
        by,
        { result: { ...(job.result ?? {}), resolution } },
        { document: job.document, operator: job.operator, note },
      ),
    );
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
    const settled = this.jobs.tryMove(job.id, 'firing', to, change, () =>
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
      }),
    );
    if (outcome.outcome === 'stamped' && outcome.postconditions.length > 0) {
      this.log.warn({ job: job.id, postconditions: outcome.postconditions }, 'seal machine after the stamp');
    }
    return settled ? sealJobRecord(settled) : (this.current(job.id) as SealJobRecord);
  }

  /** A confirmation stopped before the stamp command: the job fails and the caller gets why. */
  private refuse(job: SealJobRecord, err: unknown, by: string): Problem {
    let problem: Problem;
    if (err instanceof SealInterlockError) {
      const onlyBusy = err.failures.every((f) => f.condition === 'busy');
      problem = new Problem(
        onlyBusy ? 'device-busy' : 'seal-interlock',
        interlockText(err.failures),
        undefined,
        {
          failures: err.failures,
        },
      );
    } else if (err instanceof DeviceBusyError) {
      problem = new Problem('device-busy', verbatim(err.message));
    } else if (err instanceof DeviceNotReadyError) {
      problem = new Problem('device-unavailable', verbatim(err.message));
    } else if (err instanceof SealCommandError) {
      problem = new Problem('seal-device-error', verbatim(err.message));
    } else {
      problem = new Problem('internal', verbatim(err instanceof Error ? err.message : String(err)));
    }
    this.jobs.tryMove(
      job.id,
      'checking',
      'failed',
      { error: { reason: problem.message, code: problem.code } },
      () =>
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
        }),
    );
    return problem;
  }

  private overdue(job: SealJobRecord): boolean {
    const deadline = this.deadlines.get(job.id);
    return (
      job.expiresAt < new Date().toISOString() || (deadline !== undefined && performance.now() > deadline)
    );
  }

  private expireOverdue(): void {
    const now = new Date().toISOString();
    // Few jobs are ever pending at once; their windows are in the input.
    for (const job of this.jobs.inState('pending')) {
      if (job.input.expiresAt < now) this.move(sealJobRecord(job), 'pending', 'expired', SYSTEM_ACTOR);
    }
    for (const [id, deadline] of this.deadlines) {
      if (performance.now() <= deadline) continue;
      this.deadlines.delete(id);
      const job = this.current(id);
      if (job?.state === 'pending') this.move(job, 'pending', 'expired', SYSTEM_ACTOR);
    }
  }

  private current(id: string): SealJobRecord | undefined {
    const j = this.jobs.get(id);
    return j && sealJobRecord(j);
  }

  /** A compare-and-set state change with its audit entry (for operator actions) and event, in one transaction. */
  private move(
    job: SealJobRecord,
    from: SealJobState,
    to: SealJobState,
    actor: string,
    change: { result?: Record<string, unknown>; error?: Record<string, unknown> } = {},
  ): SealJobRecord | undefined {
    const moved = this.jobs.tryMove(job.id, from, to, change, (j) => {
      if (to === 'in_doubt' || to === 'expired') this.audit(j, from, actor, change);
    });
    return moved && sealJobRecord(moved);
  }

  private audit(job: SealJob, from: SealJobState, actor: string, change: Record<string, unknown>): void {
    this.store.audit.append({
      actor,
      action: `seal.${job.state}`,
      target: job.id,
      detail: {
        device: job.device,
        document: job.input.document,
        operator: job.input.operator,
        from,
        to: job.state,
        ...change,
      },
    });
  }

  private conflict(job: SealJobRecord, verb: Text): Problem {
    return new Problem(
      'seal-job-conflict',
      t`seal job ${job.id} is ${term(job.state)}; it cannot be ${verb}`,
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
