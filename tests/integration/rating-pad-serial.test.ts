// The serial rating pad driver on one end of a real socat pty pair at 9600 8N1, the pad simulator speaking
// the `line` profile on the other: a press gives the rating, timeout, cancel, one request at a time, a resent
// KEY frame counted once, and an unplugged pad (socat killed) reported lost and opened again when it is back.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../drivers/device.js';
import type { RatingPad } from '../../drivers/rating-pad/rating-pad.js';
import { serialRatingPad } from '../../drivers/rating-pad/serial-pad.js';
import { SerialPadSimulator } from '../../drivers/rating-pad/serial-simulator.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { openPtyPair, serialOptions, type PtyPair } from '../helpers/pty-pair.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BAUD = 9600;

/** A pty pair with the pad simulator on its far end. */
async function attachPad(dir: string): Promise<{ pair: PtyPair; sim: SerialPadSimulator }> {
  const pair = await openPtyPair(dir, 'pad');
  cleanups.push(() => pair.close());
  const sim = new SerialPadSimulator(await openSerial(serialOptions(pair.peer, BAUD)), {
    model: 'PJ-5 rating pad',
    serial: 'PJ5-0042',
    firmware: '3.2',
  });
  sim.start();
  cleanups.push(() => sim.stop());
  return { pair, sim };
}

// A generous command timeout: a loaded 2-core CI box must not turn a slow reply into a failure.
async function rig(): Promise<{ pad: RatingPad; sim: SerialPadSimulator; pair: PtyPair; dir: string }> {
  const dir = tempDir();
  cleanups.push(() => removeDir(dir));
  const { pair, sim } = await attachPad(dir);
  const pad = serialRatingPad({
    openLink: () => openSerial(serialOptions(pair.device, BAUD)),
    commandTimeoutMs: 3000,
  });
  cleanups.push(() => pad.close());
  return { pad, sim, pair, dir };
}

describe('serial rating pad over a pty', () => {
  it('identifies the pad and turns a key press into a rating, lit while waiting', async () => {
    const { pad, sim } = await rig();
    expect(await pad.open()).toEqual({ model: 'PJ-5 rating pad', serial: 'PJ5-0042', firmware: '3.2' });
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim.light);
    sim.press('5');
    const result = await asked;
    expect(result).toMatchObject({ outcome: 'rated', rating: 5, key: '5' });
    expect(sim.light).toBe(false);
    expect(sim.beeps).toEqual([100]);
    await waitFor('the press acknowledged', () => sim.acked.length === 1);
    await expect(pad.probe()).resolves.toBeUndefined();
  });

  it('gives timeout when nobody presses', async () => {
    const { pad, sim } = await rig();
    await pad.open();
    await expect(pad.requestRating({ timeoutMs: 300 })).resolves.toEqual({ outcome: 'timeout' });
    expect(sim.light).toBe(false);
  });

  it('cancels a waiting request and the pad goes dark', async () => {
    const { pad, sim } = await rig();
    await pad.open();
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim.light);
    expect(pad.cancel()).toBe(true);
    await expect(asked).resolves.toEqual({ outcome: 'canceled' });
    expect(sim.light).toBe(false);
  });

  it('refuses a second request while one waits', async () => {
    const { pad, sim } = await rig();
    await pad.open();
    const first = pad.requestRating({ timeoutMs: 30_000 });
    await expect(pad.requestRating({ timeoutMs: 30_000 })).rejects.toMatchObject({ kind: 'busy' });
    await waitFor('the pad lit', () => sim.light);
    sim.press('1');
    await expect(first).resolves.toMatchObject({ rating: 1 });
  });

  it('counts a KEY frame the pad repeats once', async () => {
    const { pad, sim } = await rig();
    await pad.open();
    const first = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim.light);
    sim.press('2', { copies: 4 });
    await expect(first).resolves.toMatchObject({ rating: 2 });
    await waitFor('every copy acknowledged', () => sim.acked.length === 4);
    // The copies are all in; a new request still waits for a new press.
    const second = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit again', () => sim.light);
    expect(pad.isWaiting).toBe(true);
    sim.press('4');
    await expect(second).resolves.toMatchObject({ rating: 4 });
  });

  it('reports an unplugged pad at once and opens it again when it is back', async () => {
    const { pad, sim, pair, dir } = await rig();
    const lost: Error[] = [];
    pad.onLost((e) => lost.push(e));
    await pad.open();
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => sim.light);

    const failure = asked.then(
      () => undefined,
      (err: unknown) => err,
    );
    await pair.close(); // socat killed: both ends of the pty vanish
    expect(await failure).toMatchObject({ name: 'RatingPadError', kind: 'lost' });
    expect(lost).toHaveLength(1);
    await expect(pad.probe()).rejects.toMatchObject({ kind: 'lost' });
    await waitFor('the pty gone', () => !existsSync(pair.device));
    await expect(pad.open()).rejects.toThrow(DeviceAbsentError);

    // Plugged in again at the same path, as the supervisor's next reopen finds it.
    const back = await attachPad(dir);
    expect(back.pair.device).toBe(pair.device);
    await pad.open();
    await pad.probe();
    const again = pad.requestRating({ timeoutMs: 30_000 });
    await waitFor('the pad lit', () => back.sim.light);
    back.sim.press('3');
    await expect(again).resolves.toMatchObject({ rating: 3 });
  });
});
