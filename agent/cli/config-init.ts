// `boxagent config init`: writes a first config. Asks for what the flags did not give (unless
// --non-interactive), validates the result, then writes it atomically, keeping any old file as .bak.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface, type Interface } from 'node:readline/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG_PATH, parseConfig } from '../../config/load.js';

import { writeServiceConfig } from './service-user.js';
import { DEVICE_KINDS, type DeviceKind } from '../../config/schema.js';
import { KINDS, type DeviceKindUnit } from '../kinds/index.js';
import { scanDevices, stableSerialPath, type FoundDevice } from './device-scan.js';
import { CliError, EXIT_USAGE, print } from './support.js';

interface InitOptions {
  config?: string;
  boxId?: string;
  site?: string;
  httpPort?: string;
  allowedOrigins?: string;
  storageDir?: string;
  mqttUrl?: string;
  mqttUsername?: string;
  mqttPasswordFile?: string;
  mqttCa?: string;
  device: string[];
  simulated?: boolean;
  nonInteractive?: boolean;
  force?: boolean;
  sysfsRoot: string;
}

type DeviceEntry = Record<string, unknown> & { id: string; kind: DeviceKind };

/**
 * `ID:KIND:TRANSPORT[:ARGS]` → a device entry. TRANSPORT is `simulated`, `serial:/dev/ttyUSB0[@baud]` or
 * `tcp:host:port`, `ipp://host:port/path` (photo printers), or for a camera `video:/dev/video0` (or an
 * rtsp:// / http:// URL). Example: `printer-1:printer:serial:/dev/ttyUSB0@9600`.
 */
export function parseDeviceSpec(spec: string): DeviceEntry {
  const [id, kind, type, ...rest] = spec.split(':');
  const arg = rest.join(':');
  if (!id || !kind || !type)
    throw new CliError(`--device "${spec}": expected ID:KIND:TRANSPORT[:ARGS]`, EXIT_USAGE);
  if (!(DEVICE_KINDS as readonly string[]).includes(kind)) {
    throw new CliError(`--device "${spec}": kind must be one of ${DEVICE_KINDS.join(', ')}`, EXIT_USAGE);
  }
  if (type === 'video') {
    // A camera read by ffmpeg: the source is a V4L2 node or a stream URL (which has colons of its own).
    if (kind !== 'camera' || !arg) {
      throw new CliError(
        `--device "${spec}": video is for cameras, e.g. camera-1:camera:video:/dev/video0 or …:video:rtsp://10.0.0.9/stream`,
        EXIT_USAGE,
      );
    }
    return { id, kind: 'camera', transport: { type }, camera: { source: arg } };
  }
  return { id, kind: kind as DeviceKind, transport: transportFromSpec(spec, type, arg) };
}

function transportFromSpec(spec: string, type: string, arg: string): Record<string, unknown> {
  switch (type) {
    case 'simulated':
      return { type };
    case 'serial': {
      const [path, baud] = arg.split('@');
      if (!path)
        throw new CliError(`--device "${spec}": serial needs a path, e.g. serial:/dev/ttyUSB0`, EXIT_USAGE);
      return baud ? { type, path, baudRate: Number(baud) } : { type, path };
    }
    case 'tcp': {
      const m = /^(.+):(\d+)$/.exec(arg);
      if (!m)
        throw new CliError(`--device "${spec}": tcp needs host:port, e.g. tcp:10.0.0.5:9100`, EXIT_USAGE);
      return { type, host: m[1], port: Number(m[2]) };
    }
    case 'usblp':
      if (!arg.startsWith('/'))
        throw new CliError(`--device "${spec}": usblp needs a path, e.g. usblp:/dev/usb/lp0`, EXIT_USAGE);
      return { type, path: arg };
    case 'hid': {
      // `hid:/dev/hidraw0`, or `hid:VID:PID` in hex (stable across sockets and replugging, unlike the node).
      if (arg.startsWith('/')) return { type, path: arg };
      const m = /^(?:0x)?([0-9a-f]{1,4}):(?:0x)?([0-9a-f]{1,4})$/i.exec(arg);
      if (!m)
        throw new CliError(
          `--device "${spec}": hid needs VID:PID in hex or a hidraw path, e.g. hid:1a86:e026`,
          EXIT_USAGE,
        );
      return { type, vendorId: parseInt(m[1]!, 16), productId: parseInt(m[2]!, 16) };
    }
    case 'ipp':
    case 'ipps':
      // `p2:photo-printer:ipp://host:631/printers/Q`: the spec's own scheme is the URL's.
      return { type: 'ipp', url: `${type}:${arg}` };
    default:
      throw new CliError(
        `--device "${spec}": transport must be simulated, serial, usblp, tcp, ipp, hid or video`,
        EXIT_USAGE,
      );
  }
}

