// Desired/reported config: the fleet keeps a full, versioned document of the fleet-owned sections retained
// on `…/config/desired`. A newer version is validated, only the changed sections are applied (devices whose
// config did not change keep running), the changed devices must become ready, and the result goes to
// `…/config/reported` (retained). A change that breaks health is rolled back. The applied document is kept in
// the state dir (the daemon cannot write /etc under ProtectSystem=strict) and overlays the config file at
// the next start. Installer-owned sections (box, http, storage, mqtt) are never taken from the fleet.
// Only a document signed by a fleet key with an admin role is applied (issue 14); the version floor is raised
// only by an applied document, so a rejected one (unsigned, invalid, unhealthy) never blocks a later one.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../config/atomic-write.js';
import { ConfigSchema, fileSchema, TransportSchema, type Config } from '../../config/schema.js';
import { asProblem } from '../problems/document.js';
import type { Services } from '../services.js';
import { FLEET_SCHEMA } from './contract.js';
import type { RequestVerifier } from './request-signing.js';

export const FLEET_CONFIG_FILE = 'fleet-config.json';
export const FLEET_SECTIONS = ['devices', 'supervision'] as const;
type FleetSection = (typeof FLEET_SECTIONS)[number];

const FleetSectionsSchema = Type.Object(
  {
    devices: ConfigSchema.properties.devices,
    supervision: ConfigSchema.properties.supervision,
  },
  // The device entries refer to the transport union in the config schema's $defs.
  { additionalProperties: false, $defs: { transport: TransportSchema } },
);
type FleetSections = Static<typeof FleetSectionsSchema>;

const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: true, discriminator: true });
// Compiled on first use: every start imports this module, and only a box with a fleet link needs it.
let compiledSections: ValidateFunction<FleetSections> | undefined;
function sectionsValidator(): ValidateFunction<FleetSections> {
  return (compiledSections ??= ajv.compile<FleetSections>(fileSchema(FleetSectionsSchema)));
}

export interface AppliedFleetConfig {
  version: number;
  config: FleetSections;
}

export interface ReportedConfig {
  schema: typeof FLEET_SCHEMA;
  /** The version this report is about (the desired one), null when the document had none. */
  version: number | null;
  status: 'applied' | 'rejected' | 'rolled_back';
  /** Why it was not applied: a missing or wrong signature, an invalid document, devices that did not come up. */
  reason?: 'bad-signature' | 'invalid' | 'unhealthy';
  /** The version in force after this attempt (0: the config file's). */
  inForce: number;
  errors: string[];
  at: string;
}

/** Told when the applied fleet config cannot be used: the file, and why (the box then runs on its file). */
export type FleetConfigUnreadable = (file: string, reason: string) => void;

/**
 * The fleet config applied earlier, if any; read at start to overlay the config file. A file that does not
 * parse or validate (torn by a crash before writes were atomic, edited by hand) is not fatal: it is reported
 * to `onUnreadable` and ignored, so the box falls back to its config file until the fleet sends a version.
 */
export function readAppliedFleetConfig(
  storageDir: string,
  onUnreadable?: FleetConfigUnreadable,
): AppliedFleetConfig | undefined {
  const file = join(storageDir, FLEET_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  let doc: AppliedFleetConfig;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as AppliedFleetConfig;
  } catch (err) {
    onUnreadable?.(file, err instanceof Error ? err.message : String(err));
    return undefined;
  }
  const config = isObject(doc) ? structuredClone(doc.config) : undefined;
  if (!isObject(doc) || !Number.isInteger(doc.version) || !sectionsValidator()(config)) {
    onUnreadable?.(file, 'not a valid applied fleet config (version and fleet-owned sections)');
    return undefined;
  }
  return { version: doc.version, config };
}

/** Overlays the applied fleet sections onto the loaded config (in place). Returns the version in force. */
export function overlayFleetConfig(
  config: Config,
  storageDir: string,
  onUnreadable?: FleetConfigUnreadable,
): number {
  const applied = readAppliedFleetConfig(storageDir, onUnreadable);
  if (!applied) return 0;
  for (const section of FLEET_SECTIONS)
    (config as Record<FleetSection, unknown>)[section] = applied.config[section];
  return applied.version;
}

