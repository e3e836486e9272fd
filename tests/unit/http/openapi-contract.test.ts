// The /openapi.json the server serves (fastify inject: the document is the same with or without a socket) is
// one a client generator can trust: a maintained OpenAPI 3.1 validator finds no error in it; request fields the
// server fills from defaults are optional; every operation lists its error answers as problem+json; the Problem
// schema names every extension member the code throws; `servers` is the configured port; the headers a page
// must read are documented and CORS-exposed; every event type is a webhook.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_CATALOG, EVENT_TYPES } from '../../../agent/events/catalog.js';
import { plain, requestSchema, requiredWithDefault } from '../../../agent/http/openapi-schemas.js';
import { buildHttpServer, type HttpServer } from '../../../agent/http/server.js';
import { Metrics } from '../../../agent/metrics.js';
import { CATALOG } from '../../../agent/operations/catalog.js';
import { binaryHeaders } from '../../../agent/operations/operation.js';
import { PROBLEM_EXTENSION_NAMES } from '../../../agent/problems/extensions.js';
import { ROOT } from '../../helpers/daemon.js';
import { operationOf, readmeExamples } from '../../helpers/readme-examples.js';
import { buildServices, type TestServices } from '../../helpers/fleet-services.js';

const ORIGIN = 'https://counter.example.gov.cn';
const CONFIG = `box:
  id: openapi-box
http:
  port: 8765
  allowedOrigins: ['${ORIGIN}']
devices:
  - { id: printer-1, kind: printer, transport: { type: simulated } }
face:
  enabled: false
`;

interface Responses {
  [status: string]: {
    headers?: Record<string, unknown>;
    content?: Record<string, { schema: Record<string, unknown> }>;
  };
}
interface OperationDoc {
  operationId: string;
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Responses;
}
interface Doc {
  servers: { url: string }[];
  paths: Record<string, Record<string, OperationDoc>>;
  webhooks: Record<string, { post: OperationDoc & Record<string, unknown> }>;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
}

let rig: TestServices;
let http: HttpServer;
let doc: Doc;

beforeAll(async () => {
  rig = buildServices(CONFIG);
  http = buildHttpServer(rig.services, new Metrics(rig.services.devices, rig.services.store));
  const res = await http.app.inject({ method: 'GET', url: '/openapi.json', headers: { host: '127.0.0.1' } });
  expect(res.statusCode).toBe(200);
  doc = res.json<Doc>();
});

afterAll(async () => {
  await http.app.close();
  await rig.close();
});

const operations = (): [string, OperationDoc][] =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]): [string, OperationDoc] => [
      `${method.toUpperCase()} ${path}`,
      op,
    ]),
  );

