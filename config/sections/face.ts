// Face recognition: models, load limits, capture and enrolment rules.
import { Type } from '@sinclair/typebox';

export const FaceSection = Type.Object(
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
);
