// Loads the configuration: YAML file → env overrides (BOXAGENT_<PATH>) → defaults → validation.
// Every problem is reported with the key path and, where the YAML parser knows it, the file line.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { missingFileProblems, semanticProblems } from './checks.js';
import { ConfigSchema, fileSchema, type Config } from './schema.js';

import { RELEASES_DIR_ENV } from './env-names.js';

export const CONFIG_ENV = 'BOXAGENT_CONFIG';
/** A secret for `boxagent backup`, not a config key: the only other BOXAGENT_* name the loader accepts. */
export const BACKUP_PASSPHRASE_ENV = 'BOXAGENT_BACKUP_PASSPHRASE';
export const ENV_PREFIX = 'BOXAGENT_';
export const DEFAULT_CONFIG_PATH = '/etc/boxagent/config.yaml';

export interface ConfigProblem {
  /** Dotted key path, e.g. `http.port` or `devices.0.kind`; empty for the document itself. */
  path: string;
  message: string;
  /** `file:line` or `env BOXAGENT_X`, when known. */
  source?: string;
}

export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    readonly file?: string,
  ) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.source ? `${p.source}: ` : '';
  const key = p.path ? `${p.path}: ` : '';
  return `config error: ${where}${key}${p.message}`;
}

export interface LoadOptions {
  /** Config file; falls back to BOXAGENT_CONFIG, then /etc/boxagent/config.yaml. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Also refuse files the config names that do not exist (`config validate`, daemon start). */
  checkFiles?: boolean;
}

export interface LoadedConfig {
  config: Config;
  file: string;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, discriminator: true });
const FILE_SCHEMA = fileSchema();
const validate = ajv.compile<Config>(FILE_SCHEMA);

export function resolveConfigPath(opts: LoadOptions = {}): string {
  return opts.file ?? opts.env?.[CONFIG_ENV] ?? process.env[CONFIG_ENV] ?? DEFAULT_CONFIG_PATH;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = resolveConfigPath({ ...opts, env });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ConfigError([{ path: '', message: reason, source: file }], file);
  }
  return { config: parseConfig(text, file, env, { checkFiles: opts.checkFiles }), file };
}

/** Parses and validates config text; `file` is only used in messages. */
export function parseConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = {},
  opts: { checkFiles?: boolean | undefined } = {},
): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: '',
        message: `YAML: ${e.message.split('\n')[0] ?? e.code}`,
        source: `${file}:${lines.linePos(e.pos[0]).line}`,
      })),
      file,
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ path: '', message: 'must be a mapping of keys', source: file }], file);
  }
  const data = raw as Record<string, unknown>;
  const envSources = applyEnvOverrides(data, env);

  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => toProblem(e, doc, lines, file, envSources));
    throw new ConfigError(dedupe(problems), file);
  }
  const semantic = [...semanticProblems(data), ...(opts.checkFiles ? missingFileProblems(data) : [])];
  if (semantic.length === 0) return data;
  throw new ConfigError(
    semantic.map((p) => withSource(p.segments, p.message, doc, lines, file, envSources)),
    file,
  );
}

/** Keys earlier builds took, with what replaced them: a config written for them gets told what to write. */
const REPLACED_KEYS: Record<string, string> = {
  decoderLibrary: 'replaced by decoder: {library, abi} (see the README, ID card photo decoder)',
};

function toProblem(
  e: ErrorObject,
  doc: Document,
  lines: LineCounter,
  file: string,
  envSources: Map<string, string>,
): ConfigProblem {
  const segments = e.instancePath.split('/').slice(1).map(unescapePointer);
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    segments.push(extra);
    message = REPLACED_KEYS[extra] ?? 'unknown key';
  } else if (e.keyword === 'required') {
    segments.push(String((e.params as { missingProperty: string }).missingProperty));
    message = 'is required';
  } else if (e.keyword === 'discriminator') {
    const { tag, tagValue } = e.params as { tag: string; tagValue: unknown };
    segments.push(tag);
    const allowed = tagValues(schemaAt(FILE_SCHEMA, e.schemaPath), tag);
    message =
      tagValue === undefined
        ? 'is required'
        : allowed.length > 0
          ? `must be one of: ${allowed.join(', ')}`
          : `unknown ${tag} ${JSON.stringify(tagValue)}`;
  } else if (e.keyword === 'enum') {
    message = `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  } else if (e.keyword === 'const') {
    message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
  }
  return withSource(segments, message, doc, lines, file, envSources);
}

function withSource(
  segments: string[],
  message: string,
  doc: Document,
  lines: LineCounter,
  file: string,
  envSources: Map<string, string>,
): ConfigProblem {
  const path = segments.join('.');
  const envVar = [...envSources].find(([p]) => path === p || path.startsWith(`${p}.`))?.[1];
  if (envVar) return { path, message, source: `env ${envVar}` };
  const offset = nodeOffset(doc, segments);
  return { path, message, source: offset === undefined ? file : `${file}:${lines.linePos(offset).line}` };
}

/** The schema holding a failed keyword, from the error's `schemaPath` (`#/properties/devices/items/discriminator`). */
function schemaAt(root: unknown, schemaPath: string): unknown {
  const segments = schemaPath.replace(/^#\//, '').split('/').slice(0, -1).map(unescapePointer);
  return segments.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}

/** The values a tagged union's branches give its tag (`kind: printer`, …), from the union's schema. */
function tagValues(schema: unknown, tag: string): string[] {
  const branches = (schema as { oneOf?: { properties?: Record<string, { const?: unknown }> }[] } | undefined)
    ?.oneOf;
  return (branches ?? []).flatMap((b) => {
    const value = b.properties?.[tag]?.const;
    return typeof value === 'string' ? [value] : [];
  });
}

// ajv reports one problem per failed branch of a union; keep the first per path.
function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    if (seen.has(p.path)) return false;
    seen.add(p.path);
    return true;
  });
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Offset of the deepest YAML node along `segments` (the key node for the last segment where possible). */
function nodeOffset(doc: Document, segments: string[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0];
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === seg,
      );
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}