describe('/openapi.json', () => {
  it('passes the OpenAPI 3.1 schema validator with no errors', async () => {
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('names the configured address and port in servers', () => {
    expect(doc.servers.map((s) => s.url)).toEqual(['http://127.0.0.1:8765']);
  });

  it('lets every operation ask for its texts in a language (Accept-Language)', () => {
    for (const op of CATALOG.filter((o) => o.http)) {
      const path = op.http!.path.replace(/:(\w+)/g, '{$1}');
      const documented = doc.paths[path]![op.http!.method.toLowerCase()] as unknown as {
        parameters?: { $ref?: string }[];
      };
      expect(documented.parameters, op.name).toContainEqual({
        $ref: '#/components/parameters/AcceptLanguage',
      });
    }
  });

  it("leaves fields the server fills from a default out of a request's required list", () => {
    for (const op of CATALOG) {
      expect(requiredWithDefault(requestSchema(plain(op.input))), op.name).toEqual([]);
    }
    // The README's print example sends no `bold`, `doubleWidth` or `overflow`: the server fills them.
    const body = doc.paths['/v1/print-jobs']!.post!.requestBody!.content['application/json']!.schema as {
      properties: { document: { properties: { items: { items: { oneOf: { required: string[] }[] } } } } };
    };
    const textItem = body.properties.document.properties.items.items.oneOf[0]!;
    expect(textItem.required).toEqual(['type', 'xMm', 'yMm', 'text']);
  });

  it('keeps response schemas as the catalog declares them (required where the server always sends)', () => {
    const job = doc.paths['/v1/print-jobs/{id}']!.get!.responses['200']!.content!['application/json']!.schema;
    expect(job.required).toContain('state');
    expect(job.required).toContain('error');
  });

  it("declares every operation's error answers as application/problem+json of the Problem schema", () => {
    for (const [name, op] of operations()) {
      const errors = Object.entries(op.responses)
        .filter(([s]) => s === 'default' || Number(s) >= 400)
        .map(([s]) => s);
      // A route that takes a token says what a missing, wrong or too narrow one gets.
      if ((op.security ?? []).length > 0)
        expect(errors, name).toEqual(expect.arrayContaining(['401', '403']));
      for (const status of errors) {
        const response = op.responses[status]!;
        expect(response.content?.['application/problem+json']?.schema, `${name} ${status}`).toEqual({
          $ref: '#/components/schemas/Problem',
        });
      }
    }
    const statuses = (path: string, method: string): string[] =>
      Object.keys(doc.paths[path]![method]!.responses);
    expect(statuses('/v1/print-jobs', 'post')).toEqual(
      expect.arrayContaining(['400', '401', '403', '404', '409', '413', '415', '422', '429', '503', '507']),
    );
    expect(statuses('/v1/print-jobs/{id}', 'delete')).toEqual(expect.arrayContaining(['404', '409']));
    expect(statuses('/v1/seal-jobs/{id}/confirm', 'post')).toEqual(
      expect.arrayContaining(['403', '404', '409', '410', '502', '503']),
    );
    expect(statuses('/v1/health', 'get')).toContain('503');
    // A retry-after answer says so in a header as well.
    expect(doc.paths['/v1/print-jobs']!.post!.responses['429']!.headers).toHaveProperty('Retry-After');
  });

  it('documents the SSE event stream and the MJPEG camera stream as paths', () => {
    expect(Object.keys(doc.paths['/v1/events']!.get!.responses['200']!.content!)).toEqual([
      'text/event-stream',
    ]);
    expect(Object.keys(doc.paths['/v1/camera/{id}/stream']!.get!.responses['200']!.content!)).toEqual([
      'multipart/x-mixed-replace',
    ]);
  });

  it('publishes every event type as a webhook with its payload schema, scope and kept flag', () => {
    expect(Object.keys(doc.webhooks)).toEqual(EVENT_TYPES);
    for (const type of EVENT_TYPES) {
      const hook = doc.webhooks[type]!.post;
      expect(hook['x-scope']).toBe(EVENT_CATALOG[type].scope);
      expect(hook['x-kept']).toBe(EVENT_CATALOG[type].kept);
      expect(hook.requestBody!.content['application/json']!.schema).toEqual({
        $ref: `#/components/schemas/event.${type}`,
      });
    }
  });
});

describe('headers a page must read', () => {
  const photoHeaders = (): string[] => CATALOG.flatMap((op) => Object.keys(binaryHeaders(op.output)));

  it('are exposed to an allowed origin (Retry-After, X-Photo-*, Idempotent-Replayed, Location)', async () => {
    const res = await http.app.inject({
      method: 'GET',
      url: '/openapi.json',
      headers: { host: '127.0.0.1', origin: ORIGIN },
    });
    const exposed = String(res.headers['access-control-expose-headers']).split(/,\s*/);
    expect(photoHeaders()).toEqual([
      'X-Photo-Spec',
      'X-Photo-Size',
      'X-Photo-Head-Height-Mm',
      'X-Photo-Eye-Line-Mm',
      'X-Photo-Background',
    ]);
    expect(exposed).toEqual(
      expect.arrayContaining(['Retry-After', 'Idempotent-Replayed', 'Location', ...photoHeaders()]),
    );
  });

  it('are documented on the responses that carry them', () => {
    const photo = doc.paths['/v1/photos/id-photo']!.post!.responses['200']!;
    expect(Object.keys(photo.headers ?? {})).toEqual(photoHeaders());
    expect(Object.keys(photo.content!)).toEqual(['image/jpeg']);
    expect(photo.content!['image/jpeg']!.schema).not.toHaveProperty('x-headers');
    expect(doc.paths['/v1/print-jobs']!.post!.responses['202']!.headers).toHaveProperty(
      'Idempotent-Replayed',
    );
  });
});

/** Every `new Problem(code, detail, field, {…})` in these trees: the extension member names, by file and line. */
function thrownExtensions(dirs: readonly string[]): { at: string; names: string[] | null }[] {
  const found: { at: string; names: string[] | null }[] = [];
  const files = dirs.flatMap((d) =>
    readdirSync(join(ROOT, d), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(d, f)),
  );
  for (const file of files) {
    const source = ts.createSourceFile(
      file,
      readFileSync(join(ROOT, file), 'utf8'),
      ts.ScriptTarget.Latest,
      true,
    );
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && node.expression.getText(source) === 'Problem') {
        const ext = node.arguments?.[3];
        if (ext) {
          const at = `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
          // Not a literal: the members cannot be read here (the constructor's type still checks them).
          const names = ts.isObjectLiteralExpression(ext)
            ? ext.properties.map((p) => p.name?.getText(source) ?? '...')
            : null;
          found.push({ at, names });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('the Problem schema', () => {
  it('lists every extension member thrown in agent/ and drivers/, and none that is never thrown', () => {
    const thrown = thrownExtensions(['agent', 'drivers']);
    expect(thrown.filter((t) => t.names === null)).toEqual([]);
    const schema = doc.components.schemas.Problem!.properties;
    const undeclared = thrown.flatMap((t) =>
      (t.names ?? []).filter((n) => !(n in schema)).map((n) => `${n} (${t.at})`),
    );
    expect(undeclared).toEqual([]);
    const used = new Set(thrown.flatMap((t) => t.names ?? []));
    expect(PROBLEM_EXTENSION_NAMES.filter((n) => !used.has(n))).toEqual([]);
    expect(Object.keys(schema)).toEqual(
      expect.arrayContaining(['hint', 'missing', 'requiredScope', 'retryAfter', 'faces']),
    );
  });
});

describe('the documented error answers', () => {
  // Each operation with an unknown id and an empty body, and the README's request examples as they are (here
  // with face off and no seal machine: 503 face-unavailable, 404 for the seal device…).
  const probes = (): { op: (typeof CATALOG)[number]; body: object }[] => [
    ...CATALOG.map((op) => ({ op, body: {} })),
    ...readmeExamples().map((e) => ({ op: operationOf(e)!, body: JSON.parse(e.json) as object })),
  ];

  it('include what each operation answers to an unknown id, an empty body and the README examples', async () => {
    const token = rig.services.tokens.create({ name: 'probe', scopes: ['admin'], actor: 'test' }).token;
    const undocumented: string[] = [];
    for (const { op, body } of probes()) {
      if (!op.http) continue;
      const url = op.http.path.replace(/:(\w+)/g, 'no-such-$1');
      const res = await http.app.inject({
        method: op.http.method,
        url,
        headers: { host: '127.0.0.1', authorization: `Bearer ${token}` },
        ...(op.http.method === 'GET' || op.http.method === 'DELETE' ? {} : { payload: body }),
      });
      const path = op.http.path.replace(/:(\w+)/g, '{$1}');
      const documented = Object.keys(doc.paths[path]![op.http.method.toLowerCase()]!.responses);
      if (!documented.includes(String(res.statusCode))) {
        undocumented.push(`${op.name} ${res.statusCode} ${res.json<{ type?: string }>().type ?? ''}`);
      }
    }
    expect(undocumented).toEqual([]);
  });
});
