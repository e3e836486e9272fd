// The certificate job kind on the job engine: queued → composing → printing → printed, with failed,
// in_doubt and canceled. Composing is pure work and runs again after a restart; `printing` is committed
// before the document leaves, so a job found there at start-up is in_doubt. The steps behind a job (the
// document's hash, the printer's job id, the seal job) are kept in `steps`.
import type { Job, JobKind } from '../jobs/kind.js';
import { CERTIFICATE_STATES } from '../store/job-states.js';

export { CERTIFICATE_STATES };

export type CertificateState = (typeof CERTIFICATE_STATES)[number];

/** What the request asked for, kept as given (the photo is a spool file beside the job). */
export interface CertificateInput {
  template: string;
  fields: Record<string, string>;
  seal: { device: string; operator: string } | null;
  submittedBy: string;
}

/** What has been done: the composed document, the printer's job, the seal job and its token. */
export interface CertificateSteps {
  documentSha256: string;
  remoteJobId: number;
  sealJobId: string;
  /** Kept only while the seal job is pending: the certificate's caller has no other way to learn it. */
  sealToken: string;
}

export type CertificateJob = Job<CertificateState, CertificateInput, CertificateSteps>;

export const CERTIFICATE_JOBS: JobKind<CertificateState, CertificateInput, CertificateSteps> = {
  name: 'certificate',
  label: 'certificate',
  states: CERTIFICATE_STATES,
  initial: 'queued',
  moves: {
    queued: ['composing', 'canceled'],
    composing: ['printing', 'failed', 'queued'],
    // Back to queued only when the document never reached the printer.
    printing: ['printed', 'failed', 'in_doubt', 'queued'],
    in_doubt: ['printed', 'queued'],
  },
  recovery: {
    composing: { to: 'queued', reason: 'the agent stopped while composing; composed again' },
    printing: {
      to: 'in_doubt',
      reason: (job) =>
        `the agent stopped while the certificate was being printed${job.steps.remoteJobId === undefined ? '' : ` (the printer had it as job ${job.steps.remoteJobId})`}; look at the card, then resolve it`,
    },
  },
  queued: 'queued',
  cancelable: ['queued'],
  resolutions: { from: 'in_doubt', to: { printed: 'printed', reprint: 'queued' } },
  error: (reason) => reason,
  eventFields: (job) => ({
    template: job.input.template,
    ...(job.steps.remoteJobId === undefined ? {} : { printerJob: job.steps.remoteJobId }),
    ...(job.steps.sealJobId === undefined ? {} : { sealJob: job.steps.sealJobId }),
  }),
  spool: 'certificates',
};
