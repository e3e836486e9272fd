// The outbox as the fleet's durable queue: trimming never removes an unsent event when a fleet link is
// configured, and the unsent backlog is bounded by dropping device events, never job, seal or audit ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../../agent/events/event-log.js';
import { EventPump } from '../../../agent/fleet/event-pump.js';
import { Store } from '../../../agent/store/store.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'boxagent-outbox-'));
  store = Store.open(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('event log trimming', () => {
  it('keeps every unsent event when a fleet link is configured, and trims sent ones', () => {
    const events = new EventLog(store, 100, true);
    for (let i = 0; i < 1000; i++) events.publish('device.state', { i });
    expect(store.outbox.unsentSummary().count).toBe(1000);
    store.outbox.markPublished(
      store.outbox.unsentAfter(0, 500).map((e) => e.seq),
      new Date().toISOString(),
    );
    for (let i = 0; i < 1000; i++) events.publish('device.state', { i });
    expect(store.outbox.unsentSummary().count).toBe(1500);
    expect(store.outbox.after(0, 10_000)).toHaveLength(1500);
  });

  it('without a fleet link keeps only the newest events', () => {
    const events = new EventLog(store, 100, false);
    for (let i = 0; i < 1000; i++) events.publish('device.state', { i });
    expect(store.outbox.after(0, 10_000)).toHaveLength(100);
  });
});

describe('outbox bound', () => {
  it('drops the oldest device events beyond the bound, keeps job/seal/audit events, and warns in telemetry', () => {
    const events = new EventLog(store, 100_000, true);
    const types = ['device.state', 'print.job', 'seal.job', 'audit.entry', 'certificate.job'];
    for (let i = 0; i < 500; i++) events.publish(types[i % 5]!, { i });
    const pump = new EventPump(
      store,
      events,
      () => undefined,
      { topic: 't', maxUnsent: 200, maxUnsentAgeDays: 30 },
      pino({ level: 'silent' }),
    );
    pump.enforceBound();
    const left = store.outbox.unsentAfter(0, 1000);
    expect(left).toHaveLength(400); // 100 device events could go; the 400 job and audit ones stay over the bound
    expect(left.filter((e) => e.type === 'device.state')).toHaveLength(0);
    const stats = pump.stats();
    expect(stats).toMatchObject({ depth: 400, droppedSinceStart: 100 });
    expect(stats.warning).toMatch(/outbox full/);
  });

  it('drops device events older than the age bound', () => {
    store.outbox.append({
      id: 'old',
      type: 'device.state',
      payload: {},
      createdAt: '2000-01-01T00:00:00.000Z',
    });
    store.outbox.append({
      id: 'old-job',
      type: 'job.done',
      payload: {},
      createdAt: '2000-01-01T00:00:00.000Z',
    });
    const n = store.outbox.dropUnsent(1000, '2020-01-01T00:00:00.000Z', ['job.', 'seal.', 'audit.']);
    expect(n).toBe(1);
    expect(store.outbox.unsentAfter(0, 10).map((e) => e.id)).toEqual(['old-job']);
  });
});
