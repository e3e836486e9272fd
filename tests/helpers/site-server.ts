// A web site for browser tests: serves fixed pages over http or https on 127.0.0.1 (an ephemeral port). The
// browser reaches it under a real-looking host name through its resolver rules (tests/helpers/browser.ts).
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerCertificate } from './local-ca.js';

export interface SiteServer {
  port: number;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `pages` (path -> HTML); every other path is a 404. With `tls`, serves https. */
export async function serveSite(pages: Record<string, string>, tls?: ServerCertificate): Promise<SiteServer> {
  const requests: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    requests.push(path);
    const html = pages[path];
    res.statusCode = html === undefined ? 404 : 200;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(html ?? 'not found');
  };
  const server = tls
    ? createHttpsServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
