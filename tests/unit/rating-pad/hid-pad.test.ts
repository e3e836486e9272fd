// The rating pad driver on a USB HID keypad, against a fake device at the node-hid boundary
// (tests/helpers/fake-hid.ts): this container has no /dev/hidraw* and no /dev/uhid, so no physical or
// virtual HID device exists here. The reports fed in have the shape a keyboard-type pad sends on hidraw.
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../../drivers/device.js';
import { hidRatingPad } from '../../../drivers/rating-pad/hid-pad.js';
import type { RatingPad } from '../../../drivers/rating-pad/rating-pad.js';
import { FakeHidBackend, keypadInfo } from '../../helpers/fake-hid.js';
import { waitFor } from '../../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DEVICE = { vendorId: 0x1a86, productId: 0xe026 };

function rig(backend = new FakeHidBackend([keypadInfo()])) {
  const pad = hidRatingPad({ device: DEVICE, backend });
  cleanups.push(() => pad.close());
  return { pad, backend };
}

async function waiting(pad: RatingPad): Promise<void> {
  await waitFor('the request waiting', () => pad.isWaiting);
}

describe('rating pad on a HID keypad', () => {
  it('identifies from the USB strings and turns a key press into a rating', async () => {
    const { pad, backend } = rig();
    expect(await pad.open()).toEqual({ model: 'Pingjia Rating Keypad', serial: 'PJ2024001' });
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waiting(pad);
    backend.last.input('00 00 22 00 00 00 00 00');
    backend.last.input('00 00 00 00 00 00 00 00');
    await expect(asked).resolves.toMatchObject({ outcome: 'rated', rating: 5, key: '5' });
    // A keyboard has nothing to light: nothing was written to it.
    expect(backend.last.written).toEqual([]);
  });

  it('counts a held key once: its repeated reports do not rate the next request', async () => {
    const { pad, backend } = rig();
    await pad.open();
    const first = pad.requestRating({ timeoutMs: 30_000 });
    await waiting(pad);
    backend.last.input('00 00 5a 00 00 00 00 00');
    await expect(first).resolves.toMatchObject({ rating: 2, key: 'KP2' });
    const second = pad.requestRating({ timeoutMs: 30_000 });
    await waiting(pad);
    // Still held: the pad repeats its report at the idle rate.
    backend.last.input('00 00 5a 00 00 00 00 00');
    backend.last.input('00 00 5a 00 00 00 00 00');
    expect(pad.isWaiting).toBe(true);
    backend.last.input('00 00 00 00 00 00 00 00');
    backend.last.input('00 00 5c 00 00 00 00 00');
    await expect(second).resolves.toMatchObject({ rating: 4, key: 'KP4' });
  });

  it('times out and cancels like any pad', async () => {
    const { pad } = rig();
    await pad.open();
    await expect(pad.requestRating({ timeoutMs: 30 })).resolves.toEqual({ outcome: 'timeout' });
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await expect(pad.requestRating({ timeoutMs: 30_000 })).rejects.toMatchObject({ kind: 'busy' });
    pad.cancel();
    await expect(asked).resolves.toEqual({ outcome: 'canceled' });
  });

  it('takes a vendor report format and key map', async () => {
    const backend = new FakeHidBackend([keypadInfo({ manufacturer: undefined, product: undefined })]);
    const pad = hidRatingPad({
      device: DEVICE,
      backend,
      keypad: { format: { type: 'vendor', reportId: 2, keyOffset: 1 }, keys: { '0x10': 5, '0x11': 1 } },
    });
    cleanups.push(() => pad.close());
    expect((await pad.open()).model).toBe('HID keypad 1a86:e026');
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waiting(pad);
    backend.last.input('02 11 00');
    await expect(asked).resolves.toMatchObject({ rating: 1, key: '0x11' });
  });

  it('refuses a bad key map when built', () => {
    expect(() =>
      hidRatingPad({ device: DEVICE, keypad: { format: { type: 'boot-keyboard' }, keys: { Nope: 5 } } }),
    ).toThrow(/unknown key/);
  });

  it('reports an unplugged keypad at once and opens it again when it is back', async () => {
    const backend = new FakeHidBackend([keypadInfo()]);
    const { pad } = rig(backend);
    const lost: Error[] = [];
    pad.onLost((e) => lost.push(e));
    await pad.open();
    const asked = pad.requestRating({ timeoutMs: 30_000 });
    await waiting(pad);
    const unplugged = backend.last;
    backend.attached = [];
    unplugged.unplug();
    await expect(asked).rejects.toMatchObject({ kind: 'lost', message: /could not read from HID device/ });
    expect(lost).toHaveLength(1);
    await expect(pad.probe()).rejects.toMatchObject({ kind: 'lost' });
    await expect(pad.open()).rejects.toThrow(DeviceAbsentError);
    backend.attached = [keypadInfo({ path: '/dev/hidraw-fake-5' })];
    await pad.open();
    await pad.probe();
    const again = pad.requestRating({ timeoutMs: 30_000 });
    await waiting(pad);
    backend.last.input('00 00 20 00 00 00 00 00');
    await expect(again).resolves.toMatchObject({ rating: 3 });
  });

  it('self-tests without a light or beeper to drive', async () => {
    const { pad } = rig();
    await pad.open();
    const result = await pad.selfTest();
    expect(result).toMatchObject({ ok: true });
    expect(result.summary).toMatch(/no light or beeper to test/);
    expect(result.summary).toMatch(/KP1→非常不满意/);
  });
});
