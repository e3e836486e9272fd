// The print job kind on the job engine: queued → sending → done | failed | in_doubt, queued → canceled.
// A job found `sending` at start-up may have reached the printer: it becomes in_doubt, never re-sent.
import type { Job, JobKind } from '../jobs/kind.js';
import { PRINT_JOB_STATES } from '../store/job-states.js';

export { PRINT_JOB_STATES };

export type PrintJobState = (typeof PRINT_JOB_STATES)[number];

/** What a print job keeps as its input (the bytes are in the spool file `<id>.prn`). */
export interface PrintJobInput {
  printer: string;
  bytes: number;
  copies: number;
  template: string | null;
  submittedBy: string;
}

export type PrintJob = Job<PrintJobState, PrintJobInput>;

export const PRINT_JOBS: JobKind<PrintJobState, PrintJobInput> = {
  name: 'print',
  label: 'print job',
  states: PRINT_JOB_STATES,
  initial: 'queued',
  moves: {
    queued: ['sending', 'canceled', 'failed'],
    // Back to queued only when not one byte left (the printer was busy or gone).
    sending: ['done', 'failed', 'in_doubt', 'queued'],
    in_doubt: ['done', 'queued'],
  },
  recovery: {
    sending: {
      to: 'in_doubt',
      reason: 'the agent stopped while this job was being sent; check the paper, then resolve it',
    },
  },
  queued: 'queued',
  cancelable: ['queued'],
  resolutions: { from: 'in_doubt', to: { printed: 'done', reprint: 'queued' } },
  error: (message) => ({ message }),
  spool: '',
};
