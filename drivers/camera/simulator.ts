// The simulated face camera: the real capture path (ffmpeg → MJPEG pipe → frame splitter) fed by lavfi
// testsrc, a still image or a folder of images, with the simulator faults an installer can inject.
import { DeviceAbsentError, type DeviceIdentity } from '../device.js';
import { COMMON_FAULTS, type Simulator, type SimulatorFault } from '../simulated-device.js';
import { CameraDevice, type CameraOptions } from './camera.js';
import type { CameraSource } from './ffmpeg-args.js';

export class SimulatedCamera extends CameraDevice implements Simulator {
  fault: SimulatorFault = 'none';
  readonly faults: readonly SimulatorFault[] = COMMON_FAULTS;

  constructor(options: CameraOptions) {
    super(options);
  }

  setFault(fault: SimulatorFault): void {
    this.fault = fault;
    // Pulling the cable or the camera hanging ends the running capture, as it would on real hardware.
    if (fault === 'unplugged') this.lost(new DeviceAbsentError('simulated camera unplugged'));
    if (fault === 'offline') this.lost(new Error('simulated camera does not answer'));
  }

  /** Shows a still image, a folder of images in turn, or the test pattern (training, tests). */
  async showImages(source: Extract<CameraSource, { kind: 'still' | 'folder' | 'testsrc' }>): Promise<void> {
    await this.replaceSource(source);
  }

  override async open(): Promise<DeviceIdentity> {
    this.checkFault();
    return super.open();
  }

  protected override checkAttached(): void {
    this.checkFault();
    super.checkAttached();
  }

  private checkFault(): void {
    if (this.fault === 'unplugged') throw new DeviceAbsentError('simulated camera unplugged');
    if (this.fault === 'offline') throw new Error('simulated camera does not answer');
  }
}
