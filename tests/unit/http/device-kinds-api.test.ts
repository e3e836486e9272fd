// The HTTP API in process (fastify's inject: no socket, no spawned daemon; the socket adds nothing here):
// every kind's operations are in the catalog and the OpenAPI document, and a device id that names no device
// of the kind an operation needs gets one answer, whether the id is unknown or a device of another kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpServer, type HttpServer } from '../../../agent/http/server.js';
import { KIND_UNITS } from '../../../agent/kinds/index.js';
import { Metrics } from '../../../agent/metrics.js';
import { buildServices, type TestServices } from '../../helpers/fleet-services.js';

const CONFIG = `box:
  id: api-box
devices:
  - { id: printer-1, kind: printer, transport: { type: simulated } }
  - { id: seal-1, kind: seal, transport: { type: simulated } }
  - { id: pad-1, kind: rating-pad, transport: { type: simulated } }
face:
  enabled: false
`;

let rig: TestServices;
let http: HttpServer;
let token: string;

beforeAll(() => {
  rig = buildServices(CONFIG);
  http = buildHttpServer(rig.services, new Metrics(rig.services.devices, rig.services.store));
  token = rig.services.tokens.create({ name: 'test', scopes: ['admin'], actor: 'test' }).token;
});

afterAll(async () => {
  await http.app.close();
  await rig.close();
});

function call(method: 'GET' | 'POST', url: string, body?: unknown) {
  return http.app.inject({
    method,
    url,
    headers: { host: '127.0.0.1', authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { payload: body as object }),
  });
}

describe('device kinds over the API', () => {
  it("lists every kind's operations in /openapi.json", async () => {
    const doc = (await call('GET', '/openapi.json')).json<{ paths: Record<string, unknown> }>();
    const operationIds = Object.values(doc.paths).flatMap((p) =>
      Object.values(p as Record<string, { operationId?: string }>).map((o) => o.operationId),
    );
    for (const unit of KIND_UNITS) {
      for (const op of unit.operations) expect(operationIds, `${unit.kind}: ${op.name}`).toContain(op.name);
    }
  });

  it('answers 404 naming the field for an unknown device and for a device of another kind alike', async () => {
    const doc = { page: { widthMm: 100, heightMm: 100 }, items: [] };
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/print-jobs', { printer: 'seal-1', document: doc }, '/printer'],
      ['POST', '/v1/print-jobs', { printer: 'nope', document: doc }, '/printer'],
      [
        'POST',
        '/v1/seal-jobs',
        { device: 'printer-1', document: { kind: 'k', number: '1' }, operator: 'o' },
        '/device',
      ],
      ['POST', '/v1/ratings', { device: 'printer-1', counter: 'c', service: 's' }, '/device'],
      ['GET', '/v1/idcard/printer-1/card', undefined, '/device'],
    ];
    for (const [method, url, body, field] of cases) {
      const r = await call(method as 'GET' | 'POST', url, body);
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json(), `${method} ${url}`).toMatchObject({ type: 'urn:boxagent:problem:not-found', field });
    }
    // Nothing was stored by any of them.
    for (const kind of ['print', 'seal', 'rating']) {
      expect(rig.services.store.jobs.list({ kind, limit: 100 }), kind).toEqual([]);
    }
  });
});
