// The fleet link: one MQTT connection to the city's broker. On every connect it publishes a retained online
// status (with a new session id; the Last Will is the offline status of that session), subscribes to RPC
// and desired config under the box's own prefix, and sends the outbox. It never blocks the daemon: with the
// broker down the box serves locally and reconnects with a growing delay.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Principal } from '../auth/token-service.js';
import type { Dispatcher } from '../operations/dispatch.js';
import type { Services } from '../services.js';
import { AlertMonitor } from './alert-monitor.js';
import { ConfigSync } from './config-sync.js';
import { connectOptions, FleetConfigError } from './connect-options.js';
import {
  FLEET_SCHEMA,
  fleetTopics,
  type DeviceSummary,
  type FleetTopics,
  type StatusMessage,
} from './contract.js';
import { EventPump } from './event-pump.js';
import { RequestVerifier } from './request-signing.js';
import { RpcHandler, type ReplyTarget } from './rpc-handler.js';
import { TelemetrySampler } from './telemetry.js';

/** How long a graceful stop waits for the offline status to be acknowledged. */
const STOP_TIMEOUT_MS = 3000;
/** Device changes are folded into one status update per this interval. */
const STATUS_DEBOUNCE_MS = 1000;

export interface FleetLinkOptions {
  /** Rows in flight to the broker at most (tests and benchmarks vary it). */
  eventWindow?: number;
  /** Called each time the link serves the fleet (connected and subscribed): a release on trial confirms. */
  onServing?: () => void;
}

/** The principal RPC requests run as: the configured fleet role's scopes. */
export function fleetPrincipal(mqtt: Services['config']['mqtt']): Principal {
  const scopes = mqtt.roles[mqtt.rpcRole];
  if (!scopes) {
    throw new FleetConfigError(
      `mqtt.rpcRole: "${mqtt.rpcRole}" is not a role of mqtt.roles (${Object.keys(mqtt.roles).join(', ') || 'none'})`,
    );
  }
  return { tokenId: `mqtt:${mqtt.rpcRole}`, name: `fleet:${mqtt.rpcRole}`, scopes };
}

export function deviceSummary(services: Services): DeviceSummary {
  const list = services.devices.list();
  const ok = (s: string) => s === 'ready' || s === 'busy';
  return {
    total: list.length,
    ready: list.filter((d) => ok(d.state)).length,
    notReady: Object.fromEntries(list.filter((d) => !ok(d.state)).map((d) => [d.id, d.state])),
  };
}

export class FleetLink {
  readonly topics: FleetTopics;
  private client?: MqttClient;
  private pump?: EventPump;
  private rpc?: RpcHandler;
  private telemetry?: TelemetrySampler;
  private configSync?: ConfigSync;
  private alerts?: AlertMonitor;
  private telemetryTimer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private subscribed = false;
  private sessionId = randomUUID();
  /** When the current session's connection was opened: `since` in its online status and its Last Will. */
  private sessionSince = new Date();
  /** When the broker accepted the current session (stable across status updates within it). */
  private connectedAt = new Date();
  private reconnectDelay: number;
  private lastError = '';
  private stopping = false;
  private readonly log: Logger;
  private readonly principal: Principal;
  private readonly verifier: RequestVerifier;

  /** Checks the fleet config (throws FleetConfigError) and does nothing else. */
  constructor(
    private readonly services: Services,
    private readonly dispatcher: Dispatcher,
    private readonly opts: FleetLinkOptions = {},
  ) {
    this.topics = fleetTopics(services.config.mqtt.prefix, services.config.box.id);
    this.reconnectDelay = services.config.mqtt.reconnectMinMs;
    this.log = services.log.child({ component: 'fleet' });
    this.principal = fleetPrincipal(services.config.mqtt);
    this.verifier = new RequestVerifier(services.config.mqtt, services.config.box.id, services.store.nonces);
  }

  /** Connected and subscribed to RPC: the link serves the fleet. */
  get connected(): boolean {
    return this.subscribed && (this.client?.connected ?? false);
  }

