// The fleet-owned sections of the config and the desired document's form (issue 18): `config` is an RFC 7386
// merge patch over the installer's sections (the "local" config: file, BOXAGENT_* overrides and defaults),
// with devices keyed by id (`{"devices": {"printer-1": {...}, "seal-1": null}}`) so a patch entry merges into
// the local device of that id or adds one. Each document is the whole desired state over the local config,
// never a delta on the previous version. The box and the operator CLI resolve documents with these functions.
import { isDeepStrictEqual } from 'node:util';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { semanticProblems } from '../../config/checks.js';
import { ConfigSchema, fileSchema, TransportSchema, type Config } from '../../config/schema.js';
import {
  applyMergePatch,
  isJsonObject,
  patchLeaves,
  pointer,
  valueAt,
  type Json,
  type JsonObject,
} from './merge-patch.js';

export const FLEET_SECTIONS = ['devices', 'supervision', 'alerts'] as const;
export type FleetSection = (typeof FLEET_SECTIONS)[number];

// Derived from the list, so a new fleet-owned section (alerts) is one word above.
const FleetSectionsSchema = Type.Pick(ConfigSchema, FLEET_SECTIONS, {
  additionalProperties: false,
  // The device entries refer to the transport union in the config schema's $defs.
  $defs: { transport: TransportSchema },
});
/** The fleet-owned sections in the config's own form (devices as a list). */
export type FleetSections = Static<typeof FleetSectionsSchema>;

const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: true, discriminator: true });
// Compiled on first use: every start imports this module, and only a box with a fleet link needs it.
let compiled: ValidateFunction<FleetSections> | undefined;
export function sectionsValidator(): ValidateFunction<FleetSections> {
  return (compiled ??= ajv.compile<FleetSections>(fileSchema(FleetSectionsSchema)));
}

export function sectionsOf(config: Config): FleetSections {
  return structuredClone(Object.fromEntries(FLEET_SECTIONS.map((s) => [s, config[s]]))) as FleetSections;
}

/** Sets the config's fleet-owned sections (in place). */
export function setSections(config: Config, sections: FleetSections): void {
  for (const s of FLEET_SECTIONS) (config as Record<FleetSection, unknown>)[s] = sections[s];
}

/** The keyed form patches apply to: devices by id, each entry without its `id`. */
export function keyed(sections: FleetSections): JsonObject {
  const copy = structuredClone(sections) as unknown as JsonObject;
  const devices: JsonObject = {};
  for (const d of sections.devices) {
    const { id, ...rest } = structuredClone(d) as unknown as JsonObject & { id: string };
    devices[id] = rest;
  }
  return { ...copy, devices };
}

/** Back to the config's form: devices in their keyed order, each with its `id`. */
function unkeyed(doc: JsonObject): Record<string, unknown> {
  const devices = isJsonObject(doc.devices) ? doc.devices : {};
  return {
    ...doc,
    devices: Object.entries(devices).map(([id, entry]) => ({ id, ...(isJsonObject(entry) ? entry : {}) })),
  };
}

/** The config's form of sections given keyed (as `config.get` answers them). */
export function sectionsFromKeyed(doc: JsonObject): FleetSections {
  return unkeyed(structuredClone(doc)) as unknown as FleetSections;
}

export type Resolved =
  { ok: true; sections: FleetSections; keyed: JsonObject } | { ok: false; errors: string[] };

/**
 * The fleet-owned sections a desired `config` yields over the local ones, validated (defaults filled in) as
 * the config file is: the shape of the patch first, then the result.
 */
