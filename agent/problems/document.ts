// The one mapping from a thrown error to the RFC 9457 problem document every adapter sends: HTTP as
// problem+json, fleet RPC as the reply's `error`, the CLI as its one-line reason. It lives here, below the
// services, because it is pure and every adapter needs it; adapter-specific errors (fastify's body parser)
// are turned into a Problem by their adapter first. Title, detail and coded texts of the extensions (a
// capture's `hint`) are rendered in the locale the adapter chose for its caller.
import { localizePayload } from '../messages/localize.js';
import type { Locale } from '../messages/locale.js';
import { message, render } from '../messages/text.js';
import { jsonPointer } from './json-pointer.js';
import { Problem, type ProblemField } from './problem.js';
import { PROBLEM_BASE, PROBLEMS } from './registry.js';
import { t } from '../messages/text.js';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** The failing field as a JSON pointer into the input, where there is one. */
  field?: string;
  [extension: string]: unknown;
}

/** Error codes that mean the state dir's disk (or quota) is full: from node:fs and from SQLite. */
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/**
 * Any thrown value as a Problem: a Problem as it is; a full disk as 507 `insufficient-storage` (the write
 * that failed was rolled back, so the caller may retry once space is freed); anything else as `internal`.
 */
export function asProblem(err: unknown): Problem {
  if (err instanceof Problem) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && STORAGE_FULL_CODES.has(code)) {
    return new Problem(
      'insufficient-storage',
      t`the state directory is full, so this request could not be recorded; free disk space on the box, then retry`,
      undefined,
      { retryAfter: 30 },
    );
  }
  return new Problem('internal', t`the agent failed to handle this request; see its log`);
}

/** The problem document for any thrown value (see `asProblem`), its texts in `locale`. */
export function problemDocument(err: unknown, locale: Locale = 'en'): ProblemDocument {
  const problem = asProblem(err);
  const { status } = PROBLEMS[problem.code];
  return {
    ...localizePayload(problem.extensions, locale),
    type: PROBLEM_BASE + problem.code,
    title: render(message('problem', problem.code), locale),
    status,
    ...(problem.text === undefined ? {} : { detail: render(problem.text, locale) }),
    ...(problem.field === undefined ? {} : { field: fieldName(problem.field) }),
  };
}

/** A key path as a JSON pointer into the input; a request header by its name. */
function fieldName(field: ProblemField): string {
  return 'header' in field ? field.header : jsonPointer(field);
}
