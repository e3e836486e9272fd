// `boxagent devices scan|list|test`.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
        if (d.formats) print(`${''.padEnd(30)}formats: ${d.formats.join(', ') || 'none listed'}`);
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
    .description(
      "run a device's harmless self-test through the daemon (never presses a seal); a camera also writes a snapshot and says what faces it sees",
    )
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .option('--out <file>', 'camera: where to write the snapshot (default: ./<id>-snapshot.jpg)')
    .action(async (id: string, opts: ConfigOption & { json?: boolean; out?: string }) => {
      const client = DaemonClient.fromConfig(load(opts).config);
      const path = `/v1/devices/${encodeURIComponent(id)}`;
      const job = await client.call<{ state: string; result: { ok: boolean; summary: string } }>(
        'POST',
        `${path}/test`,
      );
      const { kind } = await client.call<{ kind: string }>('GET', path);
      const camera = kind === 'camera' && job.result.ok ? await testCamera(client, id, opts.out) : undefined;
      if (opts.json) printJson(camera ? { ...job, camera } : job);
      else {
        print(`${id}: ${job.result.ok ? 'ok' : 'FAILED'} — ${job.result.summary}`);
        if (camera) {
          print(`snapshot written to ${camera.snapshot}`);
          print(camera.faces);
        }
      }
      if (!job.result.ok) throw new CliError(`${id} failed its self-test: ${job.result.summary}`);
    });
}

interface DetectAnswer {
  width: number;
  height: number;
  faces: { box: { width: number; height: number }; liveness?: { live: boolean; score: number } }[];
}

/** A camera's snapshot to a file, and what the face pipeline finds in it (or why it cannot say). */
async function testCamera(
  client: DaemonClient,
  id: string,
  out: string | undefined,
): Promise<{ snapshot: string; bytes: number; faces: string; detect?: DetectAnswer }> {
  const jpeg = await client.callBinary('GET', `/v1/camera/${encodeURIComponent(id)}/snapshot`);
  const file = resolve(out ?? `${id}-snapshot.jpg`);
  writeFileSync(file, jpeg);
  let detect: DetectAnswer;
  try {
    detect = await client.call<DetectAnswer>('POST', '/v1/face/detect', {
      probe: { image: jpeg.toString('base64') },
    });
  } catch (err) {
    // Face recognition may be off or its models missing: the camera still works, say why no faces.
    return { snapshot: file, bytes: jpeg.length, faces: `face detection: ${(err as Error).message}` };
  }
  const faces =
    detect.faces.length === 0
      ? `no face in the ${detect.width}×${detect.height} frame`
      : `${detect.faces.length} face(s) in the ${detect.width}×${detect.height} frame: ` +
        detect.faces
          .map(
            (f) =>
              `${Math.round(Math.min(f.box.width, f.box.height))} px` +
              (f.liveness ? `, ${f.liveness.live ? 'live' : 'not live'} (${f.liveness.score})` : ''),
          )
          .join('; ');
  return { snapshot: file, bytes: jpeg.length, faces, detect };
}
