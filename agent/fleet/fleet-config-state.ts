// The fleet config in force: the local (installer's) sections as loaded at start, the applied desired
// document (kept in the state dir: the daemon cannot write /etc under ProtectSystem=strict), and the sections
// they yield. Read at start to overlay the config file; `config.get`, `config show` and `doctor` read it too.
//
// fleet-config.json holds `{format: "merge-patch", version, patch, signedBy, appliedAt}`. A file written by
// earlier builds holds `{version, config}` with the full sections: it is read as the merge patch that yields
// exactly those sections over today's local ones (so the box runs what it ran before), and replaced by the
// new form at the next applied document.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../config/atomic-write.js';
import type { Config } from '../../config/schema.js';
import {
  fleetKeys,
  keyed,
  overriddenKeys,
  resolveFleetConfig,
  sectionsOf,
  sectionsValidator,
  setSections,
  type FleetSections,
} from './fleet-sections.js';
import { isJsonObject, mergePatchBetween, type JsonObject } from './merge-patch.js';

export const FLEET_CONFIG_FILE = 'fleet-config.json';
const FORMAT = 'merge-patch';

export interface AppliedDocument {
  version: number;
  /** The desired `config` as signed: a merge patch over the local sections. */
  patch: JsonObject;
  /** The key that signed it; null for a document kept by an earlier build, which did not record it. */
  signedBy: string | null;
  appliedAt: string | null;
}

/** What `config.get` answers (and `config show --sources` prints). */
export interface FleetConfigView {
  /** The version in force, 0 when the box runs on its local config alone. */
  inForce: number;
  appliedAt: string | null;
  signedBy: string | null;
  /** The fleet-owned sections in force, devices keyed by id. */
  config: JsonObject;
  /** The same sections from the installer's config file (with BOXAGENT_* overrides and defaults). */
  local: JsonObject;
  /** The desired `config` in force (the merge patch), null when none. */
  patch: JsonObject | null;
  /** JSON Pointers of the keys the fleet sets or removes. */
  fleetKeys: string[];
  /** JSON Pointers of local keys the fleet overrides or removes. */
  overridden: string[];
}

/** Told when the applied fleet config cannot be used: the file, and why (the box then runs on its file). */
export type FleetConfigUnreadable = (file: string, reason: string) => void;

export class FleetConfigState {
  private constructor(
    private readonly storageDir: string,
    /** The installer's sections, as loaded before any overlay. */
    readonly local: FleetSections,
    private applied: AppliedDocument | undefined,
    private current: FleetSections,
  ) {}

  /**
   * The state for a config as loaded from its file (before any overlay). `fleet`: the box has a fleet link,
   * so the applied document counts. A document that does not parse, validate or fit the local config any
   * more is not fatal: it is reported to `onUnreadable` and ignored, so the box runs on its config file
   * until the fleet sends a version again.
   */
  static load(
    config: Config,
    storageDir: string,
    fleet: boolean,
    onUnreadable?: FleetConfigUnreadable,
  ): FleetConfigState {
    const local = sectionsOf(config);
    const applied = fleet ? readApplied(storageDir, local, onUnreadable) : undefined;
    if (!applied) return new FleetConfigState(storageDir, local, undefined, structuredClone(local));
    const resolved = resolveFleetConfig(local, applied.patch);
    if (!resolved.ok) {
      onUnreadable?.(
        join(storageDir, FLEET_CONFIG_FILE),
        `fleet config version ${applied.version} does not fit the local config: ${resolved.errors.join('; ')}`,
      );
      return new FleetConfigState(storageDir, local, undefined, structuredClone(local));
    }
    return new FleetConfigState(storageDir, local, applied, resolved.sections);
  }

  get inForce(): number {
    return this.applied?.version ?? 0;
  }

  /** The fleet-owned sections in force. */
  get sections(): FleetSections {
    return this.current;
  }

  /** Sets the config's fleet-owned sections to those in force (in place). */
  overlay(config: Config): void {
    setSections(config, structuredClone(this.current));
  }

  /** Records an applied document (atomically, with fsync: a power cut leaves the old one or the new). */
  commit(doc: AppliedDocument, sections: FleetSections): void {
    const file = { format: FORMAT, ...doc };
    writeFileAtomic(join(this.storageDir, FLEET_CONFIG_FILE), JSON.stringify(file, null, 2) + '\n');
    this.applied = doc;
    this.current = sections;
  }

  view(): FleetConfigView {
    const local = keyed(this.local);
    const patch = this.applied?.patch ?? null;
    return {
      inForce: this.inForce,
      appliedAt: this.applied?.appliedAt ?? null,
      signedBy: this.applied?.signedBy ?? null,
      config: keyed(this.current),
      local,
      patch,
      fleetKeys: fleetKeys(patch).sort(),
      overridden: overriddenKeys(local, patch).sort(),
    };
  }
}

function readApplied(
  storageDir: string,
  local: FleetSections,
  onUnreadable?: FleetConfigUnreadable,
): AppliedDocument | undefined {
  const file = join(storageDir, FLEET_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    onUnreadable?.(file, err instanceof Error ? err.message : String(err));
    return undefined;
  }
  if (!isJsonObject(doc) || !Number.isSafeInteger(doc.version) || (doc.version as number) < 1) {
    onUnreadable?.(file, 'not an applied fleet config (no version)');
    return undefined;
  }
  const version = doc.version as number;
  if (doc.format === FORMAT) {
    if (!isJsonObject(doc.patch)) {
      onUnreadable?.(file, 'not an applied fleet config (no patch)');
      return undefined;
    }
    return {
      version,
      patch: doc.patch,
      signedBy: typeof doc.signedBy === 'string' ? doc.signedBy : null,
      appliedAt: typeof doc.appliedAt === 'string' ? doc.appliedAt : null,
    };
  }
  // The earlier form: the full sections. Read as the patch that yields them over today's local sections.
  const sections = structuredClone(doc.config);
  if (!sectionsValidator()(sections)) {
    onUnreadable?.(file, 'not a valid applied fleet config (version and fleet-owned sections)');
    return undefined;
  }
  return {
    version,
    patch: mergePatchBetween(keyed(local), keyed(sections)) as JsonObject,
    signedBy: null,
    appliedAt: null,
  };
}
