import { Type, type Static } from '@sinclair/typebox';
import type { CapturedProbe } from '../face/face-service.js';
import type { ImageRef } from '../face/results.js';
import type { Services } from '../services.js';
import { defineOperation } from './operation.js';
import {
  Base64Image,
  CameraProbeSchema,
  IMAGE_BODY_LIMIT_BYTES,
  ImageRefSchema,
  LivenessSchema,
  PersonIdSchema,
  QualitySchema,
} from './face-schemas.js';

/** verify/identify probe: an image, or a camera to capture a good, live face from (face.capture). */
const ProbeSchema = Type.Union([ImageRefSchema, CameraProbeSchema]);

const CaptureInfoSchema = Type.Optional(
  Type.Object(
    { id: Type.String(), camera: Type.String(), framesExamined: Type.Integer(), timingMs: Type.Number() },
    { description: 'With a camera probe: the capture the probe face came from' },
  ),
);

/** The probe as the face service takes it: the image, or the face captured from the camera. */
async function resolveProbe(
  probe: Static<typeof ProbeSchema>,
  services: Services,
): Promise<{ probe: ImageRef | CapturedProbe; capture?: Static<typeof CaptureInfoSchema> }> {
  if (!('camera' in probe)) return { probe };
  const c = await services.faceCapture.capture({
    camera: probe.camera,
    timeoutMs: probe.timeoutMs,
    liveness: true,
    field: ['probe', 'camera'],
  });
  return {
    probe: { captured: c.face },
    capture: {
      id: c.id,
      camera: c.camera,
      framesExamined: c.framesExamined,
      timingMs: Math.round(c.timingMs * 10) / 10,
    },
  };
}

const Largest = Type.Boolean({
  default: false,
  description: 'With several faces in an image, use the largest instead of refusing',
});

export const detectFaces = defineOperation({
  name: 'face.detect',
  summary: 'Faces in an image: box, five landmarks, quality, liveness, and optionally templates.',
  scope: 'face',
  risk: 'personal-data',
  problems: ['no-face'],
  bodyLimitBytes: IMAGE_BODY_LIMIT_BYTES,
  input: Type.Object(
    {
      probe: ImageRefSchema,
      liveness: Type.Boolean({ default: true }),
      templates: Type.Boolean({ default: false, description: 'Return each face as a template string' }),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    width: Type.Integer(),
    height: Type.Integer(),
    faces: Type.Array(
      Type.Object({
        box: Type.Object({ x: Type.Number(), y: Type.Number(), width: Type.Number(), height: Type.Number() }),
        score: Type.Number(),
        landmarks: Type.Array(Type.Tuple([Type.Number(), Type.Number()]), {
          description: 'eye, eye, nose tip, mouth corner, mouth corner (image-left first)',
        }),
        quality: QualitySchema,
        liveness: Type.Optional(LivenessSchema),
        template: Type.Optional(Type.String()),
      }),
    ),
    modelId: Type.String(),
    timingMs: Type.Number(),
  }),
  http: { method: 'POST', path: '/v1/face/detect' },
  handler: (input, { services }) =>
    services.face.detect(input.probe, { templates: input.templates, liveness: input.liveness }),
});

