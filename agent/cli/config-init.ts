// `boxagent config init`: writes a first config. Asks for what the flags did not give (unless
// --non-interactive), checking each answer as it is given (init-answers.ts) and asking again after a typo;
// validates the result, writes it atomically (the old file kept as .bak) and prints the next steps.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface, type Interface } from 'node:readline/promises';
import type { Command } from 'commander';
import { parse, stringify } from 'yaml';
import { DEFAULT_CONFIG_PATH, parseConfig } from '../../config/load.js';
import { DEVICE_KINDS, type DeviceKind } from '../../config/schema.js';
import { KINDS, type DeviceKindUnit } from '../kinds/index.js';
import { scanDevices, stableSerialPath, type FoundDevice } from './device-scan.js';
import {
  boxIdFromHostname,
  checkBoxId,
  checkBrokerUrl,
  checkCaFile,
  checkOrigins,
  checkSite,
  checkStorageDir,
  isTlsBroker,
  portCheck,
  specAsTyped,
  splitOrigins,
  type AnswerCheck,
} from './init-answers.js';
import { writeServiceConfig } from './service-user.js';
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

interface Question {
  question: string;
  /** The flag that gives it, for the message when a flag's value is refused. */
  flag: string;
  given: string | undefined;
  fallback: string;
  check?: AnswerCheck;
}

class Asker {
  private rl: Interface | undefined;
  constructor(private readonly interactive: boolean) {}

  private async prompt(text: string): Promise<string> {
    this.rl ??= createInterface({ input: process.stdin, output: process.stdout, terminal: false });
    return (await this.rl.question(text)).trim();
  }

  /**
   * The flag's value if given, else the answer (showing the default) or, non-interactively, the default.
   * Each is checked as it comes: at a terminal a refused value is said and asked again; otherwise it is the
   * one-line error of the command.
   */
  async value(q: Question): Promise<string> {
    let value = q.given;
    for (;;) {
      if (value === undefined) {
        value = this.interactive
          ? (await this.prompt(`${q.question}${q.fallback ? ` [${q.fallback}]` : ''}: `)) || q.fallback
          : q.fallback;
      }
      const problem = await q.check?.(value);
      if (problem === undefined) return value;
      if (!this.interactive) throw new CliError(`${q.flag} "${value}": ${problem}`, EXIT_USAGE);
      print(`  ${problem}`);
      value = undefined;
    }
  }

  /** Yes or no, at a terminal; `fallback` otherwise. */
  async confirm(question: string, fallback: boolean): Promise<boolean> {
    if (!this.interactive) return fallback;
    for (;;) {
      const answer = (await this.prompt(`${question} [${fallback ? 'Y/n' : 'y/N'}]: `)).toLowerCase();
      if (answer === '') return fallback;
      if (['y', 'yes'].includes(answer)) return true;
      if (['n', 'no'].includes(answer)) return false;
      print('  answer yes or no');
    }
  }

  /** A plain question for a kind's own options (printer offsets): no check here. */
  ask(question: string, fallback: string): Promise<string> {
    return this.value({ question, flag: question, given: undefined, fallback });
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

/**
 * Asks for each kind of device, offering what `devices scan` finds (by number) as well as what the installer
 * types (`/dev/video0`, `rtsp://…`, `serial:/dev/ttyUSB0@9600`); an answer that names no device is asked again.
 */
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
    let device: DeviceEntry | undefined;
    await ask.value({
      question:
        `${unit.label.en}: ${found.length > 0 ? 'a number from the list, ' : ''}"simulated", ` +
        unit.wizard.transportHint,
      flag: '--device',
      given: undefined,
      fallback: suggested >= 0 ? String(suggested + 1) : '',
      check: (answer) => {
        device = undefined;
        if (answer === '') return undefined;
        if (/^\d+$/.test(answer)) {
          const picked = found[Number(answer) - 1];
          if (!picked)
            return found.length > 0
              ? `no device number ${answer} in the list (1–${found.length})`
              : 'nothing was found attached: type the device, e.g. /dev/ttyUSB0, or "simulated"';
          answer = specOf(picked, root) as string;
        }
        try {
          device = parseDeviceSpec(`${kind}-1:${kind}:${specAsTyped(kind, answer)}`);
          return undefined;
        } catch (err) {
          return (err as Error).message.replace(/^--device "[^"]*": /, '');
        }
      },
    });
    if (!device) continue;
    try {
      Object.assign(device, await unit.wizard.askOptions?.((q, fallback) => ask.ask(q, fallback)));
    } catch (err) {
      throw new CliError(err instanceof Error ? err.message : String(err), EXIT_USAGE);
    }
    devices.push(device);
  }
  return devices;
}

