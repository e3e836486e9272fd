import { Type, type Static } from '@sinclair/typebox';
import { deviceEntry } from './device-entry.js';

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

/** A device entry of kind `idcard`: a resident ID card reader. */
export const IdCardDeviceSchema = deviceEntry('idcard', 'idcard', IdCardOptionsSchema);
