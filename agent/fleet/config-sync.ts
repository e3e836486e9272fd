// Desired/reported config (issue 18): the fleet keeps a versioned, signed document retained on
// `…/config/desired` whose `config` is an RFC 7386 merge patch over the installer's fleet-owned sections
// (fleet-sections.ts). Every document is answered on `…/config/reported` (retained): `applied`, `rejected`
// (bad-signature, invalid, implicit-removal), `rolled_back` (unhealthy), `stale` (older than the version in
// force) or `unchanged` (the version in force, e.g. redelivered at a reconnect). Only the changed devices
// restart and must become ready, else the change is rolled back; a rolled-back version is remembered in the
// state db and never tried again by the box itself. Only a document signed by a fleet key with an admin role
// is looked at (issue 14), and only an applied one raises the version floor, so a rejected one never blocks
// a later one. Every applied change is an audit entry `config.applied` naming the signing key.
import type { Logger } from 'pino';
import { asProblem } from '../problems/document.js';
import type { Services } from '../services.js';
import { FLEET_SCHEMA } from './contract.js';
import { FLEET_CONFIG_FILE, type FleetConfigState } from './fleet-config-state.js';
import {
  implicitRemovals,
  keyed,
  resolveFleetConfig,
  setSections,
  type FleetSections,
} from './fleet-sections.js';
import { changes, isJsonObject, type JsonObject } from './merge-patch.js';
import type { RequestVerifier } from './request-signing.js';

export { FLEET_CONFIG_FILE };
export { FLEET_SECTIONS } from './fleet-sections.js';

export const REPORTED_STATUSES = ['applied', 'rejected', 'rolled_back', 'stale', 'unchanged'] as const;
export const REPORTED_REASONS = ['bad-signature', 'invalid', 'implicit-removal', 'unhealthy'] as const;

export interface ReportedConfig {
  schema: typeof FLEET_SCHEMA;
  /** The version this report is about (the desired one), null when the document had none. */
  version: number | null;
  status: (typeof REPORTED_STATUSES)[number];
  /** Why it was not applied (`rejected`, `rolled_back`). */
  reason?: (typeof REPORTED_REASONS)[number];
  /** The version in force after this document (0: the local config alone). */
  inForce: number;
  errors: string[];
  /** JSON Pointers of local (installer's) keys the config in force overrides or removes. */
  overridden: string[];
  at: string;
}

export class ConfigSync {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly services: Services,
    private readonly verifier: Pick<RequestVerifier, 'verifyDesiredConfig'>,
    private readonly report: (r: ReportedConfig) => void,
    private readonly log: Logger,
  ) {}

  private get state(): FleetConfigState {
    return this.services.fleetConfig;
  }

  /** Handles one (retained) desired document; documents are handled one at a time, in arrival order. */
  handleDesired(payload: Buffer): Promise<void> {
    this.queue = this.queue
      .then(() => this.handle(payload))
      .catch((err: unknown) => {
        this.log.error({ err }, 'desired config failed');
      });
    return this.queue;
  }

  private async handle(payload: Buffer): Promise<void> {
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.reject(null, 'invalid', ['the desired config is not valid JSON']);
    }
    // Safe integers only: beyond 2^53 JSON numbers lose digits and two versions could sign alike.
    const version = isJsonObject(doc) && Number.isSafeInteger(doc.version) ? (doc.version as number) : null;
    if (!isJsonObject(doc) || version === null || version < 1) {
      return this.reject(null, 'invalid', [
        'the desired config needs an integer "version" from 1 to 2^53-1, a "config" object and a "signature"',
      ]);
    }
    let keyId: string;
    try {
      // Before anything else is looked at: an unsigned document changes nothing, not even the logs' story.
      this.verifier.verifyDesiredConfig(version, doc.config, doc.signature);
      keyId = (doc.signature as { keyId: string }).keyId;
    } catch (err) {
      return this.reject(version, 'bad-signature', [asProblem(err).message]);
    }
    const inForce = this.state.inForce;
    if (version < inForce) {
      return this.send(version, 'stale', [`version ${version} is older than version ${inForce} in force`]);
    }
    if (version === inForce) return this.send(version, 'unchanged', []);
    const rolledBack = this.services.store.configRollbacks.find(version);
    if (rolledBack) {
      // Never retried by the box itself: the fleet sends a new version when it has fixed the cause.
      return this.send(version, 'rolled_back', rolledBack.errors, 'unhealthy');
    }
    const resolved = resolveFleetConfig(this.state.local, doc.config);
    if (!resolved.ok) return this.reject(version, 'invalid', resolved.errors);
    const patch = doc.config as JsonObject;
    const dropped = implicitRemovals(this.state.sections, resolved.sections, patch);
    if (dropped.length > 0) {
      return this.reject(
        version,
        'implicit-removal',
        dropped.map(
          (id) =>
            `device ${id} is in force but absent from this document: remove it explicitly with "devices": {"${id}": null}`,
        ),
      );
    }
    await this.apply(version, keyId, patch, resolved.sections);
  }

  private async apply(version: number, keyId: string, patch: JsonObject, next: FleetSections): Promise<void> {
    const previous = this.state.sections;
    const changed = changes(keyed(previous), keyed(next)).map((c) => c.pointer);
    this.log.info({ version, changed }, 'applying desired config');
    const started = await this.applySections(next);
    const errors = await this.healthCheck(started);
    if (errors.length > 0) {
      await this.applySections(previous);
      this.services.store.configRollbacks.remember(version, errors);
      this.log.warn({ version, errors }, 'desired config broke health; rolled back');
      return this.send(version, 'rolled_back', errors, 'unhealthy');
    }
    const { store } = this.services;
    store.transaction(() => {
      this.state.commit({ version, patch, signedBy: keyId, appliedAt: new Date().toISOString() }, next);
      store.audit.append({
        actor: `fleet-key:${keyId}`,
        action: 'config.applied',
        target: `config:${version}`,
        detail: { version, keyId, changed },
      });
    });
    this.send(version, 'applied', []);
  }

  private async applySections(sections: FleetSections): Promise<string[]> {
    setSections(this.services.config, sections);
    return this.services.devices.reconfigure(sections.devices, sections.supervision);
  }

  /** Waits for every (re)started device to be ready; returns what is wrong after the timeout. */
  private async healthCheck(started: string[]): Promise<string[]> {
    const deadline = Date.now() + this.services.config.mqtt.configHealthTimeoutSeconds * 1000;
    const notReady = () =>
      started
        .map((id) => this.services.devices.get(id)?.status())
        .filter((s) => s !== undefined && s.state !== 'ready' && s.state !== 'busy');
    while (notReady().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return notReady().map((s) => `device ${s!.id} is ${s!.state}${s!.detail ? `: ${s!.detail}` : ''}`);
  }

  private reject(version: number | null, reason: ReportedConfig['reason'], errors: string[]): void {
    this.log.warn({ version, reason, errors }, 'desired config rejected');
    this.send(version, 'rejected', errors, reason);
  }

  private send(
    version: number | null,
    status: ReportedConfig['status'],
    errors: string[],
    reason?: ReportedConfig['reason'],
  ): void {
    const view = this.state.view();
    this.report({
      schema: FLEET_SCHEMA,
      version,
      status,
      ...(reason ? { reason } : {}),
      inForce: view.inForce,
      errors,
      overridden: view.overridden,
      at: new Date().toISOString(),
    });
  }
}
