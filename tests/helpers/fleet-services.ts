// The services, built the way agent/main.ts builds them, on a temp state dir, with a config parsed from YAML
// (so the schema's defaults apply). For in-process tests of the fleet link and of the HTTP API (inject).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../config/load.js';
import { TokenService } from '../../agent/auth/token-service.js';
import { PairingService } from '../../agent/auth/pairing-service.js';
import { deviceStateEvent } from '../../agent/devices/state-event.js';
import { DeviceManager } from '../../agent/devices/device-manager.js';
import { createDriver } from '../../agent/kinds/index.js';
import { publishAuditEntries } from '../../agent/events/audit-events.js';
import { EventLog } from '../../agent/events/event-log.js';
import { CameraService } from '../../agent/camera/camera-service.js';
import { FaceCaptureService } from '../../agent/face/face-capture.js';
import { FaceService } from '../../agent/face/face-service.js';
import { IdCardService } from '../../agent/idcard/card-service.js';
import { PrintService } from '../../agent/printing/print-service.js';
import { SealService } from '../../agent/sealing/seal-service.js';
import type { Services } from '../../agent/services.js';
import { PhotoService } from '../../agent/photos/photo-service.js';
import { SelfTestService } from '../../agent/selftest/self-test-service.js';
import { RatingService } from '../../agent/ratings/rating-service.js';
import { CertificateService } from '../../agent/certificates/certificate-service.js';
import { Store } from '../../agent/store/store.js';
import { FleetConfigState } from '../../agent/fleet/fleet-config-state.js';

export interface TestServices {
  services: Services;
  /** Log lines written by the services' logger. */
  logs: { level: number; msg: string; [k: string]: unknown }[];
  close(): Promise<void>;
}

export function buildServices(yaml: string): TestServices {
  const dir = mkdtempSync(join(tmpdir(), 'boxagent-fleet-'));
  const config = parseConfig(yaml, 'test.yaml', { BOXAGENT_STORAGE_DIR: dir });
  const logs: TestServices['logs'] = [];
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => logs.push(JSON.parse(line) as TestServices['logs'][number]) },
  );
  const store = Store.open(dir);
  const events = new EventLog(store, config.storage.maxEvents, config.mqtt.url !== undefined);
  publishAuditEntries(store, events);
  const devices = new DeviceManager(config.devices, config.supervision, createDriver, log, (s, previous) =>
    events.publish('device.state', deviceStateEvent(s, previous)),
  );
  devices.start();
  const face = new FaceService(config.face, store, dir, log);
  const seals = new SealService(store, events, devices, log);
  const photos = new PhotoService(face);
  const cameras = new CameraService(devices);
  const tokens = new TokenService(store);
  const services: Services = {
    config,
    log,
    store,
    events,
    devices,
    tokens,
    pairings: new PairingService(store, events, tokens, config.http.pairing),
    // Built as agent/main.ts builds them but not started: the fleet tests use device and agent operations.
    idcards: new IdCardService(devices, events, log),
    printing: new PrintService({ store, events, devices, log, storageDir: dir }),
    face,
    cameras,
    faceCapture: new FaceCaptureService(cameras, face, events, config.face, log),
    seals,
    photos,
    certificates: new CertificateService({ store, events, devices, seals, photos, log, storageDir: dir }),
    selfTests: new SelfTestService(store, events, devices, log),
    ratings: new RatingService(store, events, devices, log),
    fleetConfig: FleetConfigState.load(config, dir, config.mqtt.url !== undefined),
    version: '0.0.0-test',
    startedAt: new Date(),
    notReadyReason: () => null,
  };
  return {
    services,
    logs,
    async close() {
      await devices.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
