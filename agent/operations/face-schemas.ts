// Request and answer shapes shared by the face and person operations.
import { Type } from '@sinclair/typebox';
import { StringEnum } from '../../config/schema.js';

/** Body limit for operations that carry images: a 1080p JPEG in base64 is ~1-2 MB. */
export const IMAGE_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * An image field. contentEncoding marks it for the HTTP adapter: such operations also take
 * multipart/form-data, with the image as a file part under the field's dotted name.
 */
export const Base64Image = Type.String({
  minLength: 1,
  contentEncoding: 'base64',
  contentMediaType: 'image/*',
  description:
    'The image (JPEG, PNG, WebP…) as base64, optionally a data: URL; in multipart/form-data a file part',
});

export const ImageRefSchema = Type.Object({ image: Base64Image }, { additionalProperties: false });

/** A probe taken from a camera by face.capture (liveness required). */
export const CameraProbeSchema = Type.Object(
  {
    camera: Type.String({ minLength: 1, maxLength: 64, description: 'The camera device id' }),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 120_000,
        description: 'How long to wait for a good, live face (default face.capture.timeoutMs, 10 000)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const FaceSourceSchema = StringEnum(['camera', 'document'] as const, {
  default: 'camera',
  description: 'camera: a live capture, must pass liveness; document: an ID-card or file photo, no liveness',
});

export const QualitySchema = Type.Object({
  size: Type.Number({ description: 'Shorter side of the face box, px' }),
  sharpness: Type.Number({ description: 'Laplacian variance of the aligned crop; low = blurred' }),
  pose: Type.Object(
    { yaw: Type.Number(), pitch: Type.Number(), roll: Type.Number() },
    { description: 'Degrees' },
  ),
  brightness: Type.Number({ description: 'Mean luma 0..255' }),
});

export const LivenessSchema = Type.Object({
  live: Type.Boolean(),
  score: Type.Number({ description: 'Probability of a live face' }),
});

export const PersonIdSchema = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' });

export const PersonSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  faces: Type.Array(Type.Object({ id: Type.String(), modelId: Type.String(), createdAt: Type.String() })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
