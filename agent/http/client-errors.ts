// Requests that never reach a route — a URL the router cannot decode, a path parameter over the length
// limit, headers too large, a client too slow to send its request — still get a problem document, the same
// as every other error, instead of the framework's own JSON shapes.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { problemDocument } from '../problems/document.js';
import { Problem } from '../problems/problem.js';
import type { ProblemCode } from '../problems/registry.js';
import { sendProblem } from './problem-reply.js';
import type { Locale } from '../messages/locale.js';
import { t } from '../messages/text.js';

/** Fastify's `frameworkErrors`: errors found while routing, before any hook runs. */
export function frameworkErrorHandler(log: Logger) {
  return (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void => {
    const problem =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new Problem('uri-too-long', t`a path parameter is longer than the router accepts`)
        : new Problem('invalid-request', t`the URL is not valid (bad percent-encoding or characters)`);
    sendProblem(log, request, reply, problem);
  };
}

const CLIENT_ERRORS: Record<string, ProblemCode> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'request-timeout',
  HPE_HEADER_OVERFLOW: 'headers-too-large',
};

/** Node's `clientError`: the request could not even be parsed. Answer on the raw socket, then close it. */
export function clientErrorHandler(log: Logger, locale: Locale) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const code = CLIENT_ERRORS[err.code ?? ''] ?? 'invalid-request';
    const detail = code === 'invalid-request' ? t`the HTTP request could not be parsed` : undefined;
    const doc = problemDocument(new Problem(code, detail), locale);
    const body = JSON.stringify(doc);
    log.debug({ code: err.code }, 'client error');
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${doc.status} ${STATUS_CODES[doc.status] ?? ''}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
