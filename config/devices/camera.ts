import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../schema-kit.js';
import { deviceEntry } from './device-entry.js';

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

/** A device entry of kind `camera`: a face camera. */
export const CameraDeviceSchema = deviceEntry('camera', 'camera', CameraOptionsSchema);