class Asker {
  private rl: Interface | undefined;
  constructor(private readonly interactive: boolean) {}

  /** Returns `given` if set; otherwise asks (showing the default) or, non-interactively, takes the default. */
  async value(question: string, given: string | undefined, fallback: string): Promise<string> {
    if (given !== undefined) return given;
    if (!this.interactive) return fallback;
    this.rl ??= createInterface({ input: process.stdin, output: process.stdout, terminal: false });
    const answer = (await this.rl.question(`${question}${fallback ? ` [${fallback}]` : ''}: `)).trim();
    return answer === '' ? fallback : answer;
  }

  close(): void {
    this.rl?.close();
  }
}

/** The transport spec for an attached device from the scan, or undefined when the wizard cannot use it. */
function specOf(found: FoundDevice, root: string): string | undefined {
  if (found.class === 'serial') return `serial:${stableSerialPath(found.node, root)}`;
  if (found.class === 'usb-printer') return `usblp:${found.node}`;
  if (found.class === 'video') return `video:${found.node}`;
  if (found.class === 'hid' && found.vendorId && found.productId)
    return `hid:${found.vendorId}:${found.productId}`;
  return undefined;
}

/** Asks for each kind of device, offering what `devices scan` finds (by number) as well as a typed spec. */
async function askDevices(ask: Asker, root: string): Promise<DeviceEntry[]> {
  const found = scanDevices(root).filter((d) => specOf(d, root) !== undefined);
  if (found.length > 0) {
    print('Attached devices:');
    found.forEach((d, i) => {
      const ids = d.vendorId ? ` ${d.vendorId}:${d.productId}` : '';
      const match = d.match ? ` (looks like a ${KINDS[d.match.kind].label.en})` : '';
      print(`  ${i + 1}) ${d.node}${ids} ${d.description ?? ''}${match}`);
    });
  }
  const devices: DeviceEntry[] = [];
  for (const kind of DEVICE_KINDS) {
    const unit = KINDS[kind] as DeviceKindUnit<DeviceKind>;
    const suggested = found.findIndex((d) => d.match?.kind === kind);
    const answer = await ask.value(
      `${unit.label.en}: ${found.length > 0 ? 'a number from the list, ' : ''}"simulated", ` +
        unit.wizard.transportHint,
      undefined,
      suggested >= 0 ? String(suggested + 1) : '',
    );
    if (answer === '') continue;
    const picked = /^\d+$/.test(answer) ? found[Number(answer) - 1] : undefined;
    if (/^\d+$/.test(answer) && !picked) {
      throw new CliError(`no device number ${answer} in the list (1–${found.length})`, EXIT_USAGE);
    }
    const spec = picked ? (specOf(picked, root) as string) : answer;
    const device = parseDeviceSpec(`${kind}-1:${kind}:${spec}`);
    try {
      Object.assign(
        device,
        await unit.wizard.askOptions?.((q, fallback) => ask.value(q, undefined, fallback)),
      );
    } catch (err) {
      throw new CliError(err instanceof Error ? err.message : String(err), EXIT_USAGE);
    }
    devices.push(device);
  }
  return devices;
}

