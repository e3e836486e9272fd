// Print jobs on the job engine (kind `print`, see print-jobs.ts): a per-printer FIFO, the bytes spooled to
// `<storage>/spool/<id>.prn` before the job exists. This service keeps only its own step: sending the bytes
// to the printer, pausing the queue while the printer cannot take them.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LayoutDocument } from '../../drivers/printer/document.js';
import { resolvePage } from '../../drivers/printer/document.js';
import { encodeDocument, previewPng, type PrinterSetup } from '../../drivers/printer/forms.js';
import { LayoutError } from '../../drivers/printer/layout.js';
import {
  isPrinterDriver,
  PrintInterruptedError,
  statusConditions,
  type PrinterDriver,
  type PrinterStatus,
} from '../../drivers/printer/printer-driver.js';
import { reasonText, type DeviceReasonCode } from '../messages/device-reasons.js';
import { mmToDots } from '../../drivers/printer/units.js';
import type { DeviceManager } from '../devices/device-manager.js';
import { printerSetup } from './printer-setup.js';
import { DeviceBusyError, DeviceNotReadyError, type SupervisedDevice } from '../devices/supervised-device.js';
import type { EventLog } from '../events/event-log.js';
import { JobEngine, type QueueStep } from '../jobs/engine.js';
import { pointerPath } from '../problems/json-pointer.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import type { Store } from '../store/store.js';
import { PRINT_JOBS, type PrintJob, type PrintJobInput, type PrintJobState } from './print-jobs.js';
import { t, verbatim } from '../messages/text.js';

export type { PrintJobInput } from './print-jobs.js';
export const PRINT_JOB_KIND = PRINT_JOBS.name;

export interface PrintJobView {
  id: string;
  printer: string;
  state: PrintJobState;
  bytes: number;
  copies: number;
  template: string | null;
  submittedBy: string;
  error: string | null;
  outcome: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PrintServiceDeps {
  store: Store;
  events: EventLog;
  devices: DeviceManager;
  log: Logger;
  storageDir: string;
  /** How often an idle or paused printer's queue is looked at again. */
  pollMs?: number;
}

/** A printer's queue as a page shows it: whether it sends, why not, and what waits. */
export interface PrintQueueStatus {
  device: string;
  /** True when the queue would not send a job now (the printer is not ready, or reports a condition). */
  paused: boolean;
  /** Why, for a clerk (English until texts follow the request's locale); null while running. */
  reason: string | null;
  reasonCode: DeviceReasonCode | null;
  /** The technical cause, for an installer. */
  detail: string | null;
  /** Jobs queued or being sent. */
  length: number;
  /** Those jobs, oldest first, when asked for. */
  jobs?: PrintJobView[];
}

/** Why a queue pauses, from what the printer's driver says just before a job would go. */
interface PauseReason {
  code: DeviceReasonCode;
  detail: string;
}

export function jobView(j: PrintJob): PrintJobView {
  const input = j.input;
  const error = j.error as { message?: string } | null;
  const result = j.result as { outcome?: string } | null;
  return {
    id: j.id,
    printer: input.printer,
    state: j.state,
    bytes: input.bytes,
    copies: input.copies,
    template: input.template,
    submittedBy: input.submittedBy,
    error: error?.message ?? null,
    outcome: result?.outcome ?? null,
    createdAt: j.createdAt,
    updatedAt: j.updatedAt,
  };
}

export class PrintService {
  readonly jobs: JobEngine<PrintJobState, PrintJobInput>;
  private readonly paused = new Map<string, PauseReason>();

  constructor(private readonly deps: PrintServiceDeps) {
    this.jobs = new JobEngine(
      { store: deps.store, events: deps.events, log: deps.log, storageDir: deps.storageDir },
      PRINT_JOBS,
    );
  }

  /** Parks interrupted jobs as in_doubt, then starts one queue worker per printer. */
  start(): void {
    this.jobs.recover();
    const printers = this.deps.devices
      .list()
      .filter((d) => d.kind === 'printer')
      .map((d) => d.id);
    this.jobs.runQueues(printers, (printer, job) => this.step(printer, job), this.deps.pollMs ?? 250);
  }

  /** Stops taking jobs; a job being sent is left to finish for up to `graceMs`, else found in_doubt next start. */
  async stop(graceMs = 5000): Promise<void> {
    await this.jobs.stop(graceMs);
  }

  printer(id: string): { device: SupervisedDevice<'printer'>; setup: PrinterSetup } {
    const device = this.deps.devices.require(id, 'printer', ['printer']);
    return { device, setup: printerSetup(device.config) };
  }

