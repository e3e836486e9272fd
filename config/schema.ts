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

/**
 * Token scopes (DESIGN.md). `admin` implies every other scope. `idcard` receives ID card reads (residents'
 * personal data) on the event stream.
 */
export const SCOPES = ['read', 'print', 'face', 'enroll', 'seal', 'idcard', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const ScopeSchema = StringEnum(SCOPES, { description: 'Token scope' });

export const DEVICE_KINDS = ['printer', 'camera', 'seal', 'photo-printer', 'idcard'] as const;
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
  {
    type: Type.Literal('simulated'),
    // Printer simulator only: its pace and where it keeps printed pages (PNG) and its job log.
    bytesPerSecond: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Printer simulator: data rate it accepts' }),
    ),
    outputDir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Printer simulators: printed pages (PNG, or the photo printer's JPEG/PNG) and jobs.jsonl",
      }),
    ),
  },
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

const UsbLpTransport = Type.Object(
  {
    type: Type.Literal('usblp'),
    path: Type.String({ minLength: 1, description: 'A Linux usblp node, e.g. /dev/usb/lp0' }),
    sysfsRoot: Type.String({ default: '/sys', description: 'Where to read the IEEE 1284 Device ID from' }),
  },
  { additionalProperties: false, description: 'A USB printer through the kernel usblp driver' },
);

const UsbTransport = Type.Object(
  {
    type: Type.Literal('usb'),
    vendorId: Type.Integer({ minimum: 0, maximum: 0xffff, description: 'e.g. 0x04b8 (Epson)' }),
    productId: Type.Integer({ minimum: 0, maximum: 0xffff }),
  },
  { additionalProperties: false, description: 'A USB printer-class device through libusb (usblp detached)' },
);

const IppTransport = Type.Object(
  {
    type: Type.Literal('ipp'),
    url: Type.String({
      pattern: '^ipps?://[^/]+(/.*)?$',
      description:
        'ipp://host:631/printers/QUEUE (CUPS) or ipp://printer/ipp/print (IPP Everywhere); ipps:// for TLS',
    }),
    timeoutMs: Type.Integer({
      default: 10_000,
      minimum: 100,
      maximum: 120_000,
      description: 'Per IPP request',
    }),
  },
  { additionalProperties: false, description: 'An IPP printer or CUPS queue (photo/certificate printers)' },
);

const VideoTransport = Type.Object(
  { type: Type.Literal('video') },
  {
    additionalProperties: false,
    description: 'A camera captured by ffmpeg from `camera.source` (V4L2 device, rtsp:// or http:// URL)',
  },
);

export const TransportSchema = TaggedUnion([
  SimulatedTransport,
  VideoTransport,
  SerialTransport,
  TcpTransport,
  UsbLpTransport,
  UsbTransport,
  IppTransport,
]);
export type TransportConfig = Static<typeof TransportSchema>;

