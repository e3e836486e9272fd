// `boxagent devices scan|list|test`.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { calibrationPage } from '../printing/calibration-page.js';
import {
  CliError,
  CONFIG_FLAGS,
  CONFIG_HELP,
  EXIT_USAGE,
  load,
  print,
  printJson,
  type ConfigOption,
} from './support.js';
import { DaemonClient } from './daemon-client.js';
import { scanDevices } from './device-scan.js';

const JOB_WAIT_MS = 10 * 60_000;

interface DeviceRow {
  id: string;
  kind: string;
  state: string;
  /** Why the device cannot do its work now, for a clerk, and its stable code (null: nothing wrong). */
  reason: string | null;
  reasonCode: string | null;
  detail: string | null;
  conditions: { code: string }[];
  identity: { model: string } | null;
}

export function registerDevices(program: Command): void {
  const devices = program.command('devices').description('attached and configured devices');

  devices
    .command('scan')
    .description(
      'list what is attached (serial, USB and parallel printers, HID, video) with suggested config',
    )
    .option('--json', 'print JSON')
    .option('--sysfs-root <dir>', 'read sysfs and /dev under this root instead of / (for tests)', '/')
    .action((opts: { json?: boolean; sysfsRoot: string }) => {
      const found = scanDevices(opts.sysfsRoot);
      if (opts.json) return printJson(found);
      if (found.length === 0) return print('nothing found (no serial, printer, HID or video devices)');
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
        // The reason leads (what to do about it); the model only when nothing is wrong.
        const why = d.reason ?? d.identity?.model ?? '';
        print(
          `${d.id.padEnd(20)} ${d.kind.padEnd(14)} ${d.state.padEnd(8)} ${(d.reasonCode ?? '-').padEnd(16)} ${why}`,
        );
        if (d.detail) print(`${''.padEnd(62)}${d.detail}`);
      }
    });

  devices
    .command('test <id>')
    .description(
      "run a device's harmless self-test through the daemon (never presses a seal); a printer then prints " +
        'its calibration page (rulers in mm, a grid, a Chinese line) for measuring the offsets; a camera ' +
        'writes a snapshot and says what faces it sees',
    )
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--no-page', 'printer: only the self-test, no calibration page')
    .option('--preview <file>', 'printer: write the calibration page as PNG to FILE instead of printing it')
    .option('--paper <WxH>', 'printer: paper size in mm for the calibration page', '210x297')
    .option(
      '--stamp',
      'seal: after the self-test, emboss once for real (needs --yes; audited like any stamp)',
    )
    .option('--yes', 'with --stamp: yes, press the seal')
    .option('--operator <name>', 'with --stamp: who is testing, for the audit log', 'installer')
    .option('--json', 'print JSON')
    .option('--out <file>', 'camera: where to write the snapshot (default: ./<id>-snapshot.jpg)')
    .action(async (id: string, opts: TestOptions) => {
      if (opts.stamp && !opts.yes) {
        throw new CliError('--stamp presses the seal for real and cannot be undone: add --yes', EXIT_USAGE);
      }
      const client = DaemonClient.fromConfig(load(opts).config);
      const paper = parsePaper(opts.paper);
      const path = `/v1/devices/${encodeURIComponent(id)}`;
      const job = await client.call<{ state: string; result: SelfTestAnswer }>('POST', `${path}/test`);
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
      if (kind === 'printer' && (opts.page || opts.preview)) {
        await calibrationSheet(client, id, paper, opts);
      }
      if (opts.stamp) {
        if (kind !== 'seal')
          throw new CliError(`--stamp is for seal machines; ${id} is a ${kind}`, EXIT_USAGE);
        await testStamp(client, id, opts);
      }
    });
}

