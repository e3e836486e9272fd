// Metrics and fleet telemetry count jobs from the one job table, by kind and state, certificates included.
import { afterEach, describe, expect, it } from 'vitest';
import { TelemetrySampler } from '../../../agent/fleet/telemetry.js';
import { Metrics } from '../../../agent/metrics.js';
import { buildServices, type TestServices } from '../../helpers/fleet-services.js';

let t: TestServices | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('job counts', () => {
  it('are by kind and state in /metrics and in telemetry', async () => {
    t = buildServices(`box: { id: box-1 }
face: { enabled: false }
devices:
  - { id: printer-1, kind: printer, transport: { type: simulated } }
`);
    const { services } = t;
    services.printing.jobs.create('printer-1', {
      printer: 'printer-1',
      bytes: 1,
      copies: 1,
      template: null,
      submittedBy: 't',
    });
    const card = services.certificates.jobs.create('photo-1', {
      template: 'senior-citizen-card',
      fields: {},
      seal: null,
      submittedBy: 't',
    });
    services.certificates.jobs.move(card.id, 'queued', 'composing');
    services.certificates.jobs.recover(); // composing → queued again
    services.certificates.jobs.cancel(card.id, 't');

    const text = await new Metrics(services.devices, services.store).registry.metrics();
    expect(text).toContain('boxagent_jobs{kind="print",state="queued"} 1');
    expect(text).toContain('boxagent_jobs{kind="certificate",state="canceled"} 1');

    const sample = await new TelemetrySampler(services, '/tmp', () => ({
      depth: 0,
      oldestUnsentAgeSeconds: null,
      droppedSinceStart: 0,
    })).sample();
    expect(sample.jobs).toEqual({ print: { queued: 1 }, certificate: { canceled: 1 } });
  });
});
