// The response headers a page's script may read cross-origin (Access-Control-Expose-Headers): the ones the
// API's contract tells a caller to read, and every header a binary output declares (the ID photo's X-Photo-*),
// taken from the catalog so a new one cannot be forgotten.
import { CATALOG } from '../operations/catalog.js';
import { binaryHeaders, type AnyOperation } from '../operations/operation.js';

/** Headers any response may carry that a caller acts on. */
export const CONTRACT_HEADERS = {
  'Retry-After': 'Seconds to wait before retrying (429, 503, 507)',
  'Idempotent-Replayed': '`true` when an Idempotency-Key retry got the first answer again',
  Location: 'The URL of a created resource',
} as const;

export function exposedHeaders(catalog: readonly AnyOperation[]): string[] {
  const names = new Set<string>(Object.keys(CONTRACT_HEADERS));
  for (const op of catalog) for (const name of Object.keys(binaryHeaders(op.output))) names.add(name);
  return [...names];
}

export const EXPOSED_HEADERS = exposedHeaders(CATALOG).join(', ');