/** Options of a resident ID card reader (`kind: idcard`); every key has a default. */
export const IdCardOptionsSchema = Type.Object(
  {
    pollIntervalMs: Type.Integer({
      default: 1000,
      minimum: 100,
      maximum: 60_000,
      description: 'Pause between two polls for a card',
    }),
    commandTimeoutMs: Type.Integer({
      default: 1000,
      minimum: 50,
      maximum: 30_000,
      description: 'Reply timeout of SAM status, find card and select',
    }),
    readTimeoutMs: Type.Integer({
      default: 3000,
      minimum: 100,
      maximum: 30_000,
      description: 'Reply timeout of the text + photo read',
    }),
    freshnessMs: Type.Integer({
      default: 60_000,
      minimum: 1000,
      description: 'How long after a read GET /v1/idcard/:device/card still returns the card',
    }),
    revealIdNumber: Type.Boolean({
      default: false,
      description:
        'Put the full ID number in idcard.read events and logs (default: masked, 430***********1234)',
    }),
    decoderLibrary: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Vendor WLT photo decoder library. Not implemented in this build: the photo stays WLT and the card says why',
      }),
    ),
  },
  { additionalProperties: false },
);
export type IdCardOptions = Static<typeof IdCardOptionsSchema>;
/** Settings of a dot-matrix printer (devices of kind `printer`), set at install. */
export const PrinterOptionsSchema = Type.Object(
  {
    calibration: Type.Object(
      {
        xMm: Type.Number({
          default: 0,
          minimum: -50,
          maximum: 50,
          description: 'Added to every x sent to this printer',
        }),
        yMm: Type.Number({
          default: 0,
          minimum: -50,
          maximum: 50,
          description: 'Added to every y sent to this printer',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    romCharset: StringEnum(['gbk', 'gb2312'] as const, {
      default: 'gbk',
      description: 'Two-byte characters in the printer ROM; others print as bit images',
    }),
    escp2: Type.Boolean({ default: false, description: 'The printer understands ESC/P2 commands' }),
    fallbackFonts: Type.Array(
      Type.Object(
        { file: Type.String({ minLength: 1 }), family: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
      { default: [], description: 'Fonts for characters neither the ROM nor Noto Sans Hans has' },
    ),
    stallMs: Type.Integer({
      default: 5000,
      minimum: 100,
      description: 'Serial/TCP: a write not drained for this long reports the printer stalled',
    }),
  },
  { additionalProperties: false, default: {} },
);
export type PrinterOptions = Static<typeof PrinterOptionsSchema>;

/** Options of a steel-seal machine (`kind: seal`); every key has a default. */
export const SealOptionsSchema = Type.Object(
  {
    profile: Type.String({
      default: 'default',
      minLength: 1,
      description:
        'Seal protocol profile: a name in config/seal-profiles/ (without .yaml) or a path to a profile file',
    }),
    confirmWindowMs: Type.Integer({
      default: 120_000,
      minimum: 5_000,
      maximum: 3_600_000,
      description: 'How long a seal job waits for its confirmation before it expires',
    }),
    simulatedStampDelayMs: Type.Integer({
      default: 300,
      minimum: 0,
      maximum: 600_000,
      description: 'With transport `simulated`: how long the simulated press takes',
    }),
  },
  { additionalProperties: false },
);
export type SealOptions = Static<typeof SealOptionsSchema>;

/** Options of a photo/certificate printer (`kind: photo-printer`); every key has a default. */
export const PhotoPrinterOptionsSchema = Type.Object(
  {
    media: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9_.-]{1,64}$',
        description: "IPP media keyword sent with each job (e.g. iso_a6_105x148mm); default: the printer's",
      }),
    ),
    jobTimeoutMs: Type.Integer({
      default: 180_000,
      minimum: 1000,
      maximum: 3_600_000,
      description: 'How long a handed-over certificate may take to complete before it is in doubt',
    }),
    jobPollMs: Type.Integer({
      default: 1000,
      minimum: 50,
      maximum: 60_000,
      description: 'How often the job state is asked for (Get-Job-Attributes)',
    }),
  },
  { additionalProperties: false },
);
export type PhotoPrinterOptions = Static<typeof PhotoPrinterOptionsSchema>;

/** Options of a face camera (`kind: camera`); every key has a default except the real camera's source. */
export const CameraOptionsSchema = Type.Object(
  {
    source: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Transport video: a V4L2 node (/dev/video0, /dev/v4l/by-id/…), rtsp://…, or an http(s) MJPEG stream URL',
      }),
    ),
    inputFormat: StringEnum(['mjpeg', 'yuyv422'] as const, {
      default: 'mjpeg',
      description: 'What a V4L2 camera is asked for; mjpeg frames pass through without re-encoding',
    }),
    irSource: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'The infrared node of a dual RGB + IR module (frames paired with RGB by time)',
      }),
    ),
    width: Type.Integer({ default: 640, minimum: 160, maximum: 4096 }),
    height: Type.Integer({ default: 480, minimum: 120, maximum: 4096 }),
    fps: Type.Integer({ default: 15, minimum: 1, maximum: 60, description: 'Capture rate' }),
    previewFps: Type.Integer({
      default: 10,
      minimum: 1,
      maximum: 60,
      description: 'Rate of GET /v1/camera/:id/stream (at most the capture rate)',
    }),
    stallSeconds: Type.Number({
      default: 5,
      minimum: 0.5,
      maximum: 120,
      description: 'No frame for this long: the capture is restarted',
    }),
    simulatedImages: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Transport simulated: an image file (shown still) or a folder of *.jpg images (shown in turn); default lavfi testsrc',
      }),
    ),
    simulatedHoldSeconds: Type.Number({
      default: 3,
      minimum: 0.1,
      maximum: 3600,
      description: 'Transport simulated with a folder: how long each image is shown',
    }),
  },
  { additionalProperties: false },
);
export type CameraOptions = Static<typeof CameraOptionsSchema>;

