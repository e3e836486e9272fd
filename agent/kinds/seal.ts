// The steel-seal kind: the profile-driven driver over a serial port, or the same driver on an in-process
// simulator speaking the same profile. A profile that fails to load (schema, checksum vectors) throws here,
// so the device shows in error with the profile's complaint.
import type { DeviceConfigOf } from '../../config/schema.js';
import { SealMachine } from '../../drivers/seal/machine.js';
import { resolveSealProfile } from '../../drivers/seal/profile.js';
import { SimulatedSealMachine } from '../../drivers/seal/simulated-machine.js';
import { openSerial } from '../../drivers/transport/serial.js';
import {
  confirmSealJob,
  createSealJob,
  getSealJob,
  listSealJobs,
  resolveSealJob,
} from '../operations/seal-ops.js';
import type { DeviceKindUnit } from './kind.js';
import { UnsupportedDeviceError } from './unsupported.js';

declare module '../devices/kind-drivers.js' {
  interface KindDrivers {
    seal: SealMachine;
  }
}

function sealMachine(device: DeviceConfigOf<'seal'>): SealMachine {
  const t = device.transport;
  const profile = resolveSealProfile(device.seal.profile);
  if (t.type === 'simulated') {
    return new SimulatedSealMachine(profile, { stampDelayMs: device.seal.simulatedStampDelayMs });
  }
  if (t.type !== 'serial') throw new UnsupportedDeviceError(`a seal over ${t.type} is not supported yet`);
  const { path, baudRate, dataBits, parity, stopBits, rtscts } = t;
  return new SealMachine({
    profile,
    openLink: () => openSerial({ path, baudRate, dataBits, parity, stopBits, rtscts }),
  });
}

export const sealKind: DeviceKindUnit<'seal'> = {
  kind: 'seal',
  label: { 'zh-CN': '钢印机', en: 'steel-seal machine' },
  operations: [createSealJob, confirmSealJob, getSealJob, listSealJobs, resolveSealJob],
  createDriver: sealMachine,
  wizard: { transportHint: '"serial:/dev/ttyUSB0" or empty for none' },
};
