// `transport: simulated` for a seal: the real profile-driven driver on an in-process link to the seal
// simulator, so the box that `npm start` runs exercises the same protocol code as a real install. It also
// takes the generic simulator faults of POST /v1/devices/:id/simulator (offline, unplugged).
import { DeviceAbsentError } from '../device.js';
import { COMMON_FAULTS, type Simulator, type SimulatorFault } from '../simulated-device.js';
import { memoryLinkPair } from '../transport/memory-pair.js';
import { SealMachine } from './machine.js';
import type { SealProfile } from './profile.js';
import { SealSimulator, type SealSimulatorOptions } from './simulator.js';

export class SimulatedSealMachine extends SealMachine implements Simulator {
  fault: SimulatorFault = 'none';
  readonly faults: readonly SimulatorFault[] = COMMON_FAULTS;
  /** The simulator of the current session (a new one per open, like a machine power-cycled). */
  simulator: SealSimulator | undefined;

  constructor(profile: SealProfile, simulatorOptions: SealSimulatorOptions = {}) {
    super({
      profile,
      openLink: () => {
        if (this.fault === 'unplugged')
          return Promise.reject(new DeviceAbsentError('simulated seal machine unplugged'));
        const [driverEnd, simulatorEnd] = memoryLinkPair();
        this.simulator = new SealSimulator(simulatorEnd, profile, simulatorOptions);
        this.simulator.setSilent(this.fault === 'offline');
        this.simulator.start();
        return Promise.resolve(driverEnd);
      },
    });
  }

  setFault(fault: SimulatorFault): void {
    this.fault = fault;
    this.simulator?.setSilent(fault !== 'none');
  }
}
