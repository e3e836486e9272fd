// Prometheus metrics for /metrics. Gauges that mirror other state are filled in at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DEVICE_STATES } from './devices/state.js';
import type { DeviceManager } from './devices/device-manager.js';
import { jobCounts } from './jobs/counts.js';
import type { Store } from './store/store.js';

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'boxagent_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'boxagent_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly httpConnectionsShed = new Counter({
    name: 'boxagent_http_connections_shed_total',
    help: 'Connections closed at http.maxConnections: an idle one for a new caller (idle), or the new one because all were busy (refused)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(devices: DeviceManager, store: Store) {
    collectDefaultMetrics({ register: this.registry, prefix: 'boxagent_' });
    new Gauge({
      name: 'boxagent_device_state',
      help: '1 for the state each device is in, 0 for the others',
      labelNames: ['device', 'kind', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of devices.list()) {
          for (const s of DEVICE_STATES)
            this.set({ device: d.id, kind: d.kind, state: s }, d.state === s ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'boxagent_jobs',
      help: 'Jobs in the store by kind (print, seal, certificate, selftest) and state',
      labelNames: ['kind', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [kind, states] of Object.entries(jobCounts(store))) {
          for (const [state, n] of Object.entries(states)) this.set({ kind, state }, n);
        }
      },
    });
  }
}
