// The extension members a problem document may carry beside type/title/status/detail/field: declared once
// here, so a `new Problem(..., extensions)` with a member not listed is a compile error and /openapi.json's
// Problem schema lists every member a client can meet.
import { Type, type Static } from '@sinclair/typebox';

const AnyObject = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const ProblemExtensionsSchema = Type.Object({
  retryAfter: Type.Optional(
    Type.Number({ minimum: 0, description: 'Seconds to wait before retrying; also sent as Retry-After' }),
  ),
  requiredScope: Type.Optional(
    Type.String({ description: 'forbidden: the scope the token lacks (or the operation needs)' }),
  ),
  missing: Type.Optional(
    Type.String({ description: 'capture-timeout: what the camera saw missing last (no-face, too-far, …)' }),
  ),
  hint: Type.Optional(Type.String({ description: 'capture-timeout: what to tell the resident' })),
  framesExamined: Type.Optional(
    Type.Integer({ description: 'capture-timeout: frames the capture looked at' }),
  ),
  seen: Type.Optional(
    Type.Record(Type.String(), Type.Integer(), {
      description: 'capture-timeout: how many frames each missing thing was seen on',
    }),
  ),
  faces: Type.Optional(Type.Integer({ description: 'several-faces: how many faces were found' })),
  reasons: Type.Optional(
    Type.Array(Type.String(), { description: 'face-quality: each quality check the face failed' }),
  ),
  quality: Type.Optional(AnyObject('face-quality: the measured quality (size, sharpness, pose, brightness)')),
  liveness: Type.Optional(
    Type.Object(
      { live: Type.Boolean(), score: Type.Number() },
      { description: 'face-not-live: the liveness verdict' },
    ),
  ),
  templateModel: Type.Optional(
    Type.String({ description: 'model-mismatch: the model that made the template' }),
  ),
  modelId: Type.Optional(Type.String({ description: "model-mismatch: this box's face model" })),
  device: Type.Optional(Type.String({ description: 'device-unavailable: the device' })),
  state: Type.Optional(
    Type.String({ description: 'The state that refused the request (a device or job state)' }),
  ),
  reason: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description:
        'photo-unusable: face-too-small, face-near-edge or background; device-unavailable: why the device is not ready',
    }),
  ),
  reasonCode: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description: "device-unavailable: the stable code of the device's reason (e.g. `paper-out`)",
    }),
  ),
  background: Type.Optional(
    Type.Object(
      { light: Type.Boolean(), meanLuma: Type.Number(), spread: Type.Number() },
      { description: 'photo-unusable (background): the measured background' },
    ),
  ),
  sealJob: Type.Optional(
    Type.String({ description: "seal-job-conflict: the certificate's current seal job, not replaceable" }),
  ),
  failures: Type.Optional(
    Type.Array(
      Type.Object({
        condition: Type.String(),
        expected: Type.Union([Type.Boolean(), Type.Number()]),
        actual: Type.Union([Type.Boolean(), Type.Number()]),
      }),
      { description: 'seal-interlock, device-busy: the interlock conditions not met' },
    ),
  ),
});

export type ProblemExtensions = Static<typeof ProblemExtensionsSchema>;

/** The member names, for checks that every thrown extension is declared. */
export const PROBLEM_EXTENSION_NAMES = Object.keys(ProblemExtensionsSchema.properties);
