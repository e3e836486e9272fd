// One telemetry sample: host health (CPU, memory, disk of the state dir, temperature), device states, job
// counts and the outbox backlog. Read-only; the fleet link publishes it every mqtt.telemetryIntervalSeconds.
import { readdir, readFile, statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { jobCounts } from '../jobs/counts.js';
import type { Services } from '../services.js';
import { FLEET_SCHEMA, type OutboxTelemetry, type TelemetryMessage } from './contract.js';

const THERMAL_DIR = '/sys/class/thermal';

export class TelemetrySampler {
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  constructor(
    private readonly services: Services,
    private readonly storageDir: string,
    private readonly outbox: () => OutboxTelemetry,
    private readonly thermalDir = THERMAL_DIR,
  ) {}

  async sample(): Promise<TelemetryMessage> {
    const { services } = this;
    const [disk, temperatureC] = await Promise.all([
      diskOf(this.storageDir),
      readTemperature(this.thermalDir),
    ]);
    const outbox = this.outbox();
    const list = services.devices.list();
    const devices = Object.fromEntries(list.map((d) => [d.id, d.state]));
    const deviceSince = Object.fromEntries(list.map((d) => [d.id, d.since]));
    const warnings: string[] = [];
    if (outbox.warning) warnings.push(outbox.warning);
    for (const [id, state] of Object.entries(devices)) {
      if (state === 'error' || state === 'absent') warnings.push(`device ${id} is ${state}`);
    }
    return {
      schema: FLEET_SCHEMA,
      box: services.config.box.id,
      at: new Date().toISOString(),
      uptimeSeconds: Math.round((Date.now() - services.startedAt.getTime()) / 1000),
      cpu: {
        loadAverage: loadavg().map((n) => Math.round(n * 100) / 100) as [number, number, number],
        cores: cpus().length,
        processPercent: this.processCpuPercent(),
      },
      memory: { totalBytes: totalmem(), freeBytes: freemem(), processRssBytes: process.memoryUsage.rss() },
      disk,
      temperatureC,
      devices,
      deviceSince,
      jobs: jobCounts(services.store),
      outbox,
      warnings,
      auditHead: services.store.audit.head(),
      lastEventSeq: services.events.lastSeq(),
    };
  }

  /** This process's CPU use since the previous sample, as a percentage of one core. */
  private processCpuPercent(): number {
    const now = performance.now();
    const used = process.cpuUsage(this.lastCpu);
    const wallMs = now - this.lastAt;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    if (wallMs <= 0) return 0;
    return Math.round(((used.user + used.system) / 1000 / wallMs) * 1000) / 10;
  }
}

async function diskOf(path: string): Promise<TelemetryMessage['disk']> {
  try {
    const s = await statfs(path);
    return { path, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

/** The hottest readable thermal zone in °C (the kernel reports millidegrees), or null. */
export async function readTemperature(dir: string): Promise<number | null> {
  let zones: string[];
  try {
    zones = (await readdir(dir)).filter((z) => z.startsWith('thermal_zone'));
  } catch {
    return null;
  }
  let max: number | null = null;
  for (const zone of zones) {
    try {
      const milli = Number((await readFile(join(dir, zone, 'temp'), 'utf8')).trim());
      if (Number.isFinite(milli) && (max === null || milli / 1000 > max)) max = milli / 1000;
    } catch {
      // Some zones are unreadable without privileges or report EINVAL/ENODATA: skip them.
    }
  }
  return max;
}
