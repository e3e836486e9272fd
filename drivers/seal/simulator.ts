import { SimulatedDevice } from '../simulated-device.js';
import type { DeviceIdentity } from '../device.js';

/** Stands in for a steel-seal (embossing) machine. Its self-test never presses the seal. */
export class SimulatedSealMachine extends SimulatedDevice {
  protected identity(): DeviceIdentity {
    return { model: 'Steel seal machine (simulated)', serial: 'SIM-SEAL-0001' };
  }
  protected selfTestSummary(): string {
    return 'seal machine answered its status request: head home, cover closed';
  }
}
