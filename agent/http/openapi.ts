// The OpenAPI 3.1 document, generated from the operations catalog (plus the few HTTP-only endpoints).
import type { TSchema } from '@sinclair/typebox';
import { EVENT_CATALOG, EVENT_TYPES, type EventType } from '../events/catalog.js';
import type { AnyOperation } from '../operations/operation.js';
import { PROBLEM_BASE, PROBLEMS } from '../problems/registry.js';
import { imageFieldPaths } from './multipart-form.js';
import { ADMIN_SESSION_OPENAPI_PATHS } from './admin-session-routes.js';
import { PAIRING_OPENAPI_PATHS } from './pairing-routes.js';

const URL_INPUT_METHODS = new Set(['GET', 'DELETE']);

/** `/v1/devices/:id` → `/v1/devices/{id}` and the parameter names. */
function pathTemplate(path: string): { template: string; params: string[] } {
  const params: string[] = [];
  const template = path.replace(/:([A-Za-z_]\w*)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { template, params };
}

/** Strips TypeBox's symbol-keyed metadata: the document must be plain JSON Schema. */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** The JSON body as form fields: nested names dotted (`probe.image`), image fields as file parts. */
function formSchema(input: TSchema, pathParams: readonly string[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const images = new Set(imageFieldPaths(input));
  // `name` is the field name as sent (`images.0.image`), `pattern` the same with list indices as `*`.
  const walk = (schema: Record<string, unknown>, name: string, pattern: string): void => {
    const join = (a: string, b: string): string => (a ? `${a}.${b}` : b);
    const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
    const items = schema.items as Record<string, unknown> | undefined;
    if (schema.type === 'object' && props) {
      for (const [k, s] of Object.entries(props)) {
        if (name === '' && pathParams.includes(k)) continue;
        walk(s, join(name, k), join(pattern, k));
      }
    } else if (schema.type === 'array' && items?.type === 'object') {
      walk(items, join(name, '0'), join(pattern, '*'));
    } else if (images.has(pattern)) {
      properties[name] = { type: 'string', format: 'binary', description: 'The image file' };
    } else {
      properties[name] = schema;
    }
  };
  walk(plain(input), '', '');
  return {
    schema: {
      type: 'object',
      description: "The JSON body's fields under dotted names; list items as name.0.field, name.1.field…",
      properties,
    },
  };
}

function operationObject(op: AnyOperation): Record<string, unknown> {
  const { params } = pathTemplate(op.http?.path ?? '');
  const input = plain(op.input);
  const props = (input.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((input.required ?? []) as string[]);
  const parameters: Record<string, unknown>[] = params.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: props[name] ?? { type: 'string' },
  }));
  const rest = Object.keys(props).filter((k) => !params.includes(k));
  const doc: Record<string, unknown> = {
    operationId: op.name,
    summary: op.summary,
    security: [{ bearer: [op.scope] }],
    'x-required-scope': op.scope,
  };
  if (URL_INPUT_METHODS.has(op.http?.method ?? 'GET')) {
    for (const name of rest)
      parameters.push({ name, in: 'query', required: required.has(name), schema: props[name] });
  } else if (rest.length > 0) {
    const bodyProps = Object.fromEntries(rest.map((k) => [k, props[k]]));
    const bodyRequired = rest.filter((k) => required.has(k));
    const jsonSchema = {
      type: 'object',
      properties: bodyProps,
      required: bodyRequired,
      additionalProperties: false,
    };
    doc.requestBody = {
      required: bodyRequired.length > 0,
      content: {
        'application/json': { schema: jsonSchema },
        ...(imageFieldPaths(op.input).length > 0
          ? { 'multipart/form-data': formSchema(op.input, params) }
          : {}),
      },
    };
  }
  if (op.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'A retry with the same key and body returns the first result; another body gives 409.',
      schema: { type: 'string', maxLength: 255 },
    });
  }
  if (parameters.length > 0) doc.parameters = parameters;
  const output = plain(op.output);
  // A BinarySchema output (image, file) is documented under its own media type.
  const mediaType =
    typeof output.contentMediaType === 'string' ? output.contentMediaType : 'application/json';
  doc.responses = {
    [String(op.http?.status ?? 200)]: {
      description: 'Success',
      content: { [mediaType]: { schema: output } },
    },
    default: { $ref: '#/components/responses/Problem' },
  };
  return doc;
}

