// Generates the served client from the catalogs: an ES module (the runtime, plus one table row per operation
// with an HTTP binding and the list of event types) and its .d.ts (one typed method per operation, event
// handler payloads from the event catalog, the snapshot). `emit.ts` runs it at build time.
import { SCOPES } from '../../../config/sections/scopes.js';
import type { EventDefinition } from '../../events/catalog.js';
import { binaryHeaders, type AnyOperation } from '../../operations/operation.js';
import { plain, requestSchema } from '../openapi-schemas.js';
import { schemaToTs } from './schema-to-ts.js';
import type { OperationSpec } from './runtime.js';

export interface GeneratedClient {
  js: string;
  dts: string;
}

const HEADER =
  '// The boxagent client, generated from its operations and event catalogs by `npm run build`; do not edit.\n';

const isBinary = (op: AnyOperation): boolean => plain(op.output).format === 'binary';

/** `print.submit` → group `print`, method `submit`; the name must split into a JS group and method. */
function split(name: string): [string, string] {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1) throw new Error(`operation ${name} has no group.method name`);
  return [name.slice(0, dot), name.slice(dot + 1)];
}

const key = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));

/** The operations the client offers: those with an HTTP binding, checked to fit the client's layout. */
export function clientOperations(catalog: readonly AnyOperation[]): AnyOperation[] {
  const ops = catalog.filter((op) => op.http !== undefined);
  const seen = new Set<string>();
  for (const op of ops) {
    if (split(op.name)[0] === 'events') throw new Error(`operation ${op.name} clashes with client.events`);
    if (seen.has(op.name)) throw new Error(`operation ${op.name} is declared twice`);
    seen.add(op.name);
  }
  return ops;
}

