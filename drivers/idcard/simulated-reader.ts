// `transport: simulated` for an ID card reader: the real SAM driver on an in-process link to the reader
// simulator, which holds a scripted card (the sample resident 张三 at start). A trainer or a test puts another
// card on it or takes it away at run time, and injects the generic faults: `offline` (the reader stops
// answering), `unplugged` (the link drops; reopening fails until the fault is cleared).
import { DeviceAbsentError } from '../device.js';
import { COMMON_FAULTS, type Simulator, type SimulatorFault } from '../simulated-device.js';
import { memoryLinkPair } from '../transport/memory-pair.js';
import { IdCardReader, type IdCardReaderOptions } from './reader.js';
import { IdCardReaderSimulator, SAMPLE_CARDS, type ScriptedCard } from './simulator.js';

export class SimulatedIdCardReader extends IdCardReader implements Simulator {
  fault: SimulatorFault = 'none';
  readonly faults: readonly SimulatorFault[] = COMMON_FAULTS;
  /** The reader of the current session (a new one per open, like a reader plugged in again). */
  simulator: IdCardReaderSimulator | undefined;
  /** The card on the reader, kept across sessions. */
  private card: ScriptedCard | undefined = SAMPLE_CARDS.zhang;

  constructor(opts: Omit<IdCardReaderOptions, 'openLink'>) {
    super({
      ...opts,
      openLink: () => {
        if (this.fault === 'unplugged') {
          return Promise.reject(new DeviceAbsentError('simulated ID card reader unplugged'));
        }
        const [driverEnd, readerEnd] = memoryLinkPair();
        const simulator = (this.simulator = new IdCardReaderSimulator(readerEnd));
        if (this.card) simulator.present(this.card);
        if (this.fault === 'offline') simulator.inject('silent');
        simulator.start();
        return Promise.resolve(driverEnd);
      },
    });
  }

  setFault(fault: SimulatorFault): void {
    this.fault = fault;
    this.simulator?.clearFaults();
    if (fault === 'offline') this.simulator?.inject('silent');
    // Pulled out: the driver sees its link drop.
    if (fault === 'unplugged') void this.simulator?.stop();
  }

  /** Puts `card` on the reader (replacing the one there): read at the next poll. */
  presentCard(card: ScriptedCard): void {
    this.card = card;
    this.simulator?.present(card);
  }

  /** Takes the card away. */
  removeCard(): void {
    this.card = undefined;
    this.simulator?.remove();
  }
}
