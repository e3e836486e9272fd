// A service rating (好差评) as a job on the one job engine: waiting → rated | timeout | canceled | failed. A
// rating is durable like any job: its request, its answer and a timeout are `rating.job` events kept in the
// log and sent to the fleet. Nothing physical happens twice, so a rating a stopped agent left waiting simply
// failed (the resident's key, if any, is lost) and the counter asks again.
import type { Job, JobKind } from '../jobs/kind.js';
import { RATING_JOB_STATES } from '../store/job-states.js';

export { RATING_JOB_STATES };
export type RatingJobState = (typeof RATING_JOB_STATES)[number];

export interface RatingInput {
  counter: string;
  service: string;
  timeoutMs: number;
  prompt?: string;
  requestedBy: string;
}

export interface RatingResult {
  rating: 1 | 2 | 3 | 4 | 5;
  /** The pad's name for the key pressed. */
  key?: string;
  at: string;
}

export type RatingJob = Job<RatingJobState, RatingInput>;

export const RATING_JOBS: JobKind<RatingJobState, RatingInput> = {
  name: 'rating',
  label: 'rating',
  states: RATING_JOB_STATES,
  initial: 'waiting',
  moves: { waiting: ['rated', 'timeout', 'canceled', 'failed'] },
  recovery: {
    waiting: { to: 'failed', reason: 'the agent stopped while the pad waited for a key; ask again' },
  },
  cancelable: ['waiting'],
  error: (message) => ({ message }),
  eventFields: (job) => {
    const result = job.result as RatingResult | null;
    return {
      counter: job.input.counter,
      service: job.input.service,
      ...(result ? { rating: result.rating } : {}),
    };
  },
};
