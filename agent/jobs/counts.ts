import type { Store } from '../store/store.js';

/** Jobs in the one job table by kind, then state: `{print: {queued: 2, done: 9}, seal: {…}, …}`. */
export function jobCounts(store: Store): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const { kind, state, count } of store.jobs.countByKindAndState()) {
    (counts[kind] ??= {})[state] = count;
  }
  return counts;
}
