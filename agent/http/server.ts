// The local HTTP API for the counter software: routes generated from the operations catalog, plus events,
// metrics and the OpenAPI document. Every request passes the Host, Origin and token guards before its
// body is read; every error leaves as application/problem+json.
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Scope } from '../../config/schema.js';
import type { Principal } from '../auth/token-service.js';
import { hasScope } from '../auth/token-service.js';
import type { Metrics } from '../metrics.js';
import { CATALOG } from '../operations/catalog.js';
import { Dispatcher } from '../operations/dispatch.js';
import { BinaryOutput, type AnyOperation } from '../operations/operation.js';
import { localizePayload } from '../messages/localize.js';
import { Problem } from '../problems/problem.js';
import type { Services } from '../services.js';
import { CameraStreams } from './camera-stream.js';
import { EventStreams } from './event-stream.js';
import { AuthThrottle } from './auth-throttle.js';
import { clientErrorHandler, frameworkErrorHandler } from './client-errors.js';
import { guardConnections } from './connection-guard.js';
import { applyCors, authenticate, checkHost } from './guards.js';
import { FormInput, imageFieldPaths, readForm, type FormRules } from './multipart-form.js';
import { buildOpenApi, type ListenAddress } from './openapi.js';
import { registerPairingRoutes } from './pairing-routes.js';
import { requestLocale } from './locale.js';
import { registerAdminSessionRoutes } from './admin-session-routes.js';
import { registerLocalPage } from './local-page.js';
import { problemFromError, redactUrl, sendProblem } from './problem-reply.js';
import { registerClientRoutes } from './served-client.js';
import { buildSnapshot } from './snapshot.js';
import { StreamQuota } from './stream-quota.js';
import { t } from '../messages/text.js';

