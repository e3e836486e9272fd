// What the print queue needs from a printer, whatever carries its bytes: send a job, and say whether it is
// taking paper. Status is per transport (see README "Printer status"): the in-process simulator knows it,
// serial and raw TCP have no back channel on the LQ-630K, so a write that does not drain means "stalled".
import type { DeviceConditionCode, DeviceDriver } from '../device.js';
import type { PrinterSetup } from './forms.js';

export interface PrinterStatus {
  /** `ready`: taking data. `paper-out`: known out of paper. `stalled`: not taking data, cause unknown. */
  state: 'ready' | 'paper-out' | 'stalled' | 'offline';
  detail: string;
  /** What the printer reported, when it says more than the state (cover open, jam, offline switch). */
  condition?: DeviceConditionCode;
}

/** The device condition a printer status stands for: none when ready, or when the link itself is gone. */
export function statusConditions(status: PrinterStatus): DeviceConditionCode[] {
  if (status.condition) return [status.condition];
  if (status.state === 'paper-out') return ['paper-out'];
  if (status.state === 'stalled') return ['stalled'];
  return [];
}

export interface PrinterDriver extends DeviceDriver {
  readonly setup: PrinterSetup;
  status(): Promise<PrinterStatus>;
  /**
   * Sends one job. Resolves when every byte is handed to the printer. A stall (paper out) does not reject:
   * it waits for the printer and shows in `status()`. Rejects with PrintInterruptedError when the link is lost.
   */
  print(bytes: Buffer, onProgress?: (sentBytes: number) => void): Promise<void>;
  /** `statusConditions(await status())`: the supervisor shows them beside the device's state. */
  conditions(): Promise<readonly DeviceConditionCode[]>;
}

/** The link broke during a job; `sentBytes` counts what may have reached the printer (0: nothing did). */
export class PrintInterruptedError extends Error {
  override name = 'PrintInterruptedError';
  constructor(
    message: string,
    readonly sentBytes: number,
  ) {
    super(message);
  }
}

export function isPrinterDriver(d: DeviceDriver): d is PrinterDriver {
  return (
    typeof (d as Partial<PrinterDriver>).print === 'function' &&
    typeof (d as Partial<PrinterDriver>).status === 'function'
  );
}

/** Bytes per write: small enough that a stall is seen quickly, large enough not to cost much. */
export const CHUNK_BYTES = 1024;
