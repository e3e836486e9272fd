// Stands in for a photo/certificate card printer: takes JPEG/PNG jobs, completes them at once, and keeps
// each document in `outputDir` (when set) with a line in `jobs.jsonl`, so `npm start` shows what would print.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceConditionCode, DeviceIdentity } from '../device.js';
import { COMMON_FAULTS, SimulatedDevice, type SimulatorFault } from '../simulated-device.js';
import {
  mapPrinterState,
  photoPrinterConditions,
  type PhotoDocument,
  type PhotoPrinterDriver,
  type PhotoPrinterStatus,
  type RemoteJob,
} from './photo-printer.js';

export class SimulatedPhotoPrinter extends SimulatedDevice implements PhotoPrinterDriver {
  readonly photoPrinter = true as const;
  override readonly faults: readonly SimulatorFault[] = [...COMMON_FAULTS, 'paper-out'];
  private nextJob = 1;
  private readonly jobs = new Map<number, RemoteJob>();

  constructor(private readonly outputDir?: string) {
    super();
  }

  protected identity(): DeviceIdentity {
    return { model: 'Photo/certificate printer (simulated)', serial: 'SIM-PHOTO-0001' };
  }
  protected selfTestSummary(): string {
    return `simulated photo printer: ${this.currentStatus().detail}`;
  }

  private currentStatus(): PhotoPrinterStatus {
    return this.fault === 'paper-out'
      ? mapPrinterState(5, ['media-empty-error'])
      : mapPrinterState(3, ['none']);
  }

  /** Like the IPP printer: an empty tray is a condition of a printer that answers. */
  async conditions(): Promise<readonly DeviceConditionCode[]> {
    await this.probeLink();
    return photoPrinterConditions(this.currentStatus());
  }

  formats(): readonly string[] {
    return ['image/jpeg', 'image/png'];
  }

  async status(): Promise<PhotoPrinterStatus> {
    await this.probeLink();
    return this.currentStatus();
  }

  async submit(doc: PhotoDocument): Promise<RemoteJob> {
    await this.probeLink();
    if (this.fault === 'paper-out') throw new Error('simulated photo printer: media-empty');
    const job: RemoteJob = {
      id: this.nextJob++,
      state: 'completed',
      reasons: ['job-completed-successfully'],
    };
    this.jobs.set(job.id, job);
    if (this.outputDir) {
      mkdirSync(this.outputDir, { recursive: true });
      const file = `job-${job.id}.${doc.format === 'image/png' ? 'png' : 'jpg'}`;
      writeFileSync(join(this.outputDir, file), doc.data);
      appendFileSync(
        join(this.outputDir, 'jobs.jsonl'),
        JSON.stringify({ job: job.id, name: doc.jobName, format: doc.format, bytes: doc.data.length, file }) +
          '\n',
      );
    }
    return job;
  }

  async job(id: number): Promise<RemoteJob> {
    await this.probeLink();
    return this.jobs.get(id) ?? { id, state: 'unknown', reasons: [] };
  }

  /** Offline and unplugged faults fail every call, as the base class's probe does. */
  private async probeLink(): Promise<void> {
    await this.selfTest();
  }
}