export function generateJs(
  catalog: readonly AnyOperation[],
  events: Readonly<Record<string, EventDefinition>>,
  runtimeJs: string,
): string {
  const table: Record<string, OperationSpec> = {};
  for (const op of clientOperations(catalog)) {
    const http = op.http!;
    const headers = Object.keys(binaryHeaders(op.output));
    table[op.name] = isBinary(op)
      ? headers.length > 0
        ? [http.method, http.path, 1, headers]
        : [http.method, http.path, 1]
      : [http.method, http.path];
  }
  const runtime = runtimeJs
    .replace(/^[ \t]*\/\/.*(?:\n|$)/gm, '') // comment lines and the source map link: not for the browser
    .replace(/^export function makeClient\(/m, 'function makeClient(');
  if (!/^function makeClient\(/m.test(runtime)) throw new Error('the client runtime has no makeClient');
  return `${HEADER}${runtime.trimEnd()}
const OPERATIONS = ${JSON.stringify(table)};
const EVENT_TYPES = ${JSON.stringify(Object.keys(events))};
export function createClient(options) {
  return makeClient(OPERATIONS, EVENT_TYPES, options);
}
`;
}

function inputType(op: AnyOperation): { type: string; optional: boolean } {
  // The request as the OpenAPI document states it: a field the server fills from its default is optional.
  const schema = requestSchema(plain(op.input));
  const required = (schema.required ?? []) as string[];
  return { type: schemaToTs(schema, { direction: 'input' }, '  '), optional: required.length === 0 };
}

function outputType(op: AnyOperation): string {
  if (!isBinary(op)) return schemaToTs(plain(op.output), { direction: 'output' }, '  ');
  const headers = Object.keys(binaryHeaders(op.output));
  if (headers.length === 0) return 'Blob';
  return `{ blob: Blob; headers: { ${headers.map((h) => `${key(h)}: string;`).join(' ')} } }`;
}

const STATIC_DTS = `
export interface CallOptions {
  /** Sent as Idempotency-Key: a retry with the same key and input returns the first result. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** The daemon; defaults to the origin this module was loaded from. */
  baseUrl?: string;
  /** A bearer token (from pairing: requestPairing). */
  token?: string;
  /** Sent as Accept-Language: the language of problem titles and details (zh-CN, en). */
  locale?: string;
  /** Where there is no global EventSource (Node): the class to use for events.subscribe. */
  EventSource?: new (url: string) => unknown;
}

/** Every event as its handlers receive it: the envelope and the payload of its type. */
export type Event<T extends EventType> = {
  /** Unique; de-duplicate on it. */
  id: string;
  /** Position in the event log (the SSE id); null for live-only events, which are never stored. */
  seq: Kept<T> extends true ? number : null;
  type: T;
  at: string;
} & EventPayloads[T];
export type EventType = keyof EventPayloads;
export type AnyEvent = { [T in EventType]: Event<T> }[EventType];
type Kept<T extends EventType> = T extends KeptEventType ? true : false;
type JobEventType = Extract<EventType, \`\${string}.job\`>;

/** A job not in a final state, as its \`<kind>.job\` events show it, without the move. */
export type SnapshotJob = {
  [T in JobEventType]: Omit<EventPayloads[T], 'previous' | 'reason'> & { createdAt: string; updatedAt: string };
}[JobEventType];

/** Sent first on every (re)connect of events.subscribe: the state as of event \`seq\`. */
export interface Snapshot {
  seq: number;
  devices: Operations['devices.list']['output']['devices'];
  queues: Operations['printers.queue']['output'][];
  jobs: SnapshotJob[];
}

export interface EventHandlers {
  snapshot?(snapshot: Snapshot): void;
  event?(event: AnyEvent): void;
  on?: { [T in EventType]?: (event: Event<T>) => void };
  /** The stream dropped or was refused; it is opened again (resuming by Last-Event-ID). */
  error?(err: unknown): void;
}

/** A refused or failed call: the daemon's problem+json. */
export declare class BoxagentError extends Error {
  /** The stable code: the problem type after urn:boxagent:problem: (\`invalid-request\`, \`not-found\`…). */
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  /** The failing input field as a JSON pointer (\`/document/items/0\`), or a header name. */
  readonly field?: string;
  readonly type: string;
  /** The problem's other members (hint, missing, requiredScope, retryAfter, …). */
  readonly extensions: Record<string, unknown>;
}

export declare function createClient(options?: ClientOptions): BoxagentClient;

export interface Pairing {
  id: string;
  /** Show it to the clerk, who approves it on the box (boxagent token approve CODE). */
  code: string;
  expiresAt: string;
  /** Resolves with the token once approved; rejects (BoxagentError) when denied or expired. */
  wait(signal?: AbortSignal): Promise<string>;
}

/** Asks the box for a token; needs no token, only an allowed Origin. */
export declare function requestPairing(options: { baseUrl?: string; name: string; scopes: Scope[] }): Promise<Pairing>;
`;

export function generateDts(
  catalog: readonly AnyOperation[],
  events: Readonly<Record<string, EventDefinition>>,
): string {
  const ops = clientOperations(catalog);
  const out: string[] = [HEADER];
  out.push(`export type Scope = ${SCOPES.map((s) => JSON.stringify(s)).join(' | ')};\n`);

  out.push('/** Every operation: its input (path, query and body fields in one object) and its output. */');
  out.push('export interface Operations {');
  for (const op of ops) {
    out.push(`  /** ${op.summary.replace(/\*\//g, '*\\/')} (scope ${op.scope}) */`);
    out.push(`  ${JSON.stringify(op.name)}: {`);
    out.push(`    input: ${inputType(op).type.replace(/\n/g, '\n  ')};`);
    out.push(`    output: ${outputType(op).replace(/\n/g, '\n  ')};`);
    out.push('  };');
  }
  out.push('}\n');

  out.push('/** Each event type and its payload (the event catalog). */');
  out.push('export interface EventPayloads {');
  for (const [type, d] of Object.entries(events)) {
    out.push(
      `  /** ${d.description.replace(/\*\//g, '*\\/')} (scope ${d.scope}${d.kept ? '' : ', live only'}) */`,
    );
    out.push(`  ${JSON.stringify(type)}: ${schemaToTs(plain(d.payload), { direction: 'output' }, '  ')};`);
  }
  out.push('}');
  const kept = Object.entries(events).filter(([, d]) => d.kept);
  out.push(`type KeptEventType = ${kept.map(([t]) => JSON.stringify(t)).join(' | ') || 'never'};`);

  out.push(STATIC_DTS);

  const groups = new Map<string, string[]>();
  for (const op of ops) {
    const [group, method] = split(op.name);
    const n = JSON.stringify(op.name);
    const arg = `input${inputType(op).optional ? '?' : ''}: Operations[${n}]['input']`;
    const line = `    ${key(method)}(${arg}, options?: CallOptions): Promise<Operations[${n}]['output']>;`;
    groups.set(group, [
      ...(groups.get(group) ?? []),
      `    /** ${op.summary.replace(/\*\//g, '*\\/')} */`,
      line,
    ]);
  }
  out.push('/** One method per operation, grouped by the first part of its name. */');
  out.push('export interface BoxagentClient {');
  for (const [group, lines] of groups) out.push(`  ${key(group)}: {\n${lines.join('\n')}\n  };`);
  out.push(
    '  events: {\n    /** Opens the event stream: a snapshot first on every (re)connect, then events. */',
  );
  out.push('    subscribe(handlers: EventHandlers): { close(): void };\n  };');
  out.push('}');
  return `${out.join('\n')}\n`;
}

export function generateClient(
  catalog: readonly AnyOperation[],
  events: Readonly<Record<string, EventDefinition>>,
  runtimeJs: string,
): GeneratedClient {
  return { js: generateJs(catalog, events, runtimeJs), dts: generateDts(catalog, events) };
}
