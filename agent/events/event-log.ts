// Every event (device state, job progress, audit) is first written to the outbox table, then handed to
// live listeners (SSE, the fleet link). A reader that fell behind replays from the table.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { StoredEvent } from '../store/outbox.js';

export type AgentEvent = StoredEvent;
export type EventListener = (event: AgentEvent) => void;

export class EventLog {
  private readonly listeners = new Set<EventListener>();
  private appendsSinceTrim = 0;

  constructor(
    private readonly store: Store,
    private readonly maxEvents: number,
    /** With a fleet link, trimming never removes an event the fleet has not received (see `outbox.trim`). */
    private readonly keepUnsent = false,
  ) {}

  /** Records an event durably and notifies listeners. Call inside `store.transaction` to tie it to a state change. */
  publish(type: string, payload: Record<string, unknown>): AgentEvent {
    const event = { id: randomUUID(), type, payload, createdAt: new Date().toISOString() };
    const seq = this.store.outbox.append(event);
    const stored: AgentEvent = { ...event, seq };
    // Trimming on every append would cost a DELETE each time; every 1000th is plenty.
    if (++this.appendsSinceTrim >= 1000) {
      this.appendsSinceTrim = 0;
      this.store.outbox.trim(this.maxEvents, this.keepUnsent);
    }
    // Inside a transaction, listeners hear of the event when it commits: a client must never see an event
    // that a rollback (a full disk, a failed step after it) or a crash before the commit takes back.
    this.store.afterCommit(() => {
      for (const listener of this.listeners) {
        try {
          listener(stored);
        } catch (err) {
          // The event is committed: a failing listener must not make the caller think its change failed.
          process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'EventListenerError');
        }
      }
    });
    return stored;
  }

  /**
   * For events no state change waits on (device state, card reads), published from a device's own loop:
   * a write that fails (the disk is full) is logged and the event dropped, instead of throwing into the loop
   * and taking the daemon down.
   */
  publishOrLog(
    type: string,
    payload: Record<string, unknown>,
    log: Pick<Logger, 'error'>,
  ): AgentEvent | undefined {
    try {
      return this.publish(type, payload);
    } catch (err) {
      log.error({ err, type }, 'event not recorded');
      return undefined;
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events after `seq`, oldest first, at most `limit`. */
  replay(afterSeq: number, limit = 1000): AgentEvent[] {
    return this.store.outbox.after(afterSeq, limit);
  }

  lastSeq(): number {
    return this.store.outbox.lastSeq();
  }
}
