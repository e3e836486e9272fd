// Service ratings at the counter: the clerk's software asks, the pad lights and waits for the resident's key,
// and the answer (or a timeout) is recorded as a `rating` job. One rating at a time per pad: a second request
// while one waits is refused (the clerk asked twice), not queued behind it.
import type { Logger } from 'pino';
import { RATING_LABELS, type Rating } from '../../drivers/rating-pad/ratings.js';
import type { RatingPad } from '../../drivers/rating-pad/rating-pad.js';
import type { DeviceManager } from '../devices/device-manager.js';
import type { SupervisedDevice } from '../devices/supervised-device.js';
import type { EventLog } from '../events/event-log.js';
import { JobEngine } from '../jobs/engine.js';
import { Problem } from '../problems/problem.js';
import type { Store } from '../store/store.js';
import {
  RATING_JOBS,
  type RatingInput,
  type RatingJob,
  type RatingJobState,
  type RatingResult,
} from './rating-jobs.js';
import { t, term } from '../messages/text.js';

const STOPPED = 'the agent stopped while the pad waited for a key; ask again';

export interface RatingRequestInput {
  /** The pad; may be left out when the box has one. */
  device?: string;
  counter: string;
  service: string;
  timeoutMs?: number;
  prompt?: string;
}

export interface RatingView {
  id: string;
  device: string;
  state: RatingJobState;
  counter: string;
  service: string;
  timeoutMs: number;
  rating: { value: Rating; zh: string; en: string } | null;
  reason: string | null;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
}

export class RatingService {
  readonly jobs: JobEngine<RatingJobState, RatingInput>;
  /** The wait of each rating still waiting, by job id: cancel() and stop() let them end. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    store: Store,
    events: EventLog,
    private readonly devices: DeviceManager,
    private readonly log: Logger,
  ) {
    this.jobs = new JobEngine({ store, events, log }, RATING_JOBS);
  }

  start(): void {
    this.jobs.recover();
  }

  /** Ends the waits still running (their ratings fail: the agent stopped) and waits for them. */
  async stop(): Promise<void> {
    for (const pad of this.devices.ofKind('rating-pad')) pad.driver.cancel();
    await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Lights the pad and records a waiting rating; the answer arrives as `rating.job` events. Refused, with
   * nothing stored, when the pad is not ready or already waits for another rating.
   */
  request(input: RatingRequestInput, by: string, remember?: (view: RatingView) => void): RatingView {
    const device = this.pad(input.device);
    const id = device.config.id;
    const state = device.currentState();
    if (state !== 'ready') {
      if (state === 'busy' || this.jobs.list({ state: 'waiting', device: id, limit: 1 }).length > 0) {
        throw new Problem('device-busy', t`rating pad "${id}" is waiting for another rating`, ['device']);
      }
      throw new Problem('device-unavailable', t`rating pad "${id}" is ${term(state)}`, ['device']);
    }
    const timeoutMs = input.timeoutMs ?? device.config.ratingPad.defaultTimeoutMs;
    const job = this.jobs.create(
      id,
      {
        counter: input.counter,
        service: input.service,
        timeoutMs,
        ...(input.prompt === undefined ? {} : { prompt: input.prompt }),
        requestedBy: by,
      },
      remember ? { also: (j) => remember(view(j)) } : {},
    );
    this.running.set(
      job.id,
      this.wait(job, device).finally(() => this.running.delete(job.id)),
    );
    return view(job);
  }

  get(id: string): RatingView {
    return view(this.jobs.require(id));
  }

  list(filter: { state?: RatingJobState; device?: string; limit: number }): RatingView[] {
    return this.jobs.list(filter).map(view);
  }

  /** Ends a waiting rating (the pad goes dark); 409 once it has an answer. */
  async cancel(id: string, by: string): Promise<RatingView> {
    const job = this.jobs.cancel(id, by);
    this.devices.find(job.device, 'rating-pad')?.driver.cancel();
    // Answered once the pad is dark and free again, so the counter can ask the next resident at once.
    await this.running.get(id);
    return view(job);
  }

  private pad(id: string | undefined): SupervisedDevice<'rating-pad'> {
    if (id !== undefined) return this.devices.require(id, 'rating-pad', ['device']);
    const pads = this.devices.ofKind('rating-pad');
    if (pads.length === 1) return pads[0]!;
    throw new Problem(
      pads.length === 0 ? 'not-found' : 'invalid-request',
      pads.length === 0
        ? t`this box has no rating pad`
        : t`this box has ${pads.length} rating pads: name one (${pads.map((p) => p.config.id).join(', ')})`,
      ['device'],
    );
  }

  private async wait(job: RatingJob, device: SupervisedDevice<'rating-pad'>): Promise<void> {
    try {
      const outcome = await device.use((pad: RatingPad) =>
        pad.requestRating({
          timeoutMs: job.input.timeoutMs,
          ...(job.input.prompt === undefined ? {} : { prompt: job.input.prompt }),
        }),
      );
      if (outcome.outcome === 'rated') {
        const result: RatingResult = {
          rating: outcome.rating,
          ...(outcome.key === undefined ? {} : { key: outcome.key }),
          at: outcome.at.toISOString(),
        };
        this.jobs.tryMove(job.id, 'waiting', 'rated', { result });
      } else if (outcome.outcome === 'timeout') {
        const seconds = Math.round(job.input.timeoutMs / 1000);
        this.jobs.tryMove(job.id, 'waiting', 'timeout', { reason: `no key was pressed in ${seconds} s` });
      } else {
        // Canceled by `cancel` (the job is already canceled: nothing moves) or by stop(), which a person did
        // not ask for: the rating failed and the counter asks again.
        this.jobs.tryMove(job.id, 'waiting', 'failed', { reason: STOPPED });
      }
    } catch (err) {
      // Busy, not ready, or the pad itself (lost, not answering): the reason says which.
      const reason = err instanceof Error ? err.message : String(err);
      this.log.warn({ job: job.id, device: job.device, err: reason }, 'rating failed');
      this.jobs.tryMove(job.id, 'waiting', 'failed', { reason });
    }
  }
}

function view(job: RatingJob): RatingView {
  const result = job.result as RatingResult | null;
  const error = job.error as { message?: string } | null;
  return {
    id: job.id,
    device: job.device,
    state: job.state,
    counter: job.input.counter,
    service: job.input.service,
    timeoutMs: job.input.timeoutMs,
    rating: result ? { value: result.rating, ...RATING_LABELS[result.rating] } : null,
    reason: error?.message ?? null,
    requestedBy: job.input.requestedBy,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}
