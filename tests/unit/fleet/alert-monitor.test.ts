// Box-side alerts (config `alerts`) against a real store and event log, with the device list and outbox
// summary given by the test (the e2e test drives a real daemon's simulator): each condition is raised once,
// cleared once, and a restart neither raises an open alert again nor forgets to clear it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../../agent/devices/supervised-device.js';
import { EventLog } from '../../../agent/events/event-log.js';
import { AlertMonitor, type AlertsConfig } from '../../../agent/fleet/alert-monitor.js';
import type { OutboxTelemetry } from '../../../agent/fleet/contract.js';
import { Store } from '../../../agent/store/store.js';

const T0 = Date.parse('2026-01-01T08:00:00.000Z');
const config: AlertsConfig = { deviceNotReadySeconds: 300, outboxDepth: 1000, outboxAgeSeconds: 900 };

let dir: string;
let store: Store;
let events: EventLog;
let devices: DeviceStatus[];
let outbox: OutboxTelemetry;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'boxagent-alerts-'));
  store = Store.open(dir);
  events = new EventLog(store, 10_000, true);
  devices = [device('printer-1', 'ready', T0)];
  outbox = { depth: 0, oldestUnsentAgeSeconds: null, droppedSinceStart: 0 };
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function device(id: string, state: DeviceStatus['state'], since: number): DeviceStatus {
  return {
    id,
    kind: 'printer',
    name: id,
    transport: 'simulated',
    state,
    since: new Date(since).toISOString(),
    reason: null,
    reasonCode: state === 'ready' ? null : 'not-answering',
    detail: null,
    conditions: [],
    identity: null,
    consecutiveFailures: 0,
  };
}

function monitor(): AlertMonitor {
  return new AlertMonitor(
    events,
    store,
    { config: () => config, devices: () => devices, outbox: () => outbox },
    pino({ level: 'silent' }),
  );
}

const alertEvents = () =>
  store.outbox
    .after(0, 1000)
    .filter((e) => e.type.startsWith('alert.'))
    .map((e) => ({ type: e.type, ...(e.payload as { alert: string; since: string; deviceId?: string }) }));

describe('alerts', () => {
  it('raises device-not-ready once after the set time and clears it once when the device is ready', () => {
    const m = monitor();
    devices = [device('printer-1', 'error', T0)];
    m.check(true, T0 + 299_000);
    expect(alertEvents()).toEqual([]);
    m.check(true, T0 + 300_000);
    // Moving on through backoff and opening keeps the same condition: no second alert.
    devices = [device('printer-1', 'backoff', T0 + 301_000)];
    m.check(true, T0 + 400_000);
    devices = [device('printer-1', 'opening', T0 + 402_000)];
    m.check(true, T0 + 403_000);
    devices = [device('printer-1', 'ready', T0 + 404_000)];
    m.check(true, T0 + 405_000);
    m.check(true, T0 + 406_000);
    expect(alertEvents()).toEqual([
      {
        type: 'alert.raised',
        alert: 'device-not-ready',
        deviceId: 'printer-1',
        since: '2026-01-01T08:00:00.000Z',
        detail: expect.stringContaining('printer-1 is error (not-answering)') as unknown,
      },
      {
        type: 'alert.cleared',
        alert: 'device-not-ready',
        deviceId: 'printer-1',
        since: '2026-01-01T08:00:00.000Z',
        detail: 'printer-1 is ready',
      },
    ]);
  });

  it('raises outbox-growing on depth or age and clears it when the outbox drains', () => {
    const m = monitor();
    outbox = { depth: 1001, oldestUnsentAgeSeconds: 10, droppedSinceStart: 0 };
    m.check(true, T0);
    outbox = { depth: 5, oldestUnsentAgeSeconds: 901, droppedSinceStart: 0 };
    m.check(true, T0 + 5000);
    outbox = { depth: 0, oldestUnsentAgeSeconds: null, droppedSinceStart: 0 };
    m.check(true, T0 + 10_000);
    m.check(true, T0 + 15_000);
    expect(alertEvents().map((e) => [e.type, e.since])).toEqual([
      ['alert.raised', '2026-01-01T08:00:00.000Z'],
      ['alert.cleared', '2026-01-01T08:00:00.000Z'],
    ]);
    expect(alertEvents()[0]).toMatchObject({
      alert: 'outbox-growing',
      detail: expect.stringMatching(/^1001 events/) as unknown,
    });
  });

  it('remembers raised alerts across a restart: not raised again, cleared when the condition is gone', () => {
    devices = [device('printer-1', 'error', T0), device('seal-1', 'absent', T0)];
    const first = monitor();
    first.check(true, T0 + 301_000);
    expect(alertEvents()).toHaveLength(2);

    // The daemon restarts: printer-1 still in error, seal-1 gone from the config.
    devices = [device('printer-1', 'opening', T0 + 302_000)];
    const second = monitor();
    second.start();
    second.stop();
    second.check(true, T0 + 900_000);
    expect(alertEvents().map((e) => `${e.type} ${e.deviceId}`)).toEqual([
      'alert.raised printer-1',
      'alert.raised seal-1',
      'alert.cleared seal-1',
    ]);
    expect(second.active()).toEqual([expect.objectContaining({ deviceId: 'printer-1' })]);
  });
});
