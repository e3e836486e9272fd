// Durable print jobs: a per-printer FIFO in the store. queued → sending → done | failed | in_doubt, and
// queued → canceled. A job that may have reached the printer when the daemon died is found in `sending` at
// start-up and becomes in_doubt: it is never sent again until an operator resolves it. Every transition is
// published as a `print.job` event in the same transaction as the state change.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LayoutDocument } from '../../drivers/printer/document.js';
import { resolvePage } from '../../drivers/printer/document.js';
import { encodeDocument, previewPng, type PrinterSetup } from '../../drivers/printer/forms.js';
import { LayoutError } from '../../drivers/printer/layout.js';
import {
  isPrinterDriver,
  PrintInterruptedError,
  type PrinterDriver,
  type PrinterStatus,
} from '../../drivers/printer/printer-driver.js';
import { mmToDots } from '../../drivers/printer/units.js';
import type { DeviceManager } from '../devices/device-manager.js';
import { printerSetup } from './printer-setup.js';
import { DeviceBusyError, DeviceNotReadyError, type SupervisedDevice } from '../devices/supervised-device.js';
import type { EventLog } from '../events/event-log.js';
import { pointerPath } from '../problems/json-pointer.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import type { JobRecord, JobState } from '../store/jobs.js';
import type { Store } from '../store/store.js';
import { Wakers } from '../queue/wakers.js';

export const PRINT_JOB_KIND = 'print';

/** What a print job keeps in the store's `input` column (the bytes are in the spool file). */
export interface PrintJobInput {
  printer: string;
  bytes: number;
  copies: number;
  template: string | null;
  submittedBy: string;
}

