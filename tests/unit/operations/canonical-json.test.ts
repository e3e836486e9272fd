// RFC 8785 (JCS): the canonical form every signature of the fleet contract covers. The expected values are the
// RFC's own examples (Appendix B's number table, §3.2.3's sorting example) written out here.
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson } from '../../../agent/operations/canonical-json.js';

const num = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0);

describe('canonicalJson (RFC 8785)', () => {
  it('writes numbers as RFC 8785 Appendix B lists them', () => {
    const table: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of table) expect(`${bits} ${canonicalJson(num(bits))}`).toBe(`${bits} ${text}`);
  });

  it('refuses numbers JSON has no form for, naming where they are', () => {
    expect(() => canonicalJson({ a: [1, NaN] })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: [1, NaN] })).toThrow('/a/1: NaN is not a JSON number');
    expect(() => canonicalJson(Infinity)).toThrow(/Infinity is not a JSON number/);
  });

  it('sorts members by UTF-16 code units, recursively (the RFC 8785 §3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the order from the text: JSON.parse would put "1" first (an array index).
    const text = canonicalJson(input);
    const order = [...text.matchAll(/"([^"]*)":"([^"]*)"/g)].map((m) => m[2]);
    expect(order).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(canonicalJson({ b: { z: 1, a: [{ y: 2, x: 3 }] }, a: null })).toBe(
      '{"a":null,"b":{"a":[{"x":3,"y":2}],"z":1}}',
    );
  });

  it('escapes only quote, backslash and control characters; Chinese and emoji stay as they are', () => {
    const s = '窗口一 "q" \\ \b\t\n\f\r \u0000\u001f \u007f é 😀 \u2028';
    expect(canonicalJson(s)).toBe('"窗口一 \\"q\\" \\\\ \\b\\t\\n\\f\\r \\u0000\\u001f \u007f é 😀 \u2028"');
    expect(Buffer.from(canonicalJson('窗'), 'utf8').toString('hex')).toBe('22e7aa9722');
  });

  it('refuses lone surrogates (not Unicode, so no UTF-8 bytes to sign)', () => {
    expect(() => canonicalJson({ name: 'a\ud800b' })).toThrow('/name: a string holds a lone surrogate');
    expect(() => canonicalJson({ 'x\udc00': 1 })).toThrow(/lone surrogate/);
    expect(canonicalJson('\ud83d\ude00')).toBe('"😀"');
  });

  it('writes literals and leaves out undefined members, as a JSON round trip would', () => {
    expect(canonicalJson([true, false, null, 'x', -0])).toBe('[true,false,null,"x",0]');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson({ f: () => 1 })).toThrow('/f: a function is not a JSON value');
  });
});
