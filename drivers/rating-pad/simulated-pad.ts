// `transport: simulated` for a rating pad: the real serial driver and `line` profile on an in-process link
// to the pad simulator, so a trainer's box runs the same protocol code as a real install. The simulated
// resident presses the configured (or scripted) keys a while after the pad lights up; `press` presses a key
// on demand. Takes the generic simulator faults: `offline` (silent), `unplugged` (the link drops, reopening
// fails until the fault is cleared).
import { DeviceAbsentError } from '../device.js';
import { COMMON_FAULTS, type Simulator, type SimulatorFault } from '../simulated-device.js';
import { memoryLinkPair } from '../transport/memory-pair.js';
import { RatingPad } from './rating-pad.js';
import { checkKeyMap, type Rating } from './ratings.js';
import { SerialPadSession } from './serial-pad.js';
import { SerialPadSimulator, type SerialPadSimulatorOptions } from './serial-simulator.js';

export interface SimulatedRatingPadOptions {
  /** Keys the simulated resident presses, in turn, `delayMs` after each request lights the pad; none: only `press`. */
  autoPress?: { keys: readonly string[]; delayMs: number };
  keys?: Readonly<Record<string, Rating>>;
  /** How long the driver waits for the simulator's replies (it answers on the next turn of the event loop). */
  commandTimeoutMs?: number;
  simulator?: Omit<SerialPadSimulatorOptions, 'autoPress'>;
}

export class SimulatedRatingPad extends RatingPad implements Simulator {
  fault: SimulatorFault = 'none';
  readonly faults: readonly SimulatorFault[] = COMMON_FAULTS;
  /** The pad of the current session (a new one per open, like a pad plugged in again). */
  simulator: SerialPadSimulator | undefined;

  constructor(opts: SimulatedRatingPadOptions = {}) {
    if (opts.keys) checkKeyMap(opts.keys);
    super({
      connect: () => {
        if (this.fault === 'unplugged') {
          return Promise.reject(new DeviceAbsentError('simulated rating pad unplugged'));
        }
        return SerialPadSession.connect({
          commandTimeoutMs: opts.commandTimeoutMs ?? 1000,
          keys: opts.keys,
          openLink: () => {
            const [driverEnd, padEnd] = memoryLinkPair();
            this.simulator = new SerialPadSimulator(padEnd, {
              model: 'Simulated rating pad',
              ...opts.simulator,
              autoPress: opts.autoPress,
            });
            this.simulator.setSilent(this.fault === 'offline');
            this.simulator.start();
            return Promise.resolve(driverEnd);
          },
        });
      },
    });
  }

  setFault(fault: SimulatorFault): void {
    this.fault = fault;
    this.simulator?.setSilent(fault === 'offline');
    // Pulled out: the driver sees its link drop, as with a USB adapter yanked from the box.
    if (fault === 'unplugged') void this.simulator?.stop();
  }

  /** The simulated resident presses `key` now (training, tests). */
  press(key: string): void {
    this.simulator?.press(key);
  }
}
