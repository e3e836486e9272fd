// The OpenAPI 3.1 document, generated from the operations catalog (plus the few HTTP-only endpoints) and the
// event catalog (webhooks). Checked by a maintained validator and by compiling the README's request examples
// against types openapi-typescript generates from it (tests/unit/http/openapi-*.test.ts).
import type { TSchema } from '@sinclair/typebox';
import { EVENT_TYPES } from '../events/catalog.js';
import { binaryHeaders, type AnyOperation } from '../operations/operation.js';
import { CONTRACT_HEADERS } from './exposed-headers.js';
import { imageFieldPaths } from './multipart-form.js';
import { ADMIN_SESSION_OPENAPI_PATHS } from './admin-session-routes.js';
import { PAIRING_OPENAPI_PATHS } from './pairing-routes.js';
import { EVENT_STREAM_FRAMING, eventSchemaRef, eventSchemas, eventWebhooks } from './openapi-events.js';
import { errorResponses, problemResponse, problemSchema } from './openapi-problems.js';
import { plain, requestSchema } from './openapi-schemas.js';

/** Where the API listens, for `servers`. */
export interface ListenAddress {
  host: string;
  port: number;
}

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
  walk(requestSchema(plain(input)), '', '');
  return {
    schema: {
      type: 'object',
      description: "The JSON body's fields under dotted names; list items as name.0.field, name.1.field…",
      properties,
    },
  };
}

/**
 * The body of an input that is a union told apart by a tag (`oneOf` + `discriminator`): each branch without
 * the path parameters. The branch the tag's default names does not require the tag (the validator fills it).
 */
function taggedBody(input: Record<string, unknown>, params: string[]): Record<string, unknown> {
  const tag = (input.discriminator as { propertyName: string }).propertyName;
  const tagDefault = (input.properties as Record<string, { default?: unknown }>)[tag]?.default;
  const branches = (input.oneOf as Record<string, unknown>[]).map((b) => {
    const properties = { ...(b.properties as Record<string, Record<string, unknown>>) };
    for (const p of params) delete properties[p];
    const isDefault = tagDefault !== undefined && properties[tag]?.const === tagDefault;
    const required = ((b.required ?? []) as string[]).filter(
      (k) => !params.includes(k) && !(isDefault && k === tag),
    );
    return { ...b, properties, required };
  });
  return { oneOf: branches };
}

/** Every text a clerk may see (problem title and detail, reasons, hints) follows it; answers carry `Vary`. */
const ACCEPT_LANGUAGE = {
  name: 'Accept-Language',
  in: 'header',
  required: false,
  description:
    'zh-CN or en (q-values honoured; any zh* is zh-CN, any en* is en); without it, box.locale. Codes beside the texts never change.',
  schema: { type: 'string', examples: ['zh-CN', 'en-US,en;q=0.9'] },
};
const ACCEPT_LANGUAGE_REF = '#/components/parameters/AcceptLanguage';

