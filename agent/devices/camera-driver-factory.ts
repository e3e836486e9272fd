// The camera entry of the driver factory: a capture through ffmpeg from a V4L2 node or a URL, or the
// simulated camera (the same capture path fed by testsrc, a still or a folder of images).
import { statSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import { CameraOptionsSchema, type CameraOptions, type DeviceConfig } from '../../config/schema.js';
import { CameraDevice } from '../../drivers/camera/camera.js';
import type { CameraSource } from '../../drivers/camera/ffmpeg-args.js';
import { SimulatedCamera } from '../../drivers/camera/simulator.js';
import { UnsupportedDeviceError } from './unsupported.js';

/** A device's `camera` options with the schema's defaults filled in (the key itself is optional). */
export function cameraOptions(device: DeviceConfig): CameraOptions {
  return Value.Default(CameraOptionsSchema, structuredClone(device.camera ?? {})) as CameraOptions;
}

/** What `camera.source` (or `irSource`) names: a V4L2 node, or an RTSP / HTTP MJPEG stream. */
export function parseSource(text: string, opts: CameraOptions): CameraSource {
  if (/^rtsps?:\/\//.test(text)) return { kind: 'url', url: text };
  if (/^https?:\/\//.test(text)) return { kind: 'url', url: text };
  if (text.startsWith('/')) return { kind: 'v4l2', path: text, inputFormat: opts.inputFormat };
  throw new UnsupportedDeviceError(
    `camera source "${text}" is neither a /dev/video path nor an rtsp:// or http(s):// URL`,
  );
}

function simulatedSource(opts: CameraOptions): CameraSource {
  const images = opts.simulatedImages;
  if (images === undefined) return { kind: 'testsrc' };
  let isDir: boolean;
  try {
    isDir = statSync(images).isDirectory();
  } catch {
    throw new UnsupportedDeviceError(`camera.simulatedImages: ${images} does not exist`);
  }
  return isDir
    ? { kind: 'folder', path: images, holdSeconds: opts.simulatedHoldSeconds }
    : { kind: 'still', path: images };
}

export function cameraDriver(device: DeviceConfig, log?: Logger): CameraDevice {
  const opts = cameraOptions(device);
  const common = {
    format: { width: opts.width, height: opts.height, fps: opts.fps },
    stallMs: opts.stallSeconds * 1000,
    onStderr: (line: string, source: 'rgb' | 'ir') =>
      log?.debug({ device: device.id, source, ffmpeg: line }, 'ffmpeg'),
  };
  const t = device.transport;
  if (t.type === 'simulated') {
    return new SimulatedCamera({
      ...common,
      source: simulatedSource(opts),
      ...(opts.irSource ? { irSource: parseSource(opts.irSource, opts) } : {}),
      model: 'UVC face camera (simulated)',
    });
  }
  if (t.type !== 'video') throw new UnsupportedDeviceError(`a camera over ${t.type} is not supported`);
  if (opts.source === undefined) {
    throw new UnsupportedDeviceError('a camera with transport video needs camera.source');
  }
  return new CameraDevice({
    ...common,
    source: parseSource(opts.source, opts),
    ...(opts.irSource ? { irSource: parseSource(opts.irSource, opts) } : {}),
    model: opts.source.startsWith('/') ? 'UVC camera' : 'IP camera',
  });
}
