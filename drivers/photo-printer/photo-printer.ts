// What the certificate jobs need from a photo/card printer, whichever it is (IPP or the simulator): its
// state, one document handed over, and that document's progress. A document handed over is the physical
// point of no return; the caller records it before asking.
import type { DeviceConditionCode, DeviceDriver } from '../device.js';

/** The printer's readiness, mapped from IPP printer-state + printer-state-reasons (or the simulator's). */
export interface PhotoPrinterStatus {
  /** `ready`: takes a job now; `busy`: printing; `attention`: needs a person (media, jam, cover); `offline`. */
  state: 'ready' | 'busy' | 'attention' | 'offline';
  /** IPP printer-state: idle, processing or stopped. */
  printerState: 'idle' | 'processing' | 'stopped' | 'unknown';
  /** IPP printer-state-reasons as the printer sent them (`none` dropped). */
  reasons: string[];
  /** Reasons that keep it from printing. */
  blocking: string[];
  /** Reasons worth a warning that do not stop it (supplies low). */
  warnings: string[];
  detail: string;
}

export interface PhotoDocument {
  data: Buffer;
  format: 'image/jpeg' | 'image/png';
  jobName: string;
}

export type RemoteJobState = 'pending' | 'processing' | 'completed' | 'canceled' | 'aborted' | 'unknown';

export interface RemoteJob {
  id: number;
  state: RemoteJobState;
  reasons: string[];
}

export interface PhotoPrinterDriver extends DeviceDriver {
  readonly photoPrinter: true;
  status(): Promise<PhotoPrinterStatus>;
  /** Document formats the printer takes, best first. */
  formats(): readonly string[];
  /** Hands the document to the printer; resolves once the printer accepted it as a job. */
  submit(doc: PhotoDocument): Promise<RemoteJob>;
  job(id: number): Promise<RemoteJob>;
}

export function isPhotoPrinterDriver(d: DeviceDriver): d is PhotoPrinterDriver {
  return (d as Partial<PhotoPrinterDriver>).photoPrinter === true;
}

/** Reasons (without their -error/-warning/-report suffix) that stop printing. */
const BLOCKING = new Set([
  'media-empty',
  'media-needed',
  'media-jam',
  'media-missing',
  'marker-supply-empty',
  'toner-empty',
  'marker-waste-full',
  'cover-open',
  'door-open',
  'input-tray-missing',
  'output-area-full',
  'offline',
  'shutdown',
  'paused',
  'moving-to-paused',
  'stopped',
]);

/**
 * Maps IPP printer-state (3 idle, 4 processing, 5 stopped) and printer-state-reasons to a status. A reason
 * with a `-warning` or `-report` suffix never blocks; one with `-error` or no suffix blocks when its keyword
 * is in the blocking set (RFC 8011 §5.4.12).
 */
export function mapPrinterState(printerState: number | undefined, rawReasons: string[]): PhotoPrinterStatus {
  const reasons = rawReasons.filter((r) => r !== 'none');
  const blocking: string[] = [];
  const warnings: string[] = [];
  for (const r of reasons) {
    const m = /^(.*?)(-error|-warning|-report)?$/.exec(r)!;
    const base = m[1]!;
    const soft = m[2] === '-warning' || m[2] === '-report';
    if (!soft && BLOCKING.has(base)) blocking.push(base);
    else warnings.push(base);
  }
  const ps =
    printerState === 3
      ? 'idle'
      : printerState === 4
        ? 'processing'
        : printerState === 5
          ? 'stopped'
          : 'unknown';
  let state: PhotoPrinterStatus['state'];
  if (blocking.length > 0 || ps === 'stopped') state = 'attention';
  else if (ps === 'processing') state = 'busy';
  else state = 'ready';
  const detail =
    `printer-state ${ps}` +
    (reasons.length > 0 ? `; printer-state-reasons ${reasons.join(', ')}` : '; no printer-state-reasons');
  return { state, printerState: ps, reasons, blocking, warnings, detail };
}

/** The device condition of each blocking IPP reason (a card printer's ribbon is its marker supply). */
const REASON_CONDITIONS: Readonly<Record<string, DeviceConditionCode>> = {
  'media-empty': 'paper-out',
  'media-needed': 'paper-out',
  'media-missing': 'paper-out',
  'input-tray-missing': 'paper-out',
  'media-jam': 'paper-jam',
  'cover-open': 'cover-open',
  'door-open': 'cover-open',
  'marker-supply-empty': 'ribbon-fault',
  'toner-empty': 'ribbon-fault',
  'marker-waste-full': 'ribbon-fault',
  offline: 'printer-offline',
};

/** What a photo printer that answers reports, as device conditions; `stalled` for a stop without a known one. */
export function photoPrinterConditions(status: PhotoPrinterStatus): DeviceConditionCode[] {
  if (status.state !== 'attention') return [];
  const codes = new Set(status.blocking.map((r) => REASON_CONDITIONS[r] ?? 'stalled'));
  if (codes.size === 0) codes.add('stalled');
  return [...codes];
}

/** IPP job-state enum (RFC 8011 §5.3.7) to a name. */
export function jobStateName(v: number | undefined): RemoteJobState {
  switch (v) {
    case 3:
    case 4:
      return 'pending';
    case 5:
    case 6:
      return 'processing';
    case 7:
      return 'canceled';
    case 8:
      return 'aborted';
    case 9:
      return 'completed';
    default:
      return 'unknown';
  }
}
