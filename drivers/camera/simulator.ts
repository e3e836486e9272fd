import { SimulatedDevice } from '../simulated-device.js';
import type { DeviceIdentity } from '../device.js';

/** Stands in for a UVC face camera. */
export class SimulatedCamera extends SimulatedDevice {
  protected identity(): DeviceIdentity {
    return { model: 'UVC face camera (simulated)', serial: 'SIM-CAM-0001' };
  }
  protected selfTestSummary(): string {
    return 'camera answered: streaming available';
  }
}