interface RouteConfig {
  /** Scope the route needs; absent for public routes (the OpenAPI document). */
  scope?: Scope;
  /** Whether `?access_token=` is accepted (EventSource cannot send headers). */
  queryToken?: boolean;
  /** Operations with image fields also take multipart/form-data, by these rules. */
  form?: FormRules;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface HttpServer {
  app: FastifyInstance;
  /** Ends open event streams; call before `app.close()`. */
  closeStreams(): void;
}

export function buildHttpServer(
  services: Services,
  metrics: Metrics,
  // Shared with the fleet link's RPC, so an Idempotency-Key retry racing its original waits for it.
  dispatcher = new Dispatcher(),
): HttpServer {
  const log = services.log.child({ component: 'http' });
  const app = Fastify({
    // Fastify's own logger would make a child logger per request; requests are logged here instead, once:
    // by the onResponse hook (debug) or as a rejected problem (warn).
    logger: false,
    bodyLimit: services.config.http.bodyLimitBytes,
    // Keep-alive connections must not hold a shutdown for long.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Slow clients (slow-loris) are cut off: the head must arrive within headersTimeoutMs, the whole
    // request within requestTimeoutMs; Node checks both every second here instead of every 30 s.
    http: {
      headersTimeout: services.config.http.headersTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    requestTimeout: services.config.http.requestTimeoutMs,
    frameworkErrors: frameworkErrorHandler(log),
    clientErrorHandler: clientErrorHandler(log, services.config.box.locale),
  });
  guardConnections(app.server, services.config.http.maxConnections, log, (outcome) =>
    metrics.httpConnectionsShed.inc({ outcome }),
  );
  const throttle = new AuthThrottle(
    services.config.http.authFailures.burst,
    services.config.http.authFailures.perMinute,
  );
  const quota = new StreamQuota(services.config.http.streamsPerToken);
  const streams = new EventStreams(services.events, log, quota, (seq, allowed) =>
    buildSnapshot(services, seq, allowed),
  );
  const cameraStreams = new CameraStreams(services.cameras, quota);

  app.decorate('boxLocale', services.config.box.locale);
  app.decorateRequest('principal', undefined);
  // JSON only: a text/plain body must be refused (415), not handed to an operation as a string.
  app.removeContentTypeParser('text/plain');
  // Forms only where an operation takes images; read after the guards, like a JSON body.
  app.addContentTypeParser('multipart/form-data', (request: FastifyRequest, payload: IncomingMessage) => {
    const form = (request.routeOptions.config as RouteConfig).form;
    if (!form) {
      return Promise.reject(
        new Problem('unsupported-media-type', t`send JSON with Content-Type: application/json`),
      );
    }
    return readForm(payload, { ...request.headers, 'content-type': request.headers['content-type']! }, form);
  });

  // Callback-style hooks: they run on every request, and skip the promise an async hook costs.
  app.addHook('onRequest', (request, reply, done) => {
    try {
      checkHost(request);
      if (applyCors(request, reply, services.config.http.allowedOrigins)) return; // preflight answered
      const config = request.routeOptions.config as RouteConfig;
      if (config.scope !== undefined) {
        request.principal = throttledAuthenticate(
          request,
          throttle,
          services.tokens,
          config.queryToken === true,
        );
        if (!hasScope(request.principal, config.scope)) {
          throw new Problem('forbidden', t`this needs scope "${config.scope}"`, undefined, {
            requiredScope: config.scope,
          });
        }
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (log.isLevelEnabled('debug')) {
      log.debug({ method: request.method, url: redactUrl(request.url), status: reply.statusCode }, 'request');
    }
    done();
  });

  app.setErrorHandler((err, request, reply) => {
    const problem = problemFromError(err);
    if (problem.code === 'internal') log.error({ err }, 'unhandled error');
    return sendProblem(log, request, reply, problem);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      log,
      request,
      reply,
      new Problem('not-found', t`no route ${request.method} ${redactUrl(request.url)}`),
    ),
  );

  for (const op of CATALOG) {
    if (op.http) registerOperation(app, op, services, dispatcher);
  }

  registerPairingRoutes(app, services);
  registerAdminSessionRoutes(app, services);

  app.get(
    '/v1/events',
    { config: { scope: 'read', queryToken: true } satisfies RouteConfig },
    (request, reply) => {
      streams.handle(request, reply);
    },
  );

  // Not an operation: a stream without end. `<img>` cannot send headers, hence `?access_token=`.
  app.get(
    '/v1/camera/:id/stream',
    { config: { scope: 'face', queryToken: true } satisfies RouteConfig },
    (request, reply) => {
      cameraStreams.handle(request, reply);
    },
  );

  app.get('/metrics', { config: { scope: 'read' } satisfies RouteConfig }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  // Built on first request: `servers` names the port actually bound (the configured one, or the ephemeral
  // port a port-0 config got).
  let openapi: Record<string, unknown> | undefined;
  app.get('/openapi.json', { config: {} satisfies RouteConfig }, (_request, reply) => {
    openapi ??= buildOpenApi(CATALOG, services.version, listenAddress(app, services.config.http));
    return reply.send(openapi);
  });
  registerClientRoutes(app);
  registerLocalPage(app);

  return {
    app,
    closeStreams: () => {
      streams.closeAll();
      cameraStreams.closeAll();
    },
  };
}

/** The configured address, with the bound port when listening (a port-0 config gets an ephemeral one). */
function listenAddress(app: FastifyInstance, http: { host: string; port: number }): ListenAddress {
  const bound = app.server.address();
  return { host: http.host, port: typeof bound === 'object' && bound !== null ? bound.port : http.port };
}

/**
 * Checks the token, always first (a valid token is never refused for failures, see auth-throttle.ts); a failed
 * check is counted, and answers 429 instead of 401 once its caller and claimed id have used up their share.
 */
function throttledAuthenticate(
  request: FastifyRequest,
  throttle: AuthThrottle,
  tokens: Services['tokens'],
  allowQueryToken: boolean,
): Principal {
  try {
    return authenticate(request, tokens, allowQueryToken);
  } catch (err) {
    if (!(err instanceof Problem && err.code === 'unauthorized')) throw err;
    const key = AuthThrottle.keyOf(request, allowQueryToken);
    const wait = throttle.retryAfter(key);
    if (wait > 0) {
      throw new Problem('rate-limited', t`too many failed token checks from this caller`, undefined, {
        retryAfter: wait,
      });
    }
    throttle.failed(key);
    throw err;
  }
}

function registerOperation(
  app: FastifyInstance,
  op: AnyOperation,
  services: Services,
  dispatcher: Dispatcher,
): void {
  const http = op.http as NonNullable<AnyOperation['http']>;
  const fromUrl = http.method === 'GET' || http.method === 'DELETE';
  const imagePaths = imageFieldPaths(op.input);
  const form: FormRules | undefined =
    imagePaths.length === 0 || fromUrl
      ? undefined
      : {
          imagePaths: new Set(imagePaths),
          limitBytes: op.bodyLimitBytes ?? services.config.http.bodyLimitBytes,
        };
  app.route({
    method: http.method,
    url: http.path,
    ...(op.bodyLimitBytes === undefined ? {} : { bodyLimit: op.bodyLimitBytes }),
    config: { scope: op.scope, ...(form ? { form } : {}) } satisfies RouteConfig,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      // Form fields are text, like a URL's: validated with the same coercion ("5" → 5).
      const isForm = request.body instanceof FormInput;
      const body = request.body instanceof FormInput ? request.body.fields : request.body;
      if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
        throw new Problem('invalid-request', t`the body must be a JSON object`);
      }
      // Path parameters win over a body field of the same name.
      const input = {
        ...((body as Record<string, unknown> | undefined) ?? {}),
        ...(request.query as Record<string, unknown>),
        ...(request.params as Record<string, unknown>),
      };
      const key = request.headers['idempotency-key'];
      const result = await dispatcher.dispatch(
        op,
        input,
        { services, principal: request.principal as Principal, via: 'http' },
        { fromUrl: fromUrl || isForm, idempotencyKey: typeof key === 'string' ? key : undefined },
      );
      if (result.replayed) void reply.header('Idempotent-Replayed', 'true');
      if (result.output instanceof BinaryOutput) {
        return reply
          .code(http.status ?? 200)
          .headers(result.output.headers)
          .type(result.output.contentType)
          .send(result.output.body);
      }
      // Coded texts (`reason` beside `reasonCode`) in the caller's language.
      return reply.code(http.status ?? 200).send(localizePayload(result.output, requestLocale(request)));
    },
  });
}
