// The rating pad driver end to end in process: the real driver and `line` profile on an in-memory link to
// the pad simulator (what `transport: simulated` runs). The same paths over a real pty are in
// tests/integration/rating-pad-serial.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../../drivers/device.js';
import { RatingPad, RatingPadError } from '../../../drivers/rating-pad/rating-pad.js';
import { RATING_LABELS, RATINGS } from '../../../drivers/rating-pad/ratings.js';
import { serialRatingPad } from '../../../drivers/rating-pad/serial-pad.js';
import {
  SerialPadSimulator,
  type SerialPadSimulatorOptions,
} from '../../../drivers/rating-pad/serial-simulator.js';
import { SimulatedRatingPad } from '../../../drivers/rating-pad/simulated-pad.js';
import { memoryLinkPair } from '../../../drivers/transport/memory-pair.js';
import { waitFor } from '../../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function simulatedPad(opts: ConstructorParameters<typeof SimulatedRatingPad>[0] = {}) {
  const pad = new SimulatedRatingPad(opts);
  cleanups.push(() => pad.close());
  await pad.open();
  const sim = () => {
    if (!pad.simulator) throw new Error('no simulator');
    return pad.simulator;
  };
  return { pad, sim };
}

/** A pad with a display, built as a real install builds a serial pad. */
async function displayPad(options: SerialPadSimulatorOptions) {
  let sim: SerialPadSimulator | undefined;
  const pad = serialRatingPad({
    commandTimeoutMs: 1000,
    openLink: () => {
      const [host, device] = memoryLinkPair();
      sim = new SerialPadSimulator(device, options);
      sim.start();
      return Promise.resolve(host);
    },
  });
  cleanups.push(() => pad.close());
  await pad.open();
  if (!sim) throw new Error('no simulator');
  return { pad, sim };
}

