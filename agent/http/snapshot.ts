// The snapshot an event stream sends first on every (re)connect: the current devices, printer queues and
// jobs in flight, so a page opened or reloaded at any moment shows the right state before any event arrives.
// Filtered by the token's scopes like the events themselves.
import { Type, type Static } from '@sinclair/typebox';
import { JOB_EVENT_TYPES, type JobEventKind } from '../events/catalog.js';
import type { JobEngine } from '../jobs/engine.js';
import { DeviceStatusSchema } from '../operations/device-ops.js';
import { PrintQueueSchema } from '../operations/print-ops.js';
import type { Services } from '../services.js';

/** A job in flight as the snapshot shows it: its `<kind>.job` event payload without the move, plus times. */
export const SnapshotJobSchema = Type.Object({
  job: Type.String(),
  kind: Type.String(),
  device: Type.String(),
  state: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const SnapshotSchema = Type.Object({
  seq: Type.Integer({ description: 'The last event seq this snapshot includes; 0 before the first' }),
  devices: Type.Array(DeviceStatusSchema, { description: 'As GET /v1/devices' }),
  queues: Type.Array(PrintQueueSchema, {
    description: 'Dot-matrix printer queues, as GET /v1/printers/:id/queue',
  }),
  jobs: Type.Array(SnapshotJobSchema, { description: 'Jobs not in a final state, every kind, oldest first' }),
});
export type Snapshot = Static<typeof SnapshotSchema>;

type SnapshotJob = Snapshot['jobs'][number];

/** An engine's jobs in flight as snapshot entries. */
const inFlight =
  <S extends string, I, St extends object>(engine: JobEngine<S, I, St>) =>
  (): SnapshotJob[] =>
    engine
      .unfinished()
      .map((job) => ({ ...engine.view(job), createdAt: job.createdAt, updatedAt: job.updatedAt }));

/** Each job kind's jobs in flight; a mapped type, so a new `<kind>.job` event fails to compile until listed. */
function jobSources(services: Services): { [K in JobEventKind]: () => SnapshotJob[] } {
  return {
    print: inFlight(services.printing.jobs),
    seal: inFlight(services.seals.jobs),
    certificate: inFlight(services.certificates.jobs),
    rating: inFlight(services.ratings.jobs),
    selftest: inFlight(services.selfTests.jobs),
    update: () => services.updates?.inFlight() ?? [],
  };
}

/**
 * The snapshot for a caller allowed to receive the event types `allowed` accepts, as of event `seq`. Built
 * synchronously (sqlite reads, in-memory device states), so no event can slip in between it and `seq`.
 */
export function buildSnapshot(
  services: Services,
  seq: number,
  allowed: (eventType: string) => boolean,
): Snapshot {
  const sources = jobSources(services);
  const jobs = JOB_EVENT_TYPES.filter(allowed).flatMap((type) =>
    sources[type.slice(0, -'.job'.length) as JobEventKind](),
  );
  return {
    seq,
    devices: allowed('device.state') ? services.devices.list() : [],
    queues: allowed('print.queue') ? services.printing.queueStatuses() : [],
    jobs,
  };
}