export class ConfigSync {
  private inForce: number;
  /**
   * Digest of the last document tried in this run: the same retained document, redelivered at each reconnect,
   * is not tried (and reported) again. A digest, not a version: a rejected version must not block others.
   */
  private lastTried = '';
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly services: Services,
    private readonly storageDir: string,
    private readonly verifier: Pick<RequestVerifier, 'verifyDesiredConfig'>,
    private readonly report: (r: ReportedConfig) => void,
    private readonly log: Logger,
  ) {
    this.inForce = readAppliedFleetConfig(storageDir)?.version ?? 0;
  }

  /** Handles one (retained) desired document; documents are applied one at a time, in arrival order. */
  handleDesired(payload: Buffer): Promise<void> {
    this.queue = this.queue
      .then(() => this.apply(payload))
      .catch((err: unknown) => {
        this.log.error({ err }, 'desired config failed');
      });
    return this.queue;
  }

  private async apply(payload: Buffer): Promise<void> {
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.reject(null, 'invalid', ['the desired config is not valid JSON']);
    }
    // Safe integers only: beyond 2^53 JSON numbers lose digits and two versions could sign alike.
    const version = isObject(doc) && Number.isSafeInteger(doc.version) ? (doc.version as number) : null;
    if (!isObject(doc) || version === null || version < 1) {
      return this.reject(null, 'invalid', [
        'the desired config needs an integer "version" from 1 to 2^53-1, a "config" object and a "signature"',
      ]);
    }
    if (version <= this.inForce) {
      this.log.debug({ version, inForce: this.inForce }, 'desired config not newer; nothing to do');
      return;
    }
    const digest = createHash('sha256').update(payload).digest('hex');
    if (digest === this.lastTried) return;
    this.lastTried = digest;
    try {
      // Before anything else is looked at: an unsigned document changes nothing, not even the logs' story.
      this.verifier.verifyDesiredConfig(version, doc.config, doc.signature);
    } catch (err) {
      return this.reject(version, 'bad-signature', [asProblem(err).message]);
    }
    const config = structuredClone(doc.config);
    if (!isObject(config))
      return this.reject(version, 'invalid', ['"config" must be an object of fleet-owned sections']);
    const foreign = Object.keys(config).filter((k) => !(FLEET_SECTIONS as readonly string[]).includes(k));
    if (foreign.length > 0) {
      return this.reject(version, 'invalid', [
        `${foreign.join(', ')}: not fleet-owned (the fleet may set ${FLEET_SECTIONS.join(', ')}); installer-owned settings are local only`,
      ]);
    }
    const validateSections = sectionsValidator();
    if (!validateSections(config)) {
      const e = validateSections.errors?.[0];
      return this.reject(version, 'invalid', [
        `config${e?.instancePath.replaceAll('/', '.') ?? ''}: ${e?.message ?? 'is invalid'}`,
      ]);
    }
    const ids = config.devices.map((d) => d.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) return this.reject(version, 'invalid', [`config.devices: device id "${dup}" appears twice`]);

    const previous: FleetSections = {
      devices: this.services.config.devices,
      supervision: this.services.config.supervision,
    };
    const changed = FLEET_SECTIONS.filter((s) => JSON.stringify(previous[s]) !== JSON.stringify(config[s]));
    this.log.info({ version, changed }, 'applying desired config');
    const started = await this.applySections(config);
    const errors = await this.healthCheck(started);
    if (errors.length > 0) {
      await this.applySections(previous);
      this.log.warn({ version, errors }, 'desired config broke health; rolled back');
      return this.send(version, 'rolled_back', errors, 'unhealthy');
    }
    this.persist({ version, config });
    this.inForce = version;
    this.send(version, 'applied', []);
  }

  private async applySections(sections: FleetSections): Promise<string[]> {
    const { config, devices } = this.services;
    config.supervision = sections.supervision;
    config.devices = sections.devices;
    return devices.reconfigure(sections.devices, sections.supervision);
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

  private persist(applied: AppliedFleetConfig): void {
    // Atomic with fsync: a power cut leaves the old version or the new one, never a torn file.
    writeFileAtomic(join(this.storageDir, FLEET_CONFIG_FILE), JSON.stringify(applied, null, 2) + '\n');
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
    this.report({
      schema: FLEET_SCHEMA,
      version,
      status,
      ...(reason ? { reason } : {}),
      inForce: this.inForce,
      errors,
      at: new Date().toISOString(),
    });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
