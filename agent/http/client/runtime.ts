// The hand-written part of the served client (GET /v1/client.js). It runs in the counter page's browser, not
// in the daemon: no imports, nothing of Node. The build compiles it like the rest and `generate.ts` puts its
// JavaScript, with the operation table and event list taken from the catalogs, into one ES module. Its
// public types are written out in the generated .d.ts; the ones here only keep this file honest.

/** One operation as the client calls it: method, path, and, for a binary answer, the headers it reads. */
export type OperationSpec = readonly [
  method: string,
  path: string,
  binary?: 0 | 1,
  headers?: readonly string[],
];

export interface ClientOptions {
  baseUrl?: string;
  token?: string;
  locale?: string;
  /** Not in the browser, where the global one is used: an EventSource class for other runtimes (tests). */
  EventSource?: EventSourceClass;
}

export interface CallOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
}

interface MessageLike {
  data: string;
  lastEventId: string;
}
interface EventSourceLike {
  readonly readyState: number;
  onerror: ((ev: unknown) => void) | null;
  addEventListener(type: string, listener: (ev: MessageLike) => void): void;
  close(): void;
}
type EventSourceClass = new (url: string) => EventSourceLike;

type Handler = (payload: unknown) => void;
export interface EventHandlers {
  snapshot?: Handler;
  event?: Handler;
  on?: Record<string, Handler | undefined>;
  error?: (err: unknown) => void;
}

const PROBLEM_PREFIX = 'urn:boxagent:problem:';

interface ProblemDocument {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  field?: string;
  code?: string;
  [extension: string]: unknown;
}

/** A refused or failed call: the daemon's problem+json, with its code taken from the problem type. */
export class BoxagentError extends Error {
  override name = 'BoxagentError';
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  readonly field?: string;
  readonly type: string;
  /** The problem's other members (hint, missing, requiredScope, retryAfter, …). */
  readonly extensions: Record<string, unknown>;

  constructor(problem: ProblemDocument) {
    const { type = 'about:blank', title = 'Error', status = 0, detail, field, code, ...extensions } = problem;
    super(detail ?? title);
    this.type = type;
    this.title = title;
    this.status = status;
    this.code =
      code ?? (type.startsWith(PROBLEM_PREFIX) ? type.slice(PROBLEM_PREFIX.length) : `http-${status}`);
    if (detail !== undefined) this.detail = detail;
    if (field !== undefined) this.field = field;
    this.extensions = extensions;
  }
}

async function problemOf(res: Response): Promise<BoxagentError> {
  let doc: ProblemDocument = { title: res.statusText, status: res.status };
  if (/json/.test(res.headers.get('content-type') ?? '')) {
    try {
      doc = { status: res.status, ...((await res.json()) as ProblemDocument) };
    } catch {
      // Not the problem document it claimed to be; the status line is all there is.
    }
  }
  return new BoxagentError(doc);
}

/** fetch, with an unreachable daemon as a BoxagentError too (an abort stays an AbortError). */
async function send(url: URL, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if ((err as { name?: string } | null)?.name === 'AbortError') throw err;
    throw new BoxagentError({
      code: 'unreachable',
      title: 'the box agent cannot be reached',
      detail: String(err),
    });
  }
  if (!res.ok) throw await problemOf(res);
  return res;
}

const defaultBase = (): string => {
  const origin = new URL(import.meta.url).origin;
  return origin === 'null' ? 'http://127.0.0.1:8620' : origin;
};

const hasBlob = (v: unknown): boolean =>
  v instanceof Blob || (typeof v === 'object' && v !== null && Object.values(v).some(hasBlob));

/** The input as multipart fields: dotted names (`probe.image`, `images.0.image`), Blobs as file parts. */
function toForm(v: unknown, form = new FormData(), name = ''): FormData {
  if (v instanceof Blob) form.append(name, v, 'image');
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) if (x !== undefined) toForm(x, form, name ? `${name}.${k}` : k);
  } else form.append(name, String(v));
  return form;
}

