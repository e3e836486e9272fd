import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withDeviceDefaults, type DeviceConfig } from '../../../config/schema.js';
import { DeviceManager } from '../../../agent/devices/device-manager.js';
import { createDriver } from '../../../agent/kinds/index.js';
import type { DeviceState } from '../../../agent/devices/state.js';
import {
  DeviceBusyError,
  DeviceNotReadyError,
  SupervisedDevice,
  type DeviceStatus,
  type SupervisionPolicy,
} from '../../../agent/devices/supervised-device.js';
import type { DeviceDriver, DeviceIdentity } from '../../../drivers/device.js';
import { SimulatedCamera } from '../../../drivers/camera/simulator.js';
import { SimulatedPhotoPrinter } from '../../../drivers/photo-printer/simulator.js';
import { SimulatedDotMatrixPrinter } from '../../../drivers/printer/simulator.js';
import { SealMachine } from '../../../drivers/seal/machine.js';
import { IdCardReader } from '../../../drivers/idcard/reader.js';
import { waitFor } from '../../helpers/wait-for.js';

const POLICY: SupervisionPolicy = {
  probeIntervalMs: 20,
  failuresBeforeError: 2,
  backoffInitialMs: 20,
  backoffMaxMs: 80,
};
const log = pino({ level: 'silent' });
const OFFLINE_REASON = 'simulated device does not answer';
const UNPLUGGED_REASON = 'simulated device unplugged';

interface Transition {
  state: DeviceState;
  previous: DeviceState;
  reason: string | null;
  at: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  vi.useRealTimers();
});

function printerConfig(id = 'printer-1'): DeviceConfig {
  return withDeviceDefaults({ id, kind: 'printer', name: 'Test printer', transport: { type: 'simulated' } });
}

/** A supervised simulated printer that records every state change. */
function supervised(
  driver: DeviceDriver = new SimulatedDotMatrixPrinter(),
  policy: SupervisionPolicy = POLICY,
): { device: SupervisedDevice; transitions: Transition[]; states: () => DeviceState[] } {
  const transitions: Transition[] = [];
  const device = new SupervisedDevice(printerConfig(), driver as never, policy, log, (status, previous) => {
    transitions.push({ state: status.state, previous, reason: status.detail, at: Date.now() });
  });
  cleanups.push(() => device.stop());
  return { device, transitions, states: () => transitions.map((t) => t.state) };
}

const sim = (device: SupervisedDevice): SimulatedDotMatrixPrinter =>
  device.driver as SimulatedDotMatrixPrinter;

/** Records when the driver is asked to open (retries are quiet: no state event shows them). */
function recordOpens(driver: DeviceDriver): number[] {
  const at: number[] = [];
  const open = driver.open.bind(driver);
  driver.open = () => {
    at.push(Date.now());
    return open();
  };
  return at;
}

/** Index of the first transition at or after `from` into `state`. */
function indexOf(transitions: Transition[], state: DeviceState, from = 0): number {
  return transitions.findIndex((t, i) => i >= from && t.state === state);
}

