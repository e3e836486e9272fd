// The cameras as the operations see them: find a camera by id (not-found when there is none,
// device-unavailable with its state when it is not streaming), its latest frame, and a subscription to its
// frames for the MJPEG viewers.
import type { DeviceManager } from '../devices/device-manager.js';
import { cameraOptions } from '../devices/camera-driver-factory.js';
import type { SupervisedDevice } from '../devices/supervised-device.js';
import { CameraDevice, type Frame, type FrameListener } from '../../drivers/camera/camera.js';
import { Problem, type FieldPath } from '../problems/problem.js';

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
    const device = this.devices.get(id);
    if (!device || device.config.kind !== 'camera' || !(device.driver instanceof CameraDevice)) {
      throw new Problem('not-found', `no camera "${id}"`, field);
    }
    const state = device.currentState();
    if (state !== 'ready' && state !== 'busy') throw unavailable(device);
    const opts = cameraOptions(device.config);
    return { id, driver: device.driver, previewFps: Math.min(opts.previewFps, opts.fps) };
  }

  /** The latest frame of a streaming camera. */
  snapshot(id: string): Frame {
    const cam = this.camera(id);
    const frame = cam.driver.latest();
    if (!frame) throw new Problem('device-unavailable', `camera "${id}" has no frame yet`, ['id']);
    return frame;
  }

  subscribe(id: string, listener: FrameListener): () => void {
    return this.camera(id).driver.onFrame(listener);
  }

  /** Ids of the configured cameras. */
  ids(): string[] {
    return this.devices
      .list()
      .filter((d) => d.kind === 'camera')
      .map((d) => d.id);
  }
}

function unavailable(device: SupervisedDevice): Problem {
  const s = device.status();
  return new Problem(
    'device-unavailable',
    `camera "${s.id}" is ${s.state}${s.reason ? `: ${s.reason}` : ''}`,
    undefined,
    { device: s.id, state: s.state, reason: s.reason },
  );
}
