// Shared behaviour of the in-process simulators: a healthy device until a test or an installer injects a
// fault through `setFault` (exposed over the API only for devices whose transport is `simulated`).
import { DeviceAbsentError, type DeviceDriver, type DeviceIdentity, type SelfTestResult } from './device.js';

export const SIMULATOR_FAULTS = [
  'none',
  'offline',
  'unplugged',
  'paper-out',
  'cover-open',
  'paper-jam',
  'ribbon-fault',
  'head-fault',
] as const;
/**
 * `offline`: attached but not answering. `unplugged`: gone from the bus. The rest are conditions of a printer
 * that still answers but takes no more data until someone acts (loads paper, closes the cover, …).
 */
export type SimulatorFault = (typeof SIMULATOR_FAULTS)[number];

/** The faults every simulated device takes. */
export const COMMON_FAULTS = ['none', 'offline', 'unplugged'] as const satisfies readonly SimulatorFault[];

export interface Simulator {
  setFault(fault: SimulatorFault): void;
  readonly fault: SimulatorFault;
  /** The faults this simulator acts on; the API refuses the others for it. */
  readonly faults: readonly SimulatorFault[];
}

export abstract class SimulatedDevice implements DeviceDriver, Simulator {
  fault: SimulatorFault = 'none';
  readonly faults: readonly SimulatorFault[] = COMMON_FAULTS;
  private isOpen = false;

  protected abstract identity(): DeviceIdentity;
  protected abstract selfTestSummary(): string;

  setFault(fault: SimulatorFault): void {
    this.fault = fault;
  }

  open(): Promise<DeviceIdentity> {
    this.check();
    this.isOpen = true;
    return Promise.resolve(this.identity());
  }

  probe(): Promise<void> {
    if (!this.isOpen) return Promise.reject(new Error('device is not open'));
    this.check();
    return Promise.resolve();
  }

  selfTest(): Promise<SelfTestResult> {
    this.check();
    return Promise.resolve({ ok: true, summary: this.selfTestSummary() });
  }

  close(): Promise<void> {
    this.isOpen = false;
    return Promise.resolve();
  }

  private check(): void {
    if (this.fault === 'unplugged') throw new DeviceAbsentError('simulated device unplugged');
    if (this.fault === 'offline') throw new Error('simulated device does not answer');
  }
}

export function isSimulator(driver: DeviceDriver): driver is DeviceDriver & Simulator {
  // Drivers that run their real protocol against an in-process simulator implement Simulator themselves.
  return driver instanceof SimulatedDevice || typeof (driver as Partial<Simulator>).setFault === 'function';
}
