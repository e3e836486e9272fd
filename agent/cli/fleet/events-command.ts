// `boxagent fleet events BOX [--follow] [--after SEQ]`: a box's events, once each, in the order of its log.
// Without --follow it pages through `events.list` after SEQ and exits. With --follow it does what
// docs/mqtt.md asks of a collector: a persistent session under a stable client id (the broker queues events
// while it is away, across broker restarts too), QoS 1, de-duplication by event id, and a gap in `seq` (or a
// telemetry `lastEventSeq` ahead of it) fetched with `events.list` before going on.
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { EventMessage, TelemetryMessage } from '../../fleet/contract.js';
import type { FleetClient } from '../../fleet/operator/fleet-client.js';
import { CliError, EXIT_USAGE, print } from '../support.js';
import { addOperatorOptions, connectFleet, fleetClientOptions, type OperatorOptions } from './options.js';

interface EventsOptions extends OperatorOptions {
  follow?: boolean;
  after?: string;
  clientId?: string;
  sessionExpiry: string;
}

interface ListedEvent {
  id: string;
  seq: number;
  type: string;
  createdAt: string;
  payload: unknown;
}

/** A page of `events.list`. */
interface EventPage {
  events: ListedEvent[];
  lastSeq: number;
}

const PAGE = 1000;

/** Receives a box's events from any source and hands each on once, in seq order past the last one. */
export class EventFollower {
  private readonly seen = new Set<string>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    /** Highest seq handed on; undefined until the first event when no --after was given. */
    private highest: number | undefined,
    private readonly fetchPage: (after: number) => Promise<EventPage>,
    private readonly emit: (e: ListedEvent) => void,
    private readonly notice: (line: string) => void,
  ) {}

  get last(): number | undefined {
    return this.highest;
  }

  /** A message from the events topic. */
  received(e: ListedEvent): Promise<void> {
    return this.enqueue(async () => {
      if (this.isOld(e)) return;
      if (this.highest !== undefined && e.seq > this.highest + 1) await this.fill(e.seq - 1);
      // The fetch may have brought this event too.
      if (!this.isOld(e)) this.hand(e);
    });
  }

  /** The box says its newest event is `lastSeq` (telemetry, or at start): fetch what is missing. */
  ahead(lastSeq: number): Promise<void> {
    return this.enqueue(async () => {
      if (this.highest !== undefined && lastSeq > this.highest) await this.fill(lastSeq);
    });
  }

  /** Serialised: a fetch and the live messages that arrive meanwhile are handled one after the other. */
  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step).catch((err: unknown) => {
      // The next event or telemetry sample tries again: nothing is marked seen that was not printed.
      this.notice(`events.list failed: ${err instanceof Error ? err.message : String(err)}; will retry`);
    });
    this.chain = next;
    return next;
  }

  private isOld(e: ListedEvent): boolean {
    // Below the highest seq handed on, every event was handed on or lay before the start (--after).
    return this.seen.has(e.id) || (this.highest !== undefined && e.seq <= this.highest);
  }

  private hand(e: ListedEvent): void {
    this.seen.add(e.id);
    this.highest = Math.max(this.highest ?? 0, e.seq);
    this.emit(e);
  }

  /** Fetches and hands on every event after the highest up to `upTo` (or what the box still has). */
  private async fill(upTo: number): Promise<void> {
    while (this.highest !== undefined && this.highest < upTo) {
      const from = this.highest;
      const page = await this.fetchPage(from);
      const first = page.events[0];
      if (first && first.seq > from + 1)
        this.notice(`events ${from + 1}..${first.seq - 1} are no longer in the box's log`);
      for (const e of page.events) if (!this.isOld(e) && e.seq <= Math.max(upTo, page.lastSeq)) this.hand(e);
      if (page.events.length === 0 || this.highest >= page.lastSeq) {
        if (this.highest < upTo) {
          this.notice(`events ${this.highest + 1}..${upTo} are no longer in the box's log`);
          this.highest = upTo;
        }
        return;
      }
      if (this.highest === from) return; // nothing new came back: do not spin
    }
  }
}