  /** Encodes a document for a printer; a LayoutError becomes a problem naming the item. */
  async encode(
    printerId: string,
    doc: LayoutDocument,
    field: FieldPath,
  ): Promise<{ bytes: Buffer; setup: PrinterSetup }> {
    const { setup } = this.printer(printerId);
    try {
      return { bytes: (await encodeDocument(doc, setup)).bytes, setup };
    } catch (err) {
      if (err instanceof LayoutError)
        throw new Problem('unprintable-document', verbatim(err.message), [
          ...field,
          ...pointerPath(err.field),
        ]);
      throw err;
    }
  }

  async preview(
    printerId: string,
    doc: LayoutDocument,
    field: FieldPath,
    background?: Buffer,
  ): Promise<Buffer> {
    const { bytes, setup } = await this.encode(printerId, doc, field);
    const page = resolvePage(doc.page);
    if (typeof page === 'string') throw new Problem('invalid-request', verbatim(page), [...field, 'page']);
    try {
      return await previewPng(
        bytes,
        setup,
        { widthDots: mmToDots(page.widthMm), heightDots: mmToDots(page.heightMm) },
        background,
      );
    } catch (err) {
      if (background && err instanceof Error && /input|image|format|pixel/i.test(err.message)) {
        throw new Problem('invalid-request', t`the background is not a readable image: ${err.message}`, [
          'background',
        ]);
      }
      throw err;
    }
  }

  /**
   * Queues a job: spool file first, then the job row, its event and (through `remember`) the idempotency key
   * in one transaction. A crash in between leaves at most an orphan spool file, never a job without bytes.
   */
  submit(
    printerId: string,
    bytes: Buffer,
    meta: { copies: number; template: string | null; submittedBy: string },
    remember?: (view: PrintJobView) => void,
  ): PrintJobView {
    const id = randomUUID();
    try {
      // Inside the try: a full disk can fail the write after the file was created; no orphan is left.
      this.jobs.writeSpool(id, 'prn', bytes);
      const job = this.jobs.create(
        printerId,
        { printer: printerId, bytes: bytes.length, ...meta },
        {
          id,
          // Audited with the job in one transaction: which form went to which printer, not its text.
          also: (j: PrintJob) => {
            this.deps.store.audit.append({
              actor: meta.submittedBy,
              action: 'print.create',
              target: j.id,
              detail: {
                printer: printerId,
                template: meta.template,
                copies: meta.copies,
                bytes: bytes.length,
              },
            });
            remember?.(jobView(j));
          },
        },
      );
      return jobView(job);
    } catch (err) {
      this.jobs.removeSpool(id, 'prn');
      throw err;
    }
  }

  get(id: string): PrintJobView {
    return jobView(this.jobs.require(id));
  }

  list(filter: { state?: PrintJobState; printer?: string; limit: number }): PrintJobView[] {
    return this.jobs
      .list({
        limit: filter.limit,
        ...(filter.state ? { state: filter.state } : {}),
        ...(filter.printer ? { device: filter.printer } : {}),
      })
      .map(jobView);
  }

  cancel(id: string, by: string): PrintJobView {
    const job = this.jobs.cancel(id, by, { result: { outcome: 'canceled', by } });
    this.jobs.removeSpool(id, 'prn');
    return jobView(job);
  }

  /** An operator's word on a job in doubt: it printed (done), or print it again (back in the queue). */
  resolve(id: string, outcome: 'printed' | 'reprint', by: string): PrintJobView {
    const job = this.jobs.resolve(id, outcome, by, {
      result: { outcome: outcome === 'printed' ? 'printed (resolved)' : 'reprint requested', by },
    });
    if (outcome === 'printed') this.jobs.removeSpool(id, 'prn');
    else this.jobs.wake(job.device);
    return jobView(job);
  }

