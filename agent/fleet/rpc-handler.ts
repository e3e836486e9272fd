// RPC from the fleet: `…/rpc/<operation>` runs an operation of the catalog through the same Dispatcher as
// HTTP (same schemas, scopes, problem types). MQTT 5 requests carry `responseTopic` + `correlationData` and
// the payload is the operation's input; MQTT 3.1.1 requests are an envelope `{id, replyTo, params}`. A bad
// request gets an error reply when there is somewhere to send it, and a warn log; it never throws.
import type { Logger } from 'pino';
import type { Principal } from '../auth/token-service.js';
import { findOperation } from '../operations/catalog.js';
import type { Dispatcher } from '../operations/dispatch.js';
import { BinaryOutput } from '../operations/operation.js';
import { asProblem, problemDocument } from '../problems/document.js';
import { Problem } from '../problems/problem.js';
import type { Services } from '../services.js';
import { FLEET_SCHEMA, rpcOperation, type FleetTopics, type RpcReply } from './contract.js';
import type { RequestVerifier } from './request-signing.js';
import { t, verbatim } from '../messages/text.js';
import { negotiateLocale, type Locale } from '../messages/locale.js';

/** The parts of an incoming PUBLISH the handler reads (mqtt.js's packet has these fields). */
export interface RpcPacket {
  topic: string;
  payload: Buffer;
  /** Delivered from the broker's retained store: a stored command, never run (it would run at every start). */
  retain?: boolean;
  properties?: {
    responseTopic?: string;
    correlationData?: Buffer;
    messageExpiryInterval?: number;
    userProperties?: Record<string, string | string[]>;
  };
}

export interface ReplyTarget {
  topic: string;
  correlationData?: Buffer;
  /** Envelope id, echoed in the reply body. */
  id?: string;
  /** Seconds the reply stays deliverable (the request's remaining expiry). */
  expirySeconds?: number;
  /** The request's idempotency key, echoed in the reply (body, and user property on MQTT 5). */
  idempotencyKey?: string;
}

export type SendReply = (target: ReplyTarget, reply: RpcReply) => void;

interface ParsedRequest {
  operation: string;
  params: Record<string, unknown>;
  deadline?: number;
  idempotencyKey?: string;
  /** The request's signature, as sent (checked by the verifier). */
  signature?: unknown;
}

export class RpcHandler {
  constructor(
    private readonly services: Services,
    private readonly dispatcher: Dispatcher,
    /** Unsigned requests run as this principal (the configured fleet role). */
    private readonly principal: Principal,
    private readonly verifier: RequestVerifier,
    private readonly topics: FleetTopics,
    private readonly send: SendReply,
    private readonly log: Logger,
  ) {}

  /** Handles one request; resolves when the reply (if any) is handed to the client. Never rejects. */
  async handle(packet: RpcPacket, receivedAt = Date.now()): Promise<void> {
    let target: ReplyTarget | undefined;
    let operation = rpcOperation(this.topics, packet.topic) ?? packet.topic;
    try {
      const props = packet.properties ?? {};
      let request: ParsedRequest;
      if (props.responseTopic) {
        target = { topic: props.responseTopic, correlationData: props.correlationData };
        request = parseMqtt5(operation, packet, receivedAt);
      } else {
        const envelope = parseEnvelope(packet.payload);
        target = { topic: envelope.replyTo, id: envelope.id };
        request = envelopeRequest(operation, envelope);
      }
      operation = request.operation;
      if (request.idempotencyKey !== undefined) target.idempotencyKey = request.idempotencyKey;
      if (packet.retain)
        throw new Problem(
          'invalid-request',
          t`a retained RPC message is never run; publish requests without retain`,
        );
      if (request.deadline !== undefined) {
        const left = request.deadline - Date.now();
        if (left <= 0) throw new Problem('request-expired', t`the request expired ${-left} ms ago`);
        target.expirySeconds = Math.max(1, Math.ceil(left / 1000));
      }
      const op = findOperation(operation);
      if (!op) throw new Problem('not-found', t`no operation "${operation}"`);
      // Checked on the params as sent, before validation fills in defaults.
      const principal = this.verifier.principalFor(op, request.params, request.signature, this.principal);
      const { output } = await this.dispatcher.dispatch(
        op,
        request.params,
        { services: this.services, principal, via: 'mqtt' },
        { fromUrl: false, idempotencyKey: request.idempotencyKey },
      );
      // A file (snapshot, preview) travels as base64 with its type, not as Node's Buffer JSON.
      const result =
        output instanceof BinaryOutput
          ? { contentType: output.contentType, base64: output.body.toString('base64') }
          : output;
      this.reply(target, { schema: FLEET_SCHEMA, ok: true, result });
    } catch (err) {
      const problem = asProblem(err);
      const doc = problemDocument(problem, rpcLocale(packet, this.services.config.box.locale));
      if (problem.code === 'internal') this.log.error({ err, operation }, 'rpc failed');
      else
        this.log.warn(
          { operation, type: problem.code, detail: problem.detail, field: doc.field },
          'rpc rejected',
        );
      if (!target) return;
      this.reply(target, {
        schema: FLEET_SCHEMA,
        ok: false,
        error: { type: doc.type, title: doc.title, status: doc.status, detail: doc.detail, field: doc.field },
      });
    }
  }

