// GET /v1/client.js and /v1/client.d.ts: the typed client the build generates from the catalogs
// (agent/http/client/), served by the daemon itself so a counter page loads the one matching this box.
// Public like /openapi.json; revalidated by ETag, so an upgraded daemon's client is picked up at once.
import { createHash } from 'node:crypto';
import { t } from '../messages/text.js';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Problem } from '../problems/problem.js';

interface ServedFile {
  body: Buffer;
  etag: string;
}

const FILES = {
  '/v1/client.js': { file: 'index.js', type: 'text/javascript; charset=utf-8' },
  '/v1/client.d.ts': { file: 'index.d.ts', type: 'application/typescript; charset=utf-8' },
} as const;

// From dist/agent/http/ this is dist/client/ (written by the build); from the sources, the client/ package.
const CLIENT_DIR = new URL('../../client/', import.meta.url);

export function registerClientRoutes(app: FastifyInstance): void {
  for (const [route, { file, type }] of Object.entries(FILES)) {
    let served: ServedFile | undefined;
    app.get(route, { config: {} }, (request, reply) => {
      if (!served) {
        let body: Buffer;
        try {
          body = readFileSync(new URL(file, CLIENT_DIR));
        } catch {
          throw new Problem('not-found', t`the client is not built here; run npm run build`);
        }
        const hash = createHash('sha256').update(body).digest('base64url').slice(0, 22);
        served = { body, etag: `"${hash}"` };
      }
      void reply.header('ETag', served.etag).header('Cache-Control', 'no-cache');
      if (request.headers['if-none-match'] === served.etag) return reply.code(304).send();
      return reply.type(type).send(served.body);
    });
  }
}
