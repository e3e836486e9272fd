// The languages a clerk-visible text comes in, and which one a request gets: the first language of
// `Accept-Language` (by q-value) that the box has, else the box's own `box.locale`.
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** A text in every locale: a catalog entry. */
export type Bilingual = { readonly [L in Locale]: string };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * One language tag as a locale of the box: `zh`, `zh-CN`, `zh-Hans`, `zh-Hans-CN` are zh-CN (the box has
 * Simplified Chinese only, so `zh-TW` too is better served in it than in English); `en-*` is en.
 */
export function localeOf(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  if (primary === 'zh') return 'zh-CN';
  if (primary === 'en') return 'en';
  return undefined;
}

/**
 * The locale for an `Accept-Language` header (RFC 9110 §12.5.4): ranges by descending q (ties keep their
 * order), q=0 ranges are refused, `*` means the fallback; no header or no known language gives the fallback.
 */
export function negotiateLocale(header: string | readonly string[] | undefined, fallback: Locale): Locale {
  const text = Array.isArray(header) ? header.join(',') : (header as string | undefined);
  if (!text) return fallback;
  const ranges = text
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)).find((m) => m !== null);
      const weight = q ? Number(q[1]) : 1;
      return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((r) => r.tag !== '' && r.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const r of ranges) {
    if (r.tag === '*') return fallback;
    const locale = localeOf(r.tag);
    if (locale) return locale;
  }
  return fallback;
}

/**
 * The CLI's language for problem texts: the terminal's POSIX locale (LC_ALL, LC_MESSAGES, LANG; `zh_CN.UTF-8`
 * is zh-CN), English when it names none the box has (`C`, `POSIX`, unset).
 */
export function terminalLocale(env: NodeJS.ProcessEnv): Locale {
  const value = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return localeOf(value.split(/[._@]/)[0]!.replace('_', '-')) ?? 'en';
}
