// Input reports of USB HID rating pads ⇄ key presses. Most pads enumerate as a keyboard and send boot-keyboard
// reports (HID 1.11 appendix B: modifiers, reserved, up to six key usages of the Keyboard/Keypad page);
// some send a vendor report with the code of the pressed key in one byte. Either way a report says which
// keys are down *now*, so a press is a key that was not down in the previous report: a key held down (the
// pad resending the same report at its idle rate) or released counts once.
import { checkKeyMap, type Rating } from './ratings.js';

export type HidKeypadFormat =
  /** 8-byte boot-keyboard reports; `reportId` when the device numbers its reports (the ID comes first). */
  | { type: 'boot-keyboard'; reportId?: number }
  /** Reports with ID `reportId` (byte 0) carrying the pressed key's code at `keyOffset`, 0 when none. */
  | { type: 'vendor'; reportId: number; keyOffset: number };

export interface HidKeypadProfile {
  format: HidKeypadFormat;
  /**
   * Key → rating. Boot keyboard: key names (`'1'`, `'KP1'`, `'a'`, `'F1'`, `'Enter'`, …) or usages
   * (`'0x1e'`); vendor: key codes (`'0x01'` or `'1'`).
   */
  keys: Record<string, Rating>;
}

export interface KeypadPress {
  /** The key's name (boot keyboard) or code as `0x..` (vendor). */
  key: string;
  rating: Rating;
}

/** Keys '1'..'5' of the main block and of the keypad give ratings 1..5. */
export const DEFAULT_KEYPAD_PROFILE: HidKeypadProfile = {
  format: { type: 'boot-keyboard' },
  keys: { '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, KP1: 1, KP2: 2, KP3: 3, KP4: 4, KP5: 5 },
};

/** Usages of the Keyboard/Keypad page (0x07) a pad is likely to send, by name. */
export const KEY_USAGES: Readonly<Record<string, number>> = (() => {
  const table: Record<string, number> = {
    Enter: 0x28,
    Escape: 0x29,
    Backspace: 0x2a,
    Tab: 0x2b,
    Space: 0x2c,
  };
  for (let i = 0; i < 26; i++) table[String.fromCharCode(0x61 + i)] = 0x04 + i;
  for (let d = 1; d <= 9; d++) {
    table[String(d)] = 0x1e + d - 1;
    table[`KP${d}`] = 0x59 + d - 1;
  }
  table['0'] = 0x27;
  table.KP0 = 0x62;
  table.KPEnter = 0x58;
  for (let f = 1; f <= 12; f++) table[`F${f}`] = 0x3a + f - 1;
  return table;
})();

const USAGE_NAMES = new Map(Object.entries(KEY_USAGES).map(([name, usage]) => [usage, name]));

/** ErrorRollOver, POSTFail, ErrorUndefined: the report says "too many keys" rather than which are down. */
const ERROR_USAGES = new Set([0x01, 0x02, 0x03]);

/** Turns a profile's key map into code → rating; throws on a name or code it does not know. */
export function resolveKeyMap(profile: HidKeypadProfile): Map<number, Rating> {
  checkKeyMap(profile.keys);
  const map = new Map<number, Rating>();
  for (const [name, rating] of Object.entries(profile.keys)) {
    const code =
      profile.format.type === 'boot-keyboard' && !/^0x/i.test(name) ? KEY_USAGES[name] : parseCode(name);
    if (code === undefined || !Number.isInteger(code) || code < 1 || code > 0xff) {
      throw new RangeError(`unknown key ${JSON.stringify(name)} in the keypad's key map`);
    }
    map.set(code, rating);
  }
  return map;
}

function parseCode(text: string): number | undefined {
  if (/^0x[0-9a-f]{1,2}$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^[0-9]{1,3}$/.test(text)) return Number(text);
  return undefined;
}

export class HidKeypadDecoder {
  private readonly keys: Map<number, Rating>;
  private held = new Set<number>();

  constructor(private readonly profile: HidKeypadProfile = DEFAULT_KEYPAD_PROFILE) {
    this.keys = resolveKeyMap(profile);
  }

  /** The presses one input report adds (usually none or one). */
  push(report: Buffer): KeypadPress[] {
    const down = this.keysDown(report);
    if (!down) return [];
    const presses: KeypadPress[] = [];
    for (const code of down) {
      const rating = this.keys.get(code);
      if (!this.held.has(code) && rating !== undefined) presses.push({ key: this.keyName(code), rating });
    }
    this.held = down;
    return presses;
  }

  /** Forgets which keys were down (a new session: the first report after it starts fresh). */
  reset(): void {
    this.held = new Set();
  }

  /** The codes down according to this report; undefined for a report that is not the keypad's. */
  private keysDown(report: Buffer): Set<number> | undefined {
    const format = this.profile.format;
    if (format.type === 'vendor') {
      if (report[0] !== format.reportId || report.length <= format.keyOffset) return undefined;
      const code = report[format.keyOffset] ?? 0;
      return new Set(code === 0 ? [] : [code]);
    }
    let body = report;
    if (format.reportId !== undefined) {
      if (report[0] !== format.reportId) return undefined;
      body = report.subarray(1);
    }
    if (body.length < 3) return undefined;
    const usages = [...body.subarray(2, 8)].filter((u) => u !== 0);
    // A phantom-state report keeps the last known state: nothing was pressed or released that we can tell.
    if (usages.some((u) => ERROR_USAGES.has(u))) return undefined;
    return new Set(usages);
  }

  private keyName(code: number): string {
    const hex = `0x${code.toString(16).padStart(2, '0')}`;
    return this.profile.format.type === 'boot-keyboard' ? (USAGE_NAMES.get(code) ?? hex) : hex;
  }
}
