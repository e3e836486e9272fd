import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { asProblem, problemDocument } from '../problems/document.js';
import { Problem } from '../problems/problem.js';
import { requestLocale } from './locale.js';
import { t, verbatim } from '../messages/text.js';

/**
 * Sends a problem+json reply, its title and detail in the request's language (Accept-Language, else
 * box.locale); client errors are logged once at warn, in English, without headers or body.
 */
export function sendProblem(
  log: Logger,
  request: FastifyRequest,
  reply: FastifyReply,
  problem: Problem,
): FastifyReply {
  const doc = problemDocument(problem, requestLocale(request));
  const logLine = {
    method: request.method,
    url: redactUrl(request.url),
    status: doc.status,
    type: doc.type,
    detail: problem.detail,
  };
  if (doc.status >= 500) log.error(logLine, 'request failed');
  else log.warn(logLine, 'request rejected');
  // The texts depend on Accept-Language (CORS may already vary on Origin).
  const vary = reply.getHeader('vary');
  void reply.header('Vary', vary ? `${String(vary)}, Accept-Language` : 'Accept-Language');
  if (problem.code === 'unauthorized') void reply.header('WWW-Authenticate', 'Bearer realm="boxagent"');
  // A problem that says when to come back (busy, rate-limited) says it in the standard header too.
  const retryAfter = problem.extensions.retryAfter;
  if (typeof retryAfter === 'number') void reply.header('Retry-After', String(Math.ceil(retryAfter)));
  return reply.code(doc.status).type('application/problem+json').send(doc);
}

/** Query-string tokens (allowed for EventSource) must never reach the log. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&]*/g, '$1[redacted]');
}

/**
 * Fastify's own errors (body parsing, limits) as problems; everything else goes through the shared mapping
 * (`asProblem`: disk full is 507, anything unknown is an internal error).
 */
export function problemFromError(err: unknown): Problem {
  if (err instanceof Problem) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem('payload-too-large', verbatim(e.message));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem('unsupported-media-type', t`send JSON with Content-Type: application/json`);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new Problem('malformed-json', verbatim(e.message));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem('malformed-json', t`the body is empty but Content-Type says JSON`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Problem('invalid-request', t`Content-Length does not match the body`);
  }
  if (e.statusCode === 400 && err instanceof SyntaxError)
    return new Problem('malformed-json', verbatim(e.message));
  if (e.statusCode === 400) return new Problem('invalid-request', verbatim(e.message));
  return asProblem(err);
}
