// A clerk-visible text before it is rendered: a catalog key with its parameters, turned into words only
// by an adapter that knows the caller's locale. Details are written as tagged templates so call sites read
// like the English sentence: t`no device "${id}"` is the key `detail:no device "{0}"` with params [id].
import { MESSAGES } from './catalog.js';
import type { Locale } from './locale.js';

/**
 * A value that fills a `{n}` slot: shown as it is, or (a Text) rendered in the same locale; a list of texts
 * is rendered each and joined as the language lists things.
 */
export type Param = string | number | Text | readonly Text[];

const LIST_SEPARATOR: Record<Locale, string> = { en: '; ', 'zh-CN': '；' };

export type Text =
  | { readonly key: string; readonly params: readonly Param[] }
  /** A text from outside the catalog (a library's or a driver's message): shown as it is, in any locale. */
  | { readonly verbatim: string };

/** The catalog key a template's static parts make: the parts joined by `{0}`, `{1}`, ... */
export function templateKey(parts: readonly string[]): string {
  return parts.reduce((key, part, i) => (i === 0 ? part : `${key}{${i - 1}}${part}`), '');
}

/** A problem detail: the static parts are the key (`detail:` + English), the `${}` parts its params. */
export function t(strings: TemplateStringsArray, ...params: Param[]): Text {
  return { key: `detail:${templateKey(strings)}`, params };
}

/** A text the catalog cannot know (a parser's or a driver's message), passed through unchanged. */
export function verbatim(text: string): Text;
export function verbatim(text: string | undefined): Text | undefined;
export function verbatim(text: string | undefined): Text | undefined {
  return text === undefined ? undefined : { verbatim: text };
}

/** A catalog entry of another domain (`problem`, `hint`, `reason`, `term`) by its id. */
export function message(domain: string, id: string, params: readonly Param[] = []): Text {
  return { key: `${domain}:${id}`, params };
}

/** A run-time word (a job kind, a job state) in the caller's language where the catalog has it. */
export function term(word: string): Text {
  return MESSAGES.has(`term:${word}`) ? message('term', word) : verbatim(word);
}

function isTextList(p: Param): p is readonly Text[] {
  return Array.isArray(p);
}

export function isText(value: unknown): value is Text {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.verbatim === 'string' || (typeof v.key === 'string' && Array.isArray(v.params));
}

/**
 * The text in a locale. A key the catalog lacks (a unit test keeps every key in source in it) shows as its
 * English template with the params filled in, never as nothing.
 */
export function render(text: Text, locale: Locale): string {
  if ('verbatim' in text) return text.verbatim;
  const entry = MESSAGES.get(text.key);
  const template = entry?.[locale] ?? text.key.slice(text.key.indexOf(':') + 1);
  return template.replace(/\{(\d+)\}/g, (slot, n: string) => {
    const p = text.params[Number(n)];
    if (p === undefined) return slot;
    if (isTextList(p)) return p.map((item) => render(item, locale)).join(LIST_SEPARATOR[locale]);
    return typeof p === 'object' ? render(p, locale) : String(p);
  });
}
