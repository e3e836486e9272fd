// Maps a device's config (kind + transport) to its driver. New transports and kinds register here.
import type { DeviceConfig } from '../../config/schema.js';
import type { DeviceDriver } from '../../drivers/device.js';
import { SimulatedDotMatrixPrinter } from '../../drivers/printer/simulator.js';
import { SimulatedCamera } from '../../drivers/camera/simulator.js';
import { SimulatedSealMachine } from '../../drivers/seal/simulator.js';
import { SimulatedPhotoPrinter } from '../../drivers/photo-printer/simulator.js';

export type DriverFactory = (device: DeviceConfig) => DeviceDriver;

export const createDriver: DriverFactory = (device) => {
  switch (device.kind) {
    case 'printer':
      return new SimulatedDotMatrixPrinter();
    case 'camera':
      return new SimulatedCamera();
    case 'seal':
      return new SimulatedSealMachine();
    case 'photo-printer':
      return new SimulatedPhotoPrinter();
  }
};
