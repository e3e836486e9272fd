// The in-process dot-matrix printer (`transport: {type: simulated}`): takes the job's bytes at a chosen pace,
// decodes them onto virtual paper, and honours injected faults (paper out stalls it, offline breaks it).
import { COMMON_FAULTS, SimulatedDevice, type SimulatorFault } from '../simulated-device.js';
import type { DeviceConditionCode, DeviceIdentity } from '../device.js';
import { DEFAULT_SETUP, type PrinterSetup } from './forms.js';
import {
  CHUNK_BYTES,
  PrintInterruptedError,
  type PrinterDriver,
  statusConditions,
  type PrinterStatus,
} from './printer-driver.js';
import { VirtualPrinter } from './virtual-printer.js';
import { mmToDots } from './units.js';

export interface SimulatedPrinterOptions {
  setup?: PrinterSetup;
  /** How fast the simulated printer takes data (default: as fast as it comes). */
  bytesPerSecond?: number;
  /** Where it writes page PNGs and its job log. */
  outputDir?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Faults that leave the printer answering but holding the data, and what its status then says. */
const HOLDING_FAULTS: Partial<Record<SimulatorFault, { condition: DeviceConditionCode; detail: string }>> = {
  'paper-out': { condition: 'paper-out', detail: 'paper end sensor: out of paper' },
  'cover-open': { condition: 'cover-open', detail: 'cover open' },
  'paper-jam': { condition: 'paper-jam', detail: 'paper jam' },
  'ribbon-fault': { condition: 'ribbon-fault', detail: 'ribbon jammed or missing' },
  'head-fault': { condition: 'head-fault', detail: 'print head error (temperature or carriage)' },
};

/** Stands in for a 24-pin dot-matrix printer (Epson LQ-630K class). */
export class SimulatedDotMatrixPrinter extends SimulatedDevice implements PrinterDriver {
  readonly setup: PrinterSetup;
  readonly paper: VirtualPrinter;
  override readonly faults: readonly SimulatorFault[] = [
    ...COMMON_FAULTS,
    ...(Object.keys(HOLDING_FAULTS) as SimulatorFault[]),
  ];

  constructor(private readonly opts: SimulatedPrinterOptions = {}) {
    super();
    this.setup = opts.setup ?? DEFAULT_SETUP;
    this.paper = new VirtualPrinter({
      setup: this.setup,
      widthDots: mmToDots(241),
      ...(opts.outputDir ? { outputDir: opts.outputDir } : {}),
    });
  }

  protected identity(): DeviceIdentity {
    return { model: `${this.setup.profile.model} (simulated)`, serial: 'SIM-LQ-0001', firmware: 'sim' };
  }

  protected selfTestSummary(): string {
    return 'printer answered its status request: online, paper present';
  }

  status(): Promise<PrinterStatus> {
    const holding = HOLDING_FAULTS[this.fault];
    if (holding)
      return Promise.resolve({
        state: holding.condition === 'paper-out' ? 'paper-out' : 'stalled',
        ...holding,
      });
    if (this.fault !== 'none')
      return Promise.resolve({ state: 'offline', detail: `simulated fault: ${this.fault}` });
    return Promise.resolve({ state: 'ready', detail: 'online, paper present' });
  }

  async conditions(): Promise<readonly DeviceConditionCode[]> {
    return statusConditions(await this.status());
  }

  async print(bytes: Buffer, onProgress?: (sentBytes: number) => void): Promise<void> {
    let sent = 0;
    while (sent < bytes.length) {
      // Out of paper, cover open, …: the printer stops taking data and the job waits, as a real one does.
      while (HOLDING_FAULTS[this.fault]) await sleep(20);
      if (this.fault !== 'none') throw new PrintInterruptedError(`simulated printer ${this.fault}`, sent);
      const chunk = bytes.subarray(sent, sent + CHUNK_BYTES);
      this.paper.accept(chunk);
      sent += chunk.length;
      onProgress?.(sent);
      if (this.opts.bytesPerSecond) await sleep((chunk.length / this.opts.bytesPerSecond) * 1000);
    }
  }
}
