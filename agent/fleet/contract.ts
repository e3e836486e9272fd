// The MQTT wire contract (DESIGN.md, "MQTT (fleet)"), typed in one place: topic names and every payload the
// box sends or accepts. docs/mqtt.md is generated from this module and the operations catalog.
import type { ProblemDocument } from '../problems/document.js';

/** Version of the payload shapes below; every payload carries it as `schema`. */
export const FLEET_SCHEMA = 1;

export interface FleetTopics {
  /** `boxagent/v1/<boxId>`: everything the box publishes or subscribes to is under it. */
  root: string;
  status: string;
  telemetry: string;
  events: string;
  /** Subscription filter for RPC requests (`<root>/rpc/+`). */
  rpcFilter: string;
  configDesired: string;
  configReported: string;
}

export function fleetTopics(prefix: string, boxId: string): FleetTopics {
  const root = `${prefix.replace(/\/+$/, '')}/${boxId}`;
  return {
    root,
    status: `${root}/status`,
    telemetry: `${root}/telemetry`,
    events: `${root}/events`,
    rpcFilter: `${root}/rpc/+`,
    configDesired: `${root}/config/desired`,
    configReported: `${root}/config/reported`,
  };
}

/** The operation named by an RPC topic, or undefined when the topic is not an RPC topic of this box. */
export function rpcOperation(topics: FleetTopics, topic: string): string | undefined {
  const head = `${topics.root}/rpc/`;
  if (!topic.startsWith(head)) return undefined;
  const name = topic.slice(head.length);
  return name === '' || name.includes('/') ? undefined : name;
}

export interface DeviceSummary {
  total: number;
  ready: number;
  /** Device id → state, for every device not ready or busy. */
  notReady: Record<string, string>;
}

/** `…/status`, retained. The Last Will is the offline form with the same `sessionId`. */
export type StatusMessage =
  | {
      schema: typeof FLEET_SCHEMA;
      online: true;
      box: string;
      site: string;
      version: string;
      startedAt: string;
      /** New for every connection; the will names the session it belongs to, so a stale will can be ignored. */
      sessionId: string;
      /** When this session began (its connection was opened): the box is online since then. */
      since: string;
      /** When the broker accepted this session's connection. */
      connectedAt: string;
      devices: DeviceSummary;
    }
  | {
      schema: typeof FLEET_SCHEMA;
      online: false;
      box: string;
      /** As in the online status, so a fleet view still names the site and version of a box that is away. */
      site: string;
      version: string;
      sessionId: string;
      /** The start of the session that ended (the `since` of its online status). */
      since: string;
      /** `stopped`: a graceful shutdown; `lost`: the broker published the Last Will. */
      reason: 'stopped' | 'lost';
      at?: string;
    };

/** `…/events`, QoS 1, from the durable outbox in `seq` order. */
export interface EventMessage {
  schema: typeof FLEET_SCHEMA;
  /** Unique per event: the fleet de-duplicates on it (QoS 1 is at-least-once). */
  id: string;
  /** Per-box, strictly increasing: a jump shows a gap (events dropped from a full outbox). */
  seq: number;
  type: string;
  createdAt: string;
  payload: unknown;
}

/** The request envelope for MQTT 3.1.1 clients (MQTT 5 clients may use it too). */
export interface RpcEnvelope {
  /** Echoed in the reply; the 3.1.1 stand-in for correlation data. */
  id: string;
  /** Topic the reply goes to. */
  replyTo: string;
  params?: Record<string, unknown>;
  /** Optional ISO time after which the request must not run (3.1.1 has no message expiry). */
  expiresAt?: string;
  /** Optional Idempotency-Key, as on HTTP. */
  idempotencyKey?: string;
}

/** The error of a failed RPC: the same problem types as HTTP. */
export type RpcError = Pick<ProblemDocument, 'type' | 'title' | 'detail' | 'field'> & { status: number };

export type RpcReply = {
  schema: typeof FLEET_SCHEMA;
  id?: string;
  /** The request's idempotency key, echoed: a retry's answer can be matched to the first attempt's. */
  idempotencyKey?: string;
} & ({ ok: true; result: unknown } | { ok: false; error: RpcError });

export interface OutboxTelemetry {
  /** Events waiting to be sent. */
  depth: number;
  oldestUnsentAgeSeconds: number | null;
  /** Events dropped from a full outbox since the daemon started. */
  droppedSinceStart: number;
  /** Set when the outbox is at or over its bound. */
  warning?: string;
}

/** `…/telemetry`, QoS 0, retained (a fleet view that starts late sees the last sample at once). */
export interface TelemetryMessage {
  schema: typeof FLEET_SCHEMA;
  box: string;
  at: string;
  uptimeSeconds: number;
  cpu: { loadAverage: [number, number, number]; cores: number; processPercent: number };
  memory: { totalBytes: number; freeBytes: number; processRssBytes: number };
  disk: { path: string; freeBytes: number; totalBytes: number } | null;
  /** Highest readable thermal zone, °C; null where the kernel exposes none. */
  temperatureC: number | null;
  /** Device id → state. */
  devices: Record<string, string>;
  /**
   * Device id → when it entered the state in `devices` (ISO time): how long each device is in its state.
   * A separate map so `devices` keeps its id → state shape for existing readers.
   */
  deviceSince: Record<string, string>;
  /** Job counts by kind (print, seal, certificate, selftest), then state. */
  jobs: Record<string, Record<string, number>>;
  outbox: OutboxTelemetry;
  warnings: string[];
  /**
   * The newest audit entry (null for an empty log): the fleet keeps it as an anchor, so a log cut or
   * rewritten later on the box fails `boxagent audit verify --head SEQ:HASH`.
   */
  auditHead: { seq: number; hash: string } | null;
  /**
   * The newest kept event's seq (0 for an empty log): a collector whose last seen seq is smaller has a gap
   * (or events still on their way) and fetches it with `events.list`.
   */
  lastEventSeq: number;
}
