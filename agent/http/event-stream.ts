// GET /v1/events: Server-Sent Events from the event log. A client that reconnects with Last-Event-ID gets
// what it missed from the store, then live events; a client too slow to keep up is disconnected (it resumes
// with Last-Event-ID) rather than buffered without bound. Each token gets only the event types its scopes
// allow (the event catalog's `scope`), live and replayed alike. After the replay, every connection gets one
// `snapshot` frame (no `id:`: it is not in the log) with the current state, so a page is right at once. Coded
// texts in payloads and the snapshot (a capture's `hint` beside `missing`, a `reason` beside `reasonCode`) are
// in the language of the stream's request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { hasScope } from '../auth/token-service.js';
import { eventScope } from '../events/catalog.js';
import type { AgentEvent, EventLog } from '../events/event-log.js';
import type { Snapshot } from './snapshot.js';
import { localizePayload } from '../messages/localize.js';
import type { Locale } from '../messages/locale.js';
import { requestLocale } from './locale.js';
import type { StreamQuota } from './stream-quota.js';

/** The current state as of event `seq`, for a caller allowed the event types `allowed` accepts. */
export type SnapshotSource = (seq: number, allowed: (type: string) => boolean) => Snapshot;

const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED_BYTES = 1_048_576;
const REPLAY_PAGE = 500;

/**
 * One SSE frame. A live-only event (seq null) has no `id:` field, so the browser's Last-Event-ID stays at
 * the last kept event and a reconnect resumes from there; its data carries `seq: null`.
 */
export function formatEvent(e: AgentEvent, locale?: Locale): string {
  const payload = locale === undefined ? e.payload : localizePayload(e.payload, locale);
  const data = JSON.stringify({
    id: e.id,
    seq: e.seq,
    type: e.type,
    at: e.createdAt,
    ...(payload as object),
  });
  return `${e.seq === null ? '' : `id: ${e.seq}\n`}event: ${e.type}\ndata: ${data}\n\n`;
}

function lastEventId(request: FastifyRequest): number {
  const raw = request.headers['last-event-id'] ?? (request.query as Record<string, unknown>).lastEventId;
  const n = Number(raw);
  return typeof raw === 'string' && Number.isInteger(n) && n >= 0 ? n : -1;
}

/** The open event streams, so a shutdown can end them instead of waiting on them. */
export class EventStreams {
  private readonly open = new Set<FastifyReply['raw']>();

  constructor(
    private readonly events: EventLog,
    private readonly log: Logger,
    private readonly quota: StreamQuota,
    private readonly snapshot: SnapshotSource,
  ) {}

  handle(request: FastifyRequest, reply: FastifyReply): void {
    // The route needs a token (scope read), so the principal is there; without one nothing is sent.
    const principal = request.principal;
    if (principal !== undefined) this.quota.take(principal.tokenId, reply.raw);
    this.open.add(reply.raw);
    reply.raw.on('close', () => this.open.delete(reply.raw));
    const allowed = (type: string): boolean =>
      principal !== undefined && hasScope(principal, eventScope(type));
    streamEvents(request, reply, this.events, allowed, this.log, this.snapshot);
  }

  closeAll(): void {
    for (const res of this.open) res.end();
  }
}

function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  events: EventLog,
  allowed: (type: string) => boolean,
  log: Logger,
  snapshot: SnapshotSource,
): void {
  const res = reply.raw;
  const locale = requestLocale(request);
  reply.hijack();
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });

  let sent = -1;
  let replaying = true;
  const pending: AgentEvent[] = [];
  const write = (e: AgentEvent): void => {
    if (e.seq !== null) {
      if (e.seq <= sent) return;
      // Advanced for events this token may not see too, so replay moves past them.
      sent = e.seq;
    }
    if (!allowed(e.type)) return;
    res.write(formatEvent(e, locale));
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      log.warn({ writable: res.writableLength }, 'SSE client too slow; disconnecting it');
      res.destroy();
    }
  };
  // Subscribe before replaying so nothing published during the replay is lost.
  const unsubscribe = events.subscribe((e) => (replaying ? pending.push(e) : write(e)));

  const from = lastEventId(request);
  if (from >= 0) {
    sent = from;
    for (
      let page = events.replay(from, REPLAY_PAGE);
      page.length > 0;
      page = events.replay(sent, REPLAY_PAGE)
    ) {
      page.forEach(write);
      if (res.destroyed) break;
    }
  } else {
    sent = events.lastSeq();
    res.write('retry: 2000\n\n');
  }
  replaying = false;
  pending.forEach(write);
  pending.length = 0;
  if (!res.destroyed) {
    // Everything here ran in one tick (sqlite and device states are synchronous): no event falls between
    // the last one sent and the snapshot, which is therefore exactly as of `sent`.
    res.write(
      `event: snapshot\ndata: ${JSON.stringify(localizePayload(snapshot(sent, allowed), locale))}\n\n`,
    );
  }

  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  res.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}
