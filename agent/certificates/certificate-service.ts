// Certificate jobs: queued → composing → printing → printed, with failed, in_doubt and canceled. A job
// is composed (template + fields + photo → one 300 dpi image), handed to the photo printer once, followed
// to completion, and then, if asked, gets a seal job that waits for the clerk's confirmation (the seal is
// never pressed from here). The jobs run on the job engine (kind `certificate`, see certificate-jobs.ts);
// this service keeps its own steps: compose, the IPP print, the seal job.
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PhotoPrinterOptions } from '../../config/schema.js';
import {
  isPhotoPrinterDriver,
  type PhotoPrinterDriver,
  type RemoteJob,
} from '../../drivers/photo-printer/photo-printer.js';
import { IppStatusError, IppTransportError } from '../../drivers/transport/ipp-client.js';
import type { DeviceManager } from '../devices/device-manager.js';
import { DeviceBusyError, DeviceNotReadyError, type SupervisedDevice } from '../devices/supervised-device.js';
import type { EventLog } from '../events/event-log.js';
import { JobEngine, type QueueStep } from '../jobs/engine.js';
import { Problem } from '../problems/problem.js';
import type { PhotoService } from '../photos/photo-service.js';
import type { SealJobState } from '../sealing/seal-jobs.js';
import type { SealService } from '../sealing/seal-service.js';
import type { Store } from '../store/store.js';
import {
  CERTIFICATE_JOBS,
  type CertificateInput,
  type CertificateJob,
  type CertificateState,
  type CertificateSteps,
} from './certificate-jobs.js';
import { composeCertificate } from './compose.js';
import { checkFields, loadCertificateTemplate } from './templates.js';
import { t, term } from '../messages/text.js';

