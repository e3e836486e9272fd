// Owns every configured device: builds its driver, supervises it, reports state changes as events.
import type { Logger } from 'pino';
import type { DeviceConfig, DeviceKind } from '../../config/schema.js';
import type { DeviceDriver, DeviceIdentity, SelfTestResult } from '../../drivers/device.js';
import { isSimulator, type SimulatorFault } from '../../drivers/simulated-device.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import {
  DeviceUnusableError,
  SupervisedDevice,
  type DeviceStatus,
  type SupervisionPolicy,
} from './supervised-device.js';
import type { DeviceState } from './state.js';
import { t, term } from '../messages/text.js';

/** Builds a device's driver; `log` is the device manager's logger, for drivers that log (ffmpeg's stderr). */
export type DriverFactory = (device: DeviceConfig, log?: Logger) => DeviceDriver;

export type DeviceChangeListener = (status: DeviceStatus, previous: DeviceState) => void;

export class DeviceManager {
  private readonly devices = new Map<string, SupervisedDevice>();

  constructor(
    private configs: readonly DeviceConfig[],
    private policy: SupervisionPolicy,
    private readonly createDriver: DriverFactory,
    private readonly log: Logger,
    private readonly onChange: DeviceChangeListener,
  ) {}

  start(): void {
    for (const config of this.configs) this.startDevice(config);
  }

  /**
   * Applies a new device list and policy without touching devices whose config is unchanged: removed and
   * changed devices are stopped, new and changed ones started (all of them when the policy changed).
   * Returns the ids of the devices (re)started.
   */
  async reconfigure(configs: readonly DeviceConfig[], policy: SupervisionPolicy): Promise<string[]> {
    const policyChanged = JSON.stringify(policy) !== JSON.stringify(this.policy);
    const next = new Map(configs.map((c) => [c.id, c]));
    const keep = new Map<string, SupervisedDevice>();
    for (const [id, device] of this.devices) {
      const config = next.get(id);
      if (config && !policyChanged && JSON.stringify(config) === JSON.stringify(device.config)) {
        keep.set(id, device);
      } else {
        await device.stop();
      }
    }
    this.configs = configs;
    this.policy = policy;
    this.devices.clear();
    const started: string[] = [];
    for (const config of configs) {
      const kept = keep.get(config.id);
      if (kept) this.devices.set(config.id, kept);
      else {
        this.startDevice(config);
        started.push(config.id);
      }
    }
    return started;
  }

  private startDevice(config: DeviceConfig): void {
    let driver: DeviceDriver;
    try {
      driver = this.createDriver(config, this.log);
    } catch (err) {
      driver = new UnusableDriver(err instanceof Error ? err.message : String(err));
    }
    const device = new SupervisedDevice(
      config,
      driver as never,
      this.policy,
      this.log,
      (status, previous) => {
        this.log.info(
          {
            device: status.id,
            state: status.state,
            previous,
            reasonCode: status.reasonCode,
            detail: status.detail,
          },
          'device state',
        );
        this.onChange(status, previous);
      },
    );
    this.devices.set(config.id, device);
    device.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.devices.values()].map((d) => d.stop()));
  }

  list(): DeviceStatus[] {
    return [...this.devices.values()].map((d) => d.status());
  }

  get(id: string): SupervisedDevice | undefined {
    return this.devices.get(id);
  }

  /**
   * The device `id` as its kind, typed. No such device and a device of another kind get one answer, a
   * `not-found` problem naming the kind asked for and the input field that named the device.
   */
  require<K extends DeviceKind>(id: string, kind: K, field: FieldPath = []): SupervisedDevice<K> {
    const device = this.find(id, kind);
    if (!device)
      throw new Problem(
        'not-found',
        t`no ${term(kind)} device "${id}"`,
        field.length > 0 ? field : undefined,
      );
    return device;
  }

  /** The device `id` as its kind, or undefined when there is none or it is of another kind. */
  find<K extends DeviceKind>(id: string, kind: K): SupervisedDevice<K> | undefined {
    const device = this.devices.get(id);
    return device?.config.kind === kind ? (device as unknown as SupervisedDevice<K>) : undefined;
  }

  /** The devices of one kind, typed. */
  ofKind<K extends DeviceKind>(kind: K): SupervisedDevice<K>[] {
    return [...this.devices.keys()].flatMap((id) => this.find(id, kind) ?? []);
  }

  /** Injects a simulator fault; returns false when the device is not simulated. */
  simulateFault(id: string, fault: SimulatorFault): boolean {
    const driver = this.devices.get(id)?.driver;
    if (!driver || !isSimulator(driver)) return false;
    driver.setFault(fault);
    return true;
  }
}

/** Stands in for a driver that could not be built, so the device shows in error with the reason. */
class UnusableDriver implements DeviceDriver {
  constructor(private readonly reason: string) {}
  open(): Promise<DeviceIdentity> {
    return Promise.reject(new DeviceUnusableError(this.reason));
  }
  probe(): Promise<void> {
    return Promise.reject(new DeviceUnusableError(this.reason));
  }
  selfTest(): Promise<SelfTestResult> {
    return Promise.reject(new DeviceUnusableError(this.reason));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
