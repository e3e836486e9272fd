// Shared behaviour of the in-process simulators: a healthy device until a test or an installer injects a
// fault through `setFault` (exposed over the API only for devices whose transport is `simulated`).
import { DeviceAbsentError, type DeviceDriver, type DeviceIdentity, type SelfTestResult } from './device.js';

export const SIMULATOR_FAULTS = ['none', 'offline', 'unplugged', 'paper-out'] as const;
/**
 * `offline`: attached but not answering. `unplugged`: gone from the bus. `paper-out`: a printer that answers
 * but takes no more data until paper is loaded (other devices ignore it).
 */
export type SimulatorFault = (typeof SIMULATOR_FAULTS)[number];

export interface Simulator {
  setFault(fault: SimulatorFault): void;
  readonly fault: SimulatorFault;
}

export abstract class SimulatedDevice implements DeviceDriver, Simulator {
  fault: SimulatorFault = 'none';
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