  /** Starts connecting and returns at once; the connection comes up (and back) in the background. */
  start(): void {
    const { services } = this;
    const { config } = services;
    const url = config.mqtt.url;
    if (url === undefined) throw new FleetConfigError('mqtt.url is not set');
    this.sessionSince = new Date();
    const options: IClientOptions = { ...connectOptions(config), will: this.will() };

    const client = (this.client = connect(url, options));
    this.pump = new EventPump(
      services.store,
      services.events,
      (topic, payload, done) => {
        client.publish(topic, payload, { qos: 1 }, (err) => done(err ?? undefined));
      },
      {
        topic: this.topics.events,
        maxUnsent: config.mqtt.outboxMaxEvents,
        maxUnsentAgeDays: config.mqtt.outboxMaxAgeDays,
        window: this.opts.eventWindow,
      },
      this.log,
    );
    this.rpc = new RpcHandler(
      services,
      this.dispatcher,
      this.principal,
      this.verifier,
      this.topics,
      (t, r) => this.sendReply(t, r),
      this.log,
    );
    this.telemetry = new TelemetrySampler(services, resolve(config.storage.dir), () =>
      (this.pump as EventPump).stats(),
    );

    this.configSync = new ConfigSync(
      services,
      this.verifier,
      (reported) => {
        if (client.connected) {
          client.publish(this.topics.configReported, JSON.stringify(reported), { qos: 1, retain: true });
        }
      },
      this.log,
    );

    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('reconnect', () => {
      // mqtt.js emits this just before it opens the next connection: a new session, named in its will.
      this.beginSession();
      // mqtt.js waits `reconnectPeriod` before each attempt: double it, with jitter, up to the maximum.
      this.reconnectDelay = Math.min(config.mqtt.reconnectMaxMs, this.reconnectDelay * 2);
      client.options.reconnectPeriod = Math.round(this.reconnectDelay * (0.8 + Math.random() * 0.4));
    });
    client.on('error', (err) => {
      // Connection errors repeat on every attempt while the broker is away: log each new one once.
      if (err.message !== this.lastError)
        this.log.warn({ err: err.message, url: redactUrl(url) }, 'fleet broker error');
      this.lastError = err.message;
    });
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));

    this.pump.start();
    // Alerts are derived whether or not the broker is reachable: a backlog grows exactly while it is not.
    const pump = this.pump;
    this.alerts = new AlertMonitor(
      services.events,
      services.store,
      {
        config: () => services.config.alerts,
        devices: () => services.devices.list(),
        outbox: () => pump.stats(),
      },
      this.log,
    );
    this.alerts.start();
    this.unsubscribe = services.events.subscribe((e) => {
      if (e.type === 'device.state') this.scheduleStatus();
    });
    this.telemetryTimer = setInterval(
      () => void this.publishTelemetry(),
      config.mqtt.telemetryIntervalSeconds * 1000,
    );
    this.telemetryTimer.unref();
    client.connect();
    this.log.info(
      { url: redactUrl(url), root: this.topics.root, protocolVersion: config.mqtt.protocolVersion },
      'fleet link starting',
    );
  }

  /** Publishes the offline status (when connected), then disconnects; the Last Will is not sent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.telemetryTimer);
    clearTimeout(this.statusTimer);
    this.unsubscribe?.();
    this.alerts?.stop();
    this.pump?.stop();
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      const offline: StatusMessage = {
        schema: FLEET_SCHEMA,
        online: false,
        box: this.services.config.box.id,
        site: this.services.config.box.site,
        version: this.services.version,
        sessionId: this.sessionId,
        since: this.sessionSince.toISOString(),
        reason: 'stopped',
        at: new Date().toISOString(),
      };
      try {
        await withTimeout(
          client.publishAsync(this.topics.status, JSON.stringify(offline), { qos: 1, retain: true }),
          STOP_TIMEOUT_MS,
        );
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'offline status not acknowledged');
      }
      await withTimeout(client.endAsync(), STOP_TIMEOUT_MS).catch(() => client.end(true));
    } else {
      client.end(true);
    }
    this.log.info('fleet link stopped');
  }

  /** A new session id and start time, and the will that names them, for the connection about to open. */
  private beginSession(): void {
    this.sessionId = randomUUID();
    this.sessionSince = new Date();
    if (this.client) this.client.options.will = this.will();
  }

  private will(): NonNullable<IClientOptions['will']> {
    const offline: StatusMessage = {
      schema: FLEET_SCHEMA,
      online: false,
      box: this.services.config.box.id,
      site: this.services.config.box.site,
      version: this.services.version,
      sessionId: this.sessionId,
      since: this.sessionSince.toISOString(),
      reason: 'lost',
    };
    return { topic: this.topics.status, payload: Buffer.from(JSON.stringify(offline)), qos: 1, retain: true };
  }

  private onConnect(): void {
    const client = this.client as MqttClient;
    // Small request/reply packets must not wait for Nagle's algorithm (40 ms stalls against delayed ACKs).
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.connectedAt = new Date();
    this.reconnectDelay = this.services.config.mqtt.reconnectMinMs;
    client.options.reconnectPeriod = this.reconnectDelay;
    this.lastError = '';
    // "online" is announced once the RPC subscription is in place, so a fleet manager that reacts to the
    // status at once does not send a request the broker would drop for want of a subscriber.
    client.subscribe([this.topics.rpcFilter, this.topics.configDesired], { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: err.message }, 'fleet subscribe failed');
      if (!client.connected) return;
      this.subscribed = true;
      this.log.info({ sessionId: this.sessionId }, 'fleet link connected');
      this.opts.onServing?.();
      this.publishStatus();
      this.pump?.connected();
      void this.publishTelemetry();
    });
  }

  private onClose(): void {
    this.subscribed = false;
    this.pump?.disconnected();
    if (this.stopping) return;
    this.log.debug('fleet link disconnected');
  }

  private onMessage(topic: string, _payload: Buffer, packet: IPublishPacket): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (topic === this.topics.configDesired) {
      // An empty retained message clears the desired document: nothing to apply.
      if (payload.length > 0) void this.configSync?.handleDesired(payload);
      return;
    }
    void this.rpc?.handle({ topic, payload, retain: packet.retain, properties: packet.properties });
  }

  private sendReply(target: ReplyTarget, reply: unknown): void {
    const client = this.client;
    if (!client?.connected) {
      this.log.warn({ topic: target.topic }, 'rpc reply dropped: the link is down');
      return;
    }
    const properties: NonNullable<IPublishPacket['properties']> = { contentType: 'application/json' };
    if (target.correlationData) properties.correlationData = target.correlationData;
    if (target.expirySeconds !== undefined) properties.messageExpiryInterval = target.expirySeconds;
    if (target.idempotencyKey !== undefined) {
      properties.userProperties = { idempotencyKey: target.idempotencyKey };
    }
    client.publish(
      target.topic,
      JSON.stringify(reply),
      { qos: 1, ...(this.services.config.mqtt.protocolVersion === 5 ? { properties } : {}) },
      (err) => {
        if (err) this.log.warn({ err: err.message, topic: target.topic }, 'rpc reply not acknowledged');
      },
    );
  }

  private scheduleStatus(): void {
    if (this.statusTimer || !this.connected) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.publishStatus();
    }, STATUS_DEBOUNCE_MS);
    this.statusTimer.unref();
  }

  private publishStatus(): void {
    const client = this.client;
    if (!client?.connected || this.stopping) return;
    const { services } = this;
    const status: StatusMessage = {
      schema: FLEET_SCHEMA,
      online: true,
      box: services.config.box.id,
      site: services.config.box.site,
      version: services.version,
      startedAt: services.startedAt.toISOString(),
      sessionId: this.sessionId,
      since: this.sessionSince.toISOString(),
      connectedAt: this.connectedAt.toISOString(),
      devices: deviceSummary(services),
    };
    client.publish(this.topics.status, JSON.stringify(status), { qos: 1, retain: true }, (err) => {
      if (err) this.log.debug({ err: err.message }, 'status not acknowledged');
    });
  }

  private async publishTelemetry(): Promise<void> {
    const client = this.client;
    if (!client?.connected || !this.telemetry || this.stopping) return;
    try {
      this.pump?.enforceBound();
      this.pump?.poll();
      const sample = await this.telemetry.sample();
      // Retained: a fleet view that starts between samples shows the box's last one at once.
      if (client.connected)
        client.publish(this.topics.telemetry, JSON.stringify(sample), { qos: 0, retain: true });
    } catch (err) {
      this.log.warn({ err }, 'telemetry sample failed');
    }
  }
}

/** A broker URL without its password, for the log. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:[redacted]@');
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
