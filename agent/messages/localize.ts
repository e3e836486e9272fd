// Payloads (events, device lists, problem extensions) carry a stable code beside each text, e.g.
// `{reasonCode: 'paper-out', reason: '…'}`, a device condition's `{code: 'paper-out', reason: '…'}` or a
// capture's `{missing: 'too-far', hint: '…'}`. Whoever
// sends a payload to a caller with a known locale re-renders the text from the code, so a Chinese page
// and an English one read the same event each in its own language.
import { MESSAGES } from './catalog.js';
import type { Locale } from './locale.js';

/** Which field holds the code, which holds its text, and the catalog domain the code is looked up in. */
const CODED_TEXTS = [
  { code: 'reasonCode', text: 'reason', domain: 'reason' },
  { code: 'code', text: 'reason', domain: 'reason' },
  { code: 'missing', text: 'hint', domain: 'hint' },
] as const;

/** A copy of `value` with every coded text in `locale` (unknown codes keep their text); shared parts kept. */
export function localizePayload<T>(value: T, locale: Locale): T {
  return localizeValue(value, locale) as T;
}

function localizeValue(value: unknown, locale: Locale): unknown {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const l = localizeValue(v, locale);
      changed ||= l !== v;
      return l;
    });
    return changed ? out : value;
  }
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obj)) {
    const l = localizeValue(v, locale);
    if (l !== v) (out ??= { ...obj })[k] = l;
  }
  for (const { code, text, domain } of CODED_TEXTS) {
    const c = obj[code];
    if (typeof c !== 'string' || !(text in obj)) continue;
    const entry = MESSAGES.get(`${domain}:${c}`);
    if (entry && obj[text] !== entry[locale]) (out ??= { ...obj })[text] = entry[locale];
  }
  return out ?? value;
}
