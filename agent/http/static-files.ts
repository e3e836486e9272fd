// Built files the daemon serves as they are (the typed client, the local page): read once on first request,
// revalidated by ETag (`no-cache`), so an upgraded daemon's files are picked up at once. Public routes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Problem } from '../problems/problem.js';
import type { Text } from '../messages/text.js';

export interface StaticFile {
  /** Name in `dir`. */
  file: string;
  /** Content-Type. */
  type: string;
}

export interface StaticFiles {
  dir: URL;
  /** Route → file. */
  files: Readonly<Record<string, StaticFile>>;
  /** Extra response headers (security policy) on every file. */
  headers?: Readonly<Record<string, string>>;
  /** The 404 detail when the files are missing (not built). */
  notBuilt: Text;
}

export function registerStaticFiles(app: FastifyInstance, spec: StaticFiles): void {
  for (const [route, { file, type }] of Object.entries(spec.files)) {
    let served: { body: Buffer; etag: string } | undefined;
    app.get(route, { config: {} }, (request, reply) => {
      if (!served) {
        let body: Buffer;
        try {
          body = readFileSync(new URL(file, spec.dir));
        } catch {
          throw new Problem('not-found', spec.notBuilt);
        }
        served = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
      }
      void reply.header('ETag', served.etag).header('Cache-Control', 'no-cache');
      for (const [name, value] of Object.entries(spec.headers ?? {})) void reply.header(name, value);
      if (request.headers['if-none-match'] === served.etag) return reply.code(304).send();
      return reply.type(type).send(served.body);
    });
  }
}