describe('rating pad', () => {
  it('labels the five ratings in Chinese and English, 5 the best', () => {
    expect(RATINGS.map((r) => RATING_LABELS[r].zh)).toEqual([
      '非常满意',
      '满意',
      '基本满意',
      '不满意',
      '非常不满意',
    ]);
    expect(RATING_LABELS[5].en).toBe('Very satisfied');
    expect(RATING_LABELS[1].en).toBe('Very dissatisfied');
  });

  it('identifies the pad on open and lights it only while a rating is wanted', async () => {
    const { pad, sim } = await simulatedPad();
    expect(sim().light).toBe(false);
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim().light);
    expect(pad.isWaiting).toBe(true);
    sim().press('4');
    const result = await asked;
    expect(result).toMatchObject({ outcome: 'rated', rating: 4, key: '4' });
    expect(result.outcome === 'rated' && result.at).toBeInstanceOf(Date);
    // Dark again and one confirmation beep before the caller hears the rating.
    expect(sim().light).toBe(false);
    expect(sim().beeps).toEqual([100]);
    expect(pad.isWaiting).toBe(false);
  });

  it('gives timeout when nobody presses, and the pad goes dark', async () => {
    const { pad, sim } = await simulatedPad();
    await expect(pad.requestRating({ timeoutMs: 50 })).resolves.toEqual({ outcome: 'timeout' });
    expect(sim().light).toBe(false);
    expect(sim().beeps).toEqual([]);
  });

  it('cancels the waiting request; a late press is not a rating', async () => {
    const { pad, sim } = await simulatedPad();
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim().light);
    expect(pad.cancel()).toBe(true);
    sim().press('5');
    await expect(asked).resolves.toEqual({ outcome: 'canceled' });
    expect(sim().light).toBe(false);
    expect(pad.cancel()).toBe(false);
  });

  it('refuses a second request while one waits, and the first still gets its rating', async () => {
    const { pad, sim } = await simulatedPad();
    const first = pad.requestRating({ timeoutMs: 30_000 });
    const second = pad.requestRating({ timeoutMs: 30_000 });
    await expect(second).rejects.toMatchObject({ name: 'RatingPadError', kind: 'busy' });
    await waitFor('the pad lit', () => sim().light);
    sim().press('3');
    await expect(first).resolves.toMatchObject({ outcome: 'rated', rating: 3 });
  });

  it('counts a KEY frame the pad sends again once, also when the copies reach the next request', async () => {
    const { pad, sim } = await simulatedPad();
    const first = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim().light);
    sim().press('2', { copies: 3 });
    await expect(first).resolves.toMatchObject({ outcome: 'rated', rating: 2 });
    const second = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('every copy acknowledged', () => sim().acked.length === 3);
    await waitFor('the pad lit again', () => sim().light);
    expect(pad.isWaiting).toBe(true);
    sim().press('5');
    await expect(second).resolves.toMatchObject({ outcome: 'rated', rating: 5 });
    expect(new Set(sim().acked).size).toBe(2);
  });

  it('ignores presses while no rating is wanted', async () => {
    const { pad, sim } = await simulatedPad();
    sim().press('1');
    await waitFor('the press acknowledged', () => sim().acked.length === 1);
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim().light);
    sim().press('5');
    await expect(asked).resolves.toMatchObject({ rating: 5 });
  });

  it('maps keys through a configured key map (a pad whose key 1 is 非常满意)', async () => {
    const { pad, sim } = await simulatedPad({ keys: { '1': 5, '2': 4, '3': 3, '4': 2, '5': 1 } });
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim().light);
    sim().press('9'); // not on the map: no rating
    sim().press('1');
    await expect(asked).resolves.toMatchObject({ rating: 5, key: '1' });
  });

  it('refuses a key map whose values are not ratings when the pad is built', () => {
    const keys = { '1': 7 } as unknown as Record<string, 5>;
    const openLink = () => Promise.reject(new Error('not reached'));
    expect(() => serialRatingPad({ openLink, commandTimeoutMs: 100, keys })).toThrow(/7 is not a rating/);
    expect(() => new SimulatedRatingPad({ keys })).toThrow(/7 is not a rating/);
  });

  it('shows the prompt on a pad with a display and clears it after', async () => {
    const { pad, sim } = await displayPad({ capabilities: { light: true, beep: false, display: true } });
    const asked = pad.requestRating({ timeoutMs: 30_000, prompt: '请评价：社保窗口 王芳' });
    await waitFor('the pad lit', () => sim.light);
    expect(sim.text).toBe('请评价：社保窗口 王芳');
    sim.press('5');
    await expect(asked).resolves.toMatchObject({ rating: 5 });
    expect(sim.text).toBe('');
    expect(sim.beeps).toEqual([]);
    // A prompt longer than the display takes (60 bytes of UTF-8) is cut, not an error.
    const long = pad.requestRating({ timeoutMs: 30_000, prompt: '请'.repeat(25) });
    await waitFor('the pad lit', () => sim.light);
    expect(sim.text).toBe('请'.repeat(20));
    sim.press('4');
    await expect(long).resolves.toMatchObject({ rating: 4 });
  });

  it('works a pad without light or beeper: nothing sent but the acknowledgements', async () => {
    const { pad, sim } = await displayPad({ capabilities: { light: false, beep: false, display: false } });
    const asked = pad.requestRating({ timeoutMs: 30_000, prompt: 'ignored' });
    await waitFor('the request waiting', () => pad.isWaiting);
    sim.press('3');
    await expect(asked).resolves.toMatchObject({ rating: 3 });
    await waitFor('the press acknowledged', () => sim.acked.length === 1);
    expect(sim.received.map((c) => c.type)).toEqual(['identify', 'ack-key']);
  });

  it('self-tests by lighting and beeping, and names the key map', async () => {
    const { pad, sim } = await simulatedPad();
    const result = await pad.selfTest();
    expect(result.ok).toBe(true);
    expect(result.summary).toMatch(/light, beeper worked/);
    expect(result.summary).toMatch(/5→非常满意/);
    expect(sim().received.map((c) => c.type)).toEqual(['identify', 'identify', 'light', 'light', 'beep']);
    expect(sim().light).toBe(false);
  });

  it('presses configured keys by itself after the pad lights (a trainer’s box)', async () => {
    const { pad } = await simulatedPad({ autoPress: { keys: ['5', '3'], delayMs: 10 } });
    await expect(pad.requestRating({ timeoutMs: 30_000 })).resolves.toMatchObject({ rating: 5 });
    await expect(pad.requestRating({ timeoutMs: 30_000 })).resolves.toMatchObject({ rating: 3 });
    await expect(pad.requestRating({ timeoutMs: 30_000 })).resolves.toMatchObject({ rating: 5 });
  });

  it('refuses requests when not open and a bad timeout', async () => {
    const pad = new SimulatedRatingPad();
    await expect(pad.requestRating({ timeoutMs: 100 })).rejects.toMatchObject({ kind: 'not-open' });
    await pad.open();
    cleanups.push(() => pad.close());
    await expect(pad.requestRating({ timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(pad.requestRating({ timeoutMs: 1.5 })).rejects.toThrow(RangeError);
  });

  it('cancels a waiting request on close and leaves the pad dark', async () => {
    const { pad, sim } = await simulatedPad();
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim().light);
    const padSim = sim();
    await pad.close();
    await expect(asked).resolves.toEqual({ outcome: 'canceled' });
    expect(padSim.light).toBe(false);
  });

  it('reports an unplugged pad at once, fails the waiting request, and opens again when it is back', async () => {
    const { pad, sim } = await simulatedPad();
    const lost: Error[] = [];
    pad.onLost((e) => lost.push(e));
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim().light);
    pad.setFault('unplugged');
    await expect(asked).rejects.toMatchObject({ kind: 'lost' });
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(RatingPadError);
    await expect(pad.probe()).rejects.toMatchObject({ kind: 'lost' });
    await expect(pad.open()).rejects.toThrow(DeviceAbsentError);
    pad.setFault('none');
    await pad.open();
    await pad.probe();
    const again = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim().light);
    pad.press('4');
    await expect(again).resolves.toMatchObject({ rating: 4 });
  });

  it('fails to open, and the probe fails, while the pad is attached but silent', async () => {
    const { pad } = await simulatedPad({ commandTimeoutMs: 50 });
    pad.setFault('offline');
    await expect(pad.probe()).rejects.toMatchObject({ kind: 'timeout' });
    await expect(pad.open()).rejects.toMatchObject({ kind: 'timeout', message: /ID: no answer/ });
    pad.setFault('none');
    await expect(pad.open()).resolves.toMatchObject({ model: 'Simulated rating pad', serial: 'SIM-0001' });
  });

  it('is a RatingPad', () => {
    expect(new SimulatedRatingPad()).toBeInstanceOf(RatingPad);
  });
});
