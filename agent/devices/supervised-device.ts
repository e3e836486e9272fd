// One device under supervision: opens it, probes it while ready, and after repeated failures closes it and
// retries with capped exponential backoff. A failing or vanished device never throws out of here.
import type { Logger } from 'pino';
import type { DeviceConfig, DeviceConfigOf, DeviceKind } from '../../config/schema.js';
import { DeviceAbsentError, type DeviceConditionCode, type DeviceIdentity } from '../../drivers/device.js';
import { reasonText, type DeviceReasonCode, type SupervisionReasonCode } from '../messages/device-reasons.js';
import type { DriverOf } from './kind-drivers.js';
import type { DeviceState } from './state.js';

export interface SupervisionPolicy {
  probeIntervalMs: number;
  failuresBeforeError: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface DeviceCondition {
  code: DeviceConditionCode;
  /** What a clerk reads (English until texts follow the request's locale; the code is stable). */
  reason: string;
  since: string;
}

export interface DeviceStatus {
  id: string;
  kind: DeviceConfig['kind'];
  name: string;
  transport: string;
  state: DeviceState;
  since: string;
  /** Why the device is not doing its work, for a clerk: the text of `reasonCode`. */
  reason: string | null;
  /** Stable code of `reason`: a supervision reason (unplugged, not-answering, …) or the first condition. */
  reasonCode: DeviceReasonCode | null;
  /** The technical cause (the driver's error), for an installer. */
  detail: string | null;
  /** What the device reports while it answers (paper out, cover open, …); empty when there is nothing. */
  conditions: DeviceCondition[];
  identity: DeviceIdentity | null;
  consecutiveFailures: number;
}

export type StateChangeListener = (status: DeviceStatus, previous: DeviceState) => void;

export class DeviceBusyError extends Error {
  override name = 'DeviceBusyError';
}
export class DeviceNotReadyError extends Error {
  override name = 'DeviceNotReadyError';
}
/** A device whose driver could not be built from its config: it stays in error with `unusable-config`. */
export class DeviceUnusableError extends Error {
  override name = 'DeviceUnusableError';
}

/** After a failed probe, the next ones come this soon: an offline device is reported within ~1 s. */
const SUSPECT_PROBE_MS = 250;

interface Trouble {
  code: SupervisionReasonCode;
  detail: string;
}

/** A device of kind K; `devices.require(id, kind)` hands out the typed one. */
export class SupervisedDevice<K extends DeviceKind = DeviceKind> {
  private state: DeviceState = 'closed';
  private since = new Date().toISOString();
  private trouble: Trouble | null = null;
  private readonly conditions = new Map<DeviceConditionCode, string>();
  /** Set while reopening after a failure: attempts that fail the same way stay quiet (no event each). */
  private retrying = false;
  private identity: DeviceIdentity | null = null;
  private failures = 0;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    readonly config: DeviceConfigOf<K>,
    readonly driver: DriverOf<K>,
    private readonly policy: SupervisionPolicy,
    private readonly log: Logger,
    private readonly onChange: StateChangeListener,
  ) {
    this.backoffMs = policy.backoffInitialMs;
    driver.onLost?.((err) => {
      if (this.state !== 'ready' && this.state !== 'busy') return;
      this.log.warn({ device: config.id, err: message(err) }, 'device lost');
      void this.fail(err, 'connection-lost');
    });
  }

  currentState(): DeviceState {
    return this.state;
  }

  status(): DeviceStatus {
    const conditions = [...this.conditions].map(([code, since]) => ({
      code,
      reason: reasonText(code),
      since,
    }));
    const reasonCode = this.reasonCode();
    return {
      id: this.config.id,
      kind: this.config.kind,
      name: this.config.name ?? this.config.id,
      transport: this.config.transport.type,
      state: this.state,
      since: this.since,
      reason: reasonCode && reasonText(reasonCode),
      reasonCode,
      detail: this.trouble?.detail ?? null,
      conditions,
      identity: this.identity,
      consecutiveFailures: this.failures,
    };
  }

  /** The supervision trouble while the device is out of reach, else its first condition. */
  private reasonCode(): DeviceReasonCode | null {
    if (this.state === 'closed') return 'stopped';
    if (this.state === 'opening') return 'starting';
    if (this.trouble) return this.trouble.code;
    return this.conditions.keys().next().value ?? null;
  }

  start(): void {
    this.stopped = false;
    void this.openDevice();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.closeDriver();
    this.conditions.clear();
    this.retrying = false;
    this.setState('closed', null);
  }

