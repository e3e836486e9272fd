// The face camera: its latest frame, and a capture of a good, live face (GET /v1/camera/:id/stream, the
// MJPEG preview, is an HTTP route of its own: agent/http/camera-stream.ts).
import { Type } from '@sinclair/typebox';
import sharp from 'sharp';
import { ALIGNED_SIZE } from '../face/alignment.js';
import type { Capture } from '../face/face-capture.js';
import { CAPTURE_MISSING } from '../face/capture-judge.js';
import { faceView, round1 } from '../face/results.js';
import { encodeTemplate } from '../face/template-codec.js';
import { StringEnum } from '../../config/schema.js';
import { BinaryOutput, BinarySchema, defineOperation } from './operation.js';
import { LivenessSchema, QualitySchema } from './face-schemas.js';

export const cameraSnapshot = defineOperation({
  name: 'camera.snapshot',
  summary: "The camera's latest frame (JPEG), at once: the capture keeps running, nothing is re-opened.",
  scope: 'face',
  risk: 'personal-data',
  problems: ['device-unavailable'],
  input: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
  output: BinarySchema('image/jpeg'),
  http: { method: 'GET', path: '/v1/camera/:id/snapshot' },
  handler: (input, { services }) => new BinaryOutput('image/jpeg', services.cameras.snapshot(input.id).jpeg),
});

/** Where a capture's default values come from: config `face.capture`. */
export const CaptureParams = {
  timeoutMs: Type.Optional(
    Type.Integer({
      minimum: 100,
      maximum: 120_000,
      description: 'How long to wait for a good face (default face.capture.timeoutMs, 10 000)',
    }),
  ),
};

export const CaptureMissingSchema = StringEnum(CAPTURE_MISSING, {
  description: 'What kept a frame from being taken',
});

export const captureFace = defineOperation({
  name: 'face.capture',
  summary:
    'Waits for one good, live face in front of the camera (on consecutive frames) and returns it with the frame; ' +
    '422 capture-timeout says what was missing. Hints go out as face.capture.hint events.',
  scope: 'face',
  risk: 'personal-data',
  problems: ['capture-timeout'],
  input: Type.Object(
    {
      camera: Type.String({ minLength: 1, maxLength: 64 }),
      ...CaptureParams,
      liveness: Type.Boolean({ default: true, description: 'Require a live face' }),
      template: Type.Boolean({ default: false, description: 'Also return the face as a template' }),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    id: Type.String(),
    camera: Type.String(),
    face: Type.Object({
      box: Type.Object({ x: Type.Number(), y: Type.Number(), width: Type.Number(), height: Type.Number() }),
      score: Type.Number(),
      landmarks: Type.Array(Type.Tuple([Type.Number(), Type.Number()])),
      quality: QualitySchema,
      liveness: Type.Optional(LivenessSchema),
    }),
    aligned: Type.String({ description: `The aligned ${ALIGNED_SIZE}×${ALIGNED_SIZE} crop, JPEG in base64` }),
    frame: Type.String({ description: 'The whole frame, JPEG in base64' }),
    width: Type.Integer(),
    height: Type.Integer(),
    template: Type.Optional(Type.String()),
    modelId: Type.String(),
    framesExamined: Type.Integer(),
    decisionMs: Type.Number({ description: "From the chosen frame's arrival to the decision" }),
    timingMs: Type.Number(),
  }),
  http: { method: 'POST', path: '/v1/face/capture' },
  async handler(input, { services, principal }) {
    const c = await services.faceCapture.capture({
      camera: input.camera,
      timeoutMs: input.timeoutMs,
      liveness: input.liveness,
    });
    services.store.audit.append({
      actor: principal.name,
      action: 'face.capture',
      target: input.camera,
      detail: { capture: c.id, framesExamined: c.framesExamined, liveness: input.liveness },
    });
    const modelId = services.face.modelId();
    return {
      ...captureView(c),
      aligned: (await alignedJpeg(c)).toString('base64'),
      frame: c.frame.jpeg.toString('base64'),
      ...(input.template && c.face.embedding ? { template: encodeTemplate(modelId, c.face.embedding) } : {}),
      modelId,
    };
  },
});

function captureView(c: Capture): {
  id: string;
  camera: string;
  face: ReturnType<typeof faceView>;
  width: number;
  height: number;
  framesExamined: number;
  decisionMs: number;
  timingMs: number;
} {
  const f = c.face;
  return {
    id: c.id,
    camera: c.camera,
    face: faceView(f),
    width: c.width,
    height: c.height,
    framesExamined: c.framesExamined,
    decisionMs: round1(c.decisionMs),
    timingMs: round1(c.timingMs),
  };
}

/** The aligned crop (raw RGB) as a JPEG. */
export function alignedJpeg(c: Capture): Promise<Buffer> {
  return sharp(Buffer.from(c.face.aligned), {
    raw: { width: ALIGNED_SIZE, height: ALIGNED_SIZE, channels: 3 },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
}
