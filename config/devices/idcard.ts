import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../schema-kit.js';
import { deviceEntry } from './device-entry.js';

/** The C calling conventions of the vendors' WLT decoders this build can call (docs/idcard-decoders.md). */
export const WLT_DECODER_ABIS = ['unpack', 'wlt2bmpBuffer'] as const;
export type WltDecoderAbi = (typeof WLT_DECODER_ABIS)[number];

/** The reader vendor's WLT photo decoder library, called in a child process (see README). */
export const IdCardDecoderSchema = Type.Object(
  {
    library: Type.String({
      minLength: 1,
      description: 'Path of the vendor decoder library (e.g. /opt/vendor/lib/libwlt2bmp.so)',
    }),
    abi: StringEnum(WLT_DECODER_ABIS, {
      description:
        'unpack: int unpack(char *wlt, char *out, int saveBmp); ' +
        'wlt2bmpBuffer: int fn(const char *wlt, char *out, int outLength); both return 1 on success',
    }),
    symbol: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'Exported name of the function, when not the ABI name (e.g. a C++ mangled _Z6unpackPcS_i)',
      }),
    ),
    saveBmp: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 1,
      description:
        'unpack only: its third argument (some libraries also write zp.bmp in the working dir when 1)',
    }),
    rowOrder: StringEnum(['bottom-up', 'top-down'] as const, {
      default: 'bottom-up',
      description: 'Row order of raw pixels the library writes (a BMP file is always read by its header)',
    }),
    colour: StringEnum(['bgr', 'rgb'] as const, {
      default: 'bgr',
      description: 'Channel order of raw pixels the library writes',
    }),
    timeoutMs: Type.Integer({
      default: 3000,
      minimum: 100,
      maximum: 60_000,
      description: 'A decode taking longer is stopped (the decoder process is killed and restarted)',
    }),
  },
  { additionalProperties: false },
);
export type IdCardDecoderOptions = Static<typeof IdCardDecoderSchema>;

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
    decoder: Type.Optional(IdCardDecoderSchema),
  },
  { additionalProperties: false },
);
export type IdCardOptions = Static<typeof IdCardOptionsSchema>;

/** A device entry of kind `idcard`: a resident ID card reader. */
export const IdCardDeviceSchema = deviceEntry('idcard', 'idcard', IdCardOptionsSchema);