type Tree = Record<string, unknown>;
const section = (tree: Tree, key: string): Tree => {
  const v = tree[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Tree) : {};
};
const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** The file being replaced (--force), as plain data: its answers become the defaults, its other keys stay. */
function existingConfig(file: string): Tree {
  try {
    const tree = parse(readFileSync(file, 'utf8')) as unknown;
    return tree !== null && typeof tree === 'object' && !Array.isArray(tree) ? (tree as Tree) : {};
  } catch {
    return {};
  }
}

function nextSteps(file: string): string[] {
  const c = file === DEFAULT_CONFIG_PATH ? '' : ` -c ${file}`;
  return [
    'Next steps:',
    `  1. boxagent config validate ${file}      check it, with every file it names`,
    `  2. boxagent token create${c} --name counter-app --scopes read,print,face,seal`,
    '                                          a token for the counter software (printed once)',
    '  3. systemctl enable --now boxagent      start the service (boxagent service install first',
    '                                          when it was not installed from the package)',
    `  4. boxagent doctor${c}                  check the install as the service user`,
  ];
}

async function init(opts: InitOptions): Promise<void> {
  const file = opts.config ?? process.env.BOXAGENT_CONFIG ?? DEFAULT_CONFIG_PATH;
  if (existsSync(file) && !opts.force) {
    throw new CliError(
      `${file} exists; add --force to replace it (the old file is kept as ${file}.bak)`,
      EXIT_USAGE,
    );
  }
  const old = opts.force ? existingConfig(file) : {};
  const oldBox = section(old, 'box');
  const oldHttp = section(old, 'http');
  const oldStorage = section(old, 'storage');
  const oldMqtt = section(old, 'mqtt');
  if (opts.nonInteractive && opts.boxId === undefined && text(oldBox.id) === undefined)
    throw new CliError('--box-id is required with --non-interactive', EXIT_USAGE);
  const ask = new Asker(!opts.nonInteractive);
  try {
    const boxId = await ask.value({
      question: 'Box id (as the fleet knows it)',
      flag: '--box-id',
      given: opts.boxId,
      fallback: text(oldBox.id) ?? (opts.nonInteractive ? '' : boxIdFromHostname(hostname())),
      check: checkBoxId,
    });
    const site = await ask.value({
      question: 'Site (village or town hall)',
      flag: '--site',
      given: opts.site,
      fallback: text(oldBox.site) ?? '',
      check: checkSite,
    });
    const host = text(oldHttp.host) ?? '127.0.0.1';
    const port = await ask.value({
      question: 'Local HTTP port',
      flag: '--http-port',
      given: opts.httpPort,
      fallback: text(oldHttp.port) ?? '8620',
      // Free on this box matters at the box only: a config written non-interactively may be for another.
      check: portCheck(host === '0.0.0.0' ? '127.0.0.1' : host, !opts.nonInteractive),
    });
    const storageDir = await ask.value({
      question: 'State directory',
      flag: '--storage-dir',
      given: opts.storageDir,
      fallback: text(oldStorage.dir) ?? (opts.nonInteractive ? '' : '/var/lib/boxagent'),
      check: (v) => (v === '' ? undefined : checkStorageDir(v)),
    });
    const oldOrigins = Array.isArray(oldHttp.allowedOrigins) ? (oldHttp.allowedOrigins as string[]) : [];
    const origins = await ask.value({
      question: 'Web addresses (origins) of the counter software, comma-separated (empty for none)',
      flag: '--allowed-origins',
      given: opts.allowedOrigins,
      fallback: oldOrigins.join(','),
      check: checkOrigins,
    });
    const mqttUrl = await ask.value({
      question: 'Fleet broker URL (mqtts://…; empty for none)',
      flag: '--mqtt-url',
      given: opts.mqttUrl,
      fallback: text(oldMqtt.url) ?? '',
      check: checkBrokerUrl,
    });
    const mqtt: Tree = { ...oldMqtt };
    for (const k of ['url', 'username', 'passwordFile', 'ca']) delete mqtt[k];
    if (mqttUrl) {
      mqtt.url = mqttUrl;
      const username = await ask.value({
        question: 'Broker username (empty for none)',
        flag: '--mqtt-username',
        given: opts.mqttUsername,
        fallback: text(oldMqtt.username) ?? '',
      });
      if (username) {
        mqtt.username = username;
        mqtt.passwordFile = await ask.value({
          question: 'File holding the broker password',
          flag: '--mqtt-password-file',
          given: opts.mqttPasswordFile,
          fallback: text(oldMqtt.passwordFile) ?? '/etc/boxagent/mqtt-password',
        });
      }
      // A CA file means something only on a TLS link: asked for mqtts:// (and wss://) alone.
      if (isTlsBroker(mqttUrl)) {
        const ca = await ask.value({
          question: 'CA certificate file of the broker (empty for the system CAs)',
          flag: '--mqtt-ca',
          given: opts.mqttCa,
          fallback: text(oldMqtt.ca) ?? '',
          check: checkCaFile,
        });
        if (ca) mqtt.ca = ca;
      }
    }
    if (opts.mqttCa !== undefined && !isTlsBroker(mqttUrl)) {
      throw new CliError('--mqtt-ca is for a TLS broker (mqtts:// or wss://)', EXIT_USAGE);
    }

    let devices = opts.device.map(parseDeviceSpec);
    if (opts.simulated) devices.push(...DEVICE_KINDS.map((k) => parseDeviceSpec(`${k}-1:${k}:simulated`)));
    const oldDevices = Array.isArray(old.devices) ? (old.devices as DeviceEntry[]) : [];
    if (devices.length === 0 && oldDevices.length > 0) {
      const ids = oldDevices.map((d) => d.id).join(', ');
      if (await ask.confirm(`Keep the configured devices (${ids})?`, true)) devices = oldDevices;
    }
    if (devices.length === 0 && !opts.nonInteractive) devices = await askDevices(ask, opts.sysfsRoot);

    const config: Tree = {
      ...old,
      box: { ...oldBox, id: boxId, site },
      http: { host, ...oldHttp, port: Number(port), allowedOrigins: splitOrigins(origins) },
      ...(storageDir ? { storage: { ...oldStorage, dir: storageDir } } : {}),
      devices,
    };
    if (mqttUrl) config.mqtt = mqtt;
    else delete config.mqtt;
    const yaml = `# Written by \`boxagent config init\`; change it with \`boxagent config set KEY VALUE\`.\n${stringify(config)}`;
    parseConfig(yaml, file); // the same validation as start-up; throws ConfigError naming the key
    const { backup } = writeServiceConfig(file, yaml);
    print(`wrote ${file}${backup ? ` (previous file: ${backup})` : ''}`);
    print();
    for (const line of nextSteps(file)) print(line);
  } finally {
    ask.close();
  }
}

