// A job kind: what the one job engine needs to know to run it. A kind declares its states and the moves
// between them (the engine refuses any other), what start-up does with jobs a stopped agent left mid-way,
// how an operator may settle a job in doubt, and the fields its events carry.
import type { JobEventKind } from '../events/catalog.js';
import type { JobRecord } from '../store/jobs.js';

/** A job of one kind, with its own state set, input and steps. */
export interface Job<
  S extends string = string,
  I = unknown,
  St extends object = Record<string, unknown>,
> extends Omit<JobRecord, 'state' | 'input' | 'steps'> {
  state: S;
  input: I;
  steps: Partial<St>;
}

export interface JobKind<S extends string, I, St extends object = Record<string, unknown>> {
  /** The `kind` column, and the event type `<name>.job`. */
  readonly name: JobEventKind;
  /** How a job of this kind is named in messages ("print job", "certificate"). */
  readonly label: string;
  readonly states: readonly S[];
  /** The state a new job starts in. */
  readonly initial: S;
  /** Allowed moves: each state and the states it may go to. A move to the same state updates steps. */
  readonly moves: { readonly [K in S]?: readonly S[] };
  /**
   * Start-up recovery: a job found in one of these states was in flight when the agent stopped; it goes to
   * `to` with `reason` as its error (in_doubt when the device may have acted, a retry when it cannot have).
   */
  readonly recovery?: {
    readonly [K in S]?: { readonly to: S; readonly reason: string | ((job: Job<S, I, St>) => string) };
  };
  /** The state the per-device queue takes jobs from, oldest first. Kinds without a queue leave it out. */
  readonly queued?: S;
  /** States an operator may cancel from; the job then goes to `canceled`. */
  readonly cancelable?: readonly S[];
  /** The state an operator settles (`in_doubt`), and the state each of their answers leads to. */
  readonly resolutions?: { readonly from: S; readonly to: Readonly<Record<string, S>> };
  /** The problem code of a refused move (409): `job-state-conflict` unless the kind has its own. */
  readonly conflictCode?: 'job-state-conflict' | 'seal-job-conflict';
  /** The stored error for a reason (each kind's API shows its error its own way). */
  error(reason: string): unknown;
  /** The kind's own fields in every `<name>.job` event, beside {job, kind, device, state, previous}. */
  eventFields?(job: Job<S, I, St>): Record<string, unknown>;
  /** Folder under `<storage>/spool` for the kind's files (bytes, photos); none when it needs no files. */
  readonly spool?: string;
}
