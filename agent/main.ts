// The composition root: builds every part of the agent and starts and stops them in order.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../config/atomic-write.js';
import type { Config } from '../config/schema.js';
import { TokenService } from './auth/token-service.js';
import { PairingService } from './auth/pairing-service.js';
import { DeviceManager } from './devices/device-manager.js';
import { deviceStateEvent } from './devices/state-event.js';
import { createDriver } from './kinds/index.js';
import { publishAuditEntries } from './events/audit-events.js';
import { EventLog } from './events/event-log.js';
import { CameraService } from './camera/camera-service.js';
import { FaceCaptureService } from './face/face-capture.js';
import { FaceService } from './face/face-service.js';
import { FleetConfigState } from './fleet/fleet-config-state.js';
import { FleetLink } from './fleet/fleet-link.js';
import { buildHttpServer, type HttpServer } from './http/server.js';
import { IdCardService } from './idcard/card-service.js';
import { SealService } from './sealing/seal-service.js';
import { PhotoService } from './photos/photo-service.js';
import { CertificateService } from './certificates/certificate-service.js';
import { SelfTestService } from './selftest/self-test-service.js';
import { RatingService } from './ratings/rating-service.js';
import { createNotifier, type Notifier } from './lifecycle/sd-notify.js';
import { Metrics } from './metrics.js';
import { PrintService } from './printing/print-service.js';
import { Dispatcher } from './operations/dispatch.js';
import type { Services } from './services.js';
import { corruptDatabase, isCorruption } from './store/state-dir.js';
import { Store } from './store/store.js';
import { VERSION } from './version.js';
import { ownTree, releasesDir } from './update/releases.js';
import { UpdateService } from './update/update-service.js';

import { BOOTSTRAP_TOKEN_FILE } from './store/state-dir.js';

// Kept exported here: the CLI imported it from this module first.
const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

export interface AgentOptions {
  config: Config;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /**
   * Ends the process for systemd to start it again (after an update, `agent.restart`, an unhealthy trial).
   * `boxagent run` stops gracefully and exits EXIT_RESTART; without it a restart request is only logged.
   */
  onRestart?: (reason: string) => void;
}

export class Agent {
  private store?: Store;
  private devices?: DeviceManager;
  private idcards?: IdCardService;
  private pairings?: PairingService;
  private printing?: PrintService;
  private certificates?: CertificateService;
  private ratings?: RatingService;
  private face?: FaceService;
  private http?: HttpServer;
  private fleet?: FleetLink;
  private notifier?: Notifier;
  private stopping = false;
  private ready = false;
  /** The address the API listens on, once started. */
  url = '';

  constructor(private readonly opts: AgentOptions) {}

