// Device self-tests recorded as jobs on the job engine (kind `selftest`): running → done | failed. The
// test is harmless (no paper fed, no seal pressed), so a job a stopped agent left running simply failed;
// nothing is in doubt and nothing is run again.
import type { Logger } from 'pino';
import {
  DeviceBusyError,
  DeviceNotReadyError,
  type DeviceStatus,
  type SupervisedDevice,
} from '../devices/supervised-device.js';
import type { DeviceManager } from '../devices/device-manager.js';
import type { EventLog } from '../events/event-log.js';
import { JobEngine } from '../jobs/engine.js';
import type { Job, JobKind } from '../jobs/kind.js';
import { SELF_TEST_STATES } from '../store/job-states.js';

export { SELF_TEST_STATES };
import { Problem } from '../problems/problem.js';
import type { Store } from '../store/store.js';
import { message, t, verbatim } from '../messages/text.js';
import { reasonText, type DeviceReasonCode } from '../messages/device-reasons.js';

export type SelfTestState = (typeof SELF_TEST_STATES)[number];

export interface SelfTestInput {
  by: string;
}

export interface SelfTestResult {
  ok: boolean;
  summary: string;
  /** When the device cannot do its work now (paper out, stalled, …): the reason's stable code ... */
  reasonCode?: DeviceReasonCode;
  /** ... and its text for a clerk. */
  reason?: string;
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

  /**
   * Runs a device's self-test as a job. A device out of reach is a problem naming its reason; a device that
   * answers but reports a condition (paper out, not taking data) fails the test with that reason, at once:
   * the installer learns now what a print job would only show after waiting.
   */
  async run(deviceId: string, by: string): Promise<{ job: SelfTestJob; result: SelfTestResult }> {
    const device = this.devices.get(deviceId);
    if (!device) throw new Problem('not-found', t`no device "${deviceId}"`, ['id']);
    const status = device.status();
    if (status.state !== 'ready' && status.state !== 'busy') throw unavailable(status);
    const job = this.jobs.create(device.config.id, { by });
    let result: SelfTestResult;
    try {
      // A device busy with a job that reports a condition (a stalled print) fails on that condition.
      result = status.conditions[0] ? blocked(status.conditions[0].code) : await this.selfTest(device);
    } catch (err) {
      if (err instanceof DeviceBusyError || err instanceof DeviceNotReadyError) {
        this.jobs.move(job.id, 'running', 'failed', { reason: err.message });
        if (err instanceof DeviceNotReadyError) throw unavailable(device.status());
        throw new Problem('device-busy', verbatim(err.message));
      }
      result = { ok: false, summary: err instanceof Error ? err.message : String(err) };
    }
    const done = this.jobs.move(job.id, 'running', result.ok ? 'done' : 'failed', { result });
    return { job: done, result };
  }

  /** The driver's own test, then its conditions read fresh (not the last probe's). */
  private selfTest(device: SupervisedDevice): Promise<SelfTestResult> {
    return device.use(async (driver) => {
      const r = await driver.selfTest();
      // Conditions that cannot be read say nothing either way (as for the supervisor): the test stands.
      const code = (await driver.conditions?.().catch(() => []))?.[0];
      if (code) return { ...blocked(code), summary: `${blocked(code).summary}; ${r.summary}` };
      return { ok: r.ok, summary: r.summary };
    });
  }
}

/** A failed test for a device that answers but cannot do its work: the reason leads the summary. */
function blocked(code: DeviceReasonCode): SelfTestResult {
  const reason = reasonText(code);
  return { ok: false, summary: `${reason} [${code}]`, reasonCode: code, reason };
}

/** The problem for a device out of reach: its reason in the caller's language, with the stable code. */
function unavailable(s: DeviceStatus): Problem {
  const code = s.reasonCode ?? 'not-answering';
  const why = message('reason', code);
  return new Problem(
    'device-unavailable',
    s.detail
      ? t`"${s.id}" cannot be tested now: ${why} (${code}): ${verbatim(s.detail)}`
      : t`"${s.id}" cannot be tested now: ${why} (${code})`,
    undefined,
    { device: s.id, state: s.state, reason: reasonText(code), reasonCode: code },
  );
}