export interface CertificateView {
  id: string;
  printer: string;
  template: string;
  state: CertificateState;
  fields: Record<string, string>;
  submittedBy: string;
  documentSha256: string | null;
  printerJobId: number | null;
  seal: { device: string; operator: string; jobId: string | null; confirmationToken?: string } | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CertificateRequest {
  template: string;
  fields: Record<string, string>;
  photo: { image?: string; camera?: string; crop: boolean; requireLightBackground: boolean };
  printer: string;
  seal?: { device: string; operator: string };
}

export interface CertificateServiceDeps {
  store: Store;
  events: EventLog;
  devices: DeviceManager;
  seals: SealService;
  photos: PhotoService;
  log: Logger;
  storageDir: string;
  pollMs?: number;
}

/** Seal job states that pressed nothing and never will: a certificate in one may get a new seal job. */
const RESEALABLE: ReadonlySet<SealJobState> = new Set(['expired', 'failed']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nothing reached the printer: the job may go back to the queue. */
class NotHandedOver extends Error {}
/** The printer refused the job when it was handed over: nothing was printed. */
class Refused extends Error {}

export class CertificateService {
  readonly jobs: JobEngine<CertificateState, CertificateInput, CertificateSteps>;

  constructor(private readonly deps: CertificateServiceDeps) {
    this.jobs = new JobEngine(
      { store: deps.store, events: deps.events, log: deps.log, storageDir: deps.storageDir },
      CERTIFICATE_JOBS,
    );
  }

  /** Settles what a previous run left half-done, then starts one worker per photo printer. */
  start(): void {
    this.jobs.recover();
    // A printed certificate whose seal job could not be made (or was not yet) gets it now.
    for (const c of this.jobs.inState('printed')) this.createSealJob(c);
    const printers = this.deps.devices
      .list()
      .filter((d) => d.kind === 'photo-printer')
      .map((d) => d.id);
    this.jobs.runQueues(printers, (printer, job) => this.step(printer, job), this.deps.pollMs ?? 250);
  }

  async stop(graceMs = 5000): Promise<void> {
    await this.jobs.stop(graceMs);
  }

  /**
   * Checks everything a caller can get wrong (template, fields, photo, devices) so it answers 4xx now,
   * then queues the job: photo file first, then the row, its event and the idempotency key together.
   */
  async submit(
    req: CertificateRequest,
    by: string,
    remember?: (view: CertificateView) => void,
  ): Promise<CertificateView> {
    const template = loadCertificateTemplate(req.template);
    checkFields(template, req.template, req.fields);
    this.photoPrinter(req.printer);
    if (req.seal) this.sealDevice(req.seal.device);
    const box = template.photo;
    const photo = await this.deps.photos.checkedPhoto(req.photo, {
      widthMm: box.widthMm,
      heightMm: box.heightMm,
    });
    const id = randomUUID();
    try {
      this.jobs.writeSpool(id, 'photo', photo);
      const c = this.jobs.create(
        req.printer,
        { template: req.template, fields: req.fields, seal: req.seal ?? null, submittedBy: by },
        {
          id,
          // Audited with the job in one transaction; the fields (the resident's data) stay in the job.
          also: (j: CertificateJob) => {
            this.deps.store.audit.append({
              actor: by,
              action: 'certificate.create',
              target: j.id,
              detail: { template: req.template, printer: req.printer, seal: req.seal?.device ?? null },
            });
            remember?.(this.view(j, false));
          },
        },
      );
      return this.view(c, false);
    } catch (err) {
      this.jobs.removeSpool(id, 'photo');
      throw err;
    }
  }

  get(id: string, withSealToken: boolean): CertificateView {
    return this.view(this.jobs.require(id), withSealToken);
  }

  list(
    filter: { state?: CertificateState; printer?: string; limit: number },
    withSealToken: boolean,
  ): CertificateView[] {
    return this.jobs
      .list({
        limit: filter.limit,
        ...(filter.state ? { state: filter.state } : {}),
        ...(filter.printer ? { device: filter.printer } : {}),
      })
      .map((c) => this.view(c, withSealToken));
  }

  /** The composed card as it went (or will go) to the printer. */
  document(id: string): { format: 'image/jpeg' | 'image/png'; data: Buffer } {
    this.jobs.require(id);
    for (const [ext, format] of [
      ['jpg', 'image/jpeg'],
      ['png', 'image/png'],
    ] as const) {
      try {
        return { format, data: this.jobs.readSpool(id, ext) };
      } catch {
        // not this format
      }
    }
    throw new Problem('not-found', t`certificate ${id} has no composed document yet`, ['id']);
  }

  cancel(id: string, by: string): CertificateView {
    const c = this.jobs.cancel(id, by);
    this.jobs.removeSpool(id, 'photo', 'jpg', 'png');
    return this.view(c, false);
  }

  /** An operator's word on a certificate in doubt: it printed (→ printed, then its seal job), or print again. */
  resolve(id: string, outcome: 'printed' | 'reprint', by: string): CertificateView {
    const c = this.jobs.resolve(id, outcome, by, {
      reason: outcome === 'printed' ? `resolved as printed by ${by}` : `reprint requested by ${by}`,
    });
    if (outcome === 'printed') {
      this.jobs.removeSpool(id, 'photo');
      return this.view(this.createSealJob(c), false);
    }
    this.jobs.wake(c.device);
    return this.view(c, false);
  }

  private view(c: CertificateJob, withSealToken: boolean): CertificateView {
    let token = c.steps.sealToken ?? null;
    const sealJobId = c.steps.sealJobId ?? null;
    if (token !== null && sealJobId !== null) {
      // The token is only worth keeping while the seal job waits for it.
      const seal = this.deps.seals.jobs.get(sealJobId);
      if (!seal || seal.state !== 'pending') {
        this.jobs.note(c.id, c.state, { sealToken: null });
        token = null;
      }
    }
    return {
      id: c.id,
      printer: c.device,
      template: c.input.template,
      state: c.state,
      fields: c.input.fields,
      submittedBy: c.input.submittedBy,
      documentSha256: c.steps.documentSha256 ?? null,
      printerJobId: c.steps.remoteJobId ?? null,
      seal: c.input.seal && {
        ...c.input.seal,
        jobId: sealJobId,
        ...(withSealToken && token !== null ? { confirmationToken: token } : {}),
      },
      error: typeof c.error === 'string' ? c.error : null,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  }

  private photoPrinter(id: string): SupervisedDevice<'photo-printer'> {
    return this.deps.devices.require(id, 'photo-printer', ['printer']);
  }

  private sealDevice(id: string): void {
    this.deps.devices.require(id, 'seal', ['seal', 'device']);
  }

  /**
   * The seal step after printing: a pending seal job (with its confirmation token) for the clerk to
   * confirm. A failure here leaves the certificate printed without one; the next start tries again.
   */
  private createSealJob(c: CertificateJob): CertificateJob {
    if (!c.input.seal || c.steps.sealJobId !== undefined) return c;
    try {
      return this.deps.store.transaction(() => this.attachSealJob(c, c.input.submittedBy));
    } catch (err) {
      this.deps.log.error(
        { certificate: c.id, err },
        'could not create the seal job for a printed certificate',
      );
      return c;
    }
  }

  /**
   * A new seal job for a printed certificate whose seal job expired or failed unpressed (or was never
   * made). Refused (409) while the current one may still press or has pressed: pending, checking, firing,
   * in_doubt, done. The check, the seal job, the certificate's step, its event and the audit entry are one
   * synchronous transaction, so two requests cannot both pass the check.
   */
  reseal(id: string, by: string, remember?: (view: CertificateView) => void): CertificateView {
    const c = this.jobs.require(id);
    if (!c.input.seal) {
      throw new Problem('job-state-conflict', t`certificate ${id} was issued without a seal`, ['id'], {
        state: c.state,
      });
    }
    if (c.state !== 'printed') throw this.jobs.conflict(c, t`given a new seal job (it is not printed)`);
    // Through the seal service: an overdue pending job is expired first.
    const previous = c.steps.sealJobId === undefined ? undefined : this.deps.seals.get(c.steps.sealJobId);
    if (previous && !RESEALABLE.has(previous.state)) {
      throw new Problem(
        'seal-job-conflict',
        t`certificate ${id} has seal job ${previous.id}, which is ${term(previous.state)}; a new one only replaces an expired or failed job`,
        undefined,
        { state: previous.state, sealJob: previous.id },
      );
    }
    return this.deps.store.transaction(() => {
      // Re-read inside the transaction: the step must still be the one checked above.
      const now = this.jobs.require(id);
      if (now.state !== 'printed' || now.steps.sealJobId !== c.steps.sealJobId) {
        throw this.jobs.conflict(now, t`given a new seal job now`);
      }
      const moved = this.attachSealJob(
        now,
        by,
        previous
          ? `new seal job requested by ${by}; seal job ${previous.id} was ${previous.state}`
          : `seal job requested by ${by}`,
      );
      this.deps.store.audit.append({
        actor: by,
        action: 'certificate.reseal',
        target: id,
        detail: {
          sealJob: moved.steps.sealJobId,
          previousSealJob: previous?.id ?? null,
          previousState: previous?.state ?? null,
        },
      });
      const view = this.view(moved, true);
      remember?.(view);
      return view;
    });
  }

  /** Creates the seal job for `c` and points its `sealJob` step at it; runs inside the caller's transaction. */
  private attachSealJob(c: CertificateJob, by: string, reason?: string): CertificateJob {
    const seal = c.input.seal!;
    const template = loadCertificateTemplate(c.input.template);
    const number = (template.numberField && c.input.fields[template.numberField]) || c.id;
    const { job, token } = this.deps.seals.create(
      {
        device: seal.device,
        operator: seal.operator,
        document: {
          kind: c.input.template,
          number,
          ...(c.steps.documentSha256 ? { hash: c.steps.documentSha256 } : {}),
        },
      },
      by,
    );
    // A move to the same state: the event tells listeners the seal job exists.
    return this.jobs.move(c.id, 'printed', 'printed', {
      steps: { sealJobId: job.id, sealToken: token },
      ...(reason === undefined ? {} : { reason }),
    });
  }

  /** One turn of a photo printer's queue: take its oldest certificate when the printer can print. */
  private async step(printer: string, next: CertificateJob): Promise<QueueStep> {
    const device = this.deps.devices.find(printer, 'photo-printer');
    if (!device || !isPhotoPrinterDriver(device.driver) || device.currentState() !== 'ready') return 'wait';
    const status = await device.driver.status();
    if (status.state === 'attention' || status.state === 'offline') return 'wait';
    return (await this.process(next, device, device.driver)) ? 'next' : 'wait';
  }

  /** Composes and prints one certificate; false when it went back to the queue. */
  private async process(
    job: CertificateJob,
    device: SupervisedDevice<'photo-printer'>,
    driver: PhotoPrinterDriver,
  ): Promise<boolean> {
    if (!this.jobs.tryMove(job.id, 'queued', 'composing', { error: null })) return true; // canceled meanwhile
    const format = driver.formats()[0] === 'image/png' ? 'image/png' : 'image/jpeg';
    let document: Buffer;
    try {
      const template = loadCertificateTemplate(job.input.template);
      const photo = this.jobs.readSpool(job.id, 'photo');
      document = (await composeCertificate(template, job.input.fields, photo, format)).image;
      this.jobs.writeSpool(job.id, format === 'image/png' ? 'png' : 'jpg', document);
    } catch (err) {
      this.jobs.tryMove(job.id, 'composing', 'failed', { reason: `composing failed: ${message(err)}` });
      return true;
    }
    const sha256 = createHash('sha256').update(document).digest('hex');
    // The point of no return is committed before the document leaves.
    if (!this.jobs.tryMove(job.id, 'composing', 'printing', { steps: { documentSha256: sha256 } }))
      return true;
    const options = device.config.photoPrinter;
    try {
      const done = await device.use(async () => {
        let remote: RemoteJob;
        try {
          remote = await driver.submit({
            data: document,
            format,
            jobName: `${job.input.template} ${job.id}`,
          });
        } catch (err) {
          if (err instanceof IppTransportError && !err.sent) throw new NotHandedOver(err.message);
          if (err instanceof IppStatusError) throw new Refused(err.message);
          throw err;
        }
        this.jobs.note(job.id, 'printing', { remoteJobId: remote.id });
        return this.followRemoteJob(driver, remote, options);
      });
      if (done.state === 'completed') {
        const printed = this.jobs.tryMove(job.id, 'printing', 'printed', { error: null });
        // The resident's photo is in the printed card now; the separate copy is not kept.
        this.jobs.removeSpool(job.id, 'photo');
        if (printed) this.createSealJob(printed);
      } else {
        this.jobs.tryMove(job.id, 'printing', 'failed', {
          reason: `the printer ended the job as ${done.state}${done.reasons.length ? ` (${done.reasons.join(', ')})` : ''}`,
        });
      }
      return true;
    } catch (err) {
      const nothingSent =
        err instanceof NotHandedOver || err instanceof DeviceBusyError || err instanceof DeviceNotReadyError;
      if (nothingSent) {
        this.jobs.tryMove(job.id, 'printing', 'queued', { reason: `not sent: ${message(err)}` });
        return false;
      }
      if (err instanceof Refused) {
        this.jobs.tryMove(job.id, 'printing', 'failed', {
          reason: `the printer refused the job: ${err.message}`,
        });
        return true;
      }
      this.jobs.tryMove(job.id, 'printing', 'in_doubt', {
        reason: `interrupted after the document may have reached the printer: ${message(err)}`,
      });
      return true;
    }
  }

  /** Polls Get-Job-Attributes until the job ends; past the timeout the outcome is unknown (throws). */
  private async followRemoteJob(
    driver: PhotoPrinterDriver,
    remote: RemoteJob,
    options: PhotoPrinterOptions,
  ): Promise<RemoteJob> {
    const deadline = Date.now() + options.jobTimeoutMs;
    let current = remote;
    while (current.state !== 'completed' && current.state !== 'aborted' && current.state !== 'canceled') {
      if (Date.now() > deadline) {
        throw new Error(
          `printer job ${remote.id} did not finish in ${options.jobTimeoutMs} ms (${current.state})`,
        );
      }
      await sleep(options.jobPollMs);
      current = await driver.job(remote.id);
    }
    return current;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