export interface PrintJobView {
  id: string;
  printer: string;
  state: JobState;
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function jobView(j: JobRecord): PrintJobView {
  const input = j.input as PrintJobInput;
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
  private readonly spoolDir: string;
  private readonly wakers = new Wakers();
  private readonly paused = new Map<string, string>();
  private readonly workers: Promise<void>[] = [];
  private stopped = true;

  constructor(private readonly deps: PrintServiceDeps) {
    this.spoolDir = join(deps.storageDir, 'spool');
  }

  /** Parks interrupted jobs as in_doubt, then starts one queue worker per printer. */
  start(): void {
    mkdirSync(this.spoolDir, { recursive: true, mode: 0o700 });
    for (const job of this.deps.store.jobs.inState(PRINT_JOB_KIND, 'sending')) {
      this.transition(job.id, ['sending'], {
        state: 'in_doubt',
        error: {
          message: 'the agent stopped while this job was being sent; check the paper, then resolve it',
        },
      });
      this.deps.log.warn({ job: job.id }, 'print job found in sending at start-up: now in_doubt');
    }
    this.stopped = false;
    for (const d of this.deps.devices.list()) {
      if (d.kind === 'printer') this.workers.push(this.work(d.id));
    }
  }

  /** Stops taking jobs; a job being sent is left to finish for up to `graceMs`, else found in_doubt next start. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    this.wakers.wakeAll();
    await Promise.race([Promise.all(this.workers), sleep(graceMs)]);
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
        throw new Problem('unprintable-document', err.message, [...field, ...pointerPath(err.field)]);
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
    if (typeof page === 'string') throw new Problem('invalid-request', page, [...field, 'page']);
    try {
      return await previewPng(
        bytes,
        setup,
        { widthDots: mmToDots(page.widthMm), heightDots: mmToDots(page.heightMm) },
        background,
      );
    } catch (err) {
      if (background && err instanceof Error && /input|image|format|pixel/i.test(err.message)) {
        throw new Problem('invalid-request', `the background is not a readable image: ${err.message}`, [
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
    const file = this.spoolFile(id);
    try {
      // Inside the try: a full disk can fail the write after the file was created; no orphan is left.
      writeFileSync(file, bytes, { mode: 0o600 });
      const view = this.deps.store.transaction(() => {
        const input: PrintJobInput = { printer: printerId, bytes: bytes.length, ...meta };
        const job = this.deps.store.jobs.insert({
          id,
          kind: PRINT_JOB_KIND,
          deviceId: printerId,
          state: 'queued',
          input,
        });
        this.deps.events.publish('print.job', {
          job: id,
          kind: 'print',
          device: printerId,
          state: 'queued',
          previous: null,
        });
        const v = jobView(job);
        remember?.(v);
        return v;
      });
      this.wakers.wake(printerId);
      return view;
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    }
  }

  get(id: string): PrintJobView {
    const job = this.deps.store.jobs.get(id);
    if (!job || job.kind !== PRINT_JOB_KIND) throw new Problem('not-found', `no print job "${id}"`, ['id']);
    return jobView(job);
  }

  list(filter: { state?: JobState; printer?: string; limit: number }): PrintJobView[] {
    return this.deps.store.jobs
      .list({
        kind: PRINT_JOB_KIND,
        limit: filter.limit,
        ...(filter.state ? { state: filter.state } : {}),
        ...(filter.printer ? { deviceId: filter.printer } : {}),
      })
      .map(jobView);
  }

  cancel(id: string, by: string): PrintJobView {
    const current = this.get(id);
    const job = this.transition(id, ['queued'], { state: 'canceled', result: { outcome: 'canceled', by } });
    if (!job) {
      throw new Problem(
        'job-state-conflict',
        `job ${id} is ${current.state}; only a queued job can be canceled`,
        ['id'],
      );
    }
    rmSync(this.spoolFile(id), { force: true });
    return jobView(job);
  }

  /** An operator's word on a job in doubt: it printed (done), or print it again (back in the queue). */
  resolve(id: string, outcome: 'printed' | 'reprint', by: string): PrintJobView {
    const current = this.get(id);
    const job =
      outcome === 'printed'
        ? this.transition(id, ['in_doubt'], { state: 'done', result: { outcome: 'printed (resolved)', by } })
        : this.transition(id, ['in_doubt'], {
            state: 'queued',
            result: { outcome: 'reprint requested', by },
          });
    if (!job) throw new Problem('job-state-conflict', `job ${id} is ${current.state}, not in_doubt`, ['id']);
    if (outcome === 'printed') rmSync(this.spoolFile(id), { force: true });
    else this.wakers.wake(current.printer);
    return jobView(job);
  }

  /** Printers whose queue is paused, with the reason. */
  pausedPrinters(): Record<string, string> {
    return Object.fromEntries(this.paused);
  }

  private spoolFile(id: string): string {
    return join(this.spoolDir, `${id}.prn`);
  }

  private transition(
    id: string,
    from: readonly JobState[],
    change: { state: JobState; result?: unknown; error?: unknown },
  ): JobRecord | undefined {
    return this.deps.store.transaction(() => {
      const before = this.deps.store.jobs.get(id);
      const job = this.deps.store.jobs.transition(id, from, change);
      if (job && before) {
        const error = change.error as { message?: string } | undefined;
        this.deps.events.publish('print.job', {
          job: id,
          kind: 'print',
          device: (job.input as PrintJobInput).printer,
          state: job.state,
          previous: before.state,
          ...(error?.message ? { reason: error.message } : {}),
        });
      }
      return job;
    });
  }

  private setPaused(printer: string, reason: string | null): void {
    const was = this.paused.get(printer);
    if (reason === null) {
      if (was === undefined) return;
      this.paused.delete(printer);
      this.deps.events.publish('print.queue', { printer, state: 'running', previousReason: was });
      this.deps.log.info({ printer }, 'print queue resumed');
    } else if (was !== reason) {
      this.paused.set(printer, reason);
      this.deps.events.publish('print.queue', { printer, state: 'paused', reason });
      this.deps.log.warn({ printer, reason }, 'print queue paused');
    }
  }

  private async work(printerId: string): Promise<void> {
    const pollMs = this.deps.pollMs ?? 250;
    while (!this.stopped) {
      try {
        const next = this.deps.store.jobs.nextQueued(PRINT_JOB_KIND, printerId);
        const device = this.deps.devices.get(printerId);
        if (!next || !device || !isPrinterDriver(device.driver)) {
          await this.wakers.idle(printerId, pollMs);
          continue;
        }
        const state = device.currentState();
        if (state !== 'ready') {
          // `busy`: a self-test holds it for a moment; anything else keeps jobs waiting and says why.
          if (state !== 'busy') this.setPaused(printerId, `printer is ${state}`);
          await this.wakers.idle(printerId, pollMs);
          continue;
        }
        const status = await device.driver.status();
        if (status.state !== 'ready') {
          this.setPaused(printerId, `${status.state}: ${status.detail}`);
          await this.wakers.idle(printerId, pollMs);
          continue;
        }
        this.setPaused(printerId, null);
        // A job put back (nothing reached the printer) waits a poll before the next try.
        if (!(await this.send(next, device, device.driver))) await this.wakers.idle(printerId, pollMs);
      } catch (err) {
        this.deps.log.error({ printer: printerId, err }, 'print queue worker error');
        await this.wakers.idle(printerId, pollMs);
      }
    }
  }

  /** Sends one job; false when it went back to the queue or could not start. */
  private async send(next: JobRecord, device: SupervisedDevice, driver: PrinterDriver): Promise<boolean> {
    const printer = device.config.id;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.spoolFile(next.id));
    } catch (err) {
      this.transition(next.id, ['queued'], {
        state: 'failed',
        error: { message: `spool file unreadable: ${String(err)}` },
      });
      return true;
    }
    if (!this.transition(next.id, ['queued'], { state: 'sending' })) return true; // canceled meanwhile
    // While bytes go out, watch the printer: paper out pauses the queue (and the job waits with the printer).
    const watch = setInterval(() => {
      void driver.status().then(
        (s: PrinterStatus) => this.setPaused(printer, s.state === 'ready' ? null : `${s.state}: ${s.detail}`),
        () => undefined,
      );
    }, 200);
    try {
      await device.use(() => driver.print(bytes));
      this.transition(next.id, ['sending'], {
        state: 'done',
        result: { outcome: 'sent', bytes: bytes.length },
      });
      rmSync(this.spoolFile(next.id), { force: true });
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const nothingSent =
        err instanceof DeviceBusyError ||
        err instanceof DeviceNotReadyError ||
        (err instanceof PrintInterruptedError && err.sentBytes === 0);
      if (nothingSent) {
        this.transition(next.id, ['sending'], { state: 'queued', error: { message } });
        return false;
      } else {
        this.transition(next.id, ['sending'], {
          state: 'in_doubt',
          error: { message: `interrupted after bytes may have reached the printer: ${message}` },
        });
        return true;
      }
    } finally {
      clearInterval(watch);
    }
  }
}
