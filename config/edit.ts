// Changing a config file the way an installer expects: one key at a time, comments kept, validated before
// anything is written, written atomically with the previous file kept as `<file>.bak`.
import {
  copyFileSync,
  existsSync,
  fsyncSync,
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { ConfigError, convertValue, envKeys, parseConfig } from './load.js';
import type { Config } from './schema.js';

/** Dotted key → JSON type, for every key the schema knows (`http.port` → integer). */
export function configKeys(): Map<string, string> {
  return new Map([...envKeys().values()].map((k) => [k.path.join('.'), k.type]));
}

export function unknownKeyError(key: string): ConfigError {
  return new ConfigError([{ path: key, message: 'unknown key (see `boxagent config show` for the keys)' }]);
}

/** Reads a value from a resolved config by dotted path; undefined when unset. */
export function getKey(config: Config, key: string): unknown {
  if (!configKeys().has(key)) throw unknownKeyError(key);
  let node: unknown = config;
  for (const seg of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** Returns the new file text with `key` set to `value` (text, converted to the key's type). Validates. */
export function setKey(text: string, file: string, key: string, value: string): string {
  const type = configKeys().get(key);
  if (type === undefined) throw unknownKeyError(key);
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
  doc.setIn(key.split('.'), parsed);
  const next = doc.toString();
  parseConfig(next, file); // throws ConfigError naming the key when the value is not valid
  return next;
}

/** Writes `text` to `file` atomically (temp file, fsync, rename) after copying the old file to `.bak`. */
export function writeConfigFile(file: string, text: string): { backup?: string } {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let backup: string | undefined;
  if (existsSync(file)) {
    backup = `${file}.bak`;
    copyFileSync(file, backup);
  }
  renameSync(tmp, file);
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
