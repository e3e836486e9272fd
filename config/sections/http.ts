// The local HTTP API the counter software calls.
import { Type } from '@sinclair/typebox';

export const HttpSection = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Listen address; keep it on loopback' }),
    port: Type.Integer({ default: 8620, minimum: 0, maximum: 65535 }),
    allowedOrigins: Type.Array(Type.String({ pattern: '^https?://[^/]+$' }), {
      default: [],
      description: 'Browser origins allowed to call the API (CORS), e.g. http://localhost:3000',
    }),
    bodyLimitBytes: Type.Integer({ default: 1_048_576, minimum: 1024, maximum: 67_108_864 }),
    headersTimeoutMs: Type.Integer({
      default: 10_000,
      minimum: 500,
      maximum: 300_000,
      description: 'A client that has not sent its whole request head by then is cut off (slow-loris)',
    }),
    requestTimeoutMs: Type.Integer({
      default: 60_000,
      minimum: 1000,
      maximum: 3_600_000,
      description: 'A request (head and body) not received in full by then is answered 408',
    }),
    maxConnections: Type.Integer({
      default: 256,
      minimum: 8,
      maximum: 65_536,
      description:
        'Open connections at most; at the cap a new one closes an idle one (one that never sent a whole request first), and is refused only when all are busy',
    }),
    streamsPerToken: Type.Integer({
      default: 16,
      minimum: 1,
      maximum: 1024,
      description: 'Open event streams and camera streams one token may hold together; beyond, 429',
    }),
    authFailures: Type.Object(
      {
        burst: Type.Integer({
          default: 20,
          minimum: 1,
          description:
            'Failed token checks a caller (address + Origin) may make in a row for one claimed token id',
        }),
        perMinute: Type.Integer({
          default: 30,
          minimum: 1,
          description:
            'Then this many more per minute; beyond, failures answer 429 (a valid token is always answered)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    pairing: Type.Object(
      {
        ttlSeconds: Type.Integer({
          default: 300,
          minimum: 5,
          maximum: 86_400,
          description:
            'A pairing request not approved by then expires; an approved one must be collected within as long again',
        }),
        maxPending: Type.Integer({
          default: 20,
          minimum: 1,
          maximum: 1000,
          description: 'Pending pairing requests at most, all origins together; beyond, 429',
        }),
        maxPendingPerOrigin: Type.Integer({
          default: 3,
          minimum: 1,
          maximum: 100,
          description: 'Pending pairing requests one Origin may have at once; beyond, 429',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    announceAdminToken: Type.Boolean({
      default: false,
      description: 'Print the bootstrap admin token at start-up (development only)',
    }),
  },
  { additionalProperties: false, default: {} },
);