// ---- environment overrides ---------------------------------------------------------------------------

export interface EnvKey {
  path: string[];
  /** JSON Schema type of the target: scalars are converted, objects and arrays of objects parse as JSON. */
  type: string;
}

/** BOXAGENT_HTTP_PORT → { path: ['http','port'], type: 'integer' }, derived from the schema. */
export function envKeys(): Map<string, EnvKey> {
  const keys = new Map<string, EnvKey>();
  const walk = (schema: Record<string, unknown>, path: string[]): void => {
    const type = schemaType(schema);
    if (path.length > 0) keys.set(ENV_PREFIX + path.map(toSnake).join('_'), { path, type });
    const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
    if (type === 'object' && props) {
      for (const [k, v] of Object.entries(props)) walk(v, [...path, k]);
    }
  };
  walk(ConfigSchema, []);
  return keys;
}

/**
 * The JSON type a schema node holds: its `type`, or the one type its `const`, `enum` or union branches share
 * (`protocolVersion: 5 | 4` is a number, so `BOXAGENT_MQTT_PROTOCOL_VERSION=4` becomes 4). Mixed or unknown
 * types stay text and validation decides.
 */
export function schemaType(schema: Record<string, unknown>): string {
  if (typeof schema.type === 'string') return schema.type;
  const jsonType = (v: unknown): string =>
    Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v;
  let types: string[] = [];
  if ('const' in schema) types = [jsonType(schema.const)];
  else if (Array.isArray(schema.enum)) types = schema.enum.map(jsonType);
  else {
    const branches = (schema.anyOf ?? schema.oneOf) as Record<string, unknown>[] | undefined;
    if (Array.isArray(branches)) types = branches.map(schemaType);
  }
  const unique = [...new Set(types.map((t) => (t === 'integer' ? 'number' : t)))];
  if (unique.length !== 1) return 'string';
  // Keep `integer` when every branch says so; a mix of integer and number is a number.
  return types.every((t) => t === 'integer') ? 'integer' : (unique[0] as string);
}

function toSnake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Applies env overrides in place; returns path → env var name, for messages. */
function applyEnvOverrides(data: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const keys = envKeys();
  const applied = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_ENV || name === BACKUP_PASSPHRASE_ENV) continue;
    if (name === RELEASES_DIR_ENV) continue;
    if (value === undefined) continue;
    const key = keys.get(name);
    if (!key) {
      problems.push({ path: '', message: 'no config key has this name', source: `env ${name}` });
      continue;
    }
    const wrongType = scalarProblem(value, key.type);
    if (wrongType) {
      problems.push({ path: key.path.join('.'), message: wrongType, source: `env ${name}` });
      continue;
    }
    let parsed: unknown;
    try {
      parsed = convertValue(value, key.type);
    } catch {
      problems.push({ path: key.path.join('.'), message: 'is not valid JSON', source: `env ${name}` });
      continue;
    }
    setPath(data, key.path, parsed);
    applied.set(key.path.join('.'), name);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return applied;
}

/** Why env text cannot be a number or boolean key's value (named before validation, with the variable). */
function scalarProblem(value: string, type: string): string | undefined {
  if ((type === 'integer' || type === 'number') && !isNumeric(value)) {
    return `must be ${type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`;
  }
  if (type === 'boolean' && value !== 'true' && value !== 'false') {
    return `must be true or false, got ${JSON.stringify(value)}`;
  }
  return undefined;
}

function isNumeric(value: string): boolean {
  return value.trim() !== '' && Number.isFinite(Number(value));
}

/** Converts text (an env value, a `config set` argument) to the JSON type a key expects. */
export function convertValue(value: string, type: string): unknown {
  switch (type) {
    case 'integer':
    case 'number':
      // Leave non-numbers as strings so validation names the key and the expected type.
      return isNumeric(value) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'array':
      return value.trim().startsWith('[')
        ? (JSON.parse(value) as unknown)
        : value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    case 'object':
      return JSON.parse(value) as unknown;
    default:
      return value;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const seg of path.slice(0, -1)) {
    const next = node[seg];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[seg] = {};
    node = node[seg] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}
