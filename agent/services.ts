// The services operations may use. Built by the composition root (main.ts); adapters pass it through.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Store } from './store/store.js';
import type { EventLog } from './events/event-log.js';
import type { DeviceManager } from './devices/device-manager.js';
import type { TokenService } from './auth/token-service.js';
import type { PairingService } from './auth/pairing-service.js';
import type { IdCardService } from './idcard/card-service.js';
import type { PrintService } from './printing/print-service.js';
import type { FaceService } from './face/face-service.js';
import type { CameraService } from './camera/camera-service.js';
import type { FaceCaptureService } from './face/face-capture.js';
import type { SealService } from './sealing/seal-service.js';
import type { PhotoService } from './photos/photo-service.js';
import type { CertificateService } from './certificates/certificate-service.js';
import type { SelfTestService } from './selftest/self-test-service.js';
import type { RatingService } from './ratings/rating-service.js';
import type { FleetConfigState } from './fleet/fleet-config-state.js';
import type { UpdateService } from './update/update-service.js';

export interface Services {
  config: Config;
  log: Logger;
  store: Store;
  events: EventLog;
  devices: DeviceManager;
  tokens: TokenService;
  /** Pairing requests from pages (issue 15): request, approve by code, collect the Origin-bound token. */
  pairings: PairingService;
  /** Last cards of the ID card readers. */
  idcards: IdCardService;
  printing: PrintService;
  face: FaceService;
  /** The face cameras: latest frame, frame subscriptions. */
  cameras: CameraService;
  /** A good, live face from a camera (face.capture, camera probes, the ID photo). */
  faceCapture: FaceCaptureService;
  /** Seal jobs (create, confirm, resolve). */
  seals: SealService;
  /** ID photos cropped by face landmarks. */
  photos: PhotoService;
  /** Certificate jobs (compose, print on the photo printer, seal job). */
  certificates: CertificateService;
  /** Device self-tests, recorded as jobs. */
  selfTests: SelfTestService;
  /** Service ratings (好差评) on the rating pads. */
  ratings: RatingService;
  /** The fleet's desired config in force over the local one (issue 18): config.get and the config sync. */
  fleetConfig: FleetConfigState;
  /** Agent updates and restarts from the fleet; absent where no daemon runs (tools, some tests). */
  updates?: UpdateService;
  version: string;
  startedAt: Date;
  /** Null when ready, else why not (start-up, shutting down). */
  notReadyReason(): string | null;
}