async function init(opts: InitOptions): Promise<void> {
  const file = opts.config ?? process.env.BOXAGENT_CONFIG ?? DEFAULT_CONFIG_PATH;
  if (existsSync(file) && !opts.force) {
    throw new CliError(
      `${file} exists; add --force to replace it (the old file is kept as ${file}.bak)`,
      EXIT_USAGE,
    );
  }
  const ask = new Asker(!opts.nonInteractive);
  try {
    const boxId = await ask.value(
      'Box id (as the fleet knows it)',
      opts.boxId,
      opts.nonInteractive ? '' : hostname(),
    );
    if (!boxId) throw new CliError('--box-id is required with --non-interactive', EXIT_USAGE);
    const site = await ask.value('Site (village or town hall)', opts.site, '');
    const port = await ask.value('Local HTTP port', opts.httpPort, '8620');
    const mqttUrl = await ask.value('Fleet broker URL (mqtts://…; empty for none)', opts.mqttUrl, '');
    const mqtt: Record<string, unknown> = {};
    if (mqttUrl) {
      mqtt.url = mqttUrl;
      const username = await ask.value('Broker username (empty for none)', opts.mqttUsername, '');
      if (username) {
        mqtt.username = username;
        mqtt.passwordFile = await ask.value(
          'File holding the broker password',
          opts.mqttPasswordFile,
          '/etc/boxagent/mqtt-password',
        );
      }
      const ca = await ask.value('CA certificate file (empty for the system CAs)', opts.mqttCa, '');
      if (ca) mqtt.ca = ca;
    }
    let devices = opts.device.map(parseDeviceSpec);
    if (opts.simulated) devices.push(...DEVICE_KINDS.map((k) => parseDeviceSpec(`${k}-1:${k}:simulated`)));
    if (devices.length === 0 && !opts.nonInteractive) devices = await askDevices(ask, opts.sysfsRoot);

    const config: Record<string, unknown> = {
      box: { id: boxId, site },
      http: {
        host: '127.0.0.1',
        port: Number(port),
        allowedOrigins: (opts.allowedOrigins ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      },
      ...(opts.storageDir ? { storage: { dir: opts.storageDir } } : {}),
      ...(mqttUrl ? { mqtt } : {}),
      devices,
    };
    const text = `# Written by \`boxagent config init\`; change it with \`boxagent config set KEY VALUE\`.\n${stringify(config)}`;
    parseConfig(text, file); // the same validation as start-up; throws ConfigError naming the key
    const { backup } = writeServiceConfig(file, text);
    print(`wrote ${file}${backup ? ` (previous file: ${backup})` : ''}`);
  } finally {
    ask.close();
  }
}

export function registerInit(config: Command): void {
  config
    .command('init')
    .description('write a first config: asks for what the flags do not give')
    .option('-c, --config <file>', 'file to write (default $BOXAGENT_CONFIG or /etc/boxagent/config.yaml)')
    .option('--box-id <id>', 'the box id the fleet knows')
    .option('--site <name>', 'the site, e.g. a village hall')
    .option('--http-port <port>', 'local HTTP port (default 8620)')
    .option('--allowed-origins <list>', 'comma-separated browser origins of the counter software')
    .option('--storage-dir <dir>', 'state directory (default /var/lib/boxagent)')
    .option('--mqtt-url <url>', 'fleet broker, e.g. mqtts://fleet.example:8883')
    .option('--mqtt-username <name>', 'broker username')
    .option('--mqtt-password-file <file>', 'file holding the broker password')
    .option('--mqtt-ca <file>', 'CA certificate of the broker')
    .option(
      '--device <spec>',
      'a device, ID:KIND:TRANSPORT[:ARGS], e.g. printer-1:printer:serial:/dev/ttyUSB0@9600 (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--simulated', 'add a simulated device of every kind (a training or demo box)')
    .option('--non-interactive', 'never ask; fail when a required value is missing')
    .option('--force', 'replace an existing file (kept as .bak)')
    .option('--sysfs-root <dir>', 'discover devices under this root instead of / (for tests)', '/')
    .action(init);
}