function operationObject(op: AnyOperation): Record<string, unknown> {
  const { params } = pathTemplate(op.http?.path ?? '');
  const input = requestSchema(plain(op.input));
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
    const jsonSchema = Array.isArray(input.oneOf)
      ? taggedBody(input, params)
      : {
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
  parameters.push({ $ref: ACCEPT_LANGUAGE_REF });
  doc.parameters = parameters;
  const output = plain(op.output);
  delete output['x-headers'];
  // A BinarySchema output (image, file) is documented under its own media type, with the headers it sets.
  const mediaType =
    typeof output.contentMediaType === 'string' ? output.contentMediaType : 'application/json';
  const headers: Record<string, unknown> = Object.fromEntries(
    Object.entries(binaryHeaders(op.output)).map(([name, description]) => [
      name,
      { description, schema: { type: 'string' } },
    ]),
  );
  if (op.idempotent) headers['Idempotent-Replayed'] = replayedHeader;
  doc.responses = {
    [String(op.http?.status ?? 200)]: {
      description: 'Success',
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: { [mediaType]: { schema: output } },
    },
    ...errorResponses(op),
  };
  return doc;
}

const replayedHeader = {
  description: CONTRACT_HEADERS['Idempotent-Replayed'],
  schema: { const: 'true' },
};

/** Errors of the routes that are not operations: token, scope, Host/Origin, throttling (and a camera's). */
function routeErrors(camera: boolean): Record<string, unknown> {
  const entry = (codes: string): Record<string, unknown> => problemResponse(codes, false);
  return {
    '401': entry('`unauthorized`'),
    '403': entry('`forbidden`; `origin-not-allowed`'),
    ...(camera ? { '404': entry('`not-found`: no such camera') } : {}),
    '421': entry('`misdirected-request`'),
    '429': problemResponse(
      '`rate-limited`: the token holds http.streamsPerToken streams already, or too many failed token checks',
      true,
    ),
    ...(camera ? { '503': entry('`device-unavailable`: the camera is not ready (`state`, `reason`)') } : {}),
    default: entry('Any other problem'),
  };
}

/** `servers`: the configured address (a wildcard one as loopback: the API answers only to loopback names). */
function serverUrl({ host, port }: ListenAddress): string {
  const name = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host;
  return `http://${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`;
}

export function buildOpenApi(
  catalog: readonly AnyOperation[],
  version: string,
  listen: ListenAddress = { host: '127.0.0.1', port: 8620 },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of catalog) {
    if (!op.http) continue;
    const { template } = pathTemplate(op.http.path);
    paths[template] ??= {};
    paths[template][op.http.method.toLowerCase()] = operationObject(op);
  }
  const accessToken = {
    name: 'access_token',
    in: 'query',
    required: false,
    description: 'The token, for EventSource and <img>, which cannot send Authorization (redacted from logs)',
    schema: { type: 'string' },
  };
  paths['/v1/events'] = {
    get: {
      operationId: 'events.stream',
      summary:
        'Server-Sent Events: device state changes, job progress, … (the event catalog, also as `webhooks`). Resume with Last-Event-ID. A token holds at most http.streamsPerToken event and camera streams together; one more is 429 with Retry-After.',
      description: EVENT_STREAM_FRAMING,
      security: [{ bearer: ['read'] }],
      'x-required-scope': 'read',
      parameters: [
        {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description: 'The `id` of the last event received: the kept events after it are sent first.',
          schema: { type: 'string', pattern: '^[0-9]+$' },
        },
        {
          name: 'lastEventId',
          in: 'query',
          required: false,
          description:
            'The same as Last-Event-ID, for a first connection that resumes from a stored position',
          schema: { type: 'integer', minimum: 0 },
        },
        accessToken,
      ],
      responses: {
        '200': {
          description: 'An endless stream of events, one frame each; `data` is one of the event schemas.',
          content: {
            'text/event-stream': {
              schema: { oneOf: EVENT_TYPES.map((t) => ({ $ref: eventSchemaRef(t) })) },
            },
          },
        },
        ...routeErrors(false),
      },
    },
  };
  paths['/v1/camera/{id}/stream'] = {
    get: {
      operationId: 'camera.stream',
      summary:
        'MJPEG preview for an <img> tag (with crossorigin="anonymous" from another origin) at the camera\'s previewFps; a slow viewer skips frames. Counts in the token\'s http.streamsPerToken (429 past it).',
      security: [{ bearer: ['face'] }],
      'x-required-scope': 'face',
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          description: 'Camera device id',
          schema: { type: 'string' },
        },
        accessToken,
      ],
      responses: {
        '200': {
          description:
            'An endless multipart/x-mixed-replace stream (boundary `boxagent-frame`), one image/jpeg part per frame',
          content: {
            'multipart/x-mixed-replace': {
              schema: { type: 'string', format: 'binary' },
              example: '--boxagent-frame\r\nContent-Type: image/jpeg\r\nContent-Length: …',
            },
          },
        },
        ...routeErrors(true),
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
      'x-required-scope': 'read',
      responses: {
        '200': {
          description: 'Prometheus text format 0.0.4',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        ...routeErrors(false),
      },
    },
  };
  paths['/openapi.json'] = {
    get: {
      operationId: 'openapi',
      summary: 'This document. Public: no token.',
      security: [],
      responses: {
        '200': {
          description: 'OpenAPI 3.1',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
        '403': problemResponse('`origin-not-allowed`', false),
        '421': problemResponse('`misdirected-request`', false),
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'boxagent local API', version },
    servers: [{ url: serverUrl(listen), description: 'This box (http.host and http.port)' }],
    paths,
    webhooks: eventWebhooks(),
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from `boxagent token create` (or pairing); scopes are in x-required-scope',
        },
      },
      parameters: { AcceptLanguage: ACCEPT_LANGUAGE },
      schemas: { Problem: problemSchema(), ...eventSchemas() },
    },
  };
}
