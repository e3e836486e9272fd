// Device self-tests recorded as jobs on the job engine (kind `selftest`): running → done | failed. The
// test is harmless (no paper fed, no seal pressed), so a job a stopped agent left running simply failed;
// nothing is in doubt and nothing is run again.
import type { Logger } from 'pino';
import { DeviceBusyError, DeviceNotReadyError } from '../devices/supervised-device.js';
import type { DeviceManager } from '../devices/device-manager.js';
import type { EventLog } from '../events/event-log.js';
import { JobEngine } from '../jobs/engine.js';
import type { Job, JobKind } from '../jobs/kind.js';
import { SELF_TEST_STATES } from '../store/job-states.js';

export { SELF_TEST_STATES };
import { Problem } from '../problems/problem.js';
import type { Store } from '../store/store.js';
import { t, verbatim } from '../messages/text.js';

export type SelfTestState = (typeof SELF_TEST_STATES)[number];

export interface SelfTestInput {
  by: string;
}

export interface SelfTestResult {
  ok: boolean;
  summary: string;
}

export type SelfTestJob = Job<SelfTestState, SelfTestInput>;

export const SELF_TEST_JOBS: JobKind<SelfTestState, SelfTestInput> = {
  name: 'selftest',
  label: 'self-test',
  states: SELF_TEST_STATES,
  initial: 'running',
  moves: { running: ['done', 'failed'] },
  recovery: { running: { to: 'failed', reason: 'the agent stopped during the self-test' } },
  error: (message) => ({ message }),
  eventFields: (job) => ({
    by: job.input.by,
    ...(job.result === null ? {} : { result: job.result }),
  }),
};

export class SelfTestService {
  readonly jobs: JobEngine<SelfTestState, SelfTestInput>;

  constructor(
    store: Store,
    events: EventLog,
    private readonly devices: DeviceManager,
    log: Logger,
  ) {
    this.jobs = new JobEngine({ store, events, log }, SELF_TEST_JOBS);
  }

  start(): void {
    this.jobs.recover();
  }

  /** Runs a device's self-test as a job; a busy or unready device is a problem (the job failed). */
  async run(deviceId: string, by: string): Promise<{ job: SelfTestJob; result: SelfTestResult }> {
    const device = this.devices.get(deviceId);
    if (!device) throw new Problem('not-found', t`no device "${deviceId}"`, ['id']);
    const job = this.jobs.create(device.config.id, { by });
    let result: SelfTestResult;
    try {
      result = await device.use(async (driver) => {
        const r = await driver.selfTest();
        return { ok: r.ok, summary: r.summary };
      });
    } catch (err) {
      if (err instanceof DeviceBusyError || err instanceof DeviceNotReadyError) {
        this.jobs.move(job.id, 'running', 'failed', { reason: err.message });
        throw new Problem(
          err instanceof DeviceBusyError ? 'device-busy' : 'device-unavailable',
          verbatim(err.message),
        );
      }
      result = { ok: false, summary: err instanceof Error ? err.message : String(err) };
    }
    const done = this.jobs.move(job.id, 'running', result.ok ? 'done' : 'failed', { result });
    return { job: done, result };
  }
}
