// Checks JSON Schema cannot express, run after the schema passes: rules across entries (device ids are
// unique), values the kernel would refuse (serial baud rates) and files the config names (checked only when
// asked: `config validate` and daemon start; `config init` writes a config before its secret files exist).
import { existsSync } from 'node:fs';
import type { Config } from './schema.js';

/** A problem found after validation, located by its key path segments (load.ts adds the file line). */
export interface SemanticProblem {
  segments: string[];
  message: string;
}

/**
 * The termios rates Linux accepts for a serial port (B50 … B4000000); anything else is refused by the driver
 * or silently replaced, so a typo like 96000 must not reach a device.
 */
export const LINUX_BAUD_RATES = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
  460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
] as const;

const BAUD_RATES: ReadonlySet<number> = new Set(LINUX_BAUD_RATES);

/** Duplicate device ids and impossible baud rates: always errors. */
export function semanticProblems(config: Config): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const firstIndex = new Map<string, number>();
  config.devices.forEach((device, i) => {
    const earlier = firstIndex.get(device.id);
    if (earlier === undefined) firstIndex.set(device.id, i);
    else {
      problems.push({
        segments: ['devices', String(i), 'id'],
        message: `duplicate device id "${device.id}" (also devices.${earlier}.id); ids must be unique`,
      });
    }
    const t = device.transport;
    if (t.type === 'serial' && !BAUD_RATES.has(t.baudRate)) {
      problems.push({
        segments: ['devices', String(i), 'transport', 'baudRate'],
        message: `${t.baudRate} is not a baud rate Linux supports; use one of: ${LINUX_BAUD_RATES.join(', ')}`,
      });
    }
  });
  return problems;
}

/**
 * Files the config names that must be there for the daemon to work: the fleet link's TLS and password files
 * (when the link is on), the scheduled backup's key or passphrase file, a simulated camera's images. Device
 * nodes and the ID card decoder library are not checked here: a USB device may be unplugged while the
 * installer validates, and a device that cannot open shows in error without stopping the others (`doctor`
 * and `devices list` report them).
 */
export function missingFileProblems(config: Config): SemanticProblem[] {
  const named: { segments: string[]; path: string | undefined }[] = [];
  if (config.mqtt.url !== undefined) {
    for (const key of ['ca', 'cert', 'key', 'passwordFile'] as const) {
      named.push({ segments: ['mqtt', key], path: config.mqtt[key] });
    }
  }
  named.push({ segments: ['backup', 'recipient'], path: config.backup.recipient });
  named.push({ segments: ['backup', 'passphraseFile'], path: config.backup.passphraseFile });
  config.devices.forEach((device, i) => {
    if (device.kind === 'camera' && device.transport.type === 'simulated') {
      named.push({
        segments: ['devices', String(i), 'camera', 'simulatedImages'],
        path: device.camera.simulatedImages,
      });
    }
  });
  return named
    .filter((n): n is { segments: string[]; path: string } => n.path !== undefined && !existsSync(n.path))
    .map((n) => ({ segments: n.segments, message: `${n.path} does not exist` }));
}
