// The message catalog is complete: every entry has a text in every locale with the same `{n}` slots, every
// problem code, capture hint and detail written in agent/ (t`...`, read from the source) is in it, and a
// request's Accept-Language picks the language a clerk reads.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CAPTURE_MISSING } from '../../../agent/face/capture-judge.js';
import { MESSAGES } from '../../../agent/messages/catalog.js';
import { localizePayload } from '../../../agent/messages/localize.js';
import { LOCALES, negotiateLocale, terminalLocale } from '../../../agent/messages/locale.js';
import { render, t, term, verbatim } from '../../../agent/messages/text.js';
import { problemDocument } from '../../../agent/problems/document.js';
import { Problem } from '../../../agent/problems/problem.js';
import { PROBLEMS } from '../../../agent/problems/registry.js';
import { keysInSource } from './source-keys.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const slots = (s: string): string[] => [...s.matchAll(/\{(\d+)\}/g)].map((m) => m[1]!).sort();
const HAN = /\p{Script=Han}/u;

describe('the message catalog', () => {
  it('has every entry in every locale, with the same slots, and Chinese that is Chinese', () => {
    const bad: string[] = [];
    for (const [key, text] of MESSAGES) {
      for (const locale of LOCALES) {
        if (typeof text[locale] !== 'string' || text[locale].trim() === '') bad.push(`${key}: no ${locale}`);
      }
      if (slots(text.en).join() !== slots(text['zh-CN']).join()) bad.push(`${key}: slots differ`);
      if (!HAN.test(text['zh-CN'])) bad.push(`${key}: zh-CN has no Chinese`);
    }
    expect(bad).toEqual([]);
    expect(MESSAGES.size).toBeGreaterThan(150);
  });

  it('has a title for every problem code and a hint for every capture verdict', () => {
    const missing = [
      ...Object.keys(PROBLEMS).map((code) => `problem:${code}`),
      ...CAPTURE_MISSING.map((m) => `hint:${m}`),
    ].filter((key) => !MESSAGES.has(key));
    expect(missing).toEqual([]);
  });

  it('has every detail and message key the source uses', () => {
    const uses = keysInSource(ROOT);
    // The scan finds the call sites (a broken scan would pass vacuously).
    expect(uses.length).toBeGreaterThan(100);
    expect(uses.filter((u) => !MESSAGES.has(u.key)).map((u) => `${u.at}: ${u.key}`)).toEqual([]);
  });

  it('renders params, nested texts and run-time words in the locale asked for', () => {
    const text = t`${term('print job')} ${'j-1'} is ${term('done')}; it cannot be ${t`resolved`}`;
    expect(render(text, 'en')).toBe('print job j-1 is done; it cannot be resolved');
    expect(render(text, 'zh-CN')).toBe('打印任务 j-1 已完成，不能处理');
    expect(render(verbatim('ENOENT /dev/ttyUSB0'), 'zh-CN')).toBe('ENOENT /dev/ttyUSB0');
    expect(render(term('a word nobody translated'), 'zh-CN')).toBe('a word nobody translated');
  });
});

describe('Accept-Language', () => {
  it.each([
    [undefined, 'zh-CN'],
    ['', 'zh-CN'],
    ['en', 'en'],
    ['en-US,en;q=0.9', 'en'],
    ['zh-CN,zh;q=0.9', 'zh-CN'],
    ['zh-CN;q=0.5,en;q=0.8', 'en'],
    ['fr-FR,en;q=0.7,zh;q=0.6', 'en'],
    ['de, fr;q=0.5', 'zh-CN'],
    ['en;q=0, zh-TW', 'zh-CN'],
    ['zh-Hans-CN', 'zh-CN'],
    ['*', 'zh-CN'],
  ] as const)('%j picks %s (box.locale zh-CN)', (header, locale) => {
    expect(negotiateLocale(header, 'zh-CN')).toBe(locale);
  });

  it('falls back to box.locale when the header names no language the box has', () => {
    expect(negotiateLocale('fr', 'en')).toBe('en');
    expect(negotiateLocale(undefined, 'en')).toBe('en');
  });

  it('the CLI reads the terminal locale', () => {
    expect(terminalLocale({ LANG: 'zh_CN.UTF-8' })).toBe('zh-CN');
    expect(terminalLocale({ LANG: 'zh_CN.UTF-8', LC_ALL: 'C' })).toBe('en');
    expect(terminalLocale({})).toBe('en');
  });
});

describe('coded texts', () => {
  it('a capture hint and a device reason follow their code into the locale asked for', () => {
    const event = { capture: 'c1', missing: 'too-far', hint: 'move closer' };
    expect(localizePayload(event, 'zh-CN')).toEqual({ ...event, hint: '请靠近一些' });
    const devices = [
      {
        id: 'printer-1',
        reasonCode: 'paper-out',
        reason: 'The printer is out of paper',
        conditions: [
          { code: 'paper-out', reason: 'The printer is out of paper', since: '2026-01-01T00:00:00Z' },
        ],
      },
    ];
    expect(localizePayload(devices, 'zh-CN')[0]).toMatchObject({
      reasonCode: 'paper-out',
      reason: '打印机缺纸',
      conditions: [{ code: 'paper-out', reason: '打印机缺纸' }],
    });
    expect(localizePayload(devices, 'en')).toBe(devices);
    // A code the catalog does not know keeps the text it came with.
    const odd = { reasonCode: 'vendor-0x42', reason: 'vendor status 0x42' };
    expect(localizePayload(odd, 'zh-CN')).toBe(odd);
  });

  it('a capture-timeout problem carries its hint in the locale of the document', () => {
    const p = new Problem(
      'capture-timeout',
      t`no good face within ${8000} ms: ${'too-far'} (${'move closer'})`,
      ['camera'],
      { missing: 'too-far', hint: 'move closer' },
    );
    expect(problemDocument(p, 'zh-CN')).toMatchObject({
      type: 'urn:boxagent:problem:capture-timeout',
      missing: 'too-far',
      hint: '请靠近一些',
    });
    expect(problemDocument(p, 'en')).toMatchObject({ missing: 'too-far', hint: 'move closer' });
  });
});
