// The operator's side of the MQTT contract (docs/mqtt.md): one connection to the city's broker that calls
// operations on boxes and reads what boxes publish. `boxagent fleet …` is built on it; it is the reference
// client of the contract, so it uses only what the contract documents.
//
// Replies come back on `<prefix>/<boxId>/reply/<clientId>`: under the box's own prefix, so a broker ACL that
// lets a box publish only under its prefix still lets it answer (docs/broker.md).
import { randomUUID, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient, type IPublishPacket } from 'mqtt';
import { fleetTopics, type RpcReply } from '../contract.js';
import { signRequest } from '../request-signing.js';

export const DEFAULT_PREFIX = 'boxagent/v1';

export interface FleetClientOptions {
  url: string;
  prefix?: string;
  /** Stable id: with `clean: false` the broker keeps this operator's session (and queued events) while away. */
  clientId?: string;
  clean?: boolean;
  /** MQTT 5 session expiry for a persistent session, seconds. */
  sessionExpirySeconds?: number;
  username?: string;
  password?: string;
  /** PEM of the CA that signed the broker's certificate (mqtts://). */
  ca?: Buffer;
  connectTimeoutMs?: number;
}

/** An operator's Ed25519 signing key and the id the boxes know it by (`mqtt.signing.keys.<keyId>`). */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
}

export interface CallOptions {
  sign?: SigningKey;
  /** How long to wait for the reply (default 30 s). */
  timeoutMs?: number;
  /** MQTT 5 message expiry: a request to an offline box waits at the broker this long (default: the timeout). */
  expirySeconds?: number;
  idempotencyKey?: string;
  locale?: 'zh-CN' | 'en';
}

export class FleetCallTimeout extends Error {
  override name = 'FleetCallTimeout';
}

