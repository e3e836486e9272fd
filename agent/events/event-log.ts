// Every kept event (device state, job progress, audit) is first written to the outbox table, then handed to
// live listeners (SSE, the fleet link); a reader that fell behind replays from the table. Live-only events
// (catalog `kept: false`: capture hints, card reads) go to the listeners connected now and nowhere else.
import { randomUUID } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { eventDefinition, type EventPayload, type EventType } from './catalog.js';

/**
 * An event as listeners and readers see it. `type` and `payload` are loose on purpose: a stored row may
 * predate the catalog (a type since renamed). `seq` is null for a live-only event, which is never stored.
 */
export interface AgentEvent {
  id: string;
  seq: number | null;
  type: string;
  payload: unknown;
  createdAt: string;
}
/** An event read back from the event log. */
export type KeptEvent = AgentEvent & { seq: number };
export type EventListener = (event: AgentEvent) => void;

// Ajv like every other validator here (TypeBox's compiler does not know the StringEnum `Unsafe` kind),
// compiled on a type's first publish (all ten at once cost ~50 ms of start-up); a check then takes ~0.1 µs.
const ajv = new Ajv({ strict: false, allErrors: false });
addFormats.default(ajv);
const validators = new Map<string, ValidateFunction>();
function validator(type: string): ValidateFunction | undefined {
  let v = validators.get(type);
  const definition = eventDefinition(type);
  if (!v && definition) validators.set(type, (v = ajv.compile(definition.payload)));
  return v;
}

/** Under vitest a payload off its schema is a failing test; in production it is logged and still published. */
const STRICT = process.env.VITEST !== undefined;

export class EventLog {
  private readonly listeners = new Set<EventListener>();
  private appendsSinceTrim = 0;

  constructor(
    private readonly store: Store,
    private readonly maxEvents: number,
    /** With a fleet link, trimming never removes an event the fleet has not received (see `outbox.trim`). */
    private readonly keepUnsent = false,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /**
   * Records a kept event durably and notifies listeners; a live-only one only notifies them. Call inside
   * `store.transaction` to tie it to a state change.
   */
  publish<T extends EventType>(type: T, payload: EventPayload<T>): AgentEvent {
    this.check(type, payload);
    const event = { id: randomUUID(), type, payload, createdAt: new Date().toISOString() };
    let published: AgentEvent;
    if (eventDefinition(type)?.kept === false) {
      published = { ...event, seq: null };
    } else {
      published = { ...event, seq: this.store.outbox.append(event) };
      // Trimming on every append would cost a DELETE each time; every 1000th is plenty.
      if (++this.appendsSinceTrim >= 1000) {
        this.appendsSinceTrim = 0;
        this.store.outbox.trim(this.maxEvents, this.keepUnsent);
      }
    }
    // Inside a transaction, listeners hear of the event when it commits: a client must never see an event
    // that a rollback (a full disk, a failed step after it) or a crash before the commit takes back.
    this.store.afterCommit(() => {
      for (const listener of this.listeners) {
        try {
          listener(published);
        } catch (err) {
          // The event is committed: a failing listener must not make the caller think its change failed.
          process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'EventListenerError');
        }
      }
    });
    return published;
  }

  /**
   * For events no state change waits on (device state, card reads), published from a device's own loop:
   * a write that fails (the disk is full) is logged and the event dropped, instead of throwing into the loop
   * and taking the daemon down.
   */
  publishOrLog<T extends EventType>(
    type: T,
    payload: EventPayload<T>,
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

  /** Kept events after `seq`, oldest first, at most `limit`. */
  replay(afterSeq: number, limit = 1000): KeptEvent[] {
    return this.store.outbox.after(afterSeq, limit);
  }

  lastSeq(): number {
    return this.store.outbox.lastSeq();
  }

  private check(type: string, payload: unknown): void {
    const validate = validator(type);
    if (validate?.(payload)) return;
    const e = validate?.errors?.[0];
    const problem = validate
      ? `payload ${e?.instancePath || '/'} ${e?.message ?? 'is invalid'}`
      : 'is not in the event catalog';
    if (STRICT) throw new Error(`event ${type}: ${problem}`);
    // A drift between a publisher and its schema must not lose the event or stop the daemon.
    const message = `event ${type}: ${problem}`;
    // The payload is not logged: it may hold personal data (a card read).
    if (this.log) this.log.warn({ type }, message);
    else process.emitWarning(message, 'EventSchemaWarning');
  }
}
