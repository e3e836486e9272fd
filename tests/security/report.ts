// Counts of what the fuzzers sent and got, printed at the end of a run (the README quotes them).
const counts = new Map<string, Map<number, number>>();

export function recordStatus(channel: string, operation: string, status: number): void {
  const key = `${channel} ${operation}`;
  const byStatus = counts.get(key) ?? new Map<number, number>();
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  counts.set(key, byStatus);
}

export function fuzzReport(): string {
  const total = new Map<number, number>();
  let requests = 0;
  for (const byStatus of counts.values()) {
    for (const [status, n] of byStatus) {
      total.set(status, (total.get(status) ?? 0) + n);
      requests += n;
    }
  }
  const statuses = [...total.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  return `fuzz: ${requests} requests over ${counts.size} operations; statuses ${statuses.join(', ')}`;
}