export const DeviceSchema = Type.Object(
  {
    id: Identifier,
    kind: StringEnum(DEVICE_KINDS),
    name: Type.Optional(Type.String({ maxLength: 200, description: 'Label shown to clerks and operators' })),
    transport: TransportSchema,
    idcard: Type.Optional(IdCardOptionsSchema),
    printer: Type.Optional(PrinterOptionsSchema),
    seal: Type.Optional(SealOptionsSchema),
    photoPrinter: Type.Optional(PhotoPrinterOptionsSchema),
    camera: Type.Optional(CameraOptionsSchema),
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
          description: 'Connections beyond this are refused, so a flood cannot use up file descriptors',
        }),
        authFailures: Type.Object(
          {
            burst: Type.Integer({
              default: 20,
              minimum: 1,
              description: 'Failed token checks a caller may make in a row',
            }),
            perMinute: Type.Integer({
              default: 30,
              minimum: 1,
              description: 'Then this many more per minute; beyond, 429 without checking the token',
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
    face: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Load the face models at start' }),
        modelDir: Type.Optional(
          Type.String({ minLength: 1, description: 'Folder of the model files (default: models/.cache)' }),
        ),
        threads: Type.Integer({
          default: 2,
          minimum: 1,
          maximum: 16,
          description: 'onnxruntime intra-op threads per model (measured: 2 beats 1 on a 2-core box)',
        }),
        spinning: Type.Boolean({ default: false, description: 'Let idle onnxruntime threads spin' }),
        concurrency: Type.Integer({
          default: 2,
          minimum: 1,
          maximum: 16,
          description: 'Images analysed at once',
        }),
        queueSize: Type.Integer({
          default: 8,
          minimum: 0,
          maximum: 1000,
          description: 'Requests waiting beyond that; more get 503 + Retry-After',
        }),
        maxImagePixels: Type.Integer({
          default: 40_000_000,
          minimum: 10_000,
          description: 'Larger images are refused',
        }),
        maxImageSide: Type.Integer({
          default: 1920,
          minimum: 320,
          description: 'Larger images are scaled down first',
        }),
        capture: Type.Object(
          {
            timeoutMs: Type.Integer({
              default: 10_000,
              minimum: 500,
              maximum: 120_000,
              description: 'How long face.capture (and verify/identify with a camera probe) wait by default',
            }),
            consecutiveFrames: Type.Integer({
              default: 2,
              minimum: 1,
              maximum: 30,
              description: 'Good frames in a row before a capture is taken',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        enrol: Type.Object(
          {
            minFaceSize: Type.Integer({
              default: 80,
              minimum: 20,
              description: 'Shorter side of the face box, px',
            }),
            minSharpness: Type.Number({
              default: 25,
              minimum: 0,
              description: 'Laplacian variance of the crop',
            }),
            maxYaw: Type.Number({ default: 45, minimum: 0, maximum: 90 }),
            maxPitch: Type.Number({ default: 40, minimum: 0, maximum: 90 }),
            minBrightness: Type.Number({ default: 40, minimum: 0, maximum: 255 }),
            maxBrightness: Type.Number({ default: 220, minimum: 0, maximum: 255 }),
            maxFacesPerPerson: Type.Integer({ default: 5, minimum: 1, maximum: 20 }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  {
    additionalProperties: false,
    $id: 'https://boxagent.invalid/config.schema.json',
    title: 'boxagent configuration',
  },
);

export type FaceConfig = Static<typeof ConfigSchema>['face'];

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
