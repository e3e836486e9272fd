// The one source of the configuration contract: TypeScript types, validation, defaults and the JSON Schema
// that `npm run schema` exports all come from the TypeBox definitions below.
import { Type, type Static, type TObject, type TSchema, type TUnion, type TUnsafe } from '@sinclair/typebox';

/** A string enum as plain JSON Schema `enum` (clearer errors and docs than TypeBox's union of literals). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** Token scopes (DESIGN.md). `admin` implies every other scope. */
export const SCOPES = ['read', 'print', 'face', 'enroll', 'seal', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const ScopeSchema = StringEnum(SCOPES, { description: 'Token scope' });

// The ID card reader (idcard) joins this list with its driver.
export const DEVICE_KINDS = ['printer', 'camera', 'seal', 'photo-printer'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

const Identifier = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
  description: 'Letters, digits, - and _',
});

/**
 * A union told apart by its `type` field, as JSON Schema `oneOf` + `discriminator`: the validator then names
 * the unknown `type` or the wrong field of the right branch, instead of listing every branch's complaint.
 */
export function TaggedUnion<T extends TObject[]>(
  branches: [...T],
  options: Record<string, unknown> = {},
): TUnsafe<Static<TUnion<T>>> {
  return Type.Unsafe<Static<TUnion<T>>>({
    oneOf: branches,
    discriminator: { propertyName: 'type' },
    ...options,
  });
}

const SimulatedTransport = Type.Object(
  { type: Type.Literal('simulated') },
  { additionalProperties: false, description: 'An in-process simulator of the device (no hardware needed)' },
);

const SerialTransport = Type.Object(
  {
    type: Type.Literal('serial'),
    path: Type.String({ minLength: 1, description: 'e.g. /dev/ttyUSB0 or a /dev/serial/by-id/ link' }),
    baudRate: Type.Integer({ default: 9600, minimum: 50, maximum: 4_000_000 }),
    dataBits: Type.Union([Type.Literal(7), Type.Literal(8)], { default: 8 }),
    parity: StringEnum(['none', 'even', 'odd'] as const, { default: 'none' }),
    stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
    rtscts: Type.Boolean({ default: false, description: 'RTS/CTS hardware flow control' }),
  },
  { additionalProperties: false, description: 'A serial port (USB-serial adapter)' },
);

const TcpTransport = Type.Object(
  {
    type: Type.Literal('tcp'),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ default: 9100, minimum: 1, maximum: 65535 }),
    connectTimeoutMs: Type.Integer({ default: 3000, minimum: 100 }),
  },
  { additionalProperties: false, description: 'Raw TCP, e.g. port 9100 of a network printer' },
);

export const TransportSchema = TaggedUnion([SimulatedTransport, SerialTransport, TcpTransport]);
export type TransportConfig = Static<typeof TransportSchema>;

export const DeviceSchema = Type.Object(
  {
    id: Identifier,
    kind: StringEnum(DEVICE_KINDS),
    name: Type.Optional(Type.String({ maxLength: 200, description: 'Label shown to clerks and operators' })),
    transport: TransportSchema,
  },
  { additionalProperties: false },
);
export type DeviceConfig = Static<typeof DeviceSchema>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigSchema = Type.Object(
  {
    box: Type.Object(
      {
        id: Identifier,
        site: Type.String({
          default: '',
          maxLength: 200,
          description: 'Human name of the site (village hall)',
        }),
      },
      { additionalProperties: false },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'Listen address; keep it on loopback' }),
        port: Type.Integer({ default: 8620, minimum: 0, maximum: 65535 }),
        allowedOrigins: Type.Array(Type.String({ pattern: '^https?://[^/]+$' }), {
          default: [],
          description: 'Browser origins allowed to call the API (CORS), e.g. http://localhost:3000',
        }),
        bodyLimitBytes: Type.Integer({ default: 1_048_576, minimum: 1024, maximum: 67_108_864 }),
        announceAdminToken: Type.Boolean({
          default: false,
          description: 'Print the bootstrap admin token at start-up (development only)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        dir: Type.String({ default: '/var/lib/boxagent', minLength: 1, description: 'State directory' }),
        maxEvents: Type.Integer({
          default: 100_000,
          minimum: 100,
          description: 'Events kept in the event log (SSE resume, fleet outbox); the oldest go first',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    mqtt: Type.Object(
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
        telemetryIntervalSeconds: Type.Integer({ default: 60, minimum: 1, maximum: 86_400 }),
        reconnectMinMs: Type.Integer({ default: 1000, minimum: 10, description: 'First reconnect delay' }),
        reconnectMaxMs: Type.Integer({
          default: 60_000,
          minimum: 10,
          description: 'Reconnect delays double up to this',
        }),
        roles: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' }), Type.Array(ScopeSchema), {
          default: { viewer: ['read'], operator: ['read', 'print', 'face', 'enroll'], admin: ['admin'] },
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
              { default: {}, description: 'Fleet keys that may sign RPC requests, by key id' },
            ),
            required: Type.Array(Type.String({ pattern: '^[a-z0-9.*-]+$' }), {
              default: ['seal.*', 'persons.delete', 'config.apply'],
              description: 'Operations (a trailing * matches a prefix) that run only when signed',
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
    ),
    log: Type.Object(
      { level: StringEnum(LOG_LEVELS, { default: 'info' }) },
      { additionalProperties: false, default: {} },
    ),
    supervision: Type.Object(
      {
        probeIntervalMs: Type.Integer({
          default: 5000,
          minimum: 50,
          description: 'How often a ready device is probed',
        }),
        failuresBeforeError: Type.Integer({
          default: 3,
          minimum: 1,
          description: 'Consecutive failed probes before error',
        }),
        backoffInitialMs: Type.Integer({ default: 1000, minimum: 10 }),
        backoffMaxMs: Type.Integer({ default: 60_000, minimum: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    devices: Type.Array(DeviceSchema, { default: [] }),
  },
  {
    additionalProperties: false,
    $id: 'https://boxagent.invalid/config.schema.json',
    title: 'boxagent configuration',
  },
);

/** The configuration after defaults are applied. */
export type Config = Static<typeof ConfigSchema>;

/**
 * The schema a config *file* is checked against: the same as ConfigSchema, except that a property with a
 * default is not required (the validator fills it in).
 */
export function fileSchema(schema: TSchema = ConfigSchema): Record<string, unknown> {
  const copy = structuredClone(schema) as Record<string, unknown>;
  relaxDefaulted(copy);
  return copy;
}

function relaxDefaulted(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach(relaxDefaulted);
    return;
  }
  const obj = node as Record<string, unknown>;
  const props = obj.properties as Record<string, Record<string, unknown>> | undefined;
  if (props && Array.isArray(obj.required)) {
    obj.required = (obj.required as string[]).filter((k) => props[k]?.default === undefined);
    if ((obj.required as string[]).length === 0) delete obj.required;
  }
  Object.values(obj).forEach(relaxDefaulted);
}