  /** Runs `fn` with the device marked busy; one user at a time. */
  async use<T>(fn: (driver: DriverOf<K>) => Promise<T>): Promise<T> {
    if (this.state === 'busy') throw new DeviceBusyError(`${this.config.id} is busy`);
    if (this.state !== 'ready')
      throw new DeviceNotReadyError(
        `${this.config.id} is ${this.state}${this.trouble ? `: ${this.trouble.detail}` : ''}`,
      );
    this.setState('busy', null);
    try {
      return await fn(this.driver);
    } finally {
      // A probe or stop may have moved the device on while it was in use; only undo our own `busy`.
      if (this.currentState() === 'busy') this.setState('ready', null);
    }
  }

  private async openDevice(): Promise<void> {
    if (this.stopped) return;
    // A retry keeps showing the state it retries from: one event when it works or fails otherwise.
    if (!this.retrying) this.setState('opening', null);
    else this.log.debug({ device: this.config.id, failures: this.failures }, 'device reopen attempt');
    try {
      this.identity = await this.driver.open();
      // stop() may have come while the driver was opening: its close() ran too early, so close again.
      if (this.stopped) return await this.closeDriver();
      await this.driver.probe();
      if (this.stopped) return await this.closeDriver();
      this.failures = 0;
      this.backoffMs = this.policy.backoffInitialMs;
      this.retrying = false;
      await this.pollConditions(false);
      this.setState('ready', null);
      this.schedule(() => this.probe(), this.policy.probeIntervalMs);
    } catch (err) {
      await this.fail(err, 'not-answering');
    }
  }

  private async probe(): Promise<void> {
    if (this.stopped) return;
    // A device in use is evidently answering; probe again later.
    if (this.state === 'ready') {
      try {
        await this.driver.probe();
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.log.warn(
          { device: this.config.id, failures: this.failures, err: message(err) },
          'device probe failed',
        );
        if (err instanceof DeviceAbsentError || this.failures >= this.policy.failuresBeforeError) {
          await this.fail(err, 'not-answering');
          return;
        }
        // Suspect: look again soon, so a device gone offline is reported in about a second.
        this.schedule(() => this.probe(), Math.min(SUSPECT_PROBE_MS, this.policy.probeIntervalMs));
        return;
      }
    }
    await this.pollConditions(true);
    this.schedule(() => this.probe(), this.policy.probeIntervalMs);
  }

  /** Asks the driver for its conditions (while ready or busy); a change is published as a state event. */
  private async pollConditions(publish: boolean): Promise<void> {
    if (!this.driver.conditions || (this.state !== 'ready' && this.state !== 'busy' && publish)) return;
    let codes: readonly DeviceConditionCode[];
    try {
      codes = await this.driver.conditions();
    } catch (err) {
      // Not a failed probe: the next probe decides whether the device still answers.
      this.log.debug({ device: this.config.id, err: message(err) }, 'device conditions unavailable');
      return;
    }
    if (this.stopped) return;
    const now = new Date().toISOString();
    let changed = false;
    for (const code of [...this.conditions.keys()]) {
      if (!codes.includes(code)) changed = this.conditions.delete(code);
    }
    for (const code of codes) {
      if (this.conditions.has(code)) continue;
      this.conditions.set(code, now);
      changed = true;
    }
    if (changed && publish) {
      this.log.info({ device: this.config.id, conditions: [...this.conditions.keys()] }, 'device conditions');
      this.onChange(this.status(), this.state);
    }
  }

  /**
   * Gives up on the current session with the device: error (or absent), then a retry after backoff. A retry
   * that fails as the one before (same state, same reason code) publishes nothing.
   */
  private async fail(err: unknown, code: SupervisionReasonCode): Promise<void> {
    if (this.stopped) return;
    await this.closeDriver();
    this.conditions.clear();
    const absent = err instanceof DeviceAbsentError;
    const trouble: Trouble = {
      code: absent ? 'unplugged' : err instanceof DeviceUnusableError ? 'unusable-config' : code,
      detail: message(err),
    };
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.policy.backoffMaxMs);
    if (this.retrying) {
      this.failures++;
      this.setState(absent ? 'absent' : 'backoff', trouble);
    } else {
      this.setState(absent ? 'absent' : 'error', trouble);
      if (!absent) this.setState('backoff', trouble);
      this.retrying = true;
    }
    this.schedule(() => this.openDevice(), delay);
  }

  private async closeDriver(): Promise<void> {
    try {
      await this.driver.close();
    } catch (err) {
      this.log.warn({ device: this.config.id, err: message(err) }, 'device close failed');
    }
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void fn(), ms);
  }

  /** Moves to `state`; publishes only when the state or the reason code changed (not for a new detail). */
  private setState(state: DeviceState, trouble: Trouble | null): void {
    const previous = this.state;
    const sameCode = (this.trouble?.code ?? null) === (trouble?.code ?? null);
    this.trouble = trouble;
    if (previous === state && sameCode) return;
    this.state = state;
    if (previous !== state) this.since = new Date().toISOString();
    this.onChange(this.status(), previous);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
