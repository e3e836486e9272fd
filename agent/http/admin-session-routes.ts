// POST /v1/admin-sessions: the box's local page exchanges the one-time secret of a `boxagent admin-link` for an
// admin session token bound to the page's own origin. Public (the page has no token yet), but only the page
// on the daemon's own origin may ask, and failed attempts are throttled per caller like failed token checks.
import type { FastifyInstance } from 'fastify';
import { problemResponses } from './openapi-problems.js';
import { t } from '../messages/text.js';
import { AdminLinkService } from '../auth/admin-link-service.js';
import { Problem } from '../problems/problem.js';
import type { Services } from '../services.js';
import { AuthThrottle } from './auth-throttle.js';

export function registerAdminSessionRoutes(app: FastifyInstance, services: Services): void {
  const { http } = services.config;
  const links = new AdminLinkService(services.store, services.tokens);
  const failures = new AuthThrottle(http.authFailures.burst, http.authFailures.perMinute);

  app.post('/v1/admin-sessions', { config: {} }, (request, reply) => {
    const origin = request.headers.origin;
    // Browsers send Origin on every POST; the Host was checked to be a loopback name before this runs.
    const own = `http://${request.headers.host}`;
    if (origin !== own) {
      throw new Problem(
        'origin-not-allowed',
        t`an admin login link is used by the box's own page (Origin ${own}), not from ${origin ?? 'no Origin'}`,
      );
    }
    const secret = (request.body as { secret?: unknown } | null | undefined)?.secret;
    if (typeof secret !== 'string') {
      throw new Problem('invalid-request', t`send {"secret": "<the part after #login=>"}`, ['secret']);
    }
    // A valid secret is never refused (256 random bits: the throttle only slows guessing down, and refusing
    // first would let a local process lock the admin out); a wrong one counts, and answers 429 once over.
    const session = links.exchange(secret, origin);
    if (session === undefined) {
      const key = `${request.ip}|${origin}`;
      const retryAfter = failures.retryAfter(key);
      if (retryAfter > 0) {
        throw new Problem('rate-limited', t`too many failed admin logins from this caller`, undefined, {
          retryAfter,
        });
      }
      failures.failed(key);
      throw new Problem(
        'unauthorized',
        t`this login link is unknown, already used or expired: run \`boxagent admin-link\` for a new one`,
      );
    }
    return reply.code(201).header('Cache-Control', 'no-store').send(session);
  });
}

/** The OpenAPI path item of this route, merged into the document by `buildOpenApi`. */
export const ADMIN_SESSION_OPENAPI_PATHS: Record<string, Record<string, unknown>> = {
  '/v1/admin-sessions': {
    post: {
      operationId: 'adminSessions.create',
      summary:
        "The box's local page exchanges the one-time secret of a `boxagent admin-link` (single use, 10 minutes) for an admin session token (12 h, bound to the page's origin, revocable with tokens.revoke). Only from the daemon's own origin; failures are throttled (429).",
      security: [],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['secret'],
              properties: { secret: { type: 'string' } },
              additionalProperties: false,
            },
          },
        },
      },
      responses: {
        '201': {
          description: 'The admin session',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['token', 'tokenId', 'expiresAt'],
                properties: {
                  token: { type: 'string' },
                  tokenId: { type: 'string' },
                  expiresAt: { type: 'string', format: 'date-time' },
                },
              },
            },
          },
        },
        ...problemResponses([
          'invalid-request',
          'malformed-json',
          'unauthorized',
          'origin-not-allowed',
          'rate-limited',
        ]),
      },
    },
  },
};
