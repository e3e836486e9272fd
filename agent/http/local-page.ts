// The box's own local page (issue 15): `GET /` and its few static files, plain HTML and ES modules from
// agent/http/local-page/ (copied next to this module by `npm run build`). Public like /v1/client.js: the page
// holds no data, it logs in with a `boxagent admin-link` and then calls the API like any client.
import type { FastifyInstance } from 'fastify';
import { t } from '../messages/text.js';
import { registerStaticFiles, type StaticFile } from './static-files.js';

const DIR = new URL('./local-page/', import.meta.url);

const FILES: Record<string, StaticFile> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/local-page/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/local-page/texts.js': { file: 'texts.js', type: 'text/javascript; charset=utf-8' },
  '/local-page/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  // Browsers ask for /favicon.ico unless the page names an icon; this one is named in index.html.
  '/local-page/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
};

/**
 * Only the page's own scripts, styles and calls; images from the API or Blobs (the print preview); never in a
 * frame, so no other page can overlay the approve buttons (clickjacking).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function registerLocalPage(app: FastifyInstance): void {
  registerStaticFiles(app, {
    dir: DIR,
    files: FILES,
    headers: {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    },
    notBuilt: t`the local page is not built here; run npm run build`,
  });
}
