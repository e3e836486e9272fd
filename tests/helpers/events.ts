// Valid payloads of the event catalog for tests that need some events in the log (the schemas are checked on
// publish under vitest).
import type { EventPayload } from '../../agent/events/catalog.js';

/** A finished device self-test: a job event, so never dropped from a full outbox. */
export function selftestDone(job: string): EventPayload<'selftest.job'> {
  return { job, kind: 'selftest', device: 'printer-1', state: 'done', previous: 'running', by: 'test' };
}

/** A device state change: the kind of event a full outbox drops first. */
export function deviceReady(device = 'printer-1'): EventPayload<'device.state'> {
  return {
    device,
    kind: 'printer',
    state: 'ready',
    previous: 'opening',
    reason: null,
    reasonCode: null,
    detail: null,
    conditions: [],
  };
}
