// A photo/card printer reached over IPP: a CUPS queue (ipp://host:631/printers/NAME) or an IPP Everywhere
// printer (ipp://host/ipp/print). Open reads the printer's description; the probe and the self-test read
// printer-state and printer-state-reasons; a job is one Print-Job followed by Get-Job-Attributes.
import {
  DeviceAbsentError,
  type DeviceConditionCode,
  type DeviceIdentity,
  type SelfTestResult,
} from '../device.js';
import { IppClient, IppStatusError, IppTransportError } from '../transport/ipp-client.js';
import { attr, attrs, type IppResponse } from '../transport/ipp-codec.js';
import {
  jobStateName,
  mapPrinterState,
  photoPrinterConditions,
  type PhotoDocument,
  type PhotoPrinterDriver,
  type PhotoPrinterStatus,
  type RemoteJob,
} from './photo-printer.js';

const STATE_ATTRS = ['printer-state', 'printer-state-reasons', 'printer-state-message'];
const DESCRIPTION_ATTRS = [
  ...STATE_ATTRS,
  'printer-make-and-model',
  'printer-name',
  'printer-uuid',
  'printer-firmware-string-version',
  'document-format-supported',
  'printer-is-accepting-jobs',
];
const JOB_ATTRS = ['job-id', 'job-state', 'job-state-reasons'];
/** What certificates are sent as, best first: both keep the composed image's pixels exactly. */
const PREFERRED_FORMATS = ['image/jpeg', 'image/png'] as const;

export interface IppPhotoPrinterOptions {
  url: string;
  timeoutMs?: number;
  /** A media keyword (e.g. `iso_a6_105x148mm`) sent with each job, when the install sets one. */
  media?: string;
}

export class IppPhotoPrinter implements PhotoPrinterDriver {
  readonly photoPrinter = true as const;
  private readonly client: IppClient;
  private supported: string[] = [];
  /** The status the last probe read, for the conditions asked right after it. */
  private probed: PhotoPrinterStatus | undefined;

  constructor(private readonly opts: IppPhotoPrinterOptions) {
    this.client = new IppClient({ url: opts.url, timeoutMs: opts.timeoutMs ?? 10_000 });
  }

  async open(): Promise<DeviceIdentity> {
    const res = await this.ask(DESCRIPTION_ATTRS);
    this.supported = attrs(res, 'printer', 'document-format-supported').map(String);
    if (this.formats().length === 0) {
      throw new Error(
        `the printer takes none of ${PREFERRED_FORMATS.join(', ')} (it takes ${this.supported.join(', ') || 'nothing listed'})`,
      );
    }
    const text = (name: string): string | undefined => {
      const v = attr(res, 'printer', name);
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const model = text('printer-make-and-model') ?? text('printer-name') ?? 'IPP printer';
    const serial = text('printer-uuid');
    const firmware = text('printer-firmware-string-version');
    return { model, ...(serial ? { serial } : {}), ...(firmware ? { firmware } : {}) };
  }

  /**
   * Fails when the printer does not answer. One that answers but cannot print (media empty, jam, stopped)
   * is reachable: `conditions()` says why, from the status this probe read.
   */
  async probe(): Promise<void> {
    this.probed = await this.status();
  }

  async conditions(): Promise<readonly DeviceConditionCode[]> {
    const s = this.probed ?? (await this.status());
    this.probed = undefined;
    return photoPrinterConditions(s);
  }

  async selfTest(): Promise<SelfTestResult> {
    const s = await this.status();
    return {
      ok: s.state !== 'attention' && s.state !== 'offline',
      summary: `IPP ${this.client.printerUri}: ${s.detail}`,
      details: { printerState: s.printerState, printerStateReasons: s.reasons },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  formats(): readonly string[] {
    return PREFERRED_FORMATS.filter((f) => this.supported.includes(f));
  }

  async status(): Promise<PhotoPrinterStatus> {
    const res = await this.ask(STATE_ATTRS);
    const state = attr(res, 'printer', 'printer-state');
    return mapPrinterState(
      typeof state === 'number' ? state : undefined,
      attrs(res, 'printer', 'printer-state-reasons').map(String),
    );
  }

  async submit(doc: PhotoDocument): Promise<RemoteJob> {
    const res = await this.client.printJob(doc.data, {
      format: doc.format,
      jobName: doc.jobName,
      ...(this.opts.media ? { job: [{ tag: 'keyword', name: 'media', values: [this.opts.media] }] } : {}),
    });
    return this.remoteJob(res);
  }

  async job(id: number): Promise<RemoteJob> {
    return this.remoteJob(await this.client.getJobAttributes(id, JOB_ATTRS));
  }

  private remoteJob(res: IppResponse): RemoteJob {
    const id = attr(res, 'job', 'job-id');
    if (typeof id !== 'number') throw new Error('the printer answered without a job-id');
    const state = attr(res, 'job', 'job-state');
    return {
      id,
      state: jobStateName(typeof state === 'number' ? state : undefined),
      reasons: attrs(res, 'job', 'job-state-reasons').map(String),
    };
  }

  /** Get-Printer-Attributes; a refused connection means the printer (or queue host) is not there. */
  private async ask(names: string[]): Promise<IppResponse> {
    try {
      return await this.client.getPrinterAttributes(names);
    } catch (err) {
      if (err instanceof IppTransportError && /ECONNREFUSED|EHOSTUNREACH|ENOTFOUND/.test(err.message)) {
        throw new DeviceAbsentError(`no IPP printer at ${this.client.printerUri}: ${err.message}`);
      }
      if (err instanceof IppStatusError && err.status === 0x0406) {
        throw new DeviceAbsentError(`no such IPP printer: ${this.client.printerUri}`);
      }
      throw err;
    }
  }
}
