import { SimulatedDevice } from '../simulated-device.js';
import type { DeviceIdentity } from '../device.js';

/** Stands in for a photo/certificate card printer. */
export class SimulatedPhotoPrinter extends SimulatedDevice {
  protected identity(): DeviceIdentity {
    return { model: 'Photo/certificate printer (simulated)', serial: 'SIM-PHOTO-0001' };
  }
  protected selfTestSummary(): string {
    return 'photo printer answered: idle, media loaded';
  }
}