  /**
   * The queue status of one printer (GET /v1/printers/:id/queue and the event stream's snapshot): paused
   * when the printer is not ready or busy, when it reports a condition (paper out, …), or when the queue
   * found it not taking data just before a job; else running. Throws not-found for an unknown printer.
   */
  queueStatus(printerId: string, opts: { jobs?: boolean } = {}): PrintQueueStatus {
    const status = this.deps.devices.require(printerId, 'printer', ['id']).status();
    let pause: PauseReason | null = null;
    if (status.state !== 'ready' && status.state !== 'busy') {
      const code = status.reasonCode ?? 'not-answering';
      pause = { code, detail: status.detail ?? `printer is ${status.state}` };
    } else if (status.conditions[0]) {
      pause = { code: status.conditions[0].code, detail: status.conditions[0].reason };
    } else {
      pause = this.paused.get(printerId) ?? null;
    }
    const waiting = [...this.jobs.inState('queued'), ...this.jobs.inState('sending')]
      .filter((j) => j.device === printerId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return {
      device: printerId,
      paused: pause !== null,
      reason: pause && reasonText(pause.code),
      reasonCode: pause?.code ?? null,
      detail: pause?.detail ?? null,
      length: waiting.length,
      ...(opts.jobs ? { jobs: waiting.map(jobView) } : {}),
    };
  }

  /** The queue status of every printer, for the event stream's snapshot. */
  queueStatuses(): PrintQueueStatus[] {
    return this.deps.devices.ofKind('printer').map((d) => this.queueStatus(d.config.id));
  }

  private setPaused(printer: string, pause: PauseReason | null): void {
    const was = this.paused.get(printer);
    if (pause === null) {
      if (was === undefined) return;
      this.paused.delete(printer);
      this.deps.events.publish('print.queue', {
        printer,
        state: 'running',
        previousReason: was.detail,
        previousReasonCode: was.code,
      });
      this.deps.log.info({ printer }, 'print queue resumed');
    } else {
      this.paused.set(printer, pause);
      // The detail may count seconds ("no data for 7 s"): it is kept for the queue status, but only a new
      // reason is an event and a log line; else a stalled printer wrote one of each every second.
      if (was?.code === pause.code) return;
      this.deps.events.publish('print.queue', {
        printer,
        state: 'paused',
        reason: pause.detail,
        reasonCode: pause.code,
      });
      this.deps.log.warn({ printer, reasonCode: pause.code, reason: pause.detail }, 'print queue paused');
    }
  }

  /** One turn of a printer's queue: send its oldest job if the printer can take it, else pause and say why. */
  private async step(printerId: string, next: PrintJob): Promise<QueueStep> {
    const device = this.deps.devices.get(printerId);
    if (!device || !isPrinterDriver(device.driver)) return 'wait';
    const state = device.currentState();
    if (state !== 'ready') {
      // `busy`: a self-test holds it for a moment; anything else keeps jobs waiting and says why.
      if (state !== 'busy') {
        const s = device.status();
        this.setPaused(printerId, {
          code: s.reasonCode ?? 'not-answering',
          detail: `printer is ${state}${s.detail ? `: ${s.detail}` : ''}`,
        });
      }
      return 'wait';
    }
    const status = await device.driver.status();
    if (status.state !== 'ready') {
      this.setPaused(printerId, pauseOf(status));
      return 'wait';
    }
    this.setPaused(printerId, null);
    // A job put back (nothing reached the printer) waits a poll before the next try.
    return (await this.send(next, device, device.driver)) ? 'next' : 'wait';
  }

  /** Sends one job; false when it went back to the queue or could not start. */
  private async send(next: PrintJob, device: SupervisedDevice, driver: PrinterDriver): Promise<boolean> {
    const printer = device.config.id;
    let bytes: Buffer;
    try {
      bytes = this.jobs.readSpool(next.id, 'prn');
    } catch (err) {
      this.jobs.tryMove(next.id, 'queued', 'failed', { reason: `spool file unreadable: ${String(err)}` });
      return true;
    }
    if (!this.jobs.tryMove(next.id, 'queued', 'sending')) return true; // canceled meanwhile
    // While bytes go out, watch the printer: paper out pauses the queue (and the job waits with the printer).
    const watch = setInterval(() => {
      void driver.status().then(
        (s: PrinterStatus) => this.setPaused(printer, s.state === 'ready' ? null : pauseOf(s)),
        () => undefined,
      );
    }, 200);
    try {
      await device.use(() => driver.print(bytes));
      this.jobs.tryMove(next.id, 'sending', 'done', { result: { outcome: 'sent', bytes: bytes.length } });
      this.jobs.removeSpool(next.id, 'prn');
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const nothingSent =
        err instanceof DeviceBusyError ||
        err instanceof DeviceNotReadyError ||
        (err instanceof PrintInterruptedError && err.sentBytes === 0);
      if (nothingSent) {
        this.jobs.tryMove(next.id, 'sending', 'queued', { reason: message });
        return false;
      } else {
        this.jobs.tryMove(next.id, 'sending', 'in_doubt', {
          reason: `interrupted after bytes may have reached the printer: ${message}`,
        });
        return true;
      }
    } finally {
      clearInterval(watch);
    }
  }
}

/** The pause a printer status that is not `ready` stands for. */
function pauseOf(status: PrinterStatus): PauseReason {
  const code = statusConditions(status)[0] ?? 'not-answering';
  return { code, detail: `${status.state}: ${status.detail}` };
}
