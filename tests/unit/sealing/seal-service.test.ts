// What the seal service does at start-up with jobs a previous run left half-done: a job caught `firing` may
// have pressed the seal and becomes `in_doubt` (audited, announced); one caught `checking` never sent the
// stamp and fails; overdue pending jobs expire. None of them is fired.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceManager } from '../../../agent/devices/device-manager.js';
import { createDriver } from '../../../agent/kinds/index.js';
import { EventLog } from '../../../agent/events/event-log.js';
import { SealService } from '../../../agent/sealing/seal-service.js';
import { Store } from '../../../agent/store/store.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

function setup() {
  const dir = tempDir();
  dirs.push(dir);
  const store = Store.open(dir);
  const events = new EventLog(store, 1000);
  const devices = new DeviceManager(
    [],
    { probeIntervalMs: 1000, failuresBeforeError: 1, backoffInitialMs: 10, backoffMaxMs: 10 },
    createDriver,
    pino({ level: 'silent' }),
    () => undefined,
  );
  const seals = new SealService(store, events, devices, pino({ level: 'silent' }));
  const job = (id: string, expiresAt = new Date(Date.now() + 60_000).toISOString()) =>
    seals.jobs.create(
      'seal-1',
      {
        document: { kind: 'card', number: id },
        operator: 'clerk',
        createdBy: 'test',
        expiresAt,
        tokenHash: '00'.repeat(32),
      },
      { id },
    );
  return { store, events, seals, job };
}

describe('SealService start-up recovery', () => {
  it('puts firing jobs in doubt, fails checking jobs, expires every pending one (overdue or not)', () => {
    const { store, events, seals, job } = setup();
    job('a');
    seals.jobs.move('a', 'pending', 'checking');
    seals.jobs.move('a', 'checking', 'firing');
    job('b');
    seals.jobs.move('b', 'pending', 'checking');
    job('c', new Date(Date.now() - 1000).toISOString());
    job('d');

    seals.start();

    expect(store.jobs.get('a')?.state).toBe('in_doubt');
    expect(store.jobs.get('b')?.state).toBe('failed');
    expect(store.jobs.get('c')?.state).toBe('expired');
    // A restart ends every confirmation window: the wall clock cannot say how long the agent was down.
    expect(store.jobs.get('d')?.state).toBe('expired');
    const types = events.replay(0).map((e) => e.type);
    const states = events
      .replay(0)
      .filter((e) => e.type === 'seal.job')
      .map((e) => {
        const p = e.payload as Record<string, unknown>;
        return [p.job, p.previous, p.state];
      });
    expect(states).toEqual(
      expect.arrayContaining([
        ['a', 'firing', 'in_doubt'],
        ['b', 'checking', 'failed'],
        ['c', 'pending', 'expired'],
      ]),
    );
    expect(types.filter((t) => t.startsWith('seal.') && t !== 'seal.job')).toEqual([]);
    expect(store.audit.list(0, 100).map((e) => [e.action, e.target])).toEqual(
      expect.arrayContaining([
        ['seal.in_doubt', 'a'],
        ['seal.expired', 'c'],
        ['seal.expired', 'd'],
      ]),
    );
    expect(store.audit.verify().ok).toBe(true);
    store.close();
  });

  it('lets an operator resolve only an in-doubt job', () => {
    const { store, seals, job } = setup();
    job('a');
    expect(() => seals.resolve('a', 'done', 'looked', 'op')).toThrow(/is pending; it cannot be resolved/);
    seals.jobs.move('a', 'pending', 'checking');
    seals.jobs.move('a', 'checking', 'firing');
    seals.start();
    const done = seals.resolve('a', 'failed', 'no seal on the paper', 'op');
    expect(done.state).toBe('failed');
    expect(done.result).toMatchObject({
      resolution: { outcome: 'failed', note: 'no seal on the paper', by: 'op' },
    });
    store.close();
  });
});
