// Checks that run on every request before its body is read: Host (DNS-rebinding defence), Origin (CORS and
// Private Network Access preflights) and the bearer token.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal, TokenService } from '../auth/token-service.js';
import { Problem } from '../problems/problem.js';
import { EXPOSED_HEADERS } from './exposed-headers.js';
import { t } from '../messages/text.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The hostname part of a Host header, or null when it is not a loopback name. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host.trim().toLowerCase());
  return m !== null && LOOPBACK_HOSTS.has(m[1] as string);
}

export function checkHost(request: FastifyRequest): void {
  if (!isLoopbackHost(request.headers.host)) {
    throw new Problem('misdirected-request', t`this API answers only to 127.0.0.1, localhost or [::1]`);
  }
}

const ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key, Last-Event-ID';

/**
 * Browser callers must come from an allowed origin. Returns true when the request was a preflight and has
 * been answered.
 */
export function applyCors(
  request: FastifyRequest,
  reply: FastifyReply,
  allowedOrigins: readonly string[],
): boolean {
  const origin = request.headers.origin;
  // Chrome sends Origin even on same-origin module script loads: a page the daemon serves itself (its own
  // origin under the loopback Host checked above) is not a cross-origin caller.
  if (origin === undefined || origin === `http://${request.headers.host}`) return false;
  if (!allowedOrigins.includes(origin)) {
    throw new Problem('origin-not-allowed', t`origin ${origin} is not in http.allowedOrigins`);
  }
  reply.header('Access-Control-Allow-Origin', origin);
  reply.header('Vary', 'Origin');
  const isPreflight =
    request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  if (!isPreflight) {
    reply.header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    return false;
  }
  reply.header('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
  reply.header('Access-Control-Allow-Headers', ALLOWED_HEADERS);
  reply.header('Access-Control-Max-Age', '600');
  // The Private Network Access preflight of older Chrome. Chromium 156 (Local Network Access) no longer
  // sends it and gates loopback with a permission instead (docs/browser-access.md); answering stays harmless.
  if (request.headers['access-control-request-private-network'] === 'true') {
    reply.header('Access-Control-Allow-Private-Network', 'true');
  }
  void reply.code(204).send();
  return true;
}

const AUTH_DETAIL = {
  missing: t`send Authorization: Bearer <token>`,
  malformed: t`the bearer token is not a boxagent token`,
  unknown: t`the bearer token is not known`,
  revoked: t`the bearer token was revoked`,
  expired: t`the bearer token has expired`,
  'origin-mismatch': t`the bearer token is bound to another Origin than this request's (or it sent none)`,
} as const;

/**
 * The token a request presents: from `Authorization: Bearer`, or — only where `allowQueryToken` (EventSource
 * and <img> cannot send headers) — from `?access_token=`. Another Authorization scheme is a 401.
 */
export function presentedToken(request: FastifyRequest, allowQueryToken: boolean): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new Problem('unauthorized', t`use the Bearer scheme`);
    return m[1];
  }
  if (!allowQueryToken) return undefined;
  const q = (request.query as Record<string, unknown> | undefined)?.access_token;
  return typeof q === 'string' ? q : undefined;
}

/**
 * The origin a request comes from, for tokens bound to one: its Origin header; or, when it has none, the
 * daemon's own origin if the browser marks it `Sec-Fetch-Site: same-origin` — browsers send no Origin on a
 * same-origin GET (fetch, EventSource, <img>), and the box's local page makes those. A page cannot set
 * Sec-Fetch-* itself (forbidden headers), so no other page can pass for the local page; a local process can,
 * but it can forge Origin just as well (docs/decisions.md, "A local page for the box").
 */
export function requestOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined) return origin;
  return request.headers['sec-fetch-site'] === 'same-origin' ? `http://${request.headers.host}` : undefined;
}

/** The caller's principal, from the token it presents (`presentedToken`). */
export function authenticate(
  request: FastifyRequest,
  tokens: TokenService,
  allowQueryToken: boolean,
): Principal {
  const result = tokens.authenticate(presentedToken(request, allowQueryToken), requestOrigin(request));
  if (typeof result === 'string') throw new Problem('unauthorized', AUTH_DETAIL[result]);
  return result;
}
