// Certificate jobs: queued → composing → printing → printed, with failed, in_doubt and canceled. A job
// is composed (template + fields + photo → one 300 dpi image), handed to the photo printer once, followed
// to completion, and then, if asked, gets a seal job that waits for the clerk's confirmation (the seal is
// never pressed from here). `printing` is committed before the document leaves: a job a crash caught
// there is in_doubt at the next start and printed again only when an operator says so. Composing is pure
// and simply runs again. Every change is a `certificate.job` event in the transaction that makes it.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { Problem } from '../problems/problem.js';
import type { PhotoService } from '../photos/photo-service.js';
import type { SealService } from '../sealing/seal-service.js';
import type { CertificateChange, CertificateRecord, CertificateState } from '../store/certificates.js';
import type { Store } from '../store/store.js';
import { composeCertificate } from './compose.js';
import { checkFields, loadCertificateTemplate } from './templates.js';
import { Wakers } from '../queue/wakers.js';

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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nothing reached the printer: the job may go back to the queue. */
class NotHandedOver extends Error {}
/** The printer refused the job when it was handed over: nothing was printed. */
class Refused extends Error {}

export class CertificateService {
  private readonly spoolDir: string;
  private readonly wakers = new Wakers();
  private readonly workers: Promise<void>[] = [];
  private stopped = true;

  constructor(private readonly deps: CertificateServiceDeps) {
    this.spoolDir = join(deps.storageDir, 'spool', 'certificates');
  }

  /** Settles what a previous run left half-done, then starts one worker per photo printer. */
  start(): void {
    mkdirSync(this.spoolDir, { recursive: true, mode: 0o700 });
    const { store, log } = this.deps;
    for (const c of store.certificates.inState('composing')) {
      this.move(c.id, ['composing'], 'queued');
    }
    for (const c of store.certificates.inState('printing')) {
      const where = c.remoteJobId === null ? '' : ` (the printer had it as job ${c.remoteJobId})`;
      this.move(c.id, ['printing'], 'in_doubt', {
        error: `the agent stopped while the certificate was being printed${where}; look at the card, then resolve it`,
      });
      log.warn({ certificate: c.id }, 'certificate found printing at start-up: now in_doubt');
    }
    for (const c of store.certificates.awaitingSealJob()) this.createSealJob(c);
    this.stopped = false;
    for (const d of this.deps.devices.list()) {
      if (d.kind === 'photo-printer') this.workers.push(this.work(d.id));
    }
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    this.wakers.wakeAll();
    await Promise.race([Promise.all(this.workers), sleep(graceMs)]);
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
    const photoFile = this.file(id, 'photo');
    writeFileSync(photoFile, photo, { mode: 0o600 });
    try {
      const view = this.deps.store.transaction(() => {
        const c = this.deps.store.certificates.insert({
          id,
          printer: req.printer,
          template: req.template,
          input: { fields: req.fields, seal: req.seal ?? null, submittedBy: by },
        });
        this.deps.events.publish('certificate.job', {
          job: id,
          kind: 'certificate',
          device: req.printer,
          template: req.template,
          state: 'queued',
          previous: null,
        });
        const v = this.view(c, false);
        remember?.(v);
        return v;
      });
      this.wakers.wake(req.printer);
      return view;
    } catch (err) {
      rmSync(photoFile, { force: true });
      throw err;
    }
  }

  get(id: string, withSealToken: boolean): CertificateView {
    return this.view(this.record(id), withSealToken);
  }

  list(
    filter: { state?: CertificateState; printer?: string; limit: number },
    withSealToken: boolean,
  ): CertificateView[] {
    return this.deps.store.certificates.list(filter).map((c) => this.view(c, withSealToken));
  }

  /** The composed card as it went (or will go) to the printer. */
  document(id: string): { format: 'image/jpeg' | 'image/png'; data: Buffer } {
    this.record(id);
    for (const [ext, format] of [
      ['jpg', 'image/jpeg'],
      ['png', 'image/png'],
    ] as const) {
      try {
        return { format, data: readFileSync(this.file(id, ext)) };
      } catch {
        // not this format
      }
    }
    throw new Problem('not-found', `certificate ${id} has no composed document yet`, ['id']);
  }

