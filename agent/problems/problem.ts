// The error services throw when a request cannot be done as asked. It names a registry code and, where one
// input field is at fault, that field as a path of keys; how it reaches a caller (HTTP status, JSON pointer,
// MQTT reply, CLI line) is the adapters' business (`document.ts`). The detail is a catalog Text (written
// t`...`), rendered in the caller's language only by the adapter.
import { render, type Text } from '../messages/text.js';
import type { ProblemExtensions } from './extensions.js';
import { PROBLEMS, type ProblemCode } from './registry.js';

/** The failing input field as keys from the input's root, e.g. `['document', 'lines', 3]`. */
export type FieldPath = readonly (string | number)[];

/** What a problem blames: an input field, or a request header outside the input (`Idempotency-Key`). */
export type ProblemField = FieldPath | { readonly header: string };

export class Problem extends Error {
  override name = 'Problem';
  constructor(
    readonly code: ProblemCode,
    readonly text?: Text,
    readonly field?: ProblemField,
    /** Members beside the standard ones, declared in `extensions.ts`. */
    readonly extensions: ProblemExtensions = {},
  ) {
    super(text === undefined ? PROBLEMS[code].title : render(text, 'en'));
  }

  /** The detail in English (logs, audit, tests); callers get it in their own language from `document.ts`. */
  get detail(): string | undefined {
    return this.text === undefined ? undefined : this.message;
  }
}
