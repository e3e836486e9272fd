// The face camera kind: a capture through ffmpeg from a V4L2 node or a URL, or the simulated camera (the same
// capture path fed by testsrc, a still or a folder of images).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { CameraOptions, DeviceConfigOf } from '../../config/schema.js';
import { CameraDevice } from '../../drivers/camera/camera.js';
import type { CameraSource } from '../../drivers/camera/ffmpeg-args.js';
import { SimulatedCamera } from '../../drivers/camera/simulator.js';
import { cameraSnapshot } from '../operations/camera-ops.js';
import type { DeviceKindUnit, DoctorCheck } from './kind.js';
import { UnsupportedDeviceError } from './unsupported.js';

declare module '../devices/kind-drivers.js' {
  interface KindDrivers {
    camera: CameraDevice;
  }
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

function cameraDriver(device: DeviceConfigOf<'camera'>, log?: Logger): CameraDevice {
  const opts = device.camera;
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

/** ffmpeg captures every camera (and the simulated one): without it no camera works. */
function checkFfmpeg(cameras: number): DoctorCheck {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error || r.status !== 0) {
    return {
      check: 'ffmpeg',
      verdict: cameras > 0 ? 'fail' : 'warn',
      detail: `ffmpeg not found${cameras > 0 ? `: ${cameras} camera(s) cannot capture` : ' (no camera configured yet)'}`,
      fix: 'apt-get install ffmpeg',
    };
  }
  const version = /ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? 'unknown version';
  return { check: 'ffmpeg', verdict: 'ok', detail: `ffmpeg ${version} present (camera capture)` };
}

export const cameraKind: DeviceKindUnit<'camera'> = {
  kind: 'camera',
  label: { 'zh-CN': '人脸摄像头', en: 'face camera' },
  operations: [cameraSnapshot],
  createDriver: cameraDriver,
  scan: (d) => (d.class === 'video' ? { profile: 'uvc' } : undefined),
  deviceNode: (d) =>
    d.transport.type === 'video' && d.camera.source?.startsWith('/')
      ? { path: d.camera.source, group: 'video' }
      : undefined,
  doctor: (cameras) => [checkFfmpeg(cameras.length)],
  wizard: { transportHint: '"/dev/video0", "rtsp://…", "http://…" or empty for none' },
};
