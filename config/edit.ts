// Changing a config file the way an installer expects: one key at a time, comments kept, validated before
// anything is written, written atomically with the previous file kept as `<file>.bak`.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { writeFileAtomic } from './atomic-write.js';
import { ConfigError, convertValue, envKeys, parseConfig } from './load.js';
import { DeviceSchema, TRANSPORT_REF, TransportSchema, type Config } from './schema.js';

/** Dotted key → JSON type, for every key the schema knows (`http.port` → integer). */
export function configKeys(): Map<string, string> {
  return new Map([...envKeys().values()].map((k) => [k.path.join('.'), k.type]));
}

/**
 * Key path inside one device entry → JSON type (`printer.calibration.xMm` → number). Devices are addressed
 * by id (`devices.printer-1.printer.calibration.xMm`), so installers never count array positions. Keys of
 * every transport branch are listed; the schema check after the change rejects one the transport lacks.
 */
export function deviceKeys(): Map<string, string> {
  const keys = new Map<string, string>();
  const walk = (node: Record<string, unknown>, path: string[]): void => {
    const schema: Record<string, unknown> = node.$ref === TRANSPORT_REF ? TransportSchema : node;
    const branches = schema.oneOf as Record<string, unknown>[] | undefined;
    if (branches) {
      if (path.length > 0) keys.set(path.join('.'), 'object');
      for (const b of branches) walk(b, path);
      return;
    }
    const type = typeof schema.type === 'string' ? schema.type : 'string';
    if (path.length > 0) keys.set(path.join('.'), type);
    const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
    if (type === 'object' && props) for (const [k, v] of Object.entries(props)) walk(v, [...path, k]);
  };
  walk(DeviceSchema, []);
  keys.delete('id'); // renaming a device is not a one-key change: other config and jobs refer to it
  return keys;
}

interface ResolvedKey {
  type: string;
  /** `devices.<id>.<rest>`: the device id and the path inside its entry. */
  device?: { id: string; rest: string[] };
}

function resolveKey(key: string): ResolvedKey {
  const type = configKeys().get(key);
  if (type !== undefined) return { type };
  const [head, id, ...rest] = key.split('.');
  const deviceType = head === 'devices' && id ? deviceKeys().get(rest.join('.')) : undefined;
  if (deviceType === undefined || id === undefined) throw unknownKeyError(key);
  return { type: deviceType, device: { id, rest } };
}

/** The YAML path of device `id`'s key `rest` in this document, or an error naming the known ids. */
function devicePath(doc: Document, key: string, id: string, rest: string[]): (string | number)[] {
  const devices = doc.get('devices');
  const items = isSeq(devices) ? devices.items : [];
  const index = items.findIndex((item) => isMap(item) && item.get('id') === id);
  if (index < 0) {
    const known = items.map((item) => (isMap(item) ? String(item.get('id')) : '?'));
    throw new ConfigError([
      {
        path: key,
        message: `no device "${id}" in the file (devices: ${known.join(', ') || 'none'})`,
      },
    ]);
  }
  return ['devices', index, ...rest];
}

export function unknownKeyError(key: string): ConfigError {
  return new ConfigError([{ path: key, message: 'unknown key (see `boxagent config show` for the keys)' }]);
}

/** Reads a value from a resolved config by dotted path; undefined when unset. */
export function getKey(config: Config, key: string): unknown {
  const { device } = resolveKey(key);
  let node: unknown = config;
  let path = key.split('.');
  if (device) {
    node = config.devices.find((d) => d.id === device.id);
    if (node === undefined) throw new ConfigError([{ path: key, message: `no device "${device.id}"` }]);
    path = device.rest;
  }
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** Returns the new file text with `key` set to `value` (text, converted to the key's type). Validates. */
export function setKey(text: string, file: string, key: string, value: string): string {
  const { type, device } = resolveKey(key);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) parseConfig(text, file); // reports the YAML error with its line
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ConfigError([{ path: '', message: 'must be a mapping of keys', source: file }]);
  }
  let parsed: unknown;
  try {
    parsed = convertValue(value, type);
  } catch {
    throw new ConfigError([{ path: key, message: `expects ${type} (JSON for lists and objects)` }]);
  }
  doc.setIn(device ? devicePath(doc, key, device.id, device.rest) : key.split('.'), parsed);
  const next = doc.toString();
  parseConfig(next, file); // throws ConfigError naming the key when the value is not valid
  return next;
}

/**
 * Writes `text` to `file` atomically (temp file, fsync, rename, fsync of the folder) after copying the old
 * file to `.bak`; 0640, and owned by `owner` when given (root:<service group>, so the daemon can read it).
 */
export function writeConfigFile(
  file: string,
  text: string,
  owner?: { uid: number; gid: number },
): { backup?: string } {
  let backup: string | undefined;
  if (existsSync(file)) {
    backup = `${file}.bak`;
    copyFileSync(file, backup);
  }
  writeFileAtomic(file, text, { mode: 0o640, ...(owner ? { owner } : {}) });
  return backup ? { backup } : {};
}

export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError([
      {
        path: '',
        message: missing ? 'file not found (create it with `boxagent config init`)' : (err as Error).message,
        source: file,
      },
    ]);
  }
}
