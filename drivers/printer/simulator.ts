import { SimulatedDevice } from '../simulated-device.js';
import type { DeviceIdentity } from '../device.js';

/** Stands in for a 24-pin dot-matrix printer (Epson LQ-630K class). */
export class SimulatedDotMatrixPrinter extends SimulatedDevice {
  protected identity(): DeviceIdentity {
    return { model: 'EPSON LQ-630K (simulated)', serial: 'SIM-LQ-0001', firmware: 'sim' };
  }
  protected selfTestSummary(): string {
    return 'printer answered its status request: online, paper present';
  }
}
