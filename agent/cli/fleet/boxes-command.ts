// `boxagent fleet boxes`: every box the broker holds a retained status or telemetry for, as a table or JSON:
// online or last seen, version, site, each device with how long it has been in its state, outbox depth.
import type { Command } from 'commander';
import type { StatusMessage, TelemetryMessage } from '../../fleet/contract.js';
import type { FleetClient } from '../../fleet/operator/fleet-client.js';
import { print, printJson } from '../support.js';
import { addOperatorOptions, withFleetClient, type OperatorOptions } from './options.js';

export interface BoxDevice {
  id: string;
  state: string;
  /** When it entered the state (null when the box's telemetry predates `deviceSince`). */
  since: string | null;
  seconds: number | null;
}

export interface BoxView {
  box: string;
  online: boolean | null;
  /** Online: since when; offline: when it went away (the newest time the box is known to have been there). */
  since: string | null;
  lastSeen: string | null;
  version: string | null;
  site: string | null;
  devices: BoxDevice[];
  outbox: { depth: number; oldestUnsentAgeSeconds: number | null } | null;
  telemetryAt: string | null;
}

interface Seen {
  status?: StatusMessage;
  telemetry?: TelemetryMessage;
}

/** Retained messages arrive right after the SUBACK; the collection ends after this long with none new. */
const QUIET_MS = 500;

/** The box views from what was collected. */
export function boxViews(seen: Map<string, Seen>, now = Date.now()): BoxView[] {
  return [...seen.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([box, { status, telemetry }]) => {
      const times = [status?.online === false ? status.at : undefined, telemetry?.at].filter(
        (t): t is string => typeof t === 'string',
      );
      const lastSeen = status?.online ? new Date(now).toISOString() : (times.sort().at(-1) ?? null);
      const devices = Object.entries(telemetry?.devices ?? {}).map(([id, state]): BoxDevice => {
        const since = telemetry?.deviceSince?.[id] ?? null;
        return {
          id,
          state,
          since,
          seconds: since === null ? null : Math.max(0, Math.round((now - Date.parse(since)) / 1000)),
        };
      });
      return {
        box,
        online: status ? status.online : null,
        since: status?.since ?? null,
        lastSeen,
        version: status?.version ?? null,
        site: status?.site ?? null,
        devices,
        outbox: telemetry
          ? {
              depth: telemetry.outbox.depth,
              oldestUnsentAgeSeconds: telemetry.outbox.oldestUnsentAgeSeconds,
            }
          : null,
        telemetryAt: telemetry?.at ?? null,
      };
    });
}

/** Subscribes to every box's retained status and telemetry and returns what the broker holds. */
export async function collectBoxes(client: FleetClient, waitMs: number): Promise<Map<string, Seen>> {
  const seen = new Map<string, Seen>();
  const prefix = `${client.prefix}/`;
  let last = Date.now();
  const stop = await client.subscribe(
    [`${client.prefix}/+/status`, `${client.prefix}/+/telemetry`],
    (topic, payload) => {
      if (!topic.startsWith(prefix)) return;
      const [box, kind] = topic.slice(prefix.length).split('/');
      if (box === undefined || payload.length === 0) return;
      let message: unknown;
      try {
        message = JSON.parse(payload.toString('utf8'));
      } catch {
        return; // not a box's message: nothing to show
      }
      if (message === null || typeof message !== 'object') return;
      const entry = seen.get(box) ?? {};
      if (kind === 'status') entry.status = message as StatusMessage;
      if (kind === 'telemetry') entry.telemetry = message as TelemetryMessage;
      seen.set(box, entry);
      last = Date.now();
    },
  );
  last = Date.now();
  const deadline = Date.now() + waitMs;
  while (Date.now() - last < QUIET_MS && Date.now() < deadline) await sleep(50);
  stop();
  return seen;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** 75 → "1m15s", 7300 → "2h01m". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86_400)
    return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d${String(Math.floor((seconds % 86_400) / 3600)).padStart(2, '0')}h`;
}

function stateCell(v: BoxView): string {
  if (v.online === true) return 'online';
  if (v.online === false) return v.lastSeen ? `offline, last seen ${v.lastSeen}` : 'offline';
  return v.lastSeen ? `unknown, last telemetry ${v.lastSeen}` : 'unknown';
}

function devicesCell(v: BoxView): string {
  if (v.devices.length === 0) return '-';
  return v.devices
    .map((d) => `${d.id} ${d.state}${d.seconds === null ? '' : ` ${duration(d.seconds)}`}`)
    .join(', ');
}

export function boxesTable(views: BoxView[]): string[] {
  const rows = [
    ['BOX', 'STATE', 'VERSION', 'SITE', 'OUTBOX', 'DEVICES'],
    ...views.map((v) => [
      v.box,
      stateCell(v),
      v.version ?? '-',
      v.site ?? '-',
      v.outbox ? String(v.outbox.depth) : '-',
      devicesCell(v),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function registerBoxes(fleet: Command): void {
  addOperatorOptions(
    fleet
      .command('boxes')
      .description(
        'every box with a retained status or telemetry: online or last seen, version, site, devices, outbox',
      )
      .option('--wait <ms>', 'longest time to collect the retained messages', '5000'),
  ).action(async (opts: OperatorOptions & { wait: string }) => {
    const views = await withFleetClient(opts, async (client) =>
      boxViews(await collectBoxes(client, Math.max(100, Number(opts.wait) || 5000))),
    );
    if (opts.json) printJson(views);
    else if (views.length === 0) print('no boxes: nothing retained under this prefix');
    else for (const line of boxesTable(views)) print(line);
  });
}