/** One real embossing through the same two-step seal job as the counter's (created, then confirmed). */
async function testStamp(client: DaemonClient, device: string, opts: TestOptions): Promise<void> {
  const created = await client.call<{ id: string; confirmationToken: string }>('POST', '/v1/seal-jobs', {
    device,
    document: { kind: 'installer-test', number: new Date().toISOString() },
    operator: opts.operator,
  });
  const job = await client.call<{ id: string; state: string; error?: { message?: string } | null }>(
    'POST',
    `/v1/seal-jobs/${created.id}/confirm`,
    { token: created.confirmationToken },
  );
  if (opts.json) printJson({ stampJob: job });
  else print(`${device}: test stamp ${job.state} (seal job ${job.id}, in the audit log)`);
  if (job.state !== 'done')
    throw new CliError(`the test stamp did not complete: seal job ${job.id} is ${job.state}`);
}

interface TestOptions extends ConfigOption {
  json?: boolean;
  out?: string;
  stamp?: boolean;
  yes?: boolean;
  operator: string;
  page: boolean;
  preview?: string;
  paper: string;
}

function parsePaper(spec: string): { widthMm: number; heightMm: number } {
  const m = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$/.exec(spec);
  const widthMm = Number(m?.[1]);
  const heightMm = Number(m?.[2]);
  if (!m || widthMm < 60 || heightMm < 60 || widthMm > 420 || heightMm > 600) {
    throw new CliError(`--paper "${spec}": expected WIDTHxHEIGHT in mm, e.g. 210x297 or 241x280`, EXIT_USAGE);
  }
  return { widthMm, heightMm };
}

/** Prints (or previews) the calibration page and tells the installer how to turn the reading into offsets. */
async function calibrationSheet(
  client: DaemonClient,
  printer: string,
  paper: { widthMm: number; heightMm: number },
  opts: TestOptions,
): Promise<void> {
  const document = calibrationPage(paper.widthMm, paper.heightMm);
  if (opts.preview) {
    const png = await client.callBinary('POST', '/v1/print-jobs/preview', { printer, document });
    writeFileSync(opts.preview, png);
    print(`calibration page preview written to ${opts.preview}`);
    return;
  }
  const submitted = await client.call<PrintJob>('POST', '/v1/print-jobs', { printer, document });
  const deadline = Date.now() + JOB_WAIT_MS;
  let job = submitted;
  while (job.state === 'queued' || job.state === 'sending') {
    if (Date.now() > deadline) throw new CliError(`calibration page job ${job.id} still ${job.state}`);
    await new Promise((r) => setTimeout(r, 500));
    job = await client.call<PrintJob>('GET', `/v1/print-jobs/${job.id}`);
    // The daemon knows within the printer's stallMs that it takes no data: say so now, not in ten minutes.
    const device = await client.call<DeviceRow>('GET', `/v1/devices/${encodeURIComponent(printer)}`);
    if (device.reasonCode && (job.state === 'queued' || job.state === 'sending')) {
      throw new CliError(
        `the calibration page cannot print: ${device.reason ?? device.reasonCode} [${device.reasonCode}]; ` +
          (await setAside(client, job)),
      );
    }
  }
  if (opts.json) printJson({ calibrationJob: job });
  if (job.state !== 'done') {
    throw new CliError(`the calibration page did not print: job ${job.id} is ${job.state}`);
  }
  if (opts.json) return;
  print(
    `calibration page printed (job ${job.id}). On the paper, find the ruler mark numbered 50 and measure`,
  );
  print('its distance from the paper edge with a ruler (top ruler: from the left edge; left ruler: from the');
  print('top edge). Add (50 − measured) to the offset already set, e.g. for a top-ruler reading of 52 mm:');
  print(`  boxagent config set devices.${printer}.printer.calibration.xMm <current − 2>`);
  print('then restart the daemon and print the page again until both readings are 50 mm.');
}

interface PrintJob {
  id: string;
  state: string;
}

interface SelfTestAnswer {
  ok: boolean;
  summary: string;
  reasonCode?: string;
  reason?: string;
}

/** A calibration page that cannot print now: cancelled while still queued, else it prints once it can. */
async function setAside(client: DaemonClient, job: PrintJob): Promise<string> {
  if (job.state === 'queued') {
    try {
      await client.call('DELETE', `/v1/print-jobs/${job.id}`);
      return `job ${job.id} cancelled`;
    } catch {
      // it started meanwhile: it is being sent, as below
    }
  }
  return `job ${job.id} is being sent and finishes when the printer takes data again`;
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
