// The error services throw when a request cannot be done as asked. It names a registry code and, where one
// input field is at fault, that field as a path of keys; how it reaches a caller (HTTP status, JSON pointer,
// MQTT reply, CLI line) is the adapters' business (`document.ts`).
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
    readonly detail?: string,
    readonly field?: ProblemField,
    /** Members beside the standard ones, declared in `extensions.ts`. */
    readonly extensions: ProblemExtensions = {},
  ) {
    super(detail ?? PROBLEMS[code].title);
  }
}
