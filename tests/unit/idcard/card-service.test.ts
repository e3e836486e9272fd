// The agent's view of ID card readers: a simulated reader (the real driver on an in-process reader
// simulator) under the device manager, its card kept for the freshness window and published masked.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { withDeviceDefaults, type DeviceConfigOf } from '../../../config/schema.js';
import { DeviceManager } from '../../../agent/devices/device-manager.js';
import { createDriver } from '../../../agent/kinds/index.js';
import { EventLog, type AgentEvent } from '../../../agent/events/event-log.js';
import { IdCardService } from '../../../agent/idcard/card-service.js';
import { Store } from '../../../agent/store/store.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(idcard?: Partial<DeviceConfigOf<'idcard'>['idcard']>): {
  service: IdCardService;
  events: EventLog;
  heard: AgentEvent[];
} {
  const dir = tempDir();
  const store = Store.open(dir);
  cleanups.push(
    () => removeDir(dir),
    () => store.close(),
  );
  const events = new EventLog(store, 1000);
  const heard: AgentEvent[] = [];
  events.subscribe((e) => heard.push(e));
  const devices = new DeviceManager(
    [
      withDeviceDefaults({ id: 'reader-1', kind: 'idcard', transport: { type: 'simulated' }, idcard }),
      withDeviceDefaults({ id: 'printer-1', kind: 'printer', transport: { type: 'simulated' } }),
    ],
    { probeIntervalMs: 1000, failuresBeforeError: 3, backoffInitialMs: 100, backoffMaxMs: 1000 },
    createDriver,
    pino({ level: 'silent' }),
    () => undefined,
  );
  const service = new IdCardService(devices, events, pino({ level: 'silent' }));
  devices.start();
  service.start();
  cleanups.push(
    () => devices.stop(),
    () => service.stop(),
  );
  return { service, events, heard };
}

describe('IdCardService', () => {
  it('keeps the last card for the freshness window only', async () => {
    const { service } = setup({
      pollIntervalMs: 100,
      commandTimeoutMs: 2000,
      readTimeoutMs: 3000,
      freshnessMs: 5000,
      revealIdNumber: false,
    });
    await waitFor('the sample card read', () => service.lastCard('reader-1').found);
    const last = service.lastCard('reader-1');
    expect(last.found && last.card.idNumber).toBe('430102198503151236');
    expect(service.lastCard('reader-1', Date.now() + 6000)).toEqual({ found: false, reason: 'no-card' });
    expect(service.lastCard('printer-1')).toEqual({ found: false, reason: 'not-a-reader' });
  });

  it('publishes idcard.read live with the ID number masked, without the photo, and keeps none of it', async () => {
    const { events, heard } = setup(undefined);
    await waitFor('the event', () => heard.some((e) => e.type === 'idcard.read'));
    const event = heard.find((e) => e.type === 'idcard.read')!;
    expect(event.payload).toMatchObject({
      device: 'reader-1',
      idNumber: '430***********1236',
      idNumberMasked: true,
      photo: { format: 'wlt', bytes: 1024, available: false },
    });
    expect(JSON.stringify(event.payload)).not.toContain('430102198503151236');
    // Personal data never goes into the event log (nor, so, to the fleet).
    expect(event.seq).toBeNull();
    expect(events.replay(0).filter((e) => e.type === 'idcard.read')).toEqual([]);
  });

  it('puts the full ID number in the event when the reader has revealIdNumber', async () => {
    const { heard } = setup({
      pollIntervalMs: 100,
      commandTimeoutMs: 2000,
      readTimeoutMs: 3000,
      freshnessMs: 5000,
      revealIdNumber: true,
    });
    await waitFor('the event', () => heard.some((e) => e.type === 'idcard.read'));
    expect(heard.find((e) => e.type === 'idcard.read')?.payload).toMatchObject({
      idNumber: '430102198503151236',
      idNumberMasked: false,
    });
  });
});
