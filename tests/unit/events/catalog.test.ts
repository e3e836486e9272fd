// The naming rule for job events, held by the catalog: `<kind>.job`, the shared fields, `kind` = the prefix.
import { describe, expect, it } from 'vitest';
import { EVENT_CATALOG, JOB_EVENT_TYPES, JobEventBase, eventScope } from '../../../agent/events/catalog.js';

describe('event catalog', () => {
  it('names every job event <kind>.job with the shared fields and its kind', () => {
    expect(JOB_EVENT_TYPES).toEqual([
      'print.job',
      'seal.job',
      'certificate.job',
      'rating.job',
      'selftest.job',
      'update.job',
    ]);
    for (const type of JOB_EVENT_TYPES) {
      const payload = EVENT_CATALOG[type].payload;
      expect(payload.required).toEqual(expect.arrayContaining(JobEventBase.required ?? []));
      expect(payload.properties.kind).toMatchObject({ const: type.slice(0, -'.job'.length) });
    }
  });

  it('gives types it does not know (rows stored under an old name) to admin only', () => {
    expect(eventScope('seal.done')).toBe('admin');
    expect(eventScope('device.state')).toBe('read');
  });
});
