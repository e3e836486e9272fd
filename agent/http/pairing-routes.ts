// The requesting page's side of pairing (issue 15): no token yet, so these are public routes, not operations.
// POST /v1/pairings needs an allowed Origin (a page's; a request without one is refused); GET /v1/pairings/:id
// answers only to the Origin that asked, and a miss is a 404 counted against the caller, so poll ids cannot be
// guessed (128 random bits, and the guesser is slowed to http.authFailures' rate).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { t } from '../messages/text.js';
import { Problem } from '../problems/problem.js';
import type { Services } from '../services.js';
import { validateBody } from '../operations/validation.js';
import {
  PairingRequestBody,
  PairingStatusSchema,
  PairingTicketSchema,
} from '../operations/pairing-schemas.js';
import { AuthThrottle } from './auth-throttle.js';
import { problemResponses } from './openapi-problems.js';
import { plain, requestSchema } from './openapi-schemas.js';

/** The longest `?wait=` a poll may hold, in seconds (below common proxy and browser idle limits). */
export const MAX_WAIT_SECONDS = 25;
/** How often a waiting poll looks at the database again (an approval may come from the CLI, another process). */
const RECHECK_MS = 250;

export function registerPairingRoutes(app: FastifyInstance, services: Services): void {
  const { http } = services.config;
  const misses = new AuthThrottle(http.authFailures.burst, http.authFailures.perMinute);
  const waiting = new Set<() => void>();
  // A shutdown must not wait for polls that hold on for up to 25 s.
  app.addHook('preClose', (done) => {
    for (const wake of waiting) wake();
    done();
  });

  app.post('/v1/pairings', { config: {} }, (request, reply) => {
    const origin = request.headers.origin;
    // The CORS guard has refused an Origin not in the list; this refuses none at all.
    if (origin === undefined || !http.allowedOrigins.includes(origin)) {
      throw new Problem(
        'origin-not-allowed',
        t`pairing is asked for by a page: the request needs an Origin listed in http.allowedOrigins`,
      );
    }
    validateBody(PairingRequestBody, request.body ?? {});
    const body = request.body as {
      name: string;
      scopes: Parameters<Services['pairings']['request']>[0]['scopes'];
    };
    const ticket = services.pairings.request({ name: body.name, scopes: body.scopes, origin });
    return reply.code(201).header('Cache-Control', 'no-store').send(ticket);
  });

  // No HEAD twin: a HEAD after approval would make the token and throw it away with the body.
  app.get('/v1/pairings/:id', { config: {}, exposeHeadRoute: false }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const wait = waitSeconds(request);
    const origin = request.headers.origin;
    let status = services.pairings.status(id, origin);
    if (status === undefined) {
      const key = `${request.ip}|${origin ?? ''}`;
      const retryAfter = misses.retryAfter(key);
      if (retryAfter > 0) {
        throw new Problem(
          'rate-limited',
          t`too many polls for unknown pairings from this caller`,
          undefined,
          {
            retryAfter,
          },
        );
      }
      misses.failed(key);
      throw new Problem('not-found', t`no such pairing for this Origin`);
    }
    const deadline = Date.now() + wait * 1000;
    while (status.state === 'pending' && Date.now() < deadline && !reply.raw.destroyed) {
      await pause(Math.min(RECHECK_MS, deadline - Date.now()), waiting, reply);
      const next = services.pairings.status(id, origin);
      if (next === undefined) break; // purged meanwhile: say what it was
      status = next;
    }
    return reply.header('Cache-Control', 'no-store').send(status);
  });
}

function waitSeconds(request: FastifyRequest): number {
  const raw = (request.query as Record<string, unknown> | undefined)?.wait;
  if (raw === undefined) return 0;
  const n = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= MAX_WAIT_SECONDS)) {
    throw new Problem('invalid-request', t`wait is whole seconds, 0 to ${MAX_WAIT_SECONDS}`, ['wait']);
  }
  return n;
}

/** Sleeps `ms`, or less when the client goes away or the server closes. */
function pause(ms: number, waiting: Set<() => void>, reply: FastifyReply): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      waiting.delete(wake);
      reply.raw.off('close', wake);
      resolve();
    };
    const timer = setTimeout(wake, Math.max(0, ms));
    waiting.add(wake);
    reply.raw.once('close', wake);
  });
}

/** OpenAPI path items of these routes, merged into the document by `buildOpenApi`. */
export const PAIRING_OPENAPI_PATHS: Record<string, Record<string, unknown>> = {
  '/v1/pairings': {
    post: {
      operationId: 'pairings.request',
      summary:
        'A page asks to pair: no token, but an Origin in http.allowedOrigins (403 origin-not-allowed without one). Show the `code` to the clerk, who approves it on the box (`boxagent token approve CODE`); keep the `id` to poll. `admin` cannot be asked for. 429 with Retry-After past http.pairing.maxPending or maxPendingPerOrigin.',
      security: [],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: requestSchema(plain(PairingRequestBody)) } },
      },
      responses: {
        '201': {
          description: 'The pending request',
          content: { 'application/json': { schema: plain(PairingTicketSchema) } },
        },
        ...problemResponses([
          'invalid-request',
          'malformed-json',
          'origin-not-allowed',
          'unsupported-media-type',
          'rate-limited',
        ]),
      },
    },
  },
  '/v1/pairings/{id}': {
    get: {
      operationId: 'pairings.status',
      summary:
        'The page polls its pairing with its id, from the same Origin (else 404). Once approved, the first answer carries `token` (bound to that Origin, with the granted scopes), later ones never again. `?wait=N` holds the answer up to N s while pending.',
      security: [],
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        {
          name: 'wait',
          in: 'query',
          required: false,
          description: `Seconds to wait for a decision while pending (0-${MAX_WAIT_SECONDS})`,
          schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS, default: 0 },
        },
      ],
      responses: {
        '200': {
          description: 'The state of the pairing',
          content: { 'application/json': { schema: plain(PairingStatusSchema) } },
        },
        ...problemResponses(['invalid-request', 'not-found', 'rate-limited']),
      },
    },
  },
};
