// The event contract in the OpenAPI document, from the event catalog: one schema per type (what an SSE
// frame's `data` holds), one OpenAPI 3.1 webhook per type (so generators type the payloads), and the
// framing of GET /v1/events.
import { EVENT_CATALOG, EVENT_TYPES, type EventType } from '../events/catalog.js';
import { plain, type JsonSchema } from './openapi-schemas.js';

export const EVENT_STREAM_FRAMING = [
  'Each event is one SSE frame: `id: <seq>` (kept events only), `event: <type>`, `data: <JSON>` where the JSON',
  'is `{id, seq, type, at}` and the payload fields of the type (components `event.<type>`, and `webhooks`). A',
  "token receives only the types its scopes allow (each type's `x-required-scope`; admin receives all), live",
  'and on replay. Kept events (`x-kept: true`) come from the event log: reconnect with `Last-Event-ID` (the',
  'browser does) to get those missed. Live-only events (`x-kept: false`) are never stored: they have no `id:`',
  "line, so the browser's Last-Event-ID stays on the last kept event, and `seq` is null. A `: keep-alive`",
  'comment every 15 s.',
].join('\n');

export const eventSchemaRef = (type: EventType): string => `#/components/schemas/event.${type}`;

/** One schema per event type: what `data` holds (the envelope and the payload), its scope and whether it is kept. */
export function eventSchemas(): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {};
  for (const type of EVENT_TYPES) {
    const d = EVENT_CATALOG[type];
    const payload = plain(d.payload);
    const properties = (payload.properties ?? {}) as Record<string, unknown>;
    schemas[`event.${type}`] = {
      type: 'object',
      description: d.description,
      'x-required-scope': d.scope,
      'x-kept': d.kept,
      required: ['id', 'seq', 'type', 'at', ...((payload.required ?? []) as string[])],
      properties: {
        id: {
          type: 'string',
          format: 'uuid',
          description: 'Unique; the fleet and clients de-duplicate on it',
        },
        seq: d.kept
          ? { type: 'integer', description: 'Position in the event log; also the SSE `id:`' }
          : { type: 'null', description: 'Live-only: never stored' },
        type: { const: type },
        at: { type: 'string', format: 'date-time' },
        ...properties,
      },
    };
  }
  return schemas;
}

/**
 * OpenAPI 3.1 `webhooks`, one per event type. The box does not call anyone: these describe what arrives on
 * GET /v1/events (the SSE `event:` name is the webhook's name) and on the fleet's events topic.
 */
export function eventWebhooks(): Record<string, JsonSchema> {
  const hooks: Record<string, JsonSchema> = {};
  for (const type of EVENT_TYPES) {
    const d = EVENT_CATALOG[type];
    hooks[type] = {
      post: {
        operationId: `event.${type}`,
        summary: d.description,
        description: `Delivered as SSE \`event: ${type}\` on GET /v1/events to a token with scope \`${d.scope}\` (or admin); ${
          d.kept
            ? 'kept: stored, replayed after Last-Event-ID and sent to the fleet'
            : 'live only: never stored'
        }.`,
        'x-scope': d.scope,
        'x-kept': d.kept,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: eventSchemaRef(type) } } },
        },
        responses: { '200': { description: 'Not called back: read it from the event stream' } },
      },
    };
  }
  return hooks;
}