/** Reads a PEM private key file (`boxagent fleet keys create` writes one); the key id is given separately. */
export function loadSigningKey(keyId: string, file: string): SigningKey {
  const privateKey = createPrivateKey(readFileSync(file));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: not an Ed25519 private key`);
  return { keyId, privateKey };
}

type Listener = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

/** Messages held for the first listener at most (a session's queue beyond it is the broker's to bound). */
const MAX_EARLY = 100_000;

export class FleetClient {
  readonly prefix: string;
  readonly clientId: string;
  private readonly pending = new Map<string, (reply: RpcReply) => void>();
  private readonly listeners = new Set<Listener>();
  /**
   * A resumed persistent session gets its queued messages right after CONNACK, before anyone could
   * subscribe a listener: they are held here (acknowledged to the broker, so they must not be dropped) and
   * handed to the first listener.
   */
  private early: Parameters<Listener>[] | undefined = [];
  private replySubscribed = false;

  private constructor(
    private readonly client: MqttClient,
    prefix: string,
    clientId: string,
  ) {
    this.prefix = prefix.replace(/\/+$/, '');
    this.clientId = clientId;
    client.on('message', (topic, payload, packet) => {
      const correlation = packet.properties?.correlationData?.toString('utf8');
      const resolve = correlation === undefined ? undefined : this.pending.get(correlation);
      if (resolve && this.isReplyTopic(topic)) {
        this.pending.delete(correlation as string);
        resolve(parseReply(payload));
        return;
      }
      if (this.listeners.size === 0) {
        if (this.early && this.early.length < MAX_EARLY) this.early.push([topic, payload, packet]);
        return;
      }
      for (const listener of this.listeners) listener(topic, payload, packet);
    });
  }

  static async connect(opts: FleetClientOptions): Promise<FleetClient> {
    const clientId = opts.clientId ?? `boxagent-fleet-${randomUUID().slice(0, 8)}`;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId,
      clean: opts.clean ?? true,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 1000,
      resubscribe: true,
    };
    if (opts.clean === false)
      options.properties = { sessionExpiryInterval: opts.sessionExpirySeconds ?? 86_400 };
    if (opts.username !== undefined) options.username = opts.username;
    if (opts.password !== undefined) options.password = opts.password;
    if (opts.ca !== undefined) options.ca = opts.ca;
    // Not connectAsync: the message handler must be in place before the first packet after CONNACK.
    const client = mqtt.connect(opts.url, options);
    const fleet = new FleetClient(client, opts.prefix ?? DEFAULT_PREFIX, clientId);
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        cleanup();
        client.end(true);
        reject(err);
      };
      const onConnect = (): void => {
        cleanup();
        resolve();
      };
      const timer = setTimeout(
        () => fail(new Error(`no connection within ${Math.round((options.connectTimeout ?? 0) / 1000)} s`)),
        options.connectTimeout,
      );
      const cleanup = (): void => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', fail);
      };
      client.once('connect', onConnect);
      client.once('error', fail);
    });
    return fleet;
  }

  /** The topics of one box (status, telemetry, events, config…). */
  topics(boxId: string): ReturnType<typeof fleetTopics> {
    return fleetTopics(this.prefix, boxId);
  }

  /** Where boxes answer this client: `<prefix>/<boxId>/reply/<clientId>`. */
  replyTopic(boxId: string): string {
    return `${this.topics(boxId).root}/reply/${this.clientId}`;
  }

  private isReplyTopic(topic: string): boolean {
    return topic.startsWith(`${this.prefix}/`) && topic.endsWith(`/reply/${this.clientId}`);
  }

  /** Calls an operation on a box and waits for its reply (an error reply is returned, not thrown). */
  async call(
    boxId: string,
    operation: string,
    params: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): Promise<RpcReply> {
    if (!this.replySubscribed) {
      await this.client.subscribeAsync(`${this.prefix}/+/reply/${this.clientId}`, { qos: 1 });
      this.replySubscribed = true;
    }
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const correlation = randomUUID();
    const userProperties: Record<string, string> = {};
    if (opts.idempotencyKey !== undefined) userProperties.idempotencyKey = opts.idempotencyKey;
    if (opts.locale !== undefined) userProperties.locale = opts.locale;
    if (opts.sign) {
      const s = signRequest(opts.sign.privateKey, opts.sign.keyId, operation, params, boxId);
      Object.assign(userProperties, {
        keyId: s.keyId,
        timestamp: String(s.timestamp),
        nonce: s.nonce,
        signature: s.value,
      });
    }
    const reply = new Promise<RpcReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlation);
        reject(
          new FleetCallTimeout(`${boxId}: no reply to ${operation} within ${Math.round(timeoutMs / 1000)} s`),
        );
      }, timeoutMs);
      this.pending.set(correlation, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    const properties: IPublishPacket['properties'] = {
      responseTopic: this.replyTopic(boxId),
      correlationData: Buffer.from(correlation, 'utf8'),
      messageExpiryInterval: opts.expirySeconds ?? Math.max(1, Math.ceil(timeoutMs / 1000)),
    };
    // An empty user-property list is encoded as a malformed packet that brokers answer by disconnecting.
    if (Object.keys(userProperties).length > 0) properties.userProperties = userProperties;
    const sent = this.client.publishAsync(
      `${this.topics(boxId).root}/rpc/${operation}`,
      JSON.stringify(params),
      {
        qos: 1,
        properties,
      },
    );
    // The reply can settle (or time out) before the PUBACK: wait for both, report the first failure.
    const [answer] = await Promise.all([reply, sent]);
    return answer;
  }

  /** Subscribes and hands every matching message (other than this client's replies) to `listener`. */
  async subscribe(filter: string | string[], listener: Listener, qos: 0 | 1 = 1): Promise<() => void> {
    this.listeners.add(listener);
    const held = this.early ?? [];
    this.early = undefined;
    for (const message of held) listener(...message);
    await this.client.subscribeAsync(filter, { qos });
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * The retained messages on `filters` as the broker holds them now. The end of what it sends for the new
   * subscription is marked by a message this client publishes to itself right after subscribing: the broker
   * handles a client's packets in order, so the retained ones come first. No waiting on a timer.
   */
  async retained(filters: string[], timeoutMs = 10_000): Promise<Map<string, Buffer>> {
    const barrier = `${this.prefix}/_barrier/${this.clientId}/${randomUUID()}`;
    const got = new Map<string, Buffer>();
    let reached!: () => void;
    const done = new Promise<void>((resolve) => (reached = resolve));
    const listener: Listener = (topic, payload, packet) => {
      if (topic === barrier) reached();
      else if (packet.retain && payload.length > 0 && filters.some((f) => topicMatches(f, topic)))
        got.set(topic, payload);
    };
    this.listeners.add(listener);
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.client.subscribeAsync([...filters, barrier], { qos: 1 });
      await this.client.publishAsync(barrier, 'barrier', { qos: 1 });
      await Promise.race([
        done,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new FleetCallTimeout('the broker did not send retained messages')),
            timeoutMs,
          );
        }),
      ]);
      return got;
    } finally {
      clearTimeout(timer);
      this.listeners.delete(listener);
      await this.client.unsubscribeAsync([...filters, barrier]).catch(() => undefined);
    }
  }

  async publish(topic: string, payload: string, opts: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
  }

  async close(): Promise<void> {
    for (const [, resolve] of this.pending) resolve({ schema: 1, ok: false, error: closedError() });
    this.pending.clear();
    await this.client.endAsync();
  }
}

/** MQTT topic filter matching (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

function closedError(): Extract<RpcReply, { ok: false }>['error'] {
  return { type: 'urn:boxagent:problem:unavailable', title: 'The fleet client was closed', status: 503 };
}

function parseReply(payload: Buffer): RpcReply {
  try {
    const reply = JSON.parse(payload.toString('utf8')) as RpcReply;
    if (typeof reply === 'object' && reply !== null && typeof reply.ok === 'boolean') return reply;
  } catch {
    // fall through: an unparsable reply is reported as such
  }
  return {
    schema: 1,
    ok: false,
    error: {
      type: 'urn:boxagent:problem:invalid-reply',
      title: 'The box sent a reply that is not JSON',
      status: 502,
    },
  };
}