const EVENT_STREAM_FRAMING = [
  'Each event is one SSE frame: `id: <seq>` (kept events only), `event: <type>`, `data: <JSON>` where the JSON',
  'is `{id, seq, type, at}` and the payload fields of the type (components `event.<type>`). A token receives',
  "only the types its scopes allow (each schema's `x-required-scope`; admin receives all), live and on replay.",
  'Kept events (`x-kept: true`) come from the event log: reconnect with `Last-Event-ID` (the browser does) to',
  'get those missed. Live-only events (`x-kept: false`) are never stored: they have no `id:` line, so the',
  "browser's Last-Event-ID stays on the last kept event, and `seq` is null. A `: keep-alive` comment every 15 s.",
].join('\n');

const eventSchemaName = (type: EventType): string => `event.${type}`;

/** One schema per event type: what `data` holds (the envelope and the payload), its scope and whether it is kept. */
function eventSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const type of EVENT_TYPES) {
    const d = EVENT_CATALOG[type];
    const payload = plain(d.payload);
    const properties = (payload.properties ?? {}) as Record<string, unknown>;
    schemas[eventSchemaName(type)] = {
      type: 'object',
      description: d.description,
      'x-required-scope': d.scope,
      'x-kept': d.kept,
      required: ['id', 'seq', 'type', 'at', ...((payload.required ?? []) as string[])],
      properties: {
        id: {
          type: 'string',
          format: 'uuid',
          description: 'Unique; the fleet and clients de-duplicate on it',
        },
        seq: d.kept
          ? { type: 'integer', description: 'Position in the event log; also the SSE `id:`' }
          : { type: 'null', description: 'Live-only: never stored' },
        type: { const: type },
        at: { type: 'string', format: 'date-time' },
        ...properties,
      },
    };
  }
  return schemas;
}

export function buildOpenApi(catalog: readonly AnyOperation[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of catalog) {
    if (!op.http) continue;
    const { template } = pathTemplate(op.http.path);
    paths[template] ??= {};
    paths[template][op.http.method.toLowerCase()] = operationObject(op);
  }
  paths['/v1/events'] = {
    get: {
      operationId: 'events.stream',
      summary:
        'Server-Sent Events: device state changes, job progress, … (the event catalog). Resume with Last-Event-ID. The token may be given as ?access_token= because EventSource cannot send headers. A token holds at most http.streamsPerToken event and camera streams together; one more is 429 with Retry-After.',
      description: EVENT_STREAM_FRAMING,
      security: [{ bearer: ['read'] }],
      parameters: [
        {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description: 'The `id` of the last event received: the kept events after it are sent first.',
          schema: { type: 'string', pattern: '^[0-9]+$' },
        },
      ],
      responses: {
        '200': {
          description: 'An endless stream of events, one frame each; `data` is one of the event schemas.',
          content: {
            'text/event-stream': {
              schema: {
                oneOf: EVENT_TYPES.map((t) => ({ $ref: `#/components/schemas/${eventSchemaName(t)}` })),
              },
            },
          },
        },
        default: { $ref: '#/components/responses/Problem' },
      },
    },
  };
  paths['/v1/camera/{id}/stream'] = {
    get: {
      operationId: 'camera.stream',
      summary:
        "MJPEG (multipart/x-mixed-replace) preview for an <img> tag at the camera's previewFps; a slow viewer skips frames. The token may be given as ?access_token=. Counts in the token's http.streamsPerToken (429 past it).",
      security: [{ bearer: ['face'] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'multipart/x-mixed-replace; boundary=boxagent-frame' },
        default: { $ref: '#/components/responses/Problem' },
      },
    },
  };
  for (const [p, item] of Object.entries({ ...PAIRING_OPENAPI_PATHS, ...ADMIN_SESSION_OPENAPI_PATHS })) {
    paths[p] = { ...paths[p], ...item };
  }
  paths['/metrics'] = {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus text exposition.',
      security: [{ bearer: ['read'] }],
      responses: { '200': { description: 'text/plain; version=0.0.4' } },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'boxagent local API', version },
    servers: [{ url: 'http://127.0.0.1:8620' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'boxagent token create' } },
      schemas: eventSchemas(),
      responses: {
        Problem: {
          description: `RFC 9457 problem. Types: ${Object.keys(PROBLEMS)
            .map((c) => PROBLEM_BASE + c)
            .join(', ')}`,
          content: {
            'application/problem+json': {
              schema: {
                type: 'object',
                required: ['type', 'title', 'status'],
                properties: {
                  type: { type: 'string' },
                  title: { type: 'string' },
                  status: { type: 'integer' },
                  detail: { type: 'string' },
                  field: { type: 'string', description: 'JSON pointer to the failing input field' },
                },
              },
            },
          },
        },
      },
    },
  };
}