export function makeClient(
  operations: Readonly<Record<string, OperationSpec>>,
  eventTypes: readonly string[],
  options: ClientOptions = {},
): Record<string, Record<string, unknown>> {
  const base = options.baseUrl ?? defaultBase();
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.locale ? { 'accept-language': options.locale } : {}),
    ...extra,
  });

  async function call(spec: OperationSpec, input: Record<string, unknown> = {}, opts: CallOptions = {}) {
    const [method, path, binary, headerNames] = spec;
    const rest: Record<string, unknown> = { ...input };
    const url = new URL(
      path.replace(/:(\w+)/g, (_m, k: string) => {
        const v = rest[k];
        delete rest[k];
        return encodeURIComponent(String(v));
      }),
      base,
    );
    const extra: Record<string, string> = opts.idempotencyKey
      ? { 'idempotency-key': opts.idempotencyKey }
      : {};
    let body: string | FormData | undefined;
    if (method === 'GET' || method === 'DELETE') {
      for (const [k, v] of Object.entries(rest)) {
        // A URL's inputs are scalars (ids, limits, states): the daemon coerces them from text.
        if (v !== undefined) url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      }
    } else if (hasBlob(rest)) {
      body = toForm(rest);
    } else {
      body = JSON.stringify(rest);
      extra['content-type'] = 'application/json';
    }
    const res = await send(url, {
      method,
      headers: headers(extra),
      ...(body === undefined ? {} : { body }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (!binary) return res.status === 204 ? undefined : await res.json();
    const blob = await res.blob();
    if (!headerNames) return blob;
    return { blob, headers: Object.fromEntries(headerNames.map((h) => [h, res.headers.get(h) ?? ''])) };
  }

  function subscribe(handlers: EventHandlers): { close(): void } {
    const Source = options.EventSource ?? (globalThis as { EventSource?: EventSourceClass }).EventSource;
    if (!Source) throw new Error('no EventSource here: pass one as the EventSource option');
    let source: EventSourceLike;
    let lastId = '';
    let closed = false;
    let retryMs = 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const parse = (m: MessageLike): unknown => JSON.parse(m.data) as unknown;
    const open = (): void => {
      const url = new URL('/v1/events', base);
      if (options.token) url.searchParams.set('access_token', options.token);
      // A new EventSource starts without the Last-Event-ID header; the query carries it instead.
      if (lastId) url.searchParams.set('lastEventId', lastId);
      source = new Source(url.href);
      source.addEventListener('snapshot', (m) => {
        retryMs = 1000;
        handlers.snapshot?.(parse(m));
      });
      for (const type of eventTypes) {
        source.addEventListener(type, (m) => {
          if (m.lastEventId) lastId = m.lastEventId;
          const e = parse(m);
          handlers.event?.(e);
          handlers.on?.[type]?.(e);
        });
      }
      source.onerror = (err) => {
        handlers.error?.(err);
        // The browser retries a dropped stream itself (with Last-Event-ID); one it gave up on (a refusal,
        // the daemon restarting) is opened again here, backing off to 30 s.
        if (source.readyState === 2 && !closed) {
          timer = setTimeout(open, retryMs);
          retryMs = Math.min(retryMs * 2, 30_000);
        }
      };
    };
    open();
    return {
      close() {
        closed = true;
        clearTimeout(timer);
        source.close();
      },
    };
  }

  const client: Record<string, Record<string, unknown>> = { events: { subscribe } };
  for (const [name, spec] of Object.entries(operations)) {
    const dot = name.indexOf('.');
    const group = (client[name.slice(0, dot)] ??= {});
    group[name.slice(dot + 1)] = (input?: Record<string, unknown>, opts?: CallOptions) =>
      call(spec, input, opts);
  }
  return client;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Asks the box for a token (POST /v1/pairings); `wait()` resolves with it once a clerk approves the code. */
export async function requestPairing(options: { baseUrl?: string; name: string; scopes: string[] }) {
  const base = options.baseUrl ?? defaultBase();
  const res = await send(new URL('/v1/pairings', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: options.name, scopes: options.scopes }),
  });
  const p = (await res.json()) as { id: string; code: string; expiresAt: string };
  return {
    id: p.id,
    code: p.code,
    expiresAt: p.expiresAt,
    async wait(signal?: AbortSignal): Promise<string> {
      for (let failures = 0; ;) {
        let r: Response;
        try {
          r = await send(new URL(`/v1/pairings/${encodeURIComponent(p.id)}?wait=25`, base), {
            ...(signal ? { signal } : {}),
          });
        } catch (err) {
          // The clerk may take minutes: a daemon restart or a failed poll (the box unreachable, a 5xx) must not
          // end the wait. The pairing lives in the box's database, so the next poll finds it again.
          const transient = err instanceof BoxagentError && (err.code === 'unreachable' || err.status >= 500);
          if (!transient || Date.now() > Date.parse(p.expiresAt)) throw err;
          await sleep(Math.min(5000, 500 * 2 ** failures++));
          continue;
        }
        failures = 0;
        const s = (await r.json()) as { state: string; token?: string };
        if (s.state === 'approved' && s.token) return s.token;
        if (s.state !== 'pending') {
          const why = s.state === 'approved' ? 'its token was already collected' : `it was ${s.state}`;
          throw new BoxagentError({
            code: `pairing-${s.state}`,
            title: `pairing ${p.code}: ${why}`,
            status: 0,
          });
        }
        // The daemon holds a pending request up to 25 s; the pause only guards against a busy loop.
        await sleep(500);
      }
    },
  };
}