  private reply(target: ReplyTarget, reply: RpcReply): void {
    try {
      const echo = {
        ...(target.id === undefined ? {} : { id: target.id }),
        ...(target.idempotencyKey === undefined ? {} : { idempotencyKey: target.idempotencyKey }),
      };
      this.send(target, { ...reply, ...echo });
    } catch (err) {
      this.log.warn({ err, topic: target.topic }, 'rpc reply not sent');
    }
  }
}

function parseJson(payload: Buffer): unknown {
  if (payload.length === 0) return undefined;
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch (err) {
    throw new Problem(
      'malformed-json',
      verbatim(err instanceof Error ? err.message : 'the payload is not JSON'),
    );
  }
}

/**
 * The language of a reply's texts: MQTT 5 user property `locale` (or `lang`), or the 3.1.1 envelope's
 * `locale` (or `lang`), as an Accept-Language value; else box.locale.
 */
export function rpcLocale(packet: RpcPacket, fallback: Locale): Locale {
  const up = packet.properties?.userProperties ?? {};
  let asked: string | string[] | undefined = up.locale ?? up.lang;
  if (asked === undefined && !packet.properties?.responseTopic) {
    const body = parseJsonQuietly(packet.payload);
    const v = isObject(body) ? (body.locale ?? body.lang) : undefined;
    if (typeof v === 'string') asked = v;
  }
  return negotiateLocale(asked, fallback);
}

function parseJsonQuietly(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A topic a reply may go to: non-empty, no wildcards. */
const isReplyTopic = (t: unknown): t is string => typeof t === 'string' && t.length > 0 && !/[+#\0]/.test(t);

function parseMqtt5(operation: string, packet: RpcPacket, receivedAt: number): ParsedRequest {
  const props = packet.properties ?? {};
  if (!isReplyTopic(props.responseTopic)) {
    throw new Problem('invalid-request', t`responseTopic must be a topic name without wildcards`);
  }
  const body = parseJson(packet.payload) ?? {};
  if (!isObject(body)) throw new Problem('invalid-request', t`the payload must be a JSON object (the input)`);
  const up = props.userProperties ?? {};
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const key = up.idempotencyKey;
  const signature =
    up.signature === undefined
      ? undefined
      : {
          keyId: first(up.keyId),
          timestamp: first(up.timestamp),
          nonce: first(up.nonce),
          value: first(up.signature),
        };
  return {
    signature,
    operation,
    params: body,
    // The broker delivers the remaining lifetime; a request that waited here past it does not run.
    deadline:
      props.messageExpiryInterval === undefined ? undefined : receivedAt + props.messageExpiryInterval * 1000,
    idempotencyKey: Array.isArray(key) ? key[0] : key,
  };
}

interface Envelope {
  id: string;
  replyTo: string;
  params?: unknown;
  expiresAt?: unknown;
  idempotencyKey?: unknown;
  signature?: unknown;
}

/** The envelope's reply address, or a problem that cannot be answered (there is nowhere to send it). */
function parseEnvelope(payload: Buffer): Envelope {
  const body = parseJson(payload);
  if (!isObject(body) || typeof body.id !== 'string' || body.id.length === 0 || !isReplyTopic(body.replyTo)) {
    throw new Problem(
      'invalid-request',
      t`an MQTT 3.1.1 request is an envelope {id, replyTo, params}; without responseTopic or replyTo no reply can be sent`,
    );
  }
  return body as unknown as Envelope;
}

function envelopeRequest(operation: string, e: Envelope): ParsedRequest {
  const params = e.params ?? {};
  if (!isObject(params)) throw new Problem('invalid-request', t`params must be a JSON object`, ['params']);
  let deadline: number | undefined;
  if (e.expiresAt !== undefined) {
    deadline = typeof e.expiresAt === 'string' ? Date.parse(e.expiresAt) : NaN;
    if (Number.isNaN(deadline))
      throw new Problem('invalid-request', t`expiresAt must be an ISO date-time`, ['expiresAt']);
  }
  if (e.idempotencyKey !== undefined && typeof e.idempotencyKey !== 'string') {
    throw new Problem('invalid-request', t`idempotencyKey must be a string`, ['idempotencyKey']);
  }
  return { operation, params, deadline, idempotencyKey: e.idempotencyKey, signature: e.signature };
}