describe('SupervisedDevice', () => {
  it('opens a started device and reports it ready with its identity', async () => {
    const { device, states } = supervised();
    expect(device.currentState()).toBe('closed');
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    expect(states().slice(0, 2)).toEqual(['opening', 'ready']);
    expect(device.status()).toMatchObject({
      id: 'printer-1',
      kind: 'printer',
      name: 'Test printer',
      transport: 'simulated',
      state: 'ready',
      reason: null,
      identity: { model: 'EPSON LQ-630K (simulated)' },
      consecutiveFailures: 0,
    });
    expect(Number.isNaN(Date.parse(device.status().since))).toBe(false);
  });

  it('stays ready while probes succeed', async () => {
    const { device, states } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    // Several probe intervals pass; nothing changes.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(states()).toEqual(['opening', 'ready']);
  });

  it('goes to error, then backoff with the reason, when an open device stops answering', async () => {
    const { device, transitions } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    const mark = transitions.length;
    sim(device).setFault('offline');
    await waitFor('backoff', () => indexOf(transitions, 'backoff', mark) >= 0, 5_000);
    const after = transitions.slice(mark);
    expect(after[0]).toMatchObject({ state: 'error', previous: 'ready', reason: OFFLINE_REASON });
    expect(after[1]).toMatchObject({ state: 'backoff', previous: 'error', reason: OFFLINE_REASON });
    expect(device.status().consecutiveFailures).toBeGreaterThanOrEqual(POLICY.failuresBeforeError);

    expect(device.status()).toMatchObject({
      reasonCode: 'not-answering',
      reason: 'The device is not responding',
      detail: OFFLINE_REASON,
    });
  });

  it('retries in backoff without an event per attempt', async () => {
    const driver = new SimulatedDotMatrixPrinter();
    const opens = recordOpens(driver);
    const { device, transitions } = supervised(driver);
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    const mark = transitions.length;
    sim(device).setFault('offline');
    await waitFor('backoff', () => indexOf(transitions, 'backoff', mark) >= 0, 5_000);
    const attempts = opens.length;
    // Several reopen attempts fail the same way while the fault lasts: the two events of the first failure
    // are all a listener sees.
    await waitFor('four more attempts', () => opens.length >= attempts + 4, 5_000);
    expect(transitions.slice(mark).map((t) => t.state)).toEqual(['error', 'backoff']);
    expect(device.currentState()).toBe('backoff');
  });

  it('refuses use() while in error or backoff, giving the reason', async () => {
    const { device, transitions } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    sim(device).setFault('offline');
    await waitFor('backoff', () => indexOf(transitions, 'backoff') >= 0, 5_000);
    let caught: unknown;
    await device.use(() => Promise.resolve()).catch((err: unknown) => (caught = err));
    expect(caught).toBeInstanceOf(DeviceNotReadyError);
    // The state may have moved on to a retry in the meantime; the message names the state and, outside
    // `opening`, the reason.
    expect((caught as Error).message).toMatch(/^printer-1 is (error|backoff|opening)/);
  });

  it('comes back to ready when the fault clears', async () => {
    const { device, transitions } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    sim(device).setFault('offline');
    await waitFor('backoff', () => indexOf(transitions, 'backoff') >= 0, 5_000);
    const mark = transitions.length;
    sim(device).setFault('none');
    await waitFor('ready again', () => device.currentState() === 'ready', 5_000);
    expect(device.status()).toMatchObject({ state: 'ready', reason: null, consecutiveFailures: 0 });
    // The retry that worked is the one event: from backoff straight to ready.
    expect(transitions.slice(mark).map((t) => [t.previous, t.state])).toEqual([['backoff', 'ready']]);
    await expect(device.use(() => Promise.resolve('printed'))).resolves.toBe('printed');
  });

  it('reports an unplugged device as absent, at once and with the reason, and finds it again', async () => {
    const driver = new SimulatedDotMatrixPrinter();
    const opens = recordOpens(driver);
    const { device, transitions } = supervised(driver);
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    const mark = transitions.length;
    sim(device).setFault('unplugged');
    await waitFor('absent', () => device.currentState() === 'absent', 5_000);
    expect(transitions[mark]).toMatchObject({ state: 'absent', previous: 'ready', reason: UNPLUGGED_REASON });
    expect(device.status()).toMatchObject({ reasonCode: 'unplugged', reason: 'The device is not connected' });
    // It looks for the device again now and then, quietly, and stays absent meanwhile: never error or backoff.
    const looks = opens.length;
    await waitFor('two new looks', () => opens.length >= looks + 2, 5_000);
    expect(transitions.slice(mark).map((t) => t.state)).toEqual(['absent']);
    sim(device).setFault('none');
    await waitFor('ready again', () => device.currentState() === 'ready', 5_000);
  });

  it("shows a printer's conditions beside ready, with an event when they come and when they go", async () => {
    const { device, transitions } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    const mark = transitions.length;
    sim(device).setFault('paper-out');
    await waitFor('paper out', () => device.status().conditions.length > 0, 5_000);
    expect(device.status()).toMatchObject({
      state: 'ready',
      reason: 'The printer is out of paper',
      reasonCode: 'paper-out',
      detail: null,
      conditions: [{ code: 'paper-out', reason: 'The printer is out of paper' }],
    });
    expect(transitions.slice(mark)).toMatchObject([{ state: 'ready', previous: 'ready' }]);
    sim(device).setFault('none');
    await waitFor('paper loaded', () => device.status().conditions.length === 0, 5_000);
    expect(device.status()).toMatchObject({ reason: null, reasonCode: null });
    expect(transitions.slice(mark)).toHaveLength(2);
  });

  it('reads conditions while the device is busy (the paper runs out mid-job)', async () => {
    const { device } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    await device.use(async () => {
      sim(device).setFault('cover-open');
      await waitFor('cover open seen while busy', () => device.status().reasonCode === 'cover-open', 5_000);
      expect(device.status().state).toBe('busy');
    });
    sim(device).setFault('none');
  });

  it('drops its conditions when the device goes out of reach', async () => {
    const { device } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    sim(device).setFault('paper-out');
    await waitFor('paper out', () => device.status().conditions.length > 0, 5_000);
    sim(device).setFault('unplugged');
    await waitFor('absent', () => device.currentState() === 'absent', 5_000);
    expect(device.status()).toMatchObject({ conditions: [], reasonCode: 'unplugged' });
  });

  it('marks the device busy during use() and ready afterwards', async () => {
    const { device, transitions } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    let stateInside: DeviceState | undefined;
    const result = await device.use((driver) => {
      stateInside = device.currentState();
      expect(driver).toBe(device.driver);
      return Promise.resolve(42);
    });
    expect(result).toBe(42);
    expect(stateInside).toBe('busy');
    expect(device.currentState()).toBe('ready');
    expect(transitions.slice(-2).map((t) => t.state)).toEqual(['busy', 'ready']);
  });

  it('refuses a second user while busy, and is ready again after a failing use', async () => {
    const { device } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    let release!: () => void;
    const first = device.use(() => new Promise<void>((resolve) => (release = resolve)));
    expect(device.currentState()).toBe('busy');
    await expect(device.use(() => Promise.resolve())).rejects.toBeInstanceOf(DeviceBusyError);
    // Probes do not disturb a busy device.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(device.currentState()).toBe('busy');
    release();
    await first;
    expect(device.currentState()).toBe('ready');
    await expect(device.use(() => Promise.reject(new Error('paper jam')))).rejects.toThrow('paper jam');
    expect(device.currentState()).toBe('ready');
  });

  it('refuses use() before it is started', async () => {
    const { device } = supervised();
    await expect(device.use(() => Promise.resolve())).rejects.toBeInstanceOf(DeviceNotReadyError);
    await expect(device.use(() => Promise.resolve())).rejects.toThrow('printer-1 is closed');
  });

  it('closes on stop() and stays closed', async () => {
    const { device, transitions } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    await device.stop();
    expect(device.currentState()).toBe('closed');
    expect(transitions.at(-1)).toMatchObject({ state: 'closed', previous: 'ready' });
    const count = transitions.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(transitions.length).toBe(count);
    // The simulator was really closed.
    await expect(device.driver.probe()).rejects.toThrow(/not open/);
    await expect(device.use(() => Promise.resolve())).rejects.toBeInstanceOf(DeviceNotReadyError);
  });

  it('stops retrying when stopped in backoff', async () => {
    const { device, transitions } = supervised();
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    sim(device).setFault('offline');
    await waitFor('backoff', () => indexOf(transitions, 'backoff') >= 0, 5_000);
    await device.stop();
    expect(device.currentState()).toBe('closed');
    const count = transitions.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(transitions.length).toBe(count);
  });

  it('closes a driver that finishes opening after stop()', async () => {
    let finishOpen!: () => void;
    let open = false;
    const slow: DeviceDriver = {
      open: () =>
        new Promise<DeviceIdentity>((resolve) => {
          finishOpen = () => {
            open = true;
            resolve({ model: 'slow' });
          };
        }),
      probe: () => Promise.resolve(),
      selfTest: () => Promise.resolve({ ok: true, summary: 'ok' }),
      close: () => {
        open = false;
        return Promise.resolve();
      },
    };
    const { device, states } = supervised(slow);
    device.start();
    expect(device.currentState()).toBe('opening');
    await device.stop();
    finishOpen();
    await waitFor('the late-opened driver to be closed', () => !open, 5_000);
    expect(device.currentState()).toBe('closed');
    expect(states()).toEqual(['opening', 'closed']);
  });

  it('retries with a growing backoff (observed loosely on the real clock)', async () => {
    const driver = new SimulatedDotMatrixPrinter();
    const opens = recordOpens(driver);
    const { device, transitions } = supervised(driver);
    device.start();
    await waitFor('ready', () => device.currentState() === 'ready', 5_000);
    sim(device).setFault('offline');
    const retries = (): number[] => opens.slice(1);
    await waitFor('five retries', () => retries().length >= 5, 10_000);
    await device.stop();
    const firstError = transitions.find((t) => t.state === 'error') as Transition;
    const at = [firstError.at, ...retries()];
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    // A timer never fires much before its delay; it may fire any time later on a loaded machine, so only
    // lower bounds are asserted (with a few ms of slack for clock rounding).
    expect(gaps[0]).toBeGreaterThanOrEqual(POLICY.backoffInitialMs - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * POLICY.backoffInitialMs - 5);
    expect(gaps[2]).toBeGreaterThanOrEqual(POLICY.backoffMaxMs - 5);
    expect(gaps[3]).toBeGreaterThanOrEqual(POLICY.backoffMaxMs - 5);
  });

  it('doubles the backoff up to the cap and resets it after a success (fake clock)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const driver = new SimulatedDotMatrixPrinter();
    const opens = recordOpens(driver);
    const { device, transitions } = supervised(driver);
    device.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(device.currentState()).toBe('ready');

    const retryGaps = async (): Promise<number[]> => {
      const mark = transitions.length;
      const openMark = opens.length;
      sim(device).setFault('offline');
      await vi.advanceTimersByTimeAsync(1_000);
      const after = transitions.slice(mark);
      const firstError = after.find((t) => t.state === 'error') as Transition;
      const at = [firstError.at, ...opens.slice(openMark)];
      return at.slice(1).map((t, i) => t - (at[i] as number));
    };

    const gaps = await retryGaps();
    expect(gaps.slice(0, 6)).toEqual([20, 40, 80, 80, 80, 80]);

    sim(device).setFault('none');
    await vi.advanceTimersByTimeAsync(100);
    expect(device.currentState()).toBe('ready');
    expect((await retryGaps()).slice(0, 3)).toEqual([20, 40, 80]);
  });
});

