// Alerts derived on the box (config `alerts`), sent to the fleet as kept events: `device-not-ready` when a
// device has been out of ready/busy longer than `deviceNotReadySeconds`, `outbox-growing` when the unsent
// backlog passes `outboxDepth` or its oldest event `outboxAgeSeconds`. Each condition is raised once and
// cleared once; which alerts are raised is read back from the event log at start, so a restart neither raises
// an alert again nor leaves one raised that no longer holds.
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { EventPayload } from '../events/catalog.js';
import type { EventLog } from '../events/event-log.js';
import type { DeviceStatus } from '../devices/supervised-device.js';
import type { Store } from '../store/store.js';
import type { OutboxTelemetry } from './contract.js';

type AlertPayload = EventPayload<'alert.raised'>;
export type AlertsConfig = Config['alerts'];

export interface AlertSources {
  /** Read at every check: a desired config may change the thresholds. */
  config: () => AlertsConfig;
  devices: () => DeviceStatus[];
  /** Undefined when there is no outbox to watch. */
  outbox: () => OutboxTelemetry | undefined;
}

/** Devices are checked this often (and on every state change). */
const DEVICE_CHECK_MS = 1000;
/** The outbox summary is a query over the unsent rows: checked less often. */
const OUTBOX_CHECK_EVERY = 5;
/** Alert events read back at start; more than this many open alerts is not a box this serves. */
const RESTORE_LIMIT = 1000;

const working = (state: string): boolean => state === 'ready' || state === 'busy';

function alertKey(a: Pick<AlertPayload, 'alert' | 'deviceId'>): string {
  return a.deviceId === undefined ? a.alert : `${a.alert}:${a.deviceId}`;
}

export class AlertMonitor {
  /** Raised and not yet cleared, by key. */
  private readonly raised = new Map<string, AlertPayload>();
  /** Since when each device has been out of ready/busy (through error, backoff, opening… alike). */
  private readonly notReadySince = new Map<string, string>();
  private outboxSince: string | undefined;
  private timer?: NodeJS.Timeout;
  private ticks = 0;
  private unsubscribe?: () => void;

  constructor(
    private readonly events: EventLog,
    private readonly store: Store,
    private readonly sources: AlertSources,
    private readonly log: Pick<Logger, 'info' | 'error'>,
  ) {}

  start(): void {
    this.restore();
    this.check(true);
    this.unsubscribe = this.events.subscribe((e) => {
      if (e.type === 'device.state') this.checkDevices(Date.now());
    });
    this.timer = setInterval(() => this.check(++this.ticks % OUTBOX_CHECK_EVERY === 0), DEVICE_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /** The alerts raised and not cleared. */
  active(): AlertPayload[] {
    return [...this.raised.values()];
  }

  /** One check of every condition (tests call it with a clock). */
  check(outboxToo = true, now = Date.now()): void {
    this.checkDevices(now);
    if (outboxToo) this.checkOutbox(now);
  }

  private restore(): void {
    for (const e of this.store.outbox.latestOfTypes(['alert.raised', 'alert.cleared'], RESTORE_LIMIT)) {
      const payload = e.payload as AlertPayload;
      if (e.type === 'alert.raised') this.raised.set(alertKey(payload), payload);
      else this.raised.delete(alertKey(payload));
    }
    for (const a of this.raised.values()) {
      if (a.alert === 'device-not-ready' && a.deviceId !== undefined)
        this.notReadySince.set(a.deviceId, a.since);
      if (a.alert === 'outbox-growing') this.outboxSince = a.since;
    }
  }

  private checkDevices(now: number): void {
    const limitMs = this.sources.config().deviceNotReadySeconds * 1000;
    const seen = new Set<string>();
    for (const d of this.sources.devices()) {
      seen.add(d.id);
      const key = alertKey({ alert: 'device-not-ready', deviceId: d.id });
      if (working(d.state)) {
        this.notReadySince.delete(d.id);
        this.clear(key, `${d.id} is ${d.state}`);
        continue;
      }
      let since = this.notReadySince.get(d.id);
      if (since === undefined) this.notReadySince.set(d.id, (since = d.since));
      if (!this.raised.has(key) && now - Date.parse(since) >= limitMs) {
        const why = d.reasonCode ?? d.detail;
        this.raise({
          alert: 'device-not-ready',
          deviceId: d.id,
          since,
          detail: `${d.id} is ${d.state}${why ? ` (${why})` : ''} since ${since}`,
        });
      }
    }
    // A device the config no longer has cannot become ready: its alert ends with it.
    for (const [key, a] of this.raised) {
      if (a.alert === 'device-not-ready' && a.deviceId !== undefined && !seen.has(a.deviceId)) {
        this.notReadySince.delete(a.deviceId);
        this.clear(key, `${a.deviceId} was removed from the config`);
      }
    }
  }

  private checkOutbox(now: number): void {
    const stats = this.sources.outbox();
    if (!stats) return;
    const { outboxDepth, outboxAgeSeconds } = this.sources.config();
    const age = stats.oldestUnsentAgeSeconds;
    const growing = stats.depth > outboxDepth || (age !== null && age > outboxAgeSeconds);
    const detail = `${stats.depth} events wait to be sent${age === null ? '' : `, the oldest ${age} s old`} (alert above ${outboxDepth} or ${outboxAgeSeconds} s)`;
    if (!growing) {
      this.outboxSince = undefined;
      this.clear('outbox-growing', detail);
      return;
    }
    this.outboxSince ??= new Date(now).toISOString();
    if (!this.raised.has('outbox-growing'))
      this.raise({ alert: 'outbox-growing', since: this.outboxSince, detail });
  }

  private raise(payload: AlertPayload): void {
    if (this.events.publishOrLog('alert.raised', payload, this.log)) {
      this.raised.set(alertKey(payload), payload);
      this.log.info({ alert: payload.alert, deviceId: payload.deviceId }, 'alert raised');
    }
  }

  private clear(key: string, detail: string): void {
    const raised = this.raised.get(key);
    if (!raised) return;
    const payload: AlertPayload = { ...raised, detail };
    if (this.events.publishOrLog('alert.cleared', payload, this.log)) {
      this.raised.delete(key);
      this.log.info({ alert: raised.alert, deviceId: raised.deviceId }, 'alert cleared');
    }
  }
}