  async start(): Promise<void> {
    const { config, log } = this.opts;
    const storageDir = resolve(config.storage.dir);
    const store = (this.store = Store.open(storageDir));
    // A damaged database stops the start (exit 65, naming the file and the fix): serving from it could lose
    // or invent jobs and persons.
    const integrity = quickCheck(store);
    if (integrity !== 'ok') throw corruptDatabase(store.file, integrity);

    const events = new EventLog(store, config.storage.maxEvents, config.mqtt.url !== undefined, log);
    // The fleet's applied desired config (kept in the state dir) overrides the file's fleet-owned sections.
    const fleetConfig = FleetConfigState.load(
      config,
      storageDir,
      config.mqtt.url !== undefined,
      (file, reason) => {
        // Not fatal: the box runs on its config file, and says so to the log and the fleet.
        log.warn({ file, reason }, 'fleet config unreadable; running on the config file');
        events.publishOrLog('config.fleet-unreadable', { file, reason }, log);
      },
    );
    fleetConfig.overlay(config);
    if (fleetConfig.inForce > 0) log.info({ version: fleetConfig.inForce }, 'fleet config in force');
    // Audit entries go to the fleet as events, in the transaction that records them.
    publishAuditEntries(store, events);
    const chain = store.audit.verify();
    if (!chain.ok) {
      // Not fatal: the box keeps serving, but the break is logged and sent to the fleet, never ignored.
      log.error(
        { brokenAt: chain.brokenAt, problems: chain.problems.map((p) => p.message) },
        'audit log hash chain is broken: an entry was edited or removed',
      );
      events.publish('audit.broken', { brokenAt: chain.brokenAt });
    }
    const tokens = new TokenService(store);
    const pairings = (this.pairings = new PairingService(store, events, tokens, config.http.pairing));
    const devices = (this.devices = new DeviceManager(
      config.devices,
      config.supervision,
      createDriver,
      log.child({ component: 'devices' }),
      (status, previous) => events.publishOrLog('device.state', deviceStateEvent(status, previous), log),
    ));
    const idcards = (this.idcards = new IdCardService(devices, events, log.child({ component: 'idcard' })));
    const printing = (this.printing = new PrintService({
      store,
      events,
      devices,
      log: log.child({ component: 'printing' }),
      storageDir,
    }));
    const face = (this.face = new FaceService(
      config.face,
      store,
      storageDir,
      log.child({ component: 'face' }),
    ));
    const seals = new SealService(store, events, devices, log.child({ component: 'seal' }));
    const cameras = new CameraService(devices);
    const faceCapture = new FaceCaptureService(
      cameras,
      face,
      events,
      config.face,
      log.child({ component: 'face-capture' }),
    );
    // ID photos from `{camera}` take a guided capture: a good, live face, then its frame is cropped.
    const photos = new PhotoService(face);
    photos.setCapture(async (camera, field) => (await faceCapture.capture({ camera, field })).frame.jpeg);
    const certificates = (this.certificates = new CertificateService({
      store,
      events,
      devices,
      seals,
      photos,
      log: log.child({ component: 'certificates' }),
      storageDir,
    }));
    const selfTests = new SelfTestService(store, events, devices, log.child({ component: 'selftest' }));
    const ratings = (this.ratings = new RatingService(
      store,
      events,
      devices,
      log.child({ component: 'ratings' }),
    ));
    const services: Services = {
      config,
      log,
      store,
      events,
      devices,
      tokens,
      pairings,
      idcards,
      printing,
      face,
      cameras,
      faceCapture,
      seals,
      photos,
      certificates,
      selfTests,
      ratings,
      fleetConfig,
      version: VERSION,
      startedAt: new Date(),
      notReadyReason: () => (this.stopping ? 'shutting down' : this.ready ? null : 'starting'),
    };
    const bootstrapToken = ensureBootstrapToken(tokens, storageDir);
    // Updates: an update the boot selector rolled back is reported now, by this (the old) version.
    const updates = (services.updates = new UpdateService({
      config,
      store,
      events,
      log,
      version: VERSION,
      appTree: ownTree(),
      releasesDir: releasesDir(this.opts.env ?? process.env),
      restart: (reason) => {
        if (this.opts.onRestart) this.opts.onRestart(reason);
        else log.error({ reason }, 'a restart was asked for, but nothing here can restart the process');
      },
    }));
    updates.start();

    // Before any device or request: a job a crash left firing must be in doubt before anyone can look.
    seals.start();
    pairings.start();
    selfTests.start();
    // A rating left waiting by a stop failed (the pad's key, if any, is lost): said before the pads open.
    ratings.start();
    devices.start();
    idcards.start();
    printing.start();
    // After seals.start(): a certificate printed before a crash may still need its seal job.
    certificates.start();
    // A missing or wrong model leaves only the face service unavailable (503 face-unavailable).
    await face.start();
    // HTTP and the fleet's RPC run operations through one dispatcher.
    const dispatcher = new Dispatcher();
    // Built (and its config checked) before the API listens; started once the API is up.
    // A release on trial confirms once it serves the fleet (or, with no fleet, once ready).
    if (config.mqtt.url !== undefined)
      this.fleet = new FleetLink(services, dispatcher, { onServing: () => updates.confirmTrial() });
    this.http = buildHttpServer(services, new Metrics(devices, store), dispatcher);
    await this.http.app.listen({ host: config.http.host, port: config.http.port });
    const address = this.http.app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    this.url = `http://${host}:${port}`;
    this.ready = true;
    // The fleet link connects in the background: a broker that is down does not hold the local API.
    this.fleet?.start();

    log.info({ url: this.url, box: config.box.id, version: VERSION, storage: storageDir }, 'boxagent ready');
    if (config.http.announceAdminToken && bootstrapToken) {
      process.stderr.write(
        `\nboxagent ${VERSION} is listening on ${this.url}\nadmin token: ${bootstrapToken}\n\n`,
      );
    }
    this.notifier = createNotifier(this.opts.env ?? process.env, log);
    this.notifier.ready(`listening on ${this.url}`);
    if (!this.fleet) updates.confirmTrial();
    this.notifier.startWatchdog();
  }

  /** Stops taking work, closes the API, the devices and the store, in that order. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.notifier?.stopping();
    this.http?.closeStreams();
    await this.http?.app.close();
    // Before the devices: the offline status goes out while the link is still up.
    await this.fleet?.stop();
    this.idcards?.stop();
    this.pairings?.stop();
    await this.printing?.stop();
    await this.certificates?.stop();
    await this.ratings?.stop();
    await this.devices?.stop();
    await this.face?.stop();
    this.store?.close();
    this.notifier?.close();
  }
}

/**
 * The first start creates an admin token and keeps it in `<storage>/admin.token` (0600) for the installer;
 * returns that token while it is still valid, else undefined.
 */
function ensureBootstrapToken(tokens: TokenService, storageDir: string): string | undefined {
  const file = join(storageDir, BOOTSTRAP_TOKEN_FILE);
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    return tokens.isActive(saved) ? saved : undefined;
  }
  if (tokens.list().some((t) => t.revokedAt === null && t.scopes.includes('admin'))) return undefined;
  const { token } = tokens.create({ name: BOOTSTRAP_TOKEN_NAME, scopes: ['admin'], actor: 'boxagent' });
  writeFileAtomic(file, token + '\n', { mode: 0o600 });
  return token;
}

/** SQLite's quick check; a file too damaged to check is reported the same way. */
function quickCheck(store: Store): string {
  try {
    return store.integrityCheck();
  } catch (err) {
    if (isCorruption(err)) return (err as Error).message;
    throw err;
  }
}
