// How a device is reached: one branch per transport, told apart by `type`. Which transports a kind can use
// is its driver factory's decision (a device on a transport its kind cannot use shows in error, not fatal).
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum, TaggedUnion } from './schema-kit.js';

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

const HidTransport = Type.Object(
  {
    type: Type.Literal('hid'),
    vendorId: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff, description: 'With productId' })),
    productId: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff })),
    serialNumber: Type.Optional(Type.String({ minLength: 1, description: 'When several pads of one model' })),
    interface: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'USB interface number' })),
    path: Type.Optional(
      Type.String({ minLength: 1, description: 'A hidraw node instead of the ids, e.g. /dev/hidraw0' }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A USB HID device through hidraw (node-hid): by vendorId + productId, or by path',
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
  HidTransport,
]);
export type TransportConfig = Static<typeof TransportSchema>;

/**
 * Where a device entry points for its transport: the union is defined once, in the config schema's `$defs`,
 * and every kind's entry refers to it, so the validator compiles it once instead of once per kind.
 */
export const TRANSPORT_REF = '#/$defs/transport';
export const TransportRef = Type.Unsafe<TransportConfig>({ $ref: TRANSPORT_REF });
