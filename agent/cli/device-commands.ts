// `boxagent devices scan|list|test`.
import type { Command } from 'commander';
import { CliError, CONFIG_FLAGS, CONFIG_HELP, load, print, printJson, type ConfigOption } from './support.js';
import { DaemonClient } from './daemon-client.js';
import { scanDevices } from './device-scan.js';

interface DeviceRow {
  id: string;
  kind: string;
  state: string;
  reason: string | null;
  identity: { model: string } | null;
}

export function registerDevices(program: Command): void {
  const devices = program.command('devices').description('attached and configured devices');

  devices
    .command('scan')
    .description('list what is attached (serial, USB printers, HID, video) with suggested config')
    .option('--json', 'print JSON')
    .option('--sysfs-root <dir>', 'read sysfs and /dev under this root instead of / (for tests)', '/')
    .action((opts: { json?: boolean; sysfsRoot: string }) => {
      const found = scanDevices(opts.sysfsRoot);
      if (opts.json) return printJson(found);
      if (found.length === 0) return print('nothing found (no serial, USB printer, HID or video devices)');
      for (const d of found) {
        const ids = d.vendorId ? ` ${d.vendorId}:${d.productId}` : '';
        const match = d.match ? `  → ${d.match.kind} (${d.match.profile})` : '';
        print(`${d.class.padEnd(12)}${d.node.padEnd(18)}${ids.padEnd(11)} ${d.description ?? ''}${match}`);
        if (d.ieee1284) print(`${''.padEnd(30)}1284 ID: ${d.ieee1284}`);
        if (d.suggestion) print(`${''.padEnd(30)}config init ${d.suggestion}`);
      }
    });

  devices
    .command('list')
    .description('configured devices with their live state (asks the running daemon)')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(async (opts: ConfigOption & { json?: boolean }) => {
      const client = DaemonClient.fromConfig(load(opts).config);
      const { devices: rows } = await client.call<{ devices: DeviceRow[] }>('GET', '/v1/devices');
      if (opts.json) return printJson(rows);
      for (const d of rows) {
        print(
          `${d.id.padEnd(20)} ${d.kind.padEnd(14)} ${d.state.padEnd(8)} ${d.reason ?? d.identity?.model ?? ''}`,
        );
      }
    });

  devices
    .command('test <id>')
    .description("run a device's harmless self-test through the daemon (never presses a seal)")
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(async (id: string, opts: ConfigOption & { json?: boolean }) => {
      const client = DaemonClient.fromConfig(load(opts).config);
      const job = await client.call<{ state: string; result: { ok: boolean; summary: string } }>(
        'POST',
        `/v1/devices/${encodeURIComponent(id)}/test`,
      );
      if (opts.json) printJson(job);
      else print(`${id}: ${job.result.ok ? 'ok' : 'FAILED'} — ${job.result.summary}`);
      if (!job.result.ok) throw new CliError(`${id} failed its self-test: ${job.result.summary}`);
    });
}