  cancel(id: string, by: string): CertificateView {
    const current = this.record(id);
    const c = this.move(id, ['queued'], 'canceled', { error: `canceled by ${by}` });
    if (!c) {
      throw new Problem(
        'job-state-conflict',
        `certificate ${id} is ${current.state}; only a queued one can be canceled`,
        ['id'],
      );
    }
    this.removeFiles(id);
    return this.view(c, false);
  }

  /** An operator's word on a certificate in doubt: it printed (→ printed, then its seal job), or print again. */
  resolve(id: string, outcome: 'printed' | 'reprint', by: string): CertificateView {
    const current = this.record(id);
    const c =
      outcome === 'printed'
        ? this.move(id, ['in_doubt'], 'printed', { error: `resolved as printed by ${by}` })
        : this.move(id, ['in_doubt'], 'queued', { error: `reprint requested by ${by}` });
    if (!c)
      throw new Problem('job-state-conflict', `certificate ${id} is ${current.state}, not in_doubt`, ['id']);
    this.deps.store.audit.append({
      actor: by,
      action: 'certificate.resolve',
      target: id,
      detail: { outcome },
    });
    if (outcome === 'printed') {
      rmSync(this.file(id, 'photo'), { force: true });
      return this.view(this.createSealJob(c), false);
    }
    this.wakers.wake(c.printer);
    return this.view(c, false);
  }

  private record(id: string): CertificateRecord {
    const c = this.deps.store.certificates.get(id);
    if (!c) throw new Problem('not-found', `no certificate "${id}"`, ['id']);
    return c;
  }