export const verifyFace = defineOperation({
  name: 'face.verify',
  summary:
    '1:1: is the person in the probe the reference (an image, an enrolled person, a template, or the photo of the ID card on a reader)?',
  scope: 'face',
  risk: 'personal-data',
  problems: [
    'no-face',
    'several-faces',
    'capture-timeout',
    'template-invalid',
    'model-mismatch',
    'not-found',
  ],
  bodyLimitBytes: IMAGE_BODY_LIMIT_BYTES,
  input: Type.Object(
    {
      probe: ProbeSchema,
      reference: Type.Object(
        {
          image: Type.Optional(Base64Image),
          personId: Type.Optional(PersonIdSchema),
          template: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
          idcard: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 64,
              description:
                'An ID card reader: the photo of the card on it now (read within its freshness window)',
            }),
          ),
        },
        { additionalProperties: false, minProperties: 1, maxProperties: 1 },
      ),
      largest: Largest,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    score: Type.Number({ description: 'Cosine similarity' }),
    match: Type.Boolean({ description: 'score ≥ threshold and the probe is live' }),
    decision: Type.Union([Type.Literal('match'), Type.Literal('no-match'), Type.Literal('not-live')]),
    threshold: Type.Number(),
    liveness: LivenessSchema,
    quality: QualitySchema,
    modelId: Type.String(),
    timingMs: Type.Number(),
    capture: CaptureInfoSchema,
    reference: Type.Optional(
      Type.Object(
        {
          quality: QualitySchema,
          idcard: Type.Optional(
            Type.Object({
              device: Type.String(),
              idNumber: Type.String({ description: 'Masked (first 3 and last 4)' }),
              readAt: Type.String({ format: 'date-time' }),
            }),
          ),
        },
        { description: 'With an image or ID card reference: its face quality, and which card it was' },
      ),
    ),
  }),
  http: { method: 'POST', path: '/v1/face/verify' },
  async handler(input, { services, principal }) {
    const { idcard, ...given } = input.reference;
    // The card first: without one there is nothing to compare with, and the camera need not be used.
    const card =
      idcard === undefined ? undefined : services.idcards.cardPhoto(idcard, ['reference', 'idcard']);
    const { probe, capture } = await resolveProbe(input.probe, services);
    const { referenceQuality, ...result } = await services.face.verify({
      probe,
      largest: input.largest,
      reference: card ? { image: card.jpeg.toString('base64') } : given,
      referenceKind: card ? 'card' : 'image',
    });
    const reference = referenceQuality
      ? {
          quality: referenceQuality,
          ...(card && idcard
            ? { idcard: { device: idcard, idNumber: card.idNumberMasked, readAt: card.card.readAt } }
            : {}),
        }
      : undefined;
    // The decision, never the faces: against which kind of reference (a card by its masked number).
    services.store.audit.append({
      actor: principal.name,
      action: 'face.verify',
      ...(capture ? { target: capture.camera } : {}),
      detail: {
        reference: card ? 'idcard' : 'personId' in given ? 'person' : 'image',
        ...(card && idcard ? { idcard: { device: idcard, idNumber: card.idNumberMasked } } : {}),
        ...('personId' in given ? { personId: given.personId } : {}),
        match: result.match,
        score: result.score,
        threshold: result.threshold,
      },
    });
    return { ...result, ...(capture ? { capture } : {}), ...(reference ? { reference } : {}) };
  },
});

const CandidateSchema = Type.Object({ personId: Type.String(), name: Type.String(), score: Type.Number() });

export const identifyFace = defineOperation({
  name: 'face.identify',
  summary: '1:N: a shortlist of enrolled persons like the probe; `best.confirm` says a clerk must confirm.',
  scope: 'face',
  risk: 'personal-data',
  problems: ['no-face', 'several-faces', 'capture-timeout'],
  bodyLimitBytes: IMAGE_BODY_LIMIT_BYTES,
  input: Type.Object(
    { probe: ProbeSchema, topK: Type.Integer({ minimum: 1, maximum: 20, default: 5 }), largest: Largest },
    { additionalProperties: false },
  ),
  output: Type.Object({
    candidates: Type.Array(CandidateSchema),
    best: Type.Union([
      Type.Intersect([CandidateSchema, Type.Object({ margin: Type.Number(), confirm: Type.Boolean() })]),
      Type.Null(),
    ]),
    threshold: Type.Number(),
    identifyThreshold: Type.Number(),
    liveness: LivenessSchema,
    quality: QualitySchema,
    modelId: Type.String(),
    gallerySize: Type.Integer(),
    timingMs: Type.Number(),
    capture: CaptureInfoSchema,
  }),
  http: { method: 'POST', path: '/v1/face/identify' },
  async handler(input, { services }) {
    const { probe, capture } = await resolveProbe(input.probe, services);
    const result = await services.face.identify({ ...input, probe });
    return capture ? { ...result, capture } : result;
  },
});

export const faceStatus = defineOperation({
  name: 'face.status',
  summary: 'Whether face recognition is available (and why not), its model, thresholds and gallery size.',
  scope: 'read',
  risk: 'read',
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({
    available: Type.Boolean(),
    reason: Type.Union([Type.String(), Type.Null()]),
    modelId: Type.Union([Type.String(), Type.Null()]),
    gallerySize: Type.Integer(),
    thresholds: Type.Union([
      Type.Object({
        verify: Type.Number(),
        verifyCard: Type.Number({ description: 'verify threshold when the reference is an ID card photo' }),
        identify: Type.Number(),
        identifyMargin: Type.Number(),
        liveScore: Type.Number(),
      }),
      Type.Null(),
    ]),
  }),
  http: { method: 'GET', path: '/v1/face/status' },
  handler: (_input, { services }) => services.face.status(),
});