export function registerInit(config: Command): void {
  config
    .command('init')
    .description(
      'write a first config: asks for what the flags do not give, checking each answer; ends with the next steps',
    )
    .option('-c, --config <file>', 'file to write (default $BOXAGENT_CONFIG or /etc/boxagent/config.yaml)')
    .option('--box-id <id>', 'the box id the fleet knows')
    .option('--site <name>', 'the site, e.g. a village hall')
    .option('--http-port <port>', 'local HTTP port, 1024–65535 (default 8620)')
    .option('--allowed-origins <list>', 'comma-separated browser origins of the counter software')
    .option('--storage-dir <dir>', 'state directory (default /var/lib/boxagent)')
    .option('--mqtt-url <url>', 'fleet broker, e.g. mqtts://fleet.example:8883')
    .option('--mqtt-username <name>', 'broker username')
    .option('--mqtt-password-file <file>', 'file holding the broker password')
    .option('--mqtt-ca <file>', 'CA certificate of the broker (mqtts:// and wss:// only)')
    .option(
      '--device <spec>',
      'a device, ID:KIND:TRANSPORT[:ARGS], e.g. printer-1:printer:serial:/dev/ttyUSB0@9600 (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--simulated', 'add a simulated device of every kind (a training or demo box)')
    .option('--non-interactive', 'never ask; fail when a required value is missing')
    .option('--force', 'replace an existing file (kept as .bak); its values are the defaults offered')
    .option('--sysfs-root <dir>', 'discover devices under this root instead of / (for tests)', '/')
    .action(init);
}