  private view(c: CertificateRecord, withSealToken: boolean): CertificateView {
    let token = c.sealToken;
    if (token !== null && c.sealJobId !== null) {
      // The token is only worth keeping while the seal job waits for it.
      const seal = this.deps.store.sealJobs.get(c.sealJobId);
      if (!seal || seal.state !== 'pending') {
        this.deps.store.certificates.clearSealToken(c.id);
        token = null;
      }
    }
    return {
      id: c.id,
      printer: c.printer,
      template: c.template,
      state: c.state,
      fields: c.input.fields,
      submittedBy: c.input.submittedBy,
      documentSha256: c.documentSha256,
      printerJobId: c.remoteJobId,
      seal: c.input.seal && {
        ...c.input.seal,
        jobId: c.sealJobId,
        ...(withSealToken && token !== null ? { confirmationToken: token } : {}),
      },
      error: c.error,
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

  private file(id: string, ext: string): string {
    return join(this.spoolDir, `${id}.${ext}`);
  }

  private removeFiles(id: string): void {
    for (const ext of ['photo', 'jpg', 'png']) rmSync(this.file(id, ext), { force: true });
  }

  private move(
    id: string,
    from: readonly CertificateState[],
    to: CertificateState,
    change: CertificateChange = {},
  ): CertificateRecord | undefined {
    return this.deps.store.transaction(() => {
      const before = this.deps.store.certificates.get(id);
      const c = this.deps.store.certificates.transition(id, from, to, change);
      if (c && before) {
        this.deps.events.publish('certificate.job', {
          job: id,
          kind: 'certificate',
          device: c.printer,
          template: c.template,
          state: to,
          previous: before.state,
          ...(change.error ? { reason: change.error } : {}),
          ...(c.remoteJobId === null ? {} : { printerJob: c.remoteJobId }),
        });
      }
      return c;
    });
  }

  /**
   * The seal step after printing: a pending seal job (with its confirmation token) for the clerk to
   * confirm. A failure here leaves the certificate printed without one; the next start tries again.
   */
  private createSealJob(c: CertificateRecord): CertificateRecord {
    const seal = c.input.seal;
    if (!seal || c.sealJobId !== null) return c;
    const template = loadCertificateTemplate(c.template);
    const number = (template.numberField && c.input.fields[template.numberField]) || c.id;
    try {
      return this.deps.store.transaction(() => {
        const { job, token } = this.deps.seals.create(
          {
            device: seal.device,
            operator: seal.operator,
            document: {
              kind: c.template,
              number,
              ...(c.documentSha256 ? { hash: c.documentSha256 } : {}),
            },
          },
          c.input.submittedBy,
        );
        const updated = this.deps.store.certificates.setSealJob(c.id, job.id, token);
        this.deps.events.publish('certificate.job', {
          job: c.id,
          kind: 'certificate',
          device: c.printer,
          template: c.template,
          state: c.state,
          previous: c.state,
          sealJob: job.id,
        });
        return updated;
      });
    } catch (err) {
      this.deps.log.error(
        { certificate: c.id, err },
        'could not create the seal job for a printed certificate',
      );
      return c;
    }
  }

  private async work(printer: string): Promise<void> {
    const pollMs = this.deps.pollMs ?? 250;
    while (!this.stopped) {
      try {
        const next = this.deps.store.certificates.nextQueued(printer);
        const device = this.deps.devices.find(printer, 'photo-printer');
        if (!next || !device || !isPhotoPrinterDriver(device.driver) || device.currentState() !== 'ready') {
          await this.wakers.idle(printer, pollMs);
          continue;
        }
        const status = await device.driver.status();
        if (status.state === 'attention' || status.state === 'offline') {
          await this.wakers.idle(printer, pollMs);
          continue;
        }
        if (!(await this.process(next, device, device.driver))) await this.wakers.idle(printer, pollMs);
      } catch (err) {
        this.deps.log.error({ printer, err }, 'certificate worker error');
        await this.wakers.idle(printer, pollMs);
      }
    }
  }

  /** Composes and prints one certificate; false when it went back to the queue. */
  private async process(
    job: CertificateRecord,
    device: SupervisedDevice<'photo-printer'>,
    driver: PhotoPrinterDriver,
  ): Promise<boolean> {
    if (!this.move(job.id, ['queued'], 'composing', { error: null })) return true; // canceled meanwhile
    const format = driver.formats()[0] === 'image/png' ? 'image/png' : 'image/jpeg';
    let document: Buffer;
    try {
      const template = loadCertificateTemplate(job.template);
      const photo = readFileSync(this.file(job.id, 'photo'));
      document = (await composeCertificate(template, job.input.fields, photo, format)).image;
      writeFileSync(this.file(job.id, format === 'image/png' ? 'png' : 'jpg'), document, { mode: 0o600 });
    } catch (err) {
      this.move(job.id, ['composing'], 'failed', { error: `composing failed: ${message(err)}` });
      return true;
    }
    const sha256 = createHash('sha256').update(document).digest('hex');
    // The point of no return is committed before the document leaves.
    if (!this.move(job.id, ['composing'], 'printing', { documentSha256: sha256 })) return true;
    const options = device.config.photoPrinter;
    try {
      const done = await device.use(async () => {
        let remote: RemoteJob;
        try {
          remote = await driver.submit({ data: document, format, jobName: `${job.template} ${job.id}` });
        } catch (err) {
          if (err instanceof IppTransportError && !err.sent) throw new NotHandedOver(err.message);
          if (err instanceof IppStatusError) throw new Refused(err.message);
          throw err;
        }
        this.deps.store.certificates.setRemoteJob(job.id, remote.id);
        return this.followRemoteJob(driver, remote, options);
      });
      if (done.state === 'completed') {
        const printed = this.move(job.id, ['printing'], 'printed', { error: null });
        // The resident's photo is in the printed card now; the separate copy is not kept.
        rmSync(this.file(job.id, 'photo'), { force: true });
        if (printed) this.createSealJob(printed);
      } else {
        this.move(job.id, ['printing'], 'failed', {
          error: `the printer ended the job as ${done.state}${done.reasons.length ? ` (${done.reasons.join(', ')})` : ''}`,
        });
      }
      return true;
    } catch (err) {
      const nothingSent =
        err instanceof NotHandedOver || err instanceof DeviceBusyError || err instanceof DeviceNotReadyError;
      if (nothingSent) {
        this.move(job.id, ['printing'], 'queued', { error: `not sent: ${message(err)}` });
        return false;
      }
      if (err instanceof Refused) {
        this.move(job.id, ['printing'], 'failed', { error: `the printer refused the job: ${err.message}` });
        return true;
      }
      this.move(job.id, ['printing'], 'in_doubt', {
        error: `interrupted after the document may have reached the printer: ${message(err)}`,
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
