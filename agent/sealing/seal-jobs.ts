// The seal job kind on the job engine: pending → checking → firing → done | failed | in_doubt, and
// pending → expired. `firing` is committed (with its audit entry) before the stamp command leaves, so a job
// found there at start-up may have been pressed: it becomes in_doubt and is never fired again. A restart
// ends every confirmation window: pending jobs expire.
import type { Job, JobKind } from '../jobs/kind.js';
import { SEAL_JOB_STATES } from '../store/job-states.js';

export { SEAL_JOB_STATES };

export type SealJobState = (typeof SEAL_JOB_STATES)[number];

export interface SealDocument {
  kind: string;
  number: string;
  hash?: string;
}

/** What a seal job keeps as its input: the confirmation token only as a hash. */
export interface SealJobInput {
  document: SealDocument;
  operator: string;
  /** Name of the token that created the job. */
  createdBy: string;
  expiresAt: string;
  tokenHash: string;
}

export type SealJob = Job<SealJobState, SealJobInput>;

/** A seal job as the service hands it out (the input's fields at the top, as the API shows them). */
export interface SealJobRecord extends SealJobInput {
  id: string;
  device: string;
  state: SealJobState;
  result: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export function sealJobRecord(j: SealJob): SealJobRecord {
  return {
    id: j.id,
    device: j.device,
    state: j.state,
    ...j.input,
    result: j.result as Record<string, unknown> | null,
    error: j.error as Record<string, unknown> | null,
    createdAt: j.createdAt,
    updatedAt: j.updatedAt,
  };
}

export const SEAL_JOBS: JobKind<SealJobState, SealJobInput> = {
  name: 'seal',
  label: 'seal job',
  states: SEAL_JOB_STATES,
  initial: 'pending',
  moves: {
    pending: ['checking', 'expired'],
    checking: ['firing', 'failed'],
    firing: ['done', 'failed', 'in_doubt'],
    in_doubt: ['done', 'failed'],
  },
  recovery: {
    firing: {
      to: 'in_doubt',
      reason: 'the agent stopped while the seal was firing; whether it pressed is unknown',
    },
    checking: { to: 'failed', reason: 'the agent stopped before the stamp command was sent' },
    pending: { to: 'expired', reason: 'the agent restarted before the job was confirmed; create it again' },
  },
  resolutions: { from: 'in_doubt', to: { done: 'done', failed: 'failed' } },
  conflictCode: 'seal-job-conflict',
  error: (reason) => ({ reason }),
  eventFields: (job) => ({
    document: { kind: job.input.document.kind, number: job.input.document.number },
    operator: job.input.operator,
  }),
};