export function resolveFleetConfig(local: FleetSections, patch: unknown): Resolved {
  const shape = patchShapeErrors(patch);
  if (shape.length > 0) return { ok: false, errors: shape };
  const merged = applyMergePatch(keyed(local), patch as JsonObject) as JsonObject;
  const result = unkeyed(merged);
  const validate = sectionsValidator();
  if (!validate(result)) {
    const e = validate.errors?.[0];
    const where = e ? readablePath(result, e.instancePath) : '';
    return { ok: false, errors: [`config${where}: ${e?.message ?? 'is invalid'}`] };
  }
  const semantic = semanticProblems({ devices: result.devices } as Config);
  if (semantic.length > 0) {
    return {
      ok: false,
      errors: semantic.map((p) => `config${readablePath(result, `/${p.segments.join('/')}`)}: ${p.message}`),
    };
  }
  return { ok: true, sections: result, keyed: keyed(result) };
}

function patchShapeErrors(patch: unknown): string[] {
  if (!isJsonObject(patch)) return ['"config" must be an object: a merge patch of fleet-owned sections'];
  const foreign = Object.keys(patch).filter((k) => !(FLEET_SECTIONS as readonly string[]).includes(k));
  if (foreign.length > 0) {
    return [
      `${foreign.join(', ')}: not fleet-owned (the fleet may set ${FLEET_SECTIONS.join(', ')}); installer-owned settings are local only`,
    ];
  }
  const devices = patch.devices;
  if (devices === undefined) return [];
  if (!isJsonObject(devices)) {
    return [
      'config.devices: must be an object keyed by device id ({"printer-1": {…}, "seal-1": null}), not a list',
    ];
  }
  return Object.entries(devices).flatMap(([id, entry]) => {
    if (entry !== null && !isJsonObject(entry))
      return [`config.devices.${id}: must be an object (a patch of that device) or null (remove it)`];
    if (isJsonObject(entry) && entry.id !== undefined && entry.id !== id)
      return [`config.devices.${id}.id: must be "${id}", the key it is under, or left out`];
    return [];
  });
}

/** `/devices/2/transport/port` → `.devices.net-printer.transport.port` (devices named by id, not index). */
function readablePath(result: Record<string, unknown>, instancePath: string): string {
  const parts = instancePath.split('/').slice(1);
  if (parts[0] === 'devices' && parts[1] !== undefined) {
    const device = (result.devices as { id?: unknown }[])[Number(parts[1])];
    if (typeof device?.id === 'string') parts[1] = device.id;
  }
  return parts.map((p) => `.${p}`).join('');
}

/** The device ids a patch removes with an explicit `null`. */
export function explicitRemovals(patch: unknown): string[] {
  const devices = isJsonObject(patch) ? patch.devices : undefined;
  return isJsonObject(devices) ? Object.keys(devices).filter((id) => devices[id] === null) : [];
}

/**
 * Devices in force that the new result would drop without an explicit `null` (e.g. added by fleet version 7
 * and absent from version 8): the document must say so, or it is refused.
 */
export function implicitRemovals(inForce: FleetSections, next: FleetSections, patch: unknown): string[] {
  const kept = new Set(next.devices.map((d) => d.id));
  const removed = new Set(explicitRemovals(patch));
  return inForce.devices.map((d) => d.id).filter((id) => !kept.has(id) && !removed.has(id));
}

/** Every key a patch decides (sets or removes), as a pointer into the keyed form. */
export function fleetKeys(patch: unknown): string[] {
  return isJsonObject(patch) ? patchLeaves(patch) : [];
}

/**
 * Local keys the fleet overrides: where the patch sets a value other than the local one, or removes a local
 * key (`/devices/printer-1/transport/path`, `/devices/seal-1`). Keys only the fleet has are not listed.
 */
export function overriddenKeys(local: JsonObject, patch: unknown, path: string[] = []): string[] {
  if (!isJsonObject(patch)) return [];
  return Object.entries(patch).flatMap(([k, v]) => {
    const at = [...path, k];
    const here = valueAt(local, at);
    if (here === undefined) return [];
    if (isJsonObject(v) && isJsonObject(here)) return overriddenKeys(local, v, at);
    return isSame(here, v) ? [] : [pointer(at)];
  });
}

const isSame = (a: Json, b: Json): boolean => isDeepStrictEqual(a, b);
