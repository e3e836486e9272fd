// The fleet link: broker, identity, roles and request signing.
import { Type } from '@sinclair/typebox';
import {} from '../schema-kit.js';
import { RISKS, UNSIGNED_RISKS } from './risks.js';
import { ScopeSchema } from './scopes.js';

export const MqttSection = Type.Object(
  {
    url: Type.Optional(
      Type.String({ pattern: '^(mqtts?|wss?)://', description: 'Fleet broker; the link is on when set' }),
    ),
    prefix: Type.String({ default: 'boxagent/v1' }),
    ca: Type.Optional(Type.String()),
    cert: Type.Optional(Type.String()),
    key: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    passwordFile: Type.Optional(Type.String()),
    protocolVersion: Type.Union([Type.Literal(5), Type.Literal(4)], {
      default: 5,
      description: 'MQTT 5, or 4 for MQTT 3.1.1 brokers',
    }),
    clientId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'Default: boxagent-<box.id>' }),
    ),
    sessionExpirySeconds: Type.Integer({
      default: 604_800,
      minimum: 0,
      maximum: 4_294_967_295,
      description:
        'How long the broker keeps the box session (its subscriptions and the QoS 1 requests queued for it) while the box is away; 0: a clean session every connect',
    }),
    telemetryIntervalSeconds: Type.Integer({ default: 60, minimum: 1, maximum: 86_400 }),
    keepaliveSeconds: Type.Integer({
      default: 30,
      minimum: 1,
      maximum: 65_535,
      description:
        'MQTT keepalive: with no packet for 1.5 times this, the broker drops the box and publishes its Last Will',
    }),
    reconnectMinMs: Type.Integer({ default: 1000, minimum: 10, description: 'First reconnect delay' }),
    reconnectMaxMs: Type.Integer({
      default: 60_000,
      minimum: 10,
      description: 'Reconnect delays double up to this',
    }),
    roles: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' }), Type.Array(ScopeSchema), {
      // The unsigned RPC role (operator) reads and prints; faces, persons and seals need a signed key's role.
      default: { viewer: ['read'], operator: ['read', 'print'], admin: ['admin'] },
      description: 'Fleet roles and the token scopes each grants to RPC requests',
    }),
    rpcRole: Type.String({
      default: 'operator',
      description:
        "The role (a key of mqtt.roles) of RPC requests; the broker's ACL decides who may send them",
    }),
    outboxMaxEvents: Type.Integer({
      default: 100_000,
      minimum: 100,
      description:
        'Unsent events kept for the fleet; beyond it the oldest device/telemetry-class ones go (job, seal, audit never)',
    }),
    configHealthTimeoutSeconds: Type.Integer({
      default: 30,
      minimum: 1,
      maximum: 600,
      description:
        'How long devices changed by a desired config have to become ready before it is rolled back',
    }),
    signing: Type.Object(
      {
        keys: Type.Record(
          Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
          Type.Object(
            {
              publicKey: Type.String({
                minLength: 1,
                description: 'Ed25519 public key: base64 of the 32 raw bytes, or PEM (SPKI)',
              }),
              role: Type.String({
                description: 'The role (a key of mqtt.roles) a request signed with it gets',
              }),
            },
            { additionalProperties: false },
          ),
          {
            default: {},
            description:
              'Fleet keys that may sign RPC requests (and, with an admin role, desired config), by key id',
          },
        ),
        required: Type.Array(Type.String({ pattern: '^([a-z0-9.*-]+|risk:[a-z-]+)$' }), {
          default: RISKS.filter((r) => !UNSIGNED_RISKS.includes(r)).map((r) => `risk:${r}`),
          description:
            'What runs only when signed: risk classes as risk:<class>, operations by name (a trailing * matches a prefix)',
        }),
        replayWindowSeconds: Type.Integer({ default: 300, minimum: 10, maximum: 86_400 }),
      },
      { additionalProperties: false, default: {} },
    ),
    outboxMaxAgeDays: Type.Integer({
      default: 30,
      minimum: 1,
      description: 'Unsent device/telemetry-class events older than this are dropped',
    }),
  },
  { additionalProperties: false, default: {} },
);
