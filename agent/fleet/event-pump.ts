// Sends the durable outbox to the broker: unsent rows in `seq` order, QoS 1, a bounded window in flight, and
// a row is marked sent only once its PUBACK arrives. After a reconnect the MQTT client re-sends what was in
// flight (in order, before anything new), then the pump goes on from where it was, so nothing is lost or
// reordered; after a restart of the daemon the pump starts again from the first unsent row.
import type { Logger } from 'pino';
import { JOB_EVENT_TYPES } from '../events/catalog.js';
import type { EventLog } from '../events/event-log.js';
import type { Store } from '../store/store.js';
import type { StoredEvent } from '../store/outbox.js';
import { FLEET_SCHEMA, type EventMessage, type OutboxTelemetry } from './contract.js';

/**
 * Event types that are never dropped from a full outbox: every job event (`<kind>.job`), audit ones, alerts
 * (an outbox-growing alert is raised exactly when the outbox fills), and `seal.` / `job.` for the seal and
 * self-test events a version before the one job engine wrote.
 */
export const PROTECTED_EVENT_PREFIXES: readonly string[] = [
  ...JOB_EVENT_TYPES,
  'audit.',
  'alert.',
  'seal.',
  'job.',
];

/** Publishes one message at QoS 1; calls back on PUBACK or with an error when it will not be acknowledged. */
export type QosOnePublish = (topic: string, payload: string, done: (err?: Error) => void) => void;

export interface EventPumpOptions {
  topic: string;
  /** Unsent rows kept at most (protected types excepted). */
  maxUnsent: number;
  maxUnsentAgeDays: number;
  /** Messages sent and not yet acknowledged, at most. */
  window?: number;
}

const DEFAULT_WINDOW = 200;
/** The bound is checked after this many new events, and on every telemetry sample. */
const BOUND_EVERY = 1000;

export class EventPump {
  /** Highest seq handed to the client. */
  private cursor = 0;
  private readonly inFlight = new Set<number>();
  private acked: number[] = [];
  private online = false;
  private running = false;
  private drainScheduled = false;
  private flushScheduled = false;
  private sinceBound = 0;
  private dropped = 0;
  private unsubscribe?: () => void;

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly publish: QosOnePublish,
    private readonly opts: EventPumpOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.enforceBound();
    // Deferred: `events.publish` may run inside a transaction that has not committed yet.
    this.unsubscribe = this.events.subscribe((e) => {
      if (e.seq === null) return; // live-only: never stored, never the fleet's
      if (++this.sinceBound >= BOUND_EVERY) setImmediate(() => this.enforceBound());
      this.scheduleDrain();
    });
  }

  stop(): void {
    this.running = false;
    this.online = false;
    this.unsubscribe?.();
    this.flushAcks();
  }

  /** The broker connection is up: send. */
  connected(): void {
    this.online = true;
    this.scheduleDrain();
  }

  /** Sends what another process (a CLI command) wrote to the outbox since; called on every telemetry tick. */
  poll(): void {
    this.scheduleDrain();
  }

  /** The connection is gone: stop sending (the client keeps what is in flight and re-sends it). */
  disconnected(): void {
    this.online = false;
  }

  /** Depth, age of the oldest unsent event and a warning when the bound is reached. */
  stats(now = Date.now()): OutboxTelemetry {
    this.flushAcks();
    const { count, oldestCreatedAt } = this.store.outbox.unsentSummary();
    const t: OutboxTelemetry = {
      depth: count,
      oldestUnsentAgeSeconds:
        oldestCreatedAt === null ? null : Math.max(0, Math.round((now - Date.parse(oldestCreatedAt)) / 1000)),
      droppedSinceStart: this.dropped,
    };
    if (count >= this.opts.maxUnsent) {
      t.warning = `outbox full: ${count} events wait (bound ${this.opts.maxUnsent}); device events are being dropped, job and audit events are kept`;
    } else if (this.dropped > 0) {
      t.warning = `${this.dropped} unsent device events were dropped from the outbox since start`;
    }
    return t;
  }

  /** Drops unsent unprotected rows beyond the size and age bounds. */
  enforceBound(): void {
    this.sinceBound = 0;
    const olderThan = new Date(Date.now() - this.opts.maxUnsentAgeDays * 86_400_000).toISOString();
    const n = this.store.outbox.dropUnsent(this.opts.maxUnsent, olderThan, PROTECTED_EVENT_PREFIXES);
    if (n > 0) {
      this.dropped += n;
      this.log.warn({ dropped: n, bound: this.opts.maxUnsent }, 'outbox full: dropped unsent device events');
    }
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || !this.online) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    const window = this.opts.window ?? DEFAULT_WINDOW;
    while (this.online && this.running && this.inFlight.size < window) {
      const rows = this.store.outbox.unsentAfter(this.cursor, window - this.inFlight.size);
      if (rows.length === 0) return;
      for (const row of rows) {
        // After a re-send reset, rows still in flight or acknowledged but not yet written are skipped.
        if (this.inFlight.has(row.seq) || this.acked.includes(row.seq)) this.cursor = row.seq;
        else this.send(row);
      }
    }
  }

  private send(row: StoredEvent): void {
    const message: EventMessage = {
      schema: FLEET_SCHEMA,
      id: row.id,
      seq: row.seq,
      type: row.type,
      createdAt: row.createdAt,
      payload: row.payload,
    };
    this.cursor = row.seq;
    this.inFlight.add(row.seq);
    this.publish(this.opts.topic, JSON.stringify(message), (err) => {
      this.inFlight.delete(row.seq);
      if (err) {
        // Not acknowledged and no longer held by the client: send it again from here.
        this.cursor = Math.min(this.cursor, row.seq - 1);
        this.log.debug({ seq: row.seq, err: err.message }, 'event not acknowledged; will re-send');
      } else {
        this.acked.push(row.seq);
        this.scheduleFlush();
      }
      this.scheduleDrain();
    });
  }

  // Acknowledgements are written in batches: one transaction per turn of the event loop, not per event.
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushAcks();
    });
  }

  private flushAcks(): void {
    if (this.acked.length === 0) return;
    const seqs = this.acked;
    this.acked = [];
    const at = new Date().toISOString();
    this.store.transaction(() => this.store.outbox.markPublished(seqs, at));
  }
}
