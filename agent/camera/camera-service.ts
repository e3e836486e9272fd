// The cameras as the operations see them: find a camera by id (not-found when there is none,
// device-unavailable with its state when it is not streaming), its latest frame, and a subscription to its
// frames for the MJPEG viewers.
import type { DeviceManager } from '../devices/device-manager.js';
import type { SupervisedDevice } from '../devices/supervised-device.js';
import { CameraDevice, type Frame, type FrameListener } from '../../drivers/camera/camera.js';
import { Problem, type FieldPath } from '../problems/problem.js';
import { t, term, verbatim } from '../messages/text.js';

export interface StreamingCamera {
  id: string;
  driver: CameraDevice;
  /** Frames per second sent to MJPEG viewers. */
  previewFps: number;
}

export class CameraService {
  constructor(private readonly devices: DeviceManager) {}

  /** The camera `id`, streaming; a Problem otherwise. `field` names where the id came from. */
  camera(id: string, field: FieldPath = ['id']): StreamingCamera {
    const device = this.devices.require(id, 'camera', field);
    // A camera whose driver could not be built (a bad source) holds a stand-in, never a capture.
    if (!(device.driver instanceof CameraDevice)) throw unavailable(device);
    const state = device.currentState();
    if (state !== 'ready' && state !== 'busy') throw unavailable(device);
    const opts = device.config.camera;
    return { id, driver: device.driver, previewFps: Math.min(opts.previewFps, opts.fps) };
  }

  /** The latest frame of a streaming camera. */
  snapshot(id: string): Frame {
    const cam = this.camera(id);
    const frame = cam.driver.latest();
    if (!frame) throw new Problem('device-unavailable', t`camera "${id}" has no frame yet`, ['id']);
    return frame;
  }

  subscribe(id: string, listener: FrameListener): () => void {
    return this.camera(id).driver.onFrame(listener);
  }

  /** Ids of the configured cameras. */
  ids(): string[] {
    return this.devices.ofKind('camera').map((d) => d.config.id);
  }
}

function unavailable(device: SupervisedDevice<'camera'>): Problem {
  const s = device.status();
  return new Problem(
    'device-unavailable',
    s.detail
      ? t`camera "${s.id}" is ${term(s.state)}: ${verbatim(s.detail)}`
      : t`camera "${s.id}" is ${term(s.state)}`,
    undefined,
    { device: s.id, state: s.state, reason: s.reason, reasonCode: s.reasonCode },
  );
}
