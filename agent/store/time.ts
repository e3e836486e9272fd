/** Timestamps are stored as ISO-8601 UTC text: sortable, readable in the sqlite3 shell. */
export function nowIso(): string {
  return new Date().toISOString();
}
