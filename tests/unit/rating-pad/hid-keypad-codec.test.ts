// The HID keypad codec on reports of the shape a USB keyboard-type rating pad sends (boot-keyboard reports
// as hidraw delivers them: 8 bytes, or 9 with a report ID on composite devices), and on a vendor report.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_KEYPAD_PROFILE,
  HidKeypadDecoder,
  KEY_USAGES,
  resolveKeyMap,
} from '../../../drivers/rating-pad/hid-keypad-codec.js';

const report = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const RELEASED = report('00 00 00 00 00 00 00 00');

describe('boot-keyboard reports', () => {
  it('turns a press of 1..5 (main block and keypad) into ratings 1..5 and ignores the release', () => {
    const d = new HidKeypadDecoder();
    const got = [];
    for (const usage of ['1e', '1f', '20', '21', '22', '59', '5a', '5b', '5c', '5d']) {
      got.push(...d.push(report(`00 00 ${usage} 00 00 00 00 00`)));
      expect(d.push(RELEASED)).toEqual([]);
    }
    expect(got.map((p) => p.rating)).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    expect(got.map((p) => p.key)).toEqual(['1', '2', '3', '4', '5', 'KP1', 'KP2', 'KP3', 'KP4', 'KP5']);
  });

  it('counts a held key once, however often the pad repeats its report', () => {
    const d = new HidKeypadDecoder();
    const down = report('00 00 21 00 00 00 00 00');
    const presses = [down, down, down, down].flatMap((r) => d.push(r));
    expect(presses).toEqual([{ key: '4', rating: 4 }]);
    d.push(RELEASED);
    expect(d.push(down)).toEqual([{ key: '4', rating: 4 }]);
  });

  it('ignores modifiers, unmapped keys and the key still held when a second one goes down', () => {
    const d = new HidKeypadDecoder();
    // Shift + '5': the modifier byte does not change the key.
    expect(d.push(report('02 00 22 00 00 00 00 00'))).toEqual([{ key: '5', rating: 5 }]);
    // '5' still down, '2' added (in the next free slot): only '2' is new.
    expect(d.push(report('00 00 22 1f 00 00 00 00'))).toEqual([{ key: '2', rating: 2 }]);
    // '5' released, '2' moves to the first slot: nothing new.
    expect(d.push(report('00 00 1f 00 00 00 00 00'))).toEqual([]);
    // 'a' and Enter are not in the default map.
    expect(d.push(report('00 00 04 28 00 00 00 00'))).toEqual([]);
  });

  it('keeps its state through an ErrorRollOver report', () => {
    const d = new HidKeypadDecoder();
    expect(d.push(report('00 00 1e 00 00 00 00 00'))).toHaveLength(1);
    expect(d.push(report('00 00 01 01 01 01 01 01'))).toEqual([]);
    // Back from rollover with '1' still down: not a new press.
    expect(d.push(report('00 00 1e 00 00 00 00 00'))).toEqual([]);
  });

  it('reads numbered reports and skips the device’s other reports', () => {
    const d = new HidKeypadDecoder({ format: { type: 'boot-keyboard', reportId: 1 }, keys: { '3': 3 } });
    // Report 2: a consumer-control report (volume up) of the same composite device.
    expect(d.push(report('02 e9 00'))).toEqual([]);
    expect(d.push(report('01 00 00 20 00 00 00 00 00'))).toEqual([{ key: '3', rating: 3 }]);
  });

  it('takes a key map by name or usage, e.g. a pad whose key 1 is 非常满意', () => {
    const d = new HidKeypadDecoder({
      format: { type: 'boot-keyboard' },
      keys: { '1': 5, '2': 4, '3': 3, '4': 2, '0x22': 1, F1: 5 },
    });
    expect(d.push(report('00 00 1e 00 00 00 00 00'))).toEqual([{ key: '1', rating: 5 }]);
    expect(d.push(report('00 00 22 00 00 00 00 00'))).toEqual([{ key: '5', rating: 1 }]);
    expect(d.push(report('00 00 3a 00 00 00 00 00'))).toEqual([{ key: 'F1', rating: 5 }]);
  });

  it('refuses a key map with a key it does not know or a value that is no rating', () => {
    expect(() => resolveKeyMap({ format: { type: 'boot-keyboard' }, keys: { Six: 5 } })).toThrow(
      /unknown key "Six"/,
    );
    expect(() =>
      resolveKeyMap({ format: { type: 'boot-keyboard' }, keys: { '1': 6 as unknown as 5 } }),
    ).toThrow(/not a rating/);
    expect(resolveKeyMap(DEFAULT_KEYPAD_PROFILE).get(KEY_USAGES.KP5 ?? 0)).toBe(5);
  });

  it('ignores a report too short to hold a key', () => {
    expect(new HidKeypadDecoder().push(report('00 00'))).toEqual([]);
  });
});

describe('vendor reports', () => {
  const vendor = {
    format: { type: 'vendor', reportId: 0x05, keyOffset: 2 },
    keys: { '0x01': 5, '0x02': 4, '0x03': 3, '0x04': 2, '5': 1 },
  } as const;

  it('maps the key code byte and counts a held code once', () => {
    const d = new HidKeypadDecoder(vendor);
    expect(d.push(report('05 00 02 00'))).toEqual([{ key: '0x02', rating: 4 }]);
    expect(d.push(report('05 00 02 00'))).toEqual([]);
    expect(d.push(report('05 00 00 00'))).toEqual([]);
    expect(d.push(report('05 00 05 00'))).toEqual([{ key: '0x05', rating: 1 }]);
    // Another report ID is not the keypad's.
    expect(d.push(report('06 00 01 00'))).toEqual([]);
  });
});
