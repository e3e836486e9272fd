// GET /v1/client.js and /v1/client.d.ts: the typed client the build generates from the catalogs
// (agent/http/client/), served by the daemon itself so a counter page loads the one matching this box.
// Public like /openapi.json; revalidated by ETag, so an upgraded daemon's client is picked up at once.
import type { FastifyInstance } from 'fastify';
import { t } from '../messages/text.js';
import { registerStaticFiles } from './static-files.js';

// From dist/agent/http/ this is dist/client/ (written by the build); from the sources, the client/ package.
const CLIENT_DIR = new URL('../../client/', import.meta.url);

export function registerClientRoutes(app: FastifyInstance): void {
  registerStaticFiles(app, {
    dir: CLIENT_DIR,
    files: {
      '/v1/client.js': { file: 'index.js', type: 'text/javascript; charset=utf-8' },
      '/v1/client.d.ts': { file: 'index.d.ts', type: 'application/typescript; charset=utf-8' },
    },
    notBuilt: t`the client is not built here; run npm run build`,
  });
}
