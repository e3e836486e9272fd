// Every audit entry is also an `audit.entry` event, written to the outbox in the entry's own transaction, so
// it reaches SSE and the fleet whichever process made it: the daemon, or a CLI command run beside it.
import type { Store } from '../store/store.js';
import type { EventLog } from './event-log.js';

export function publishAuditEntries(store: Store, events: EventLog): void {
  store.audit.onAppend((entry) => events.publish('audit.entry', { ...entry }));
}
