import { Type, type Static } from '@sinclair/typebox';
import { deviceEntry } from './device-entry.js';

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

/** A device entry of kind `photo-printer`: a photo/certificate printer. */
export const PhotoPrinterDeviceSchema = deviceEntry(
  'photo-printer',
  'photoPrinter',
  PhotoPrinterOptionsSchema,
);