function eventLine(e: ListedEvent, json: boolean): string {
  if (json) return JSON.stringify({ schema: 1, ...e });
  return `${e.seq}  ${e.createdAt}  ${e.type}  ${JSON.stringify(e.payload)}`;
}

function parseEvent(payload: Buffer): ListedEvent | undefined {
  try {
    const m = JSON.parse(payload.toString('utf8')) as EventMessage;
    if (typeof m.id === 'string' && Number.isInteger(m.seq) && typeof m.type === 'string')
      return { id: m.id, seq: m.seq, type: m.type, createdAt: m.createdAt, payload: m.payload };
  } catch {
    // not an event message
  }
  return undefined;
}

async function listPage(client: FleetClient, box: string, after: number): Promise<EventPage> {
  const reply = await client.call(box, 'events.list', { after, limit: PAGE }, { timeoutMs: 15_000 });
  if (!reply.ok)
    throw new Error(`${reply.error.title}${reply.error.detail ? `: ${reply.error.detail}` : ''}`);
  return reply.result as EventPage;
}

/** The default client id: stable per box and operator user, so a restarted follower resumes its session. */
export function defaultClientId(box: string): string {
  return `boxagent-events-${box}-${userInfo().username}`.slice(0, 128);
}

function parseAfter(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError(`--after ${text}: expected a seq (0 or more)`, EXIT_USAGE);
  return n;
}

export function registerEvents(fleet: Command): void {
  addOperatorOptions(
    fleet
      .command('events <box>')
      .description("a box's events, once each in seq order: the log after --after, or --follow them live")
      .option('--follow', 'keep receiving (persistent session; gaps fetched with events.list)')
      .option('--after <seq>', 'start after this seq (without it, --follow starts with what arrives)')
      .option('--client-id <id>', 'MQTT client id of the persistent session (default: per box and user)')
      .option('--session-expiry <seconds>', 'how long the broker keeps the session while away', '604800'),
  ).action(async (box: string, opts: EventsOptions) => {
    const after = parseAfter(opts.after);
    const json = opts.json === true;
    const notice = (line: string): void => void process.stderr.write(`boxagent: ${box}: ${line}\n`);
    if (!opts.follow) {
      const client = await connectFleet(fleetClientOptions(opts));
      try {
        const follower = new EventFollower(
          after ?? 0,
          (from) => listPage(client, box, from),
          (e) => print(eventLine(e, json)),
          notice,
        );
        const first = await listPage(client, box, after ?? 0);
        await follower.ahead(first.lastSeq);
      } finally {
        await client.close();
      }
      return;
    }
    const client = await connectFleet(
      fleetClientOptions(opts, {
        clientId: opts.clientId ?? defaultClientId(box),
        clean: false,
        sessionExpirySeconds: Number(opts.sessionExpiry) || 604_800,
      }),
    );
    const follower = new EventFollower(
      after,
      (from) => listPage(client, box, from),
      (e) => print(eventLine(e, json)),
      notice,
    );
    const topics = client.topics(box);
    await client.subscribe([topics.events, topics.telemetry], (topic, payload) => {
      if (topic === topics.events) {
        const e = parseEvent(payload);
        if (e) void follower.received(e);
      } else if (topic === topics.telemetry && payload.length > 0) {
        try {
          const t = JSON.parse(payload.toString('utf8')) as TelemetryMessage;
          if (Number.isInteger(t.lastEventSeq)) void follower.ahead(t.lastEventSeq);
        } catch {
          // not telemetry
        }
      }
    });
    notice(
      `following events (session ${client.clientId}${after === undefined ? '' : `, after seq ${after}`})`,
    );
    // With --after, what the box logged since then comes first (the session may hold none of it).
    if (after !== undefined) {
      const first = await listPage(client, box, after).catch(() => undefined);
      if (first) await follower.ahead(first.lastSeq);
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await client.close();
  });
}
