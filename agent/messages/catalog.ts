// The one message catalog: every clerk-visible text by key, in every locale, composed from the per-domain
// tables. Keys are `<domain>:<id>`: `problem:<code>` (titles), `detail:<English template>` (problem details
// written with `t`), `hint:<missing>` (face capture), `reason:<reasonCode>` (device and queue reasons),
// `term:<word>` (words that fill a detail at run time: job kinds and states).
import { CAPTURE_HINT_TEXTS } from './capture-hints.js';
import { DETAILS } from './details.js';
import { DEVICE_REASONS } from './device-reasons.js';
import type { Bilingual } from './locale.js';
import { PROBLEM_TITLES } from './problem-titles.js';
import { TERMS } from './terms.js';

/** Device and queue reasons by `reasonCode`. */
export const REASONS: Readonly<Record<string, Bilingual>> = DEVICE_REASONS;

function domain(prefix: string, table: Readonly<Record<string, Bilingual>>): [string, Bilingual][] {
  return Object.entries(table).map(([id, text]) => [`${prefix}:${id}`, text]);
}

/** A table written English → Chinese (the English is the key, so it cannot be missing). */
function fromEnglish(prefix: string, table: Readonly<Record<string, string>>): [string, Bilingual][] {
  return Object.entries(table).map(([en, zh]) => [`${prefix}:${en}`, { en, 'zh-CN': zh }]);
}

export const MESSAGES: ReadonlyMap<string, Bilingual> = new Map([
  ...domain('problem', PROBLEM_TITLES),
  ...fromEnglish('detail', DETAILS),
  ...domain('hint', CAPTURE_HINT_TEXTS),
  ...domain('reason', REASONS),
  ...fromEnglish('term', TERMS),
]);