describe('DeviceManager', () => {
  const configs: DeviceConfig[] = [
    printerConfig('printer-1'),
    withDeviceDefaults({ id: 'camera-1', kind: 'camera', transport: { type: 'simulated' } }),
  ];

  function manager(factory = createDriver): {
    m: DeviceManager;
    changes: [string, DeviceState, DeviceState][];
  } {
    const changes: [string, DeviceState, DeviceState][] = [];
    const m = new DeviceManager(configs, POLICY, factory, log, (status: DeviceStatus, previous) =>
      changes.push([status.id, previous, status.state]),
    );
    cleanups.push(() => m.stop());
    return { m, changes };
  }

  it('starts every configured device and reports their states', async () => {
    const { m, changes } = manager();
    m.start();
    await waitFor('all ready', () => m.list().every((d) => d.state === 'ready'), 5_000);
    expect(m.list().map((d) => [d.id, d.kind, d.name])).toEqual([
      ['printer-1', 'printer', 'Test printer'],
      ['camera-1', 'camera', 'camera-1'],
    ]);
    expect(changes).toContainEqual(['camera-1', 'opening', 'ready']);
    expect(m.get('camera-1')?.driver).toBeInstanceOf(SimulatedCamera);
    expect(m.get('nope')).toBeUndefined();
    await m.stop();
    expect(m.list().every((d) => d.state === 'closed')).toBe(true);
  });

  it('injects a fault into a simulated device by id', async () => {
    const { m } = manager();
    m.start();
    await waitFor('all ready', () => m.list().every((d) => d.state === 'ready'), 5_000);
    expect(m.simulateFault('printer-1', 'unplugged')).toBe(true);
    await waitFor('printer absent', () => m.get('printer-1')?.currentState() === 'absent', 5_000);
    expect(m.get('camera-1')?.currentState()).toBe('ready');
  });

  it('returns false for an unknown device id', () => {
    const { m } = manager();
    m.start();
    expect(m.simulateFault('no-such-device', 'offline')).toBe(false);
  });

  it('returns false for a device that is not simulated', () => {
    const real: DeviceDriver = {
      open: () => Promise.resolve({ model: 'real' }),
      probe: () => Promise.resolve(),
      selfTest: () => Promise.resolve({ ok: true, summary: 'ok' }),
      close: () => Promise.resolve(),
    };
    const { m } = manager(() => real);
    m.start();
    expect(m.simulateFault('printer-1', 'offline')).toBe(false);
  });
});

describe('driver factory', () => {
  it('builds the simulator for each kind', () => {
    const make = (kind: DeviceConfig['kind']) =>
      createDriver(withDeviceDefaults({ id: 'x', kind, transport: { type: 'simulated' } }));
    expect(make('printer')).toBeInstanceOf(SimulatedDotMatrixPrinter);
    expect(make('camera')).toBeInstanceOf(SimulatedCamera);
    expect(make('seal')).toBeInstanceOf(SealMachine);
    expect(make('photo-printer')).toBeInstanceOf(SimulatedPhotoPrinter);
    expect(make('idcard')).toBeInstanceOf(IdCardReader);
  });
});
