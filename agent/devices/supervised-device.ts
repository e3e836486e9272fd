// One device under supervision: opens it, probes it while ready, and after repeated failures closes it and
// retries with capped exponential backoff. A failing or vanished device never throws out of here.
import type { Logger } from 'pino';
import type { DeviceConfig, DeviceConfigOf, DeviceKind } from '../../config/schema.js';
import { DeviceAbsentError, type DeviceIdentity } from '../../drivers/device.js';
import type { DriverOf } from './kind-drivers.js';
import type { DeviceState } from './state.js';

export interface SupervisionPolicy {
  probeIntervalMs: number;
  failuresBeforeError: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface DeviceStatus {
  id: string;
  kind: DeviceConfig['kind'];
  name: string;
  transport: string;
  state: DeviceState;
  since: string;
  /** Why the device is not ready, when it is not. */
  reason: string | null;
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

/** A device of kind K; `devices.require(id, kind)` hands out the typed one. */
export class SupervisedDevice<K extends DeviceKind = DeviceKind> {
  private state: DeviceState = 'closed';
  private since = new Date().toISOString();
  private reason: string | null = null;
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
      void this.fail(err);
    });
  }

  currentState(): DeviceState {
    return this.state;
  }

  status(): DeviceStatus {
    return {
      id: this.config.id,
      kind: this.config.kind,
      name: this.config.name ?? this.config.id,
      transport: this.config.transport.type,
      state: this.state,
      since: this.since,
      reason: this.reason,
      identity: this.identity,
      consecutiveFailures: this.failures,
    };
  }

  start(): void {
    this.stopped = false;
    void this.openDevice();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.closeDriver();
    this.setState('closed', null);
  }

  /** Runs `fn` with the device marked busy; one user at a time. */
  async use<T>(fn: (driver: DriverOf<K>) => Promise<T>): Promise<T> {
    if (this.state === 'busy') throw new DeviceBusyError(`${this.config.id} is busy`);
    if (this.state !== 'ready')
      throw new DeviceNotReadyError(
        `${this.config.id} is ${this.state}${this.reason ? `: ${this.reason}` : ''}`,
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
    this.setState('opening', null);
    try {
      this.identity = await this.driver.open();
      // stop() may have come while the driver was opening: its close() ran too early, so close again.
      if (this.stopped) return await this.closeDriver();
      await this.driver.probe();
      if (this.stopped) return await this.closeDriver();
      this.failures = 0;
      this.backoffMs = this.policy.backoffInitialMs;
      this.setState('ready', null);
      this.schedule(() => this.probe(), this.policy.probeIntervalMs);
    } catch (err) {
      await this.fail(err);
    }
  }

  private async probe(): Promise<void> {
    if (this.stopped) return;
    // A device in use is evidently answering; probe again later.
    if (this.state === 'ready') {
      try {
        await this.driver.probe();
        this.failures = 0;
        if (this.reason !== null && this.state === 'ready') this.setState('ready', null);
      } catch (err) {
        this.failures++;
        this.log.warn(
          { device: this.config.id, failures: this.failures, err: message(err) },
          'device probe failed',
        );
        if (err instanceof DeviceAbsentError || this.failures >= this.policy.failuresBeforeError) {
          await this.fail(err);
          return;
        }
      }
    }
    this.schedule(() => this.probe(), this.policy.probeIntervalMs);
  }

  /** Gives up on the current session with the device: error (or absent), then a retry after backoff. */
  private async fail(err: unknown): Promise<void> {
    if (this.stopped) return;
    await this.closeDriver();
    const absent = err instanceof DeviceAbsentError;
    this.setState(absent ? 'absent' : 'error', message(err));
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.policy.backoffMaxMs);
    if (!absent) this.setState('backoff', this.reason);
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

  private setState(state: DeviceState, reason: string | null): void {
    const previous = this.state;
    if (previous === state && this.reason === reason) return;
    this.state = state;
    this.reason = reason;
    if (previous !== state) this.since = new Date().toISOString();
    this.onChange(this.status(), previous);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
